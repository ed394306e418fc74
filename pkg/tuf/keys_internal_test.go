package tuf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"testing"

	"github.com/tintoproject/tinto/pkg/tuf/internal/tjson"
	"github.com/tintoproject/tinto/pkg/verr"
)

// testKey is a TUF key dict with the function that signs for it.
type testKey struct {
	keytype, scheme, public string
	sign                    func(msg []byte) []byte
}

func (k testKey) dict() *Key {
	return &Key{KeyType: k.keytype, Scheme: k.scheme, KeyVal: KeyVal{Public: k.public}}
}

func pemPublic(t *testing.T, pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func newEd25519(t *testing.T) testKey {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{"ed25519", "ed25519", hex.EncodeToString(pub),
		func(msg []byte) []byte { return ed25519.Sign(priv, msg) }}
}

func newECDSA(t *testing.T, c elliptic.Curve, scheme string, h crypto.Hash) testKey {
	priv, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKey{"ecdsa", scheme, pemPublic(t, &priv.PublicKey), func(msg []byte) []byte {
		d := h.New()
		d.Write(msg)
		sig, err := ecdsa.SignASN1(rand.Reader, priv, d.Sum(nil))
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}}
}

// TestVerifyRoleKeys checks the TUF semantics of signature checks on top of pkg/keys: keyids are
// taken as the metadata declares them, keys of unknown type or scheme (or that do not parse)
// count as no signature without making the metadata invalid, a threshold counts distinct key
// material, and signatures cover exactly the canonical bytes.
func TestVerifyRoleKeys(t *testing.T) {
	msg := []byte(`{"_type":"root","version":1}`)
	ed1, ed2 := newEd25519(t), newEd25519(t)
	p256 := newECDSA(t, elliptic.P256(), "ecdsa-sha2-nistp256", crypto.SHA256)
	p384 := newECDSA(t, elliptic.P384(), "ecdsa-sha2-nistp384", crypto.SHA384)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaSign := func(h crypto.Hash, pss bool) func([]byte) []byte {
		return func(msg []byte) []byte {
			d := h.New()
			d.Write(msg)
			var sig []byte
			var err error
			if pss {
				sig, err = rsa.SignPSS(rand.Reader, rk, h, d.Sum(nil), nil)
			} else {
				sig, err = rsa.SignPKCS1v15(rand.Reader, rk, h, d.Sum(nil))
			}
			if err != nil {
				t.Fatal(err)
			}
			return sig
		}
	}
	rsaPub := pemPublic(t, &rk.PublicKey)
	rsaPSS := testKey{"rsa", "rsassa-pss-sha256", rsaPub, rsaSign(crypto.SHA256, true)}
	rsaPKCS := testKey{"rsa", "rsa-pkcs1v15-sha512", rsaPub, rsaSign(crypto.SHA512, false)}

	// Variants that pkg/tuf must ignore.
	unknownType := ed1
	unknownType.keytype = "ed448"
	unknownScheme := ed1
	unknownScheme.scheme = "ed25519-ph"
	// A P-384 key that signs SHA-256 digests: the signature verifies, but the scheme does not
	// name the key's curve.
	curveMismatch := newECDSA(t, elliptic.P384(), "ecdsa-sha2-nistp256", crypto.SHA256)
	rawPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecPoint, _ := rawPriv.PublicKey.Bytes()
	hexECDSA := testKey{"ecdsa", "ecdsa-sha2-nistp256", hex.EncodeToString(ecPoint), func(msg []byte) []byte {
		d := crypto.SHA256.New()
		d.Write(msg)
		sig, _ := ecdsa.SignASN1(rand.Reader, rawPriv, d.Sum(nil))
		return sig
	}}
	badPublic := ed1
	badPublic.public = "zz"

	type signer struct {
		id  string
		key testKey
		sig string // "" to sign msg; otherwise the hex sig used as is
	}
	for _, c := range []struct {
		name      string
		keys      []signer // listed in the role, with their signatures
		extraSigs []Signature
		threshold int
		want      verr.Reason // "" for success
	}{
		{"ed25519", []signer{{"a", ed1, ""}}, nil, 1, ""},
		{"keyid as declared, not recomputed", []signer{{"Root-Key_1", ed1, ""}}, nil, 1, ""},
		{"ecdsa p256", []signer{{"a", p256, ""}}, nil, 1, ""},
		{"ecdsa p384", []signer{{"a", p384, ""}}, nil, 1, ""},
		{"rsa pss", []signer{{"a", rsaPSS, ""}}, nil, 1, ""},
		{"rsa pkcs1v15", []signer{{"a", rsaPKCS, ""}}, nil, 1, ""},
		{"two distinct keys", []signer{{"a", ed1, ""}, {"b", p256, ""}}, nil, 2, ""},
		{"same key under two keyids", []signer{{"a", ed1, ""}, {"b", ed1, ""}}, nil, 2, verr.Threshold},
		{"unknown key type is no signature", []signer{{"a", unknownType, ""}}, nil, 1, verr.BadSignature},
		{"unknown key type beside a good key", []signer{{"a", unknownType, ""}, {"b", ed2, ""}}, nil, 1, ""},
		{"unknown scheme is no signature", []signer{{"a", unknownScheme, ""}}, nil, 1, verr.BadSignature},
		{"scheme not the key's curve", []signer{{"a", curveMismatch, ""}}, nil, 1, verr.BadSignature},
		{"ecdsa public key not PEM", []signer{{"a", hexECDSA, ""}}, nil, 1, verr.BadSignature},
		{"public key does not parse", []signer{{"a", badPublic, ""}, {"b", ed2, ""}}, nil, 2, verr.Threshold},
		{"signature not hex", []signer{{"a", ed1, "xyz"}}, nil, 1, verr.BadSignature},
		{"signature by another key", []signer{{"a", ed1, hex.EncodeToString(ed2.sign(msg))}}, nil, 1, verr.BadSignature},
		{"signature over other bytes", []signer{{"a", ed1, hex.EncodeToString(ed1.sign(append([]byte(" "), msg...)))}}, nil, 1, verr.BadSignature},
		{"signature by a keyid the role does not list", []signer{{"a", ed1, "-"}},
			[]Signature{{KeyID: "b", Sig: hex.EncodeToString(ed2.sign(msg))}}, 1, verr.BadSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			trusted := map[string]*Key{}
			var r Role
			p := &parsed{env: &tjson.Envelope{Canonical: msg}}
			for _, s := range c.keys {
				trusted[s.id] = s.key.dict()
				r.KeyIDs = append(r.KeyIDs, s.id)
				switch s.sig {
				case "":
					p.signatures = append(p.signatures, Signature{KeyID: s.id, Sig: hex.EncodeToString(s.key.sign(msg))})
				case "-":
				default:
					p.signatures = append(p.signatures, Signature{KeyID: s.id, Sig: s.sig})
				}
			}
			for _, s := range c.extraSigs {
				trusted[s.KeyID] = ed2.dict()
				p.signatures = append(p.signatures, s)
			}
			r.Threshold = c.threshold
			err := verifyRole("root", trusted, r, p)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if got, ok := verr.ReasonOf(err); !ok || got != c.want {
				t.Fatalf("got %v, want reason %s", err, c.want)
			}
		})
	}
}
