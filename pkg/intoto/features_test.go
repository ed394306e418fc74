package intoto

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

func mustKey(t *testing.T) *keys.Signer {
	t.Helper()
	s, err := keys.GenerateEd25519(nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustSign(t *testing.T, signed map[string]any, s ...*keys.Signer) []byte {
	t.Helper()
	b, err := SignMetablock(signed, s...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustLink(t *testing.T, l *Link, s *keys.Signer) []byte {
	t.Helper()
	b, err := SignLink(l, FormatMetablock, "", s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func opts(owner *keys.Key, links LinkSource) Options {
	return Options{LayoutKeys: []*keys.Key{owner}, Links: links, Now: func() time.Time { return testNow }}
}

func TestSublayout(t *testing.T) {
	owner, subOwner, inner := mustKey(t), mustKey(t), mustKey(t)
	pkg := rules.Artifacts{"app.tar.gz": FileDigest("app")}

	sub := NewLayout(testNow, time.Hour, inner.Key)
	sub.Steps = []Step{{Name: "inner", Threshold: 1, PubKeys: []string{inner.Key.KeyID},
		ExpectedProducts: [][]string{{"CREATE", "app.tar.gz"}, {"DISALLOW", "*"}}}}
	top := NewLayout(testNow, time.Hour, subOwner.Key)
	top.Steps = []Step{{Name: "delegated", Threshold: 1, PubKeys: []string{subOwner.Key.KeyID},
		ExpectedProducts: [][]string{{"ALLOW", "app.tar.gz"}, {"DISALLOW", "*"}}}}

	links := MemLinks{
		LinkFileName("delegated", subOwner.Key.KeyID): mustSign(t, sub.Signed(), subOwner),
		SublayoutDir("delegated", subOwner.Key.KeyID) + "/" + LinkFileName("inner", inner.Key.KeyID): mustLink(t,
			&Link{Name: "inner", Products: pkg}, inner),
	}
	layout := mustSign(t, top.Signed(), owner)
	res, err := Verify(context.Background(), layout, opts(owner.Key, links))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	rec := res.Steps[0].Links[0]
	if rec.Sublayout == nil || !rec.Sublayout.Verified || res.Steps[0].Link.Products["app.tar.gz"].IsZero() {
		t.Fatalf("sublayout not summarised: %+v", res.Steps[0])
	}

	// The sublayout's link tampered: the super step fails with the sublayout's reason.
	links[SublayoutDir("delegated", subOwner.Key.KeyID)+"/"+LinkFileName("inner", inner.Key.KeyID)] = mustLink(t,
		&Link{Name: "inner", Products: rules.Artifacts{"app.tar.gz": FileDigest("app"), "evil": FileDigest("x")}}, inner)
	_, err = Verify(context.Background(), layout, opts(owner.Key, links))
	if !errors.Is(err, verr.RuleFailed) {
		t.Fatalf("tampered sublayout: %v", err)
	}
}

func TestParamsInVerify(t *testing.T) {
	owner, f := mustKey(t), mustKey(t)
	l := NewLayout(testNow, time.Hour, f.Key)
	l.Steps = []Step{{Name: "s", Threshold: 1, PubKeys: []string{f.Key.KeyID},
		ExpectedProducts: [][]string{{"CREATE", "{NAME}"}, {"DISALLOW", "*"}}}}
	layout := mustSign(t, l.Signed(), owner)
	links := MemLinks{LinkFileName("s", f.Key.KeyID): mustLink(t, &Link{Name: "s", Products: rules.Artifacts{"a.txt": FileDigest("a")}}, f)}
	o := opts(owner.Key, links)
	o.Params = map[string]string{"NAME": "a.txt"}
	if _, err := Verify(context.Background(), layout, o); err != nil {
		t.Fatalf("with NAME: %v", err)
	}
	o.Params = map[string]string{"OTHER": "a.txt"}
	if _, err := Verify(context.Background(), layout, o); !errors.Is(err, verr.LayoutInvalid) {
		t.Fatalf("unknown parameter: %v", err)
	}
	o.Params = nil // no substitution: "{NAME}" is a literal pattern, a.txt is disallowed
	if _, err := Verify(context.Background(), layout, o); !errors.Is(err, verr.RuleFailed) {
		t.Fatalf("literal: %v", err)
	}
}

func TestValidation(t *testing.T) {
	owner, f := mustKey(t), mustKey(t)
	for name, mod := range map[string]func(l *Layout){
		"threshold-0":     func(l *Layout) { l.Steps[0].Threshold = 0 },
		"duplicate-name":  func(l *Layout) { l.Steps = append(l.Steps, l.Steps[0]) },
		"unknown-key":     func(l *Layout) { l.Steps[0].PubKeys = []string{strings.Repeat("ab", 32)} },
		"empty-rule":      func(l *Layout) { l.Steps[0].ExpectedProducts = [][]string{{}} },
		"bad-verb":        func(l *Layout) { l.Steps[0].ExpectedProducts = [][]string{{"STEAL", "*"}} },
		"traversal-name":  func(l *Layout) { l.Steps[0].Name = "../x" },
		"inspection-name": func(l *Layout) { l.Inspections = []Inspection{{Name: "s", Run: []string{"true"}}} },
	} {
		t.Run(name, func(t *testing.T) {
			l := NewLayout(testNow, time.Hour, f.Key)
			l.Steps = []Step{{Name: "s", Threshold: 1, PubKeys: []string{f.Key.KeyID}}}
			mod(l)
			_, err := Verify(context.Background(), mustSign(t, l.Signed(), owner), opts(owner.Key, MemLinks{}))
			if !errors.Is(err, verr.LayoutInvalid) {
				t.Fatalf("got %v, want layout-invalid", err)
			}
		})
	}
}

// TestSignedBytesAsReceived: an unknown field and a big integer in a signed layout are part of
// what the signature covers, and are kept.
func TestSignedBytesAsReceived(t *testing.T) {
	owner := mustKey(t)
	l := NewLayout(testNow, time.Hour)
	signed := l.Signed()
	signed["x-extension"] = map[string]any{"n": bigNumber("123456789012345678901234567890")}
	layout := mustSign(t, signed, owner)
	if !bytes.Contains(layout, []byte("123456789012345678901234567890")) {
		t.Fatal("big integer not written")
	}
	if _, err := Verify(context.Background(), layout, opts(owner.Key, MemLinks{})); err != nil {
		t.Fatalf("extension field: %v", err)
	}
	// Changing the unknown field breaks the signature.
	bad := bytes.Replace(layout, []byte("123456789012345678901234567890"), []byte("123456789012345678901234567891"), 1)
	if _, err := Verify(context.Background(), bad, opts(owner.Key, MemLinks{})); !errors.Is(err, verr.BadSignature) {
		t.Fatalf("modified extension: %v", err)
	}
}

func bigNumber(s string) any { return json.Number(s) }

func TestDirSourceRefusesSymlinksAndTraversal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks")
	}
	dir := t.TempDir()
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "x.link"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(dir, "real.link"), []byte("{}"), 0o644)
	if err := os.Symlink(filepath.Join(outside, "x.link"), filepath.Join(dir, "s.link")); err != nil {
		t.Skip(err)
	}
	os.Symlink(outside, filepath.Join(dir, "sub"))
	d := DirLinks(dir)
	if _, err := d.ReadLink("real.link"); err != nil {
		t.Fatalf("regular file: %v", err)
	}
	for _, name := range []string{"s.link", "sub/x.link", "../x.link", "/etc/passwd", "a/../real.link", `a\b`} {
		if _, err := d.ReadLink(name); err == nil {
			t.Errorf("%q: read", name)
		}
	}
	d.MaxBytes = 1
	if _, err := d.ReadLink("real.link"); err == nil {
		t.Error("size limit not enforced")
	}
	if _, err := FSLinks(fstest.MapFS{"a.link": {Data: []byte("{}")}}).ReadLink("../a.link"); err == nil {
		t.Error("FSSource: traversal")
	}
}

func TestInspectionRunUnsafe(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no true/sh")
	}
	owner := mustKey(t)
	l := NewLayout(testNow, time.Hour)
	l.Inspections = []Inspection{{Name: "check", Run: []string{"sh", "-c", "test -f input.txt && echo ok > out.txt"},
		ExpectedMaterials: [][]string{{"ALLOW", "input.txt"}, {"DISALLOW", "*"}},
		ExpectedProducts:  [][]string{{"CREATE", "out.txt"}, {"ALLOW", "input.txt"}, {"DISALLOW", "*"}}}}
	layout := mustSign(t, l.Signed(), owner)
	o := opts(owner.Key, MemLinks{})
	// Default: refused, with a message that says how to opt in.
	_, err := Verify(context.Background(), layout, o)
	if !errors.Is(err, verr.Inspection) || !strings.Contains(err.Error(), "InspectionsRunUnsafe") {
		t.Fatalf("default: %v", err)
	}
	o.Inspections = InspectionsRunUnsafe
	o.InspectionFiles = fstest.MapFS{"input.txt": {Data: []byte("x")}}
	res, err := Verify(context.Background(), layout, o)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if !res.Inspections[0].Ran {
		t.Fatal("not recorded as run")
	}
	// A failing command.
	l.Inspections[0].Run = []string{"false"}
	_, err = Verify(context.Background(), mustSign(t, l.Signed(), owner), o)
	if !errors.Is(err, verr.Inspection) {
		t.Fatalf("failing command: %v", err)
	}
}

// TestX509Functionary: a link signed with a certificate issued by the layout's root CA counts
// for a step with matching certificate constraints; the constraint's roots are checked against
// the root the chain ends in.
func TestX509Functionary(t *testing.T) {
	owner := mustKey(t)
	rootA, rootAPEM, rootAKey := makeCA(t, "root A")
	_, rootBPEM, _ := makeCA(t, "root B")
	leafPriv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "builder"},
		NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, rootA, &leafPriv.PublicKey, rootAKey)
	if err != nil {
		t.Fatal(err)
	}
	leafPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}))
	signer, err := keys.NewSigner(leafPriv, "")
	if err != nil {
		t.Fatal(err)
	}

	mk := func(roots []string) []byte {
		l := NewLayout(testNow, time.Hour)
		signed := l.Signed()
		signed["rootcas"] = map[string]any{
			"rootA": map[string]any{"keyid": "rootA", "keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256", "keyval": map[string]any{"public": "", "certificate": rootAPEM}},
			"rootB": map[string]any{"keyid": "rootB", "keytype": "ecdsa", "scheme": "ecdsa-sha2-nistp256", "keyval": map[string]any{"public": "", "certificate": rootBPEM}},
		}
		rs := make([]any, len(roots))
		for i, r := range roots {
			rs[i] = r
		}
		signed["steps"] = []any{map[string]any{"_type": "step", "name": "build", "threshold": 1, "pubkeys": []any{},
			"expected_command": []any{}, "expected_materials": []any{}, "expected_products": []any{[]any{"ALLOW", "*"}},
			"cert_constraints": []any{map[string]any{"common_name": "builder", "dns_names": []any{""}, "emails": []any{""},
				"organizations": []any{"*"}, "roots": rs, "uris": []any{""}}}}}
		return mustSign(t, signed, owner)
	}
	canon, err := canonicalLink(&Link{Name: "build", Products: rules.Artifacts{"a": FileDigest("a")}})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.Sign(canon)
	if err != nil {
		t.Fatal(err)
	}
	linkDoc := []byte(`{"signatures":[{"keyid":"` + signer.Key.KeyID + `","sig":"` + hex.EncodeToString(sig.Sig) +
		`","cert":` + quoteJSON(leafPEM) + `}],"signed":` + string(canon) + `}`)
	links := MemLinks{"build.cert0001.link": linkDoc}

	if _, err := Verify(context.Background(), mk([]string{"rootA"}), opts(owner.Key, links)); err != nil {
		t.Fatalf("constraint on root A: %v", err)
	}
	// A constraint that names only root B is not met by a chain that ends in root A (in-toto-golang
	// would accept it, because it compares against every root of the layout).
	_, err = Verify(context.Background(), mk([]string{"rootB"}), opts(owner.Key, links))
	if !errors.Is(err, verr.Certificate) {
		t.Fatalf("constraint on root B: %v", err)
	}
}

func makeCA(t *testing.T, cn string) (*x509.Certificate, string, *ecdsa.PrivateKey) {
	t.Helper()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: testNow.Add(-24 * time.Hour), NotAfter: testNow.Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), priv
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestFastPathDepthParity: the fast path accepts a deeply nested value exactly when the strict
// path does.
func TestFastPathDepthParity(t *testing.T) {
	for depth := 120; depth <= 130; depth++ {
		doc := `{"signatures":[],"signed":{"_type":"link","byproducts":{"x":` + strings.Repeat("[", depth) +
			strings.Repeat("]", depth) + `},"command":[],"environment":{},"materials":{},"name":"s","products":{}}}`
		_, _, fast := fastMetablockLink([]byte(doc), cjson.Limits{}, &digestIntern{})
		_, err := parseEnvelope("link", []byte(doc), cjson.Limits{})
		if fast && err != nil {
			t.Errorf("depth %d: fast path accepts, strict path says %v", depth, err)
		}
	}
}
