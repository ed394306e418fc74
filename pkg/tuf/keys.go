package tuf

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/sigstore/sigstore/pkg/signature"
)

// verifier checks one signature over a message.
type verifier func(msg, sig []byte) bool

// verifierOf returns the key's verifier, parsing the public key once. The key types and schemes
// are those of the TUF specification and securesystemslib: ed25519 (hex public key),
// ecdsa / ecdsa-sha2-nistp256 / ecdsa-sha2-nistp384 (PEM, ASN.1 DER signatures), and rsa (PEM)
// with rsassa-pss-sha256/384/512 or rsa-pkcs1v15-sha256/384/512. ECDSA and RSA signatures are
// checked with sigstore/sigstore's verifiers, ed25519 with crypto/ed25519.
func (k *Key) verifierOf() (verifier, error) {
	k.once.Do(func() { k.verifier, k.err = newVerifier(k) })
	return k.verifier, k.err
}

// identity returns a string that is equal for two keys with the same key material, so that a
// threshold counts distinct keys, not distinct keyids.
func (k *Key) identity() string {
	return k.KeyType + "\x00" + k.Scheme + "\x00" + k.KeyVal.Public
}

func newVerifier(k *Key) (verifier, error) {
	switch k.KeyType {
	case "ed25519":
		if k.Scheme != "ed25519" {
			return nil, fmt.Errorf("unsupported scheme %q for ed25519", k.Scheme)
		}
		pub, err := hex.DecodeString(k.KeyVal.Public)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, errors.New("invalid ed25519 public key")
		}
		return func(msg, sig []byte) bool { return ed25519.Verify(pub, msg, sig) }, nil
	case "ecdsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384":
		pub, err := parsePEM(k.KeyVal.Public)
		if err != nil {
			return nil, err
		}
		ec, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return nil, errors.New("not an ECDSA public key")
		}
		var h crypto.Hash
		switch {
		case k.Scheme == "ecdsa-sha2-nistp256" && ec.Curve == elliptic.P256():
			h = crypto.SHA256
		case k.Scheme == "ecdsa-sha2-nistp384" && ec.Curve == elliptic.P384():
			h = crypto.SHA384
		default:
			return nil, fmt.Errorf("unsupported scheme %q for this ECDSA key", k.Scheme)
		}
		v, err := signature.LoadECDSAVerifier(ec, h)
		if err != nil {
			return nil, err
		}
		return sigstoreVerifier(v), nil
	case "rsa":
		pub, err := parsePEM(k.KeyVal.Public)
		if err != nil {
			return nil, err
		}
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("not an RSA public key")
		}
		var h crypto.Hash
		var pss bool
		switch k.Scheme {
		case "rsassa-pss-sha256":
			h, pss = crypto.SHA256, true
		case "rsassa-pss-sha384":
			h, pss = crypto.SHA384, true
		case "rsassa-pss-sha512":
			h, pss = crypto.SHA512, true
		case "rsa-pkcs1v15-sha256":
			h = crypto.SHA256
		case "rsa-pkcs1v15-sha384":
			h = crypto.SHA384
		case "rsa-pkcs1v15-sha512":
			h = crypto.SHA512
		default:
			return nil, fmt.Errorf("unsupported scheme %q for rsa", k.Scheme)
		}
		if pss {
			v, err := signature.LoadRSAPSSVerifier(rk, h, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
			if err != nil {
				return nil, err
			}
			return sigstoreVerifier(v), nil
		}
		v, err := signature.LoadRSAPKCS1v15Verifier(rk, h)
		if err != nil {
			return nil, err
		}
		return sigstoreVerifier(v), nil
	}
	return nil, fmt.Errorf("unsupported key type %q", k.KeyType)
}

// sigstoreVerifier adapts a sigstore/sigstore verifier. (ed25519 is verified with crypto/ed25519
// directly: sigstore's ed25519 verifier copies the whole message, which for a large targets
// role would double the memory the canonical form already takes.)
func sigstoreVerifier(v signature.Verifier) verifier {
	return func(msg, sig []byte) bool {
		return v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)) == nil
	}
}

func parsePEM(s string) (crypto.PublicKey, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, errors.New("public key is not PEM")
	}
	return x509.ParsePKIXPublicKey(b.Bytes)
}
