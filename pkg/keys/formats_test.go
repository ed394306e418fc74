package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	intoto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/secure-systems-lab/go-securesystemslib/signerverifier"

	"github.com/tintoproject/tinto/pkg/verr"
)

var (
	fixtureOnce    sync.Once
	fixtureSigners map[string]*Signer
)

// fixtures returns signers generated once per test binary.
func fixtures(t testing.TB) map[string]*Signer {
	fixtureOnce.Do(func() { fixtureSigners = generateAll(t) })
	if fixtureSigners == nil {
		t.Fatal("fixture generation failed")
	}
	return fixtureSigners
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func selfSigned(t testing.TB, priv crypto.Signer) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "functionary"},
		NotBefore:    time.Unix(1700000000, 0),
		NotAfter:     time.Unix(1900000000, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, priv.Public(), priv)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("CERTIFICATE", der)
}

// pemForms returns every PEM encoding of a signer's key that ParsePEM reads.
func pemForms(t testing.TB, s *Signer) map[string][]byte {
	t.Helper()
	forms := map[string][]byte{}
	pkix, err := x509.MarshalPKIXPublicKey(s.Key.Public)
	if err != nil {
		t.Fatal(err)
	}
	forms["pkix"] = pemOf("PUBLIC KEY", pkix)
	forms["pkix-crlf"] = []byte(strings.ReplaceAll(string(forms["pkix"]), "\n", "\r\n"))
	forms["pkix-leading-text"] = append([]byte("a comment line\n"), forms["pkix"]...)
	p8, err := x509.MarshalPKCS8PrivateKey(s.Private())
	if err != nil {
		t.Fatal(err)
	}
	forms["pkcs8"] = pemOf("PRIVATE KEY", p8)
	forms["certificate"] = selfSigned(t, s.Private())
	switch p := s.Private().(type) {
	case *rsa.PrivateKey:
		forms["pkcs1-public"] = pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&p.PublicKey))
		forms["pkcs1-private"] = pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(p))
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(p)
		if err != nil {
			t.Fatal(err)
		}
		forms["sec1"] = pemOf("EC PRIVATE KEY", der)
	}
	return forms
}

// TestParsePEMForms checks that every PEM form of a key gives the same keyid and verifies.
func TestParsePEMForms(t *testing.T) {
	msg := []byte("pem forms")
	for name, s := range fixtures(t) {
		sig, err := s.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		for form, data := range pemForms(t, s) {
			t.Run(name+"/"+form, func(t *testing.T) {
				k, err := ParsePEM(data, "")
				if err != nil {
					t.Fatalf("ParsePEM: %v", err)
				}
				if k.KeyID != s.Key.KeyID || k.Scheme != s.Key.Scheme || k.KeyType != s.Key.KeyType {
					t.Errorf("got %s %s %s, want %s %s %s", k.KeyID, k.KeyType, k.Scheme, s.Key.KeyID, s.Key.KeyType, s.Key.Scheme)
				}
				if err := k.Verify(msg, sig); err != nil {
					t.Errorf("Verify: %v", err)
				}
				if (form == "certificate") != (k.Certificate() != nil) {
					t.Errorf("Certificate() = %v", k.Certificate())
				}
				// The dict carries the certificate, and reads back.
				k2, err := FromSSLib(k.KeyID, roundTrip(t, k.SSLib()))
				if err != nil {
					t.Fatalf("FromSSLib(SSLib()): %v", err)
				}
				if (k2.Certificate() != nil) != (k.Certificate() != nil) || k2.KeyID != k.KeyID {
					t.Errorf("round trip lost the certificate or keyid")
				}
			})
		}
	}
}

