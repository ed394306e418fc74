package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"

	"github.com/tintoproject/tinto/pkg/verr"
)

// Key types and schemes.
const (
	KeyTypeRSA     = "rsa"
	KeyTypeECDSA   = "ecdsa"
	KeyTypeEd25519 = "ed25519"

	SchemeRSAPSSSHA256      = "rsassa-pss-sha256"
	SchemeRSAPSSSHA384      = "rsassa-pss-sha384"
	SchemeRSAPSSSHA512      = "rsassa-pss-sha512"
	SchemeRSAPKCS1v15SHA256 = "rsa-pkcs1v15-sha256"
	SchemeRSAPKCS1v15SHA384 = "rsa-pkcs1v15-sha384"
	SchemeRSAPKCS1v15SHA512 = "rsa-pkcs1v15-sha512"
	SchemeECDSAP256         = "ecdsa-sha2-nistp256"
	SchemeECDSAP384         = "ecdsa-sha2-nistp384"
	SchemeECDSAP521         = "ecdsa-sha2-nistp521"
	SchemeEd25519           = "ed25519"

	// OpenPGP methods, used as the Scheme of an OpenPGP key.
	SchemePGPRSA     = "pgp+rsa-pkcsv1.5"
	SchemePGPDSA     = "pgp+dsa-fips-180-2"
	SchemePGPEd25519 = "pgp+eddsa-ed25519"
)

// DefaultKeyIDHashAlgorithms is the keyid_hash_algorithms list that securesystemslib and
// in-toto-golang write into every key they create, and that keyids are computed with.
var defaultKeyIDHashAlgorithms = []string{"sha256", "sha512"}

// schemeInfo describes a securesystemslib signing scheme.
type schemeInfo struct {
	family string // KeyTypeRSA, KeyTypeECDSA or KeyTypeEd25519
	hash   crypto.Hash
	pss    bool
	curve  elliptic.Curve // the curve a key we generate for this scheme uses (ECDSA only)
}

func lookupScheme(scheme string) (schemeInfo, bool) {
	switch scheme {
	case SchemeRSAPSSSHA256:
		return schemeInfo{family: KeyTypeRSA, hash: crypto.SHA256, pss: true}, true
	case SchemeRSAPSSSHA384:
		return schemeInfo{family: KeyTypeRSA, hash: crypto.SHA384, pss: true}, true
	case SchemeRSAPSSSHA512:
		return schemeInfo{family: KeyTypeRSA, hash: crypto.SHA512, pss: true}, true
	case SchemeRSAPKCS1v15SHA256:
		return schemeInfo{family: KeyTypeRSA, hash: crypto.SHA256}, true
	case SchemeRSAPKCS1v15SHA384:
		return schemeInfo{family: KeyTypeRSA, hash: crypto.SHA384}, true
	case SchemeRSAPKCS1v15SHA512:
		return schemeInfo{family: KeyTypeRSA, hash: crypto.SHA512}, true
	case SchemeECDSAP256:
		return schemeInfo{family: KeyTypeECDSA, hash: crypto.SHA256, curve: elliptic.P256()}, true
	case SchemeECDSAP384:
		return schemeInfo{family: KeyTypeECDSA, hash: crypto.SHA384, curve: elliptic.P384()}, true
	case SchemeECDSAP521:
		return schemeInfo{family: KeyTypeECDSA, hash: crypto.SHA512, curve: elliptic.P521()}, true
	case SchemeEd25519:
		return schemeInfo{family: KeyTypeEd25519}, true
	}
	return schemeInfo{}, false
}

// keyTypeFamily maps a securesystemslib keytype onto its algorithm family.
func keyTypeFamily(keytype string) (string, bool) {
	switch keytype {
	case KeyTypeRSA:
		return KeyTypeRSA, true
	case KeyTypeEd25519:
		return KeyTypeEd25519, true
	case KeyTypeECDSA, SchemeECDSAP256, SchemeECDSAP384, SchemeECDSAP521:
		return KeyTypeECDSA, true
	}
	return "", false
}

// Key is a public key with its securesystemslib identity. Create one with FromSSLib, ParseSSLib,
// ParsePEM, ParseOpenPGP, Load or a Signer; the zero Key verifies nothing.
//
// A *Key is immutable and safe for concurrent use. Do not modify its exported fields.
type Key struct {
	// KeyID is the securesystemslib keyid (lowercase hex), or an OpenPGP primary key fingerprint.
	KeyID string
	// KeyType is "rsa", "ecdsa", "ecdsa-sha2-nistp256", "ed25519", or for OpenPGP the
	// securesystemslib.gpg type: "rsa", "dsa" or "eddsa".
	KeyType string
	// Scheme is the signing scheme ("rsassa-pss-sha256", "ecdsa-sha2-nistp256", "ed25519", ...),
	// or for OpenPGP the method ("pgp+rsa-pkcsv1.5", ...).
	Scheme string
	// Public is the public key (*rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey, or for
	// OpenPGP the primary key's *rsa.PublicKey, *dsa.PublicKey or ed25519.PublicKey).
	Public crypto.PublicKey

	// securesystemslib keys
	publicText string   // keyval.public exactly as in the key dict
	hashAlgs   []string // keyid_hash_algorithms, nil when absent
	cert       *x509.Certificate
	certPEM    string
	info       schemeInfo

	// OpenPGP keys
	pgp *pgpKey
}

