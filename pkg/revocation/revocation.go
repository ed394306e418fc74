// Package revocation answers one question: has trust in this thing been withdrawn?
//
// A Checker's Status returns Good, Revoked, Unknown or NotRevocable for a Ref (a key, a
// functionary, an X.509 certificate, a layout, a link or an artifact digest), and names the
// source of the answer, the revocation time and reason, and how fresh the answer is.
//
// What a checker cannot determine is Unknown. Callers (the policy) decide what Unknown means; the
// default everywhere in tinto is to deny.
//
// This file holds the vocabulary that the other packages depend on (pkg/intoto uses Checker as
// its hook so that a revoked key never counts towards a threshold). The sources live beside it.
package revocation

import (
	"context"
	"time"
)

// Kind is the kind of thing a Ref names.
type Kind string

// The kinds of revocable things.
const (
	KindKey         Kind = "key"         // a key, by keyid (securesystemslib keyid or OpenPGP fingerprint)
	KindFunctionary Kind = "functionary" // an in-toto functionary, by keyid, scoped to Layout/Step when set
	KindCertificate Kind = "certificate" // an X.509 certificate, by issuer and serial number
	KindLayout      Kind = "layout"      // a layout, by digest or by name and version
	KindLink        Kind = "link"        // a link or attestation, by digest
	KindArtifact    Kind = "artifact"    // an artifact, by digest
)

// Ref names one revocable thing. Only the fields that apply to Kind are set.
type Ref struct {
	Kind Kind `json:"kind"`
	// KeyID is set for KindKey and KindFunctionary.
	KeyID string `json:"keyid,omitempty"`
	// Digest is "alg:hex" for KindLayout, KindLink and KindArtifact.
	Digest string `json:"digest,omitempty"`
	// Name is a layout name, a step name or an artifact name, for context.
	Name string `json:"name,omitempty"`
	// Step scopes a KindFunctionary ref to a step.
	Step string `json:"step,omitempty"`
	// Version is a layout version, when known (0 when not).
	Version int64 `json:"version,omitempty"`
	// Issuer and Serial identify a KindCertificate (Issuer is the issuer's RFC 4514 name,
	// Serial is the serial number in decimal).
	Issuer string `json:"issuer,omitempty"`
	Serial string `json:"serial,omitempty"`
}

// State is the answer of a revocation check.
type State string

// The states.
const (
	Good         State = "good"          // the source knows the thing and it is not revoked
	Revoked      State = "revoked"       // trust has been withdrawn
	Unknown      State = "unknown"       // the source cannot tell (stale, unreachable, not covered)
	NotRevocable State = "not-revocable" // the thing cannot be revoked by any configured source
)

// Status is one revocation answer with its provenance.
type Status struct {
	State State `json:"state"`
	// Source names the source that answered (e.g. "static", "list:revocations.json@v7", "crl:...").
	Source string `json:"source"`
	// RevokedAt is when the thing was revoked (zero unless State is Revoked).
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// Reason is the revocation reason as the source gave it.
	Reason string `json:"reason,omitempty"`
	// FetchedAt is when the source's data was obtained; NextUpdate is when it stops being fresh
	// (zero when the source does not say).
	FetchedAt  time.Time `json:"fetched_at,omitzero"`
	NextUpdate time.Time `json:"next_update,omitzero"`
}

// Checker reports the revocation status of a Ref at time at. An error is operational (the
// answer could not be computed); callers must treat it as Unknown and so deny by default.
//
// Implementations must be safe for concurrent use.
type Checker interface {
	Status(ctx context.Context, ref Ref, at time.Time) (Status, error)
}