// TestInTotoGolangInterop checks keyids and signatures against in-toto-golang v0.11.0 and
// go-securesystemslib, which in-toto-golang verifies with.
func TestInTotoGolangInterop(t *testing.T) {
	dir := t.TempDir()
	msg := []byte("in-toto-golang interop")
	for name, s := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			pubPEM, err := s.Key.MarshalPEM()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, name+".pub")
			if err := os.WriteFile(path, pubPEM, 0o644); err != nil {
				t.Fatal(err)
			}
			var ik intoto.Key
			if err := ik.LoadKey(path, s.Key.Scheme, DefaultKeyIDHashAlgorithms()); err != nil {
				t.Fatalf("in-toto-golang LoadKey: %v", err)
			}
			if ik.KeyID != s.Key.KeyID {
				t.Errorf("in-toto-golang keyid %s, ours %s", ik.KeyID, s.Key.KeyID)
			}
			d := s.Key.SSLib()
			kv := d["keyval"].(map[string]any)
			sk := signerverifier.SSLibKey{
				KeyType:             s.Key.KeyType,
				Scheme:              s.Key.Scheme,
				KeyID:               s.Key.KeyID,
				KeyIDHashAlgorithms: DefaultKeyIDHashAlgorithms(),
				KeyVal:              signerverifier.KeyVal{Public: kv["public"].(string)},
			}
			var v interface {
				Verify(context.Context, []byte, []byte) error
			}
			switch s.Key.KeyType {
			case KeyTypeRSA:
				v, err = signerverifier.NewRSAPSSSignerVerifierFromSSLibKey(&sk)
			case KeyTypeECDSA:
				v, err = signerverifier.NewECDSASignerVerifierFromSSLibKey(&sk)
			case KeyTypeEd25519:
				v, err = signerverifier.NewED25519SignerVerifierFromSSLibKey(&sk)
			}
			if err != nil {
				t.Fatalf("go-securesystemslib verifier: %v", err)
			}
			sig, err := s.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Verify(context.Background(), msg, sig.Sig); err != nil {
				t.Errorf("go-securesystemslib does not verify our signature: %v", err)
			}
		})
	}
}

