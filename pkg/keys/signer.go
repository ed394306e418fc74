package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/tintoproject/tinto/pkg/verr"
)

// Signer signs with a private key in a securesystemslib scheme. It is for tinto's own fixtures,
// the demo, tests and benchmarks. A *Signer is immutable and safe for concurrent use.
type Signer struct {
	// Key is the public key, with its keyid.
	Key  *Key
	priv crypto.Signer
}

// NewSigner returns a signer for priv in the given scheme ("" for the default, as ParsePEM
// chooses it). priv is usually an *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey;
// any other crypto.Signer is used through its Sign method.
func NewSigner(priv crypto.Signer, scheme string) (*Signer, error) {
	if priv == nil {
		return nil, invalid("no private key")
	}
	k, err := NewKey(priv.Public(), scheme)
	if err != nil {
		return nil, err
	}
	if k.info.family == KeyTypeECDSA {
		// Sign with the hash the curve calls for; a mismatched scheme would still verify, but
		// tinto never makes such keys.
		if p := k.Public.(*ecdsa.PublicKey); p.Curve != k.info.curve {
			return nil, invalid("scheme %q does not fit the key's curve %s", k.Scheme, p.Curve.Params().Name)
		}
	}
	return &Signer{Key: k, priv: priv}, nil
}

// Sign signs msg and returns the signature with the signer's keyid. RSA-PSS signatures use a
// salt as long as the digest, as securesystemslib does; ECDSA signatures are ASN.1 DER.
func (s *Signer) Sign(msg []byte) (Signature, error) {
	if s == nil || s.priv == nil {
		return Signature{}, fmt.Errorf("keys: nil signer")
	}
	info := s.Key.info
	var (
		sv  signature.Signer
		err error
	)
	switch p := s.priv.(type) {
	case *rsa.PrivateKey:
		if info.pss {
			sv, err = signature.LoadRSAPSSSigner(p, info.hash, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sv, err = signature.LoadRSAPKCS1v15Signer(p, info.hash)
		}
	case *ecdsa.PrivateKey:
		sv, err = signature.LoadECDSASigner(p, info.hash)
	case ed25519.PrivateKey:
		sv, err = signature.LoadED25519Signer(p)
	default:
		return s.signGeneric(msg)
	}
	if err != nil {
		return Signature{}, err
	}
	sig, err := sv.SignMessage(bytes.NewReader(msg))
	if err != nil {
		return Signature{}, err
	}
	return Signature{KeyID: s.Key.KeyID, Sig: sig}, nil
}

// signGeneric signs through crypto.Signer for keys held elsewhere (an HSM, say).
func (s *Signer) signGeneric(msg []byte) (Signature, error) {
	info := s.Key.info
	var (
		digest []byte
		opts   crypto.SignerOpts
	)
	if info.family == KeyTypeEd25519 {
		digest, opts = msg, crypto.Hash(0)
	} else {
		h := info.hash.New()
		h.Write(msg)
		digest = h.Sum(nil)
		opts = info.hash
		if info.pss {
			opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: info.hash}
		}
	}
	sig, err := s.priv.Sign(rand.Reader, digest, opts)
	if err != nil {
		return Signature{}, err
	}
	return Signature{KeyID: s.Key.KeyID, Sig: sig}, nil
}

// GenerateEd25519 generates an Ed25519 signer. A nil rand means crypto/rand.Reader; a
// deterministic reader gives reproducible keys for fixtures.
func GenerateEd25519(r io.Reader) (*Signer, error) {
	if r == nil {
		r = rand.Reader
	}
	_, priv, err := ed25519.GenerateKey(r)
	if err != nil {
		return nil, err
	}
	return NewSigner(priv, SchemeEd25519)
}

// GenerateRSA generates an RSA signer with scheme rsassa-pss-sha256. bits must be at least 2048.
func GenerateRSA(bits int) (*Signer, error) {
	if bits < 2048 || bits > 16384 {
		return nil, invalid("RSA key size %d is not in [2048, 16384]", bits)
	}
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, err
	}
	return NewSigner(priv, SchemeRSAPSSSHA256)
}

// GenerateECDSA generates an ECDSA signer on curve (nil means P-256) with the scheme of the
// curve: ecdsa-sha2-nistp256, -nistp384 or -nistp521.
func GenerateECDSA(curve elliptic.Curve) (*Signer, error) {
	if curve == nil {
		curve = elliptic.P256()
	}
	switch curve {
	case elliptic.P256(), elliptic.P384(), elliptic.P521():
	default:
		return nil, invalid("unsupported curve")
	}
	priv, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		return nil, err
	}
	return NewSigner(priv, "")
}

// Private returns the private key. Callers must not modify it.
func (s *Signer) Private() crypto.Signer { return s.priv }

// MarshalPrivatePEM encodes the private key in PEM: "RSA PRIVATE KEY" (PKCS#1, as
// in-toto-keygen writes RSA keys and python's in-toto-run --key reads them), "EC PRIVATE KEY"
// (SEC1) or "PRIVATE KEY" (PKCS#8, for Ed25519). in-toto-golang reads all three.
func (s *Signer) MarshalPrivatePEM() ([]byte, error) {
	switch p := s.priv.(type) {
	case *rsa.PrivateKey:
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(p)}), nil
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(p)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
	case ed25519.PrivateKey:
		der, err := x509.MarshalPKCS8PrivateKey(p)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
	}
	return nil, invalid("private key of type %T cannot be exported", s.priv)
}

// MarshalSSLibPrivate encodes the key pair as an unencrypted securesystemslib JSON private key
// file, the format in-toto-keygen writes for ed25519 and ecdsa keys and python's in-toto-run
// --key reads with --key-type ed25519 or ecdsa. RSA keys use MarshalPrivatePEM instead.
func (s *Signer) MarshalSSLibPrivate() ([]byte, error) {
	var private string
	switch p := s.priv.(type) {
	case ed25519.PrivateKey:
		private = hex.EncodeToString(p.Seed())
	case *ecdsa.PrivateKey:
		b, err := s.MarshalPrivatePEM()
		if err != nil {
			return nil, err
		}
		private = string(b)
	default:
		return nil, &verr.InputError{What: "key", Offset: -1, Msg: fmt.Sprintf("%T has no securesystemslib JSON private key format", s.priv)}
	}
	k := s.Key
	m := map[string]any{
		"keytype":               k.KeyType,
		"scheme":                k.Scheme,
		"keyid":                 k.KeyID,
		"keyid_hash_algorithms": k.hashAlgs,
		"keyval":                map[string]any{"public": k.publicText, "private": private},
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
