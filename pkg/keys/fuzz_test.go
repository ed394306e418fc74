package keys

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"math/big"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/verr"
)

// Fuzz seeds are made at run time from deterministic keys (see testdata/README.md).

// seedKeys returns deterministic keys of every type: Ed25519 from a fixed seed, ECDSA from fixed
// scalars, and an RSA key assembled from fixed primes.
func seedKeys(tb testing.TB) []*Signer {
	tb.Helper()
	var out []*Signer
	ed := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	s, err := NewSigner(ed, "")
	if err != nil {
		tb.Fatal(err)
	}
	out = append(out, s)
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		d := new(big.Int).SetBytes(bytes.Repeat([]byte{5}, c.Params().BitSize/8-1))
		x, y := c.ScalarBaseMult(d.Bytes())
		priv := &ecdsa.PrivateKey{PublicKey: ecdsa.PublicKey{Curve: c, X: x, Y: y}, D: d}
		s, err := NewSigner(priv, "")
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func checkParsed(t *testing.T, k *Key, err error) {
	t.Helper()
	if err != nil {
		var ie *verr.InputError
		if !errors.As(err, &ie) {
			t.Fatalf("error is not *verr.InputError: %T %v", err, err)
		}
		if k != nil {
			t.Fatalf("key and error both returned")
		}
		return
	}
	if k == nil || k.KeyID == "" {
		t.Fatalf("no key and no error")
	}
	// A parsed key survives a round trip through its dict with the same keyid.
	k2, err := FromSSLib(k.KeyID, roundTrip(t, k.SSLib()))
	if err != nil {
		t.Fatalf("FromSSLib(SSLib()) of a parsed key: %v", err)
	}
	if k2.KeyID != k.KeyID {
		t.Fatalf("round trip keyid %s, want %s", k2.KeyID, k.KeyID)
	}
	// Verifying garbage never panics and fails.
	if err := k.Verify([]byte("m"), Signature{Sig: []byte{0x30, 0x00}, OtherHeaders: []byte{4, 0, 1, 8, 0, 0}}); err == nil {
		t.Fatalf("garbage signature verified")
	}
}

func FuzzParsePEM(f *testing.F) {
	for _, s := range seedKeys(f) {
		der, _ := x509.MarshalPKIXPublicKey(s.Key.Public)
		f.Add(pemOf("PUBLIC KEY", der), "")
		p8, _ := x509.MarshalPKCS8PrivateKey(s.Private())
		f.Add(pemOf("PRIVATE KEY", p8), s.Key.Scheme)
	}
	f.Add([]byte("-----BEGIN RSA PUBLIC KEY-----\nMAA=\n-----END RSA PUBLIC KEY-----\n"), SchemeRSAPSSSHA256)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"), "")
	f.Fuzz(func(t *testing.T, data []byte, scheme string) {
		k, err := ParsePEM(data, scheme)
		checkParsed(t, k, err)
	})
}

func FuzzParseSSLib(f *testing.F) {
	for _, s := range seedKeys(f) {
		b, err := s.Key.MarshalSSLib()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		b, _ = json.Marshal(s.Key.SSLib())
		f.Add(b)
	}
	f.Add([]byte(`{"keytype":"rsa","scheme":"rsassa-pss-sha256","keyval":{"public":"-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----"}}`))
	f.Add([]byte(`{"keyid":"aa","type":"rsa","method":"pgp+rsa-pkcsv1.5","hashes":["pgp+SHA2"],"keyval":{"private":"","public":{"e":"010001","n":"ff"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseSSLib(data)
		checkParsed(t, k, err)
	})
}

func FuzzFromSSLib(f *testing.F) {
	for _, s := range seedKeys(f) {
		b, _ := json.Marshal(s.Key.SSLib())
		f.Add(s.Key.KeyID, b)
	}
	pgpSeed := `{"keyid":"d1aff05298afef094b20e1ac93eae7711b1f070b","type":"eddsa","method":"pgp+eddsa-ed25519",` +
		`"hashes":["pgp+SHA2"],"creation_time":1795744040,"validity_period":86400,` +
		`"keyval":{"private":"","public":{"q":"af862e01c0a73cbf449246611b1f5e9b174f6f0ce1c37852f4bb61a2ec8f06bd"}},` +
		`"subkeys":{"aa":{"keyid":"aa","type":"dsa","method":"pgp+dsa-fips-180-2","hashes":[],"keyval":{"public":{"p":"ff","q":"ff","g":"2","y":"3"}}}}}`
	f.Add("d1aff05298afef094b20e1ac93eae7711b1f070b", []byte(pgpSeed))
	for _, algo := range []packet.PublicKeyAlgorithm{packet.PubKeyAlgoEdDSA, packet.PubKeyAlgoRSA} {
		if k, err := ParseOpenPGP(openPGPSeed(f, algo)); err == nil {
			b, _ := json.Marshal(k.SSLib())
			f.Add(k.KeyID, b)
		}
	}
	f.Fuzz(func(t *testing.T, keyid string, data []byte) {
		tree, err := cjson.Decode(data, cjson.Limits{MaxBytes: 1 << 16})
		if err != nil {
			return
		}
		k, err := FromSSLib(keyid, tree)
		if err == nil && keyid != "" && k.KeyID != keyid {
			t.Fatalf("keyid %q, declared %q", k.KeyID, keyid)
		}
		if err == nil && !k.IsOpenPGP() {
			// A securesystemslib key's keyid is one of the computable ones.
			checkParsed(t, k, err)
		} else if err != nil {
			checkParsed(t, nil, err)
		}
	})
}

// openPGPSeed returns an armored Ed25519 OpenPGP public key made with go-crypto.
func openPGPSeed(tb testing.TB, algo packet.PublicKeyAlgorithm) []byte {
	tb.Helper()
	cfg := &packet.Config{Algorithm: algo, RSABits: 2048}
	e, err := openpgp.NewEntity("fuzz", "", "fuzz@example.com", cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.Serialize(w); err != nil {
		tb.Fatal(err)
	}
	w.Close()
	return buf.Bytes()
}

func FuzzParseOpenPGP(f *testing.F) {
	armored := openPGPSeed(f, packet.PubKeyAlgoEdDSA)
	f.Add(armored)
	if block, err := armor.Decode(bytes.NewReader(armored)); err == nil {
		var bin bytes.Buffer
		if _, err := bin.ReadFrom(block.Body); err == nil {
			f.Add(bin.Bytes())
		}
	}
	f.Add([]byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := ParseOpenPGP(data)
		if err != nil {
			checkParsed(t, nil, err)
			return
		}
		if !k.IsOpenPGP() {
			t.Fatal("not an OpenPGP key")
		}
		checkParsed(t, k, nil)
	})
}

// TestOpenPGPGoCrypto parses keys made by go-crypto (no gpg needed), including an RSA key whose
// encryption subkey is kept (RSA subkeys are securesystemslib keys) and an Ed25519 key whose
// Curve25519 encryption subkey is skipped.
func TestOpenPGPGoCrypto(t *testing.T) {
	for _, c := range []struct {
		algo    packet.PublicKeyAlgorithm
		typ     string
		subkeys int
	}{
		{packet.PubKeyAlgoEdDSA, PGPTypeEdDSA, 0},
		{packet.PubKeyAlgoRSA, PGPTypeRSA, 1},
	} {
		k, err := ParseOpenPGP(openPGPSeed(t, c.algo))
		if err != nil {
			t.Fatalf("%v: %v", c.algo, err)
		}
		if k.KeyType != c.typ || len(k.KeyID) != 40 || len(k.SubkeyIDs()) != c.subkeys {
			t.Errorf("%v: got %s %s subkeys %v", c.algo, k.KeyType, k.KeyID, k.SubkeyIDs())
		}
		for _, id := range k.SubkeyIDs() {
			if !k.Owns(id) {
				t.Errorf("does not own subkey %s", id)
			}
		}
		if _, ok := k.Public.(*rsa.PublicKey); c.typ == PGPTypeRSA && !ok {
			t.Errorf("public key is %T", k.Public)
		}
	}
	// Two keys in one input are refused.
	two := append(openPGPSeed(t, packet.PubKeyAlgoEdDSA), openPGPSeed(t, packet.PubKeyAlgoEdDSA)...)
	if _, err := ParseOpenPGP(two); !errors.Is(err, verr.ErrInvalidInput) {
		t.Errorf("two keys: %v", err)
	}
}