// TestParseErrors checks that bad keys are *verr.InputError and never panic.
func TestParseErrors(t *testing.T) {
	s := fixtures(t)
	rsaPEM, _ := s["rsa"].Key.MarshalPEM()
	edHex := s["ed25519"].Key.PublicText()
	smallN := new(big.Int).Lsh(big.NewInt(1), 511)
	smallN.Add(smallN, big.NewInt(1))
	smallDER, err := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: smallN, E: 65537})
	if err != nil {
		t.Fatal(err)
	}
	encrypted := "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"

	pemCases := []struct {
		name, scheme string
		data         []byte
	}{
		{"empty", "", nil},
		{"garbage", "", []byte("not a key")},
		{"unknown block", "", pemOf("FOO", []byte{1, 2, 3})},
		{"bad der", "", pemOf("PUBLIC KEY", []byte{1, 2, 3})},
		{"encrypted", "", []byte(encrypted)},
		{"small rsa", "", pemOf("PUBLIC KEY", smallDER)},
		{"scheme for another type", SchemeEd25519, rsaPEM},
		{"unknown scheme", "rsassa-pss-md5", rsaPEM},
		{"sha1 scheme", "rsa-pkcs1v15-sha1", rsaPEM},
	}
	for _, c := range pemCases {
		t.Run("pem/"+c.name, func(t *testing.T) {
			_, err := ParsePEM(c.data, c.scheme)
			var ie *verr.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v, want *verr.InputError", err)
			}
		})
	}

	okED := func() map[string]any {
		return map[string]any{"keytype": "ed25519", "scheme": "ed25519", "keyval": map[string]any{"public": edHex}}
	}
	with := func(f func(m map[string]any)) map[string]any { m := okED(); f(m); return m }
	pgp := func(f func(m map[string]any)) map[string]any {
		m := map[string]any{"keyid": "aabb", "type": "eddsa", "method": SchemePGPEd25519, "hashes": []any{"pgp+SHA2"},
			"keyval": map[string]any{"private": "", "public": map[string]any{"q": edHex}}}
		f(m)
		return m
	}
	dictCases := []struct {
		name  string
		keyid string
		raw   any
	}{
		{"not an object", "", []any{}},
		{"null", "", nil},
		{"no keytype", "", with(func(m map[string]any) { delete(m, "keytype") })},
		{"keytype not string", "", with(func(m map[string]any) { m["keytype"] = true })},
		{"unknown keytype", "", with(func(m map[string]any) { m["keytype"] = "sphincs" })},
		{"unknown scheme", "", with(func(m map[string]any) { m["scheme"] = "ed448" })},
		{"scheme mismatch", "", with(func(m map[string]any) { m["scheme"] = SchemeECDSAP256 })},
		{"no keyval", "", with(func(m map[string]any) { delete(m, "keyval") })},
		{"short ed25519", "", with(func(m map[string]any) { m["keyval"] = map[string]any{"public": "abcd"} })},
		{"bad hex", "", with(func(m map[string]any) { m["keyval"] = map[string]any{"public": strings.Repeat("zz", 32)} })},
		{"rsa not pem", "", map[string]any{"keytype": "rsa", "scheme": SchemeRSAPSSSHA256, "keyval": map[string]any{"public": "abc"}}},
		{"rsa trailing data", "", map[string]any{"keytype": "rsa", "scheme": SchemeRSAPSSSHA256, "keyval": map[string]any{"public": string(rsaPEM) + "junk"}}},
		{"rsa key as ecdsa", "", map[string]any{"keytype": "ecdsa", "scheme": SchemeECDSAP256, "keyval": map[string]any{"public": string(rsaPEM)}}},
		{"keyid mismatch", strings.Repeat("ab", 32), okED()},
		{"keyid field disagrees", s["ed25519"].Key.KeyID, with(func(m map[string]any) { m["keyid"] = strings.Repeat("cd", 32) })},
		{"hash algs not list", "", with(func(m map[string]any) { m["keyid_hash_algorithms"] = "sha256" })},
		{"hash algs not strings", "", with(func(m map[string]any) { m["keyid_hash_algorithms"] = []any{1.5} })},
		{"certificate of another key", "", with(func(m map[string]any) {
			m["keyval"] = map[string]any{"public": edHex, "certificate": string(selfSigned(t, s["p256"].Private()))}
		})},
		{"pgp bad method", "aabb", pgp(func(m map[string]any) { m["method"] = SchemePGPRSA })},
		{"pgp unknown type", "aabb", pgp(func(m map[string]any) { m["type"] = "elgamal" })},
		{"pgp private", "aabb", pgp(func(m map[string]any) { m["keyval"].(map[string]any)["private"] = "secret" })},
		{"pgp bad q", "aabb", pgp(func(m map[string]any) { m["keyval"].(map[string]any)["public"] = map[string]any{"q": "xyz"} })},
		{"pgp keyid not hex", "", pgp(func(m map[string]any) { m["keyid"] = "not-hex" })},
		{"pgp keyid disagrees", "ccdd", pgp(func(m map[string]any) {})},
		{"pgp subkeys not object", "aabb", pgp(func(m map[string]any) { m["subkeys"] = []any{} })},
		{"pgp subkey repeats primary", "aabb", pgp(func(m map[string]any) { m["subkeys"] = map[string]any{"aabb": pgp(func(map[string]any) {})} })},
		{"pgp bad creation time", "aabb", pgp(func(m map[string]any) { m["creation_time"] = "yesterday" })},
		{"pgp small rsa", "aabb", pgp(func(m map[string]any) {
			m["type"], m["method"] = "rsa", SchemePGPRSA
			m["keyval"] = map[string]any{"public": map[string]any{"e": "010001", "n": "ff"}}
		})},
	}
	for _, c := range dictCases {
		t.Run("dict/"+c.name, func(t *testing.T) {
			_, err := FromSSLib(c.keyid, c.raw)
			var ie *verr.InputError
			if !errors.As(err, &ie) || !errors.Is(err, verr.ErrInvalidInput) {
				t.Fatalf("got %v, want *verr.InputError", err)
			}
		})
	}

	fileCases := []struct {
		name, typ string
		data      []byte
	}{
		{"unknown type", "dsa", rsaPEM},
		{"ed25519 file holds rsa", "ed25519", rsaPEM},
		{"rsa file holds json", "rsa", []byte(`{"keytype":"ed25519"}`)},
		{"duplicate json key", "ed25519", []byte(`{"keytype":"ed25519","keytype":"ed25519","scheme":"ed25519","keyval":{"public":"` + edHex + `"}}`)},
		{"openpgp garbage", "openpgp", []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n")},
	}
	for _, c := range fileCases {
		t.Run("file/"+c.name, func(t *testing.T) {
			_, err := ParseKeyFile(c.data, c.typ)
			if !errors.Is(err, verr.ErrInvalidInput) {
				t.Fatalf("got %v, want *verr.InputError", err)
			}
		})
	}
}

