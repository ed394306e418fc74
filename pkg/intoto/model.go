package intoto

import (
	"crypto/x509"
	"time"

	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/rules"
)

// Layout is the signed part of an in-toto layout, as read from the received document. It is
// produced by ParseLayout and is immutable afterwards; it is safe for concurrent use.
type Layout struct {
	// Expires is the parsed value of the "expires" field (UTC).
	Expires time.Time
	// ExpiresText is the "expires" field exactly as received.
	ExpiresText string
	Readme      string
	// Keys are the functionary keys, by keyid, from the "keys" field.
	Keys map[string]*keys.Key
	// Subkeys maps a subkey id (as listed under a key's "subkeys") to its main key id.
	Subkeys map[string]string
	// RootCAs and IntermediateCAs are the X.509 certificates of the "rootcas" and
	// "intermediatecas" fields (in-toto-golang's extension), by keyid.
	RootCAs         map[string]*x509.Certificate
	IntermediateCAs map[string]*x509.Certificate
	Steps           []Step
	Inspections     []Inspection
}

// Step is one step of a layout.
type Step struct {
	Name      string
	Threshold int
	// PubKeys are the keyids of the step's functionaries, in the order of the layout.
	PubKeys           []string
	ExpectedCommand   []string
	ExpectedMaterials [][]string
	ExpectedProducts  [][]string
	// CertConstraints are in-toto-golang's "cert_constraints": a link signed by a certificate
	// that chains to one of the layout's root CAs and satisfies one constraint counts as a
	// functionary of the step.
	CertConstraints []CertConstraint
}

// Inspection is one inspection of a layout.
type Inspection struct {
	Name              string
	Run               []string
	ExpectedMaterials [][]string
	ExpectedProducts  [][]string
	// PubKeys and Threshold are a tinto extension ("pubkeys" and "threshold" on an inspection):
	// the keys allowed to sign a prerecorded inspection link, and how many distinct ones must.
	// When PubKeys is empty, the keys that verified the layout's signatures are the authorised
	// inspectors, and Threshold is 1.
	PubKeys   []string
	Threshold int
}

// CertConstraint is in-toto-golang's certificate constraint. A value "*" (alone) allows
// anything; an empty list requires the certificate to have no value for the attribute; otherwise
// the certificate's values must equal the listed values as a set.
type CertConstraint struct {
	CommonName    string
	DNSNames      []string
	Emails        []string
	Organizations []string
	// Roots are keyids of the layout's "rootcas"; the chain must end in one of them.
	Roots []string
	URIs  []string
}

// Link is the content of a link (or of an ITE-6 statement with a link predicate), as received.
type Link struct {
	Name        string
	Command     []string
	Materials   rules.Artifacts
	Products    rules.Artifacts
	Byproducts  map[string]any
	Environment map[string]any
}

// Format names the container a document was received in.
type Format string

// The container formats.
const (
	FormatMetablock Format = "metablock" // {"signed": ..., "signatures": [...]}
	FormatDSSE      Format = "dsse"      // a DSSE envelope whose payload is a link or layout
	FormatStatement Format = "statement" // a DSSE envelope whose payload is an ITE-6 statement
)