// Signature is one signature: the keyid it claims, the decoded signature bytes (Metablocks carry
// hex, DSSE carries base64: the caller decodes), and for OpenPGP signatures the decoded
// other_headers (the signature's hashed packet data).
type Signature struct {
	KeyID        string
	Sig          []byte
	OtherHeaders []byte
}

// Owns reports whether keyid names this key: its own keyid, or for an OpenPGP key, the
// fingerprint of one of its subkeys.
func (k *Key) Owns(keyid string) bool {
	if k == nil || keyid == "" {
		return false
	}
	if keyid == k.KeyID {
		return true
	}
	if k.pgp != nil {
		_, ok := k.pgp.subkeys[keyid]
		return ok
	}
	return false
}

// Certificate returns the X.509 certificate the key was loaded from, or nil.
func (k *Key) Certificate() *x509.Certificate {
	if k == nil {
		return nil
	}
	return k.cert
}

// String returns a short description: the key type, the scheme and the keyid.
func (k *Key) String() string {
	if k == nil {
		return "<nil key>"
	}
	return k.KeyType + "/" + k.Scheme + " key " + k.KeyID
}

// IsOpenPGP reports whether k is an OpenPGP key.
func (k *Key) IsOpenPGP() bool { return k != nil && k.pgp != nil }

// PublicText returns keyval.public of a securesystemslib key exactly as it appears in the key
// dict (a PEM text or hex), and "" for an OpenPGP key.
func (k *Key) PublicText() string {
	if k == nil {
		return ""
	}
	return k.publicText
}

// Verify checks sig over msg. It returns nil if the signature is valid, and otherwise a
// *verr.VerificationError with Reason verr.BadSignature. A signature whose KeyID is set and does
// not name this key (Owns) is a bad signature too. Verify never reads the clock: for OpenPGP keys
// that carry an expiry, see VerifyAt.
func (k *Key) Verify(msg []byte, sig Signature) error {
	if k == nil {
		return verr.New(verr.BadSignature, "no key")
	}
	if sig.KeyID != "" && !k.Owns(sig.KeyID) {
		return verr.New(verr.BadSignature, "signature keyid %q does not belong to key %q", sig.KeyID, k.KeyID)
	}
	if k.pgp != nil {
		return k.pgp.verify(k.KeyID, msg, sig)
	}
	if err := verifySSLib(k.Public, k.info, msg, sig.Sig); err != nil {
		return verr.Wrap(verr.BadSignature, err, "signature by key %q", k.KeyID)
	}
	return nil
}

// verifySSLib verifies a securesystemslib signature. RSA and ECDSA signatures are checked with
// sigstore's verifiers over a digest computed here in one pass over msg (options.WithDigest), so
// the message is never buffered or copied; Ed25519 signatures with crypto/ed25519.Verify
// directly (sigstore's Ed25519 verifier reads the whole message into a new buffer first, which
// for a 200 MB link is 200 MB more).
func verifySSLib(pub crypto.PublicKey, info schemeInfo, msg, sig []byte) error {
	var (
		v   signature.Verifier
		err error
	)
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if info.family != KeyTypeRSA {
			return fmt.Errorf("scheme does not fit an RSA key")
		}
		if info.pss {
			v, err = signature.LoadRSAPSSVerifier(p, info.hash, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
		} else {
			v, err = signature.LoadRSAPKCS1v15Verifier(p, info.hash)
		}
	case *ecdsa.PublicKey:
		if info.family != KeyTypeECDSA {
			return fmt.Errorf("scheme does not fit an ECDSA key")
		}
		if !isStrictDER(sig) {
			return fmt.Errorf("ECDSA signature is not ASN.1 DER")
		}
		v, err = signature.LoadECDSAVerifier(p, info.hash)
	case ed25519.PublicKey:
		if info.family != KeyTypeEd25519 {
			return fmt.Errorf("scheme does not fit an Ed25519 key")
		}
		if len(sig) != ed25519.SignatureSize {
			return fmt.Errorf("Ed25519 signature is %d bytes, want %d", len(sig), ed25519.SignatureSize)
		}
		if len(p) != ed25519.PublicKeySize { // ed25519.Verify panics on a wrong-size key
			return fmt.Errorf("Ed25519 public key is %d bytes, want %d", len(p), ed25519.PublicKeySize)
		}
		if !ed25519.Verify(p, msg, sig) {
			return fmt.Errorf("Ed25519 signature does not verify")
		}
		return nil
	default:
		return fmt.Errorf("no usable public key")
	}
	if err != nil {
		return err
	}
	if !info.hash.Available() {
		return fmt.Errorf("hash %v is not available", info.hash)
	}
	h := info.hash.New()
	h.Write(msg)
	return verifyDigest(v, h.Sum(nil), sig)
}

// verifyDigest verifies a signature over a precomputed digest (OpenPGP) with sigstore.
func verifyDigest(v signature.Verifier, digest, sig []byte) error {
	return v.VerifySignature(bytes.NewReader(sig), nil, options.WithDigest(digest))
}

// isStrictDER reports whether sig is exactly one DER SEQUENCE of two positive INTEGERs.
func isStrictDER(sig []byte) bool {
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(sig, &rs)
	if err != nil || len(rest) != 0 || rs.R == nil || rs.S == nil {
		return false
	}
	if rs.R.Sign() <= 0 || rs.S.Sign() <= 0 {
		return false
	}
	// Reject non-minimal encodings: re-encoding must give the same bytes.
	re, err := asn1.Marshal(rs)
	return err == nil && bytes.Equal(re, sig)
}