// TestKeyIDForms checks the three keyid forms FromSSLib accepts for one key dict.
func TestKeyIDForms(t *testing.T) {
	k := fixtures(t)["ed25519"].Key
	pub := k.PublicText()
	withAlgs, _ := KeyID("ed25519", "ed25519", pub, []string{"sha512"})
	defaultAlgs, _ := KeyID("ed25519", "ed25519", pub, DefaultKeyIDHashAlgorithms())
	noAlgs, _ := KeyID("ed25519", "ed25519", pub, nil)
	dict := map[string]any{"keytype": "ed25519", "scheme": "ed25519", "keyid_hash_algorithms": []any{"sha512"},
		"keyval": map[string]any{"public": pub}}
	for _, id := range []string{withAlgs, defaultAlgs, noAlgs, ""} {
		got, err := FromSSLib(id, dict)
		if err != nil {
			t.Fatalf("FromSSLib(%q): %v", id, err)
		}
		want := id
		if id == "" {
			want = withAlgs
		}
		if got.KeyID != want {
			t.Errorf("keyid %s, want %s", got.KeyID, want)
		}
	}
	if defaultAlgs != k.KeyID {
		t.Errorf("generated keyid %s, want %s", k.KeyID, defaultAlgs)
	}
	// The unsafe variant takes any declared keyid.
	got, err := FromSSLibUnsafeKeyID("my-key", dict)
	if err != nil || got.KeyID != "my-key" {
		t.Errorf("FromSSLibUnsafeKeyID: %v %v", got, err)
	}
}

// TestLegacyECDSAHex loads an ECDSA key dict whose keyval.public is the hex of the uncompressed
// point, as go-tuf before v2 wrote them.
func TestLegacyECDSAHex(t *testing.T) {
	s := fixtures(t)["p256"]
	p := s.Key.Public.(*ecdsa.PublicKey)
	point, err := p.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	dict := map[string]any{"keytype": "ecdsa-sha2-nistp256", "scheme": SchemeECDSAP256,
		"keyval": map[string]any{"public": hex.EncodeToString(point)}}
	k, err := FromSSLib("", dict)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("legacy")
	sig, _ := s.Sign(msg)
	if err := k.Verify(msg, Signature{Sig: sig.Sig}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.String(), "ecdsa-sha2-nistp256/ecdsa-sha2-nistp256 key ") {
		t.Errorf("String() = %q", k.String())
	}
	dict["keyval"] = map[string]any{"public": "04abcd"}
	if _, err := FromSSLib("", dict); !errors.Is(err, verr.ErrInvalidInput) {
		t.Errorf("bad point: %v", err)
	}
}

// TestVerifyRejects checks signature encodings and keyids that must not verify.
func TestVerifyRejects(t *testing.T) {
	s := fixtures(t)
	msg := []byte("rejects")
	p256 := s["p256"]
	sig, err := p256.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	// Convert the DER signature to IEEE P1363 (r || s), which sigstore would accept.
	var rs struct{ R, S *big.Int }
	if _, err := asn1Unmarshal(sig.Sig, &rs); err != nil {
		t.Fatal(err)
	}
	p1363 := make([]byte, 64)
	rs.R.FillBytes(p1363[:32])
	rs.S.FillBytes(p1363[32:])
	edSig, _ := s["ed25519"].Sign(msg)

	cases := []struct {
		name string
		key  *Key
		sig  Signature
	}{
		{"ecdsa p1363", p256.Key, Signature{KeyID: sig.KeyID, Sig: p1363}},
		{"ecdsa der with trailing byte", p256.Key, Signature{KeyID: sig.KeyID, Sig: append(append([]byte(nil), sig.Sig...), 0)}},
		{"ecdsa empty", p256.Key, Signature{KeyID: sig.KeyID}},
		{"wrong keyid", p256.Key, Signature{KeyID: "00", Sig: sig.Sig}},
		{"other key", s["p384"].Key, Signature{Sig: sig.Sig}},
		{"ed25519 short", s["ed25519"].Key, Signature{Sig: edSig.Sig[:63]}},
		{"ed25519 long", s["ed25519"].Key, Signature{Sig: append(append([]byte(nil), edSig.Sig...), 0)}},
		{"nil key", nil, edSig},
		{"rsa garbage", s["rsa"].Key, Signature{Sig: []byte{1, 2, 3}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.key.Verify(msg, c.sig)
			if !errors.Is(err, verr.BadSignature) {
				t.Fatalf("got %v, want BadSignature", err)
			}
		})
	}
	// An empty KeyID is allowed (DSSE signatures may omit it).
	if err := p256.Key.Verify(msg, Signature{Sig: sig.Sig}); err != nil {
		t.Errorf("no keyid: %v", err)
	}
}

// TestSchemes signs and verifies with every RSA scheme.
func TestSchemes(t *testing.T) {
	priv := fixtures(t)["rsa"].Private()
	msg := []byte("schemes")
	for _, scheme := range []string{SchemeRSAPSSSHA256, SchemeRSAPSSSHA384, SchemeRSAPSSSHA512,
		SchemeRSAPKCS1v15SHA256, SchemeRSAPKCS1v15SHA384, SchemeRSAPKCS1v15SHA512} {
		t.Run(scheme, func(t *testing.T) {
			s, err := NewSigner(priv, scheme)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := s.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Key.Verify(msg, sig); err != nil {
				t.Fatal(err)
			}
			// The same key under another scheme has another keyid and rejects the signature.
			other := SchemeRSAPSSSHA256
			if scheme == other {
				other = SchemeRSAPKCS1v15SHA256
			}
			k2, err := NewKey(priv.Public(), other)
			if err != nil {
				t.Fatal(err)
			}
			if k2.KeyID == s.Key.KeyID {
				t.Errorf("same keyid for two schemes")
			}
			if err := k2.Verify(msg, Signature{Sig: sig.Sig}); !errors.Is(err, verr.BadSignature) {
				t.Errorf("cross-scheme verify: %v", err)
			}
		})
	}
	// A generic crypto.Signer (not one of the standard key types) signs through its Sign method.
	gs, err := NewSigner(opaqueSigner{priv}, SchemeRSAPSSSHA256)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := gs.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := gs.Key.Verify(msg, sig); err != nil {
		t.Errorf("generic signer: %v", err)
	}
	edg, err := NewSigner(opaqueSigner{fixtures(t)["ed25519"].Private()}, "")
	if err != nil {
		t.Fatal(err)
	}
	if sig, err = edg.Sign(msg); err != nil || edg.Key.Verify(msg, sig) != nil {
		t.Errorf("generic ed25519 signer: %v", err)
	}
	_ = ed25519.PublicKeySize
}

type opaqueSigner struct{ crypto.Signer }

func TestConcurrentVerify(t *testing.T) {
	s := fixtures(t)
	msg := []byte("concurrent")
	var wg sync.WaitGroup
	for _, name := range []string{"rsa", "p256", "ed25519"} {
		signer := s[name]
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 5; j++ {
					sig, err := signer.Sign(msg)
					if err != nil {
						t.Error(err)
						return
					}
					if err := signer.Key.Verify(msg, sig); err != nil {
						t.Error(err)
					}
					_ = signer.Key.SSLib()
				}
			}()
		}
	}
	wg.Wait()
}

func asn1Unmarshal(b []byte, v any) ([]byte, error) { return asn1.Unmarshal(b, v) }
