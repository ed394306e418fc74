package revocation

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/verr"
)

var (
	t0    = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	kidA  = strings.Repeat("a1", 32)
	kidB  = strings.Repeat("b2", 32)
	dig   = "sha256:" + strings.Repeat("cd", 32)
	other = "sha256:" + strings.Repeat("ef", 32)
)

func TestStatic(t *testing.T) {
	ctx := context.Background()
	entries := []Entry{
		{Ref: "key:" + kidA, Reason: "stolen"},
		{Ref: "functionary:" + kidB + ":build"},
		{Ref: "layout:" + dig},
		{Ref: "layout:app.layout@2"},
		{Ref: "artifact:" + other, RevokedAt: t0.Add(time.Hour)},
		{Ref: "certificate:42:CN=ca"},
	}
	s, err := NewStatic(entries, StaticOptions{Name: "cfg"})
	if err != nil {
		t.Fatal(err)
	}
	auth, _ := NewStatic(entries, StaticOptions{Authoritative: true})
	tests := []struct {
		ref      Ref
		at       time.Time
		want     State
		wantAuth State
	}{
		{Ref{Kind: KindKey, KeyID: kidA}, t0, Revoked, Revoked},
		{Ref{Kind: KindFunctionary, KeyID: strings.ToUpper(kidA), Step: "x"}, t0, Revoked, Revoked},
		{Ref{Kind: KindFunctionary, KeyID: kidB, Step: "build"}, t0, Revoked, Revoked},
		{Ref{Kind: KindFunctionary, KeyID: kidB, Step: "test"}, t0, Unknown, Good},
		{Ref{Kind: KindKey, KeyID: kidB}, t0, Unknown, Good},
		{Ref{Kind: KindLayout, Digest: dig}, t0, Revoked, Revoked},
		{Ref{Kind: KindLayout, Digest: other, Name: "app.layout", Version: 2}, t0, Revoked, Revoked},
		{Ref{Kind: KindLayout, Digest: other, Name: "app.layout", Version: 3}, t0, Unknown, Good},
		{Ref{Kind: KindLink, Digest: dig}, t0, Unknown, Good},
		{Ref{Kind: KindArtifact, Digest: other}, t0, Unknown, Good},
		{Ref{Kind: KindArtifact, Digest: other}, t0.Add(2 * time.Hour), Revoked, Revoked},
		{Ref{Kind: KindCertificate, Issuer: "CN=ca", Serial: "42"}, t0, Revoked, Revoked},
	}
	for _, tt := range tests {
		st, err := s.Status(ctx, tt.ref, tt.at)
		if err != nil || st.State != tt.want {
			t.Errorf("Status(%+v) = %v, %v; want %v", tt.ref, st.State, err, tt.want)
		}
		if st.State == Revoked && st.Source != "static:cfg" {
			t.Errorf("source = %q", st.Source)
		}
		st, _ = auth.Status(ctx, tt.ref, tt.at)
		if st.State != tt.wantAuth {
			t.Errorf("authoritative Status(%+v) = %v; want %v", tt.ref, st.State, tt.wantAuth)
		}
	}
	for _, bad := range []string{"", "key", "key:zz", "thing:00112233", "layout:sha256:xyz", "certificate:x:CN=a", "functionary:"} {
		if _, err := NewStatic([]Entry{{Ref: bad}}, StaticOptions{}); !errors.Is(err, verr.ErrInvalidInput) {
			t.Errorf("NewStatic(%q) err = %v, want invalid input", bad, err)
		}
	}
	if _, err := NewStatic([]Entry{{Ref: "key:" + kidA}, {Ref: "key:" + kidA}}, StaticOptions{}); err == nil {
		t.Error("duplicate entries accepted")
	}
}

type fixed struct {
	st  Status
	err error
}

func (f fixed) Status(context.Context, Ref, time.Time) (Status, error) { return f.st, f.err }

func TestChain(t *testing.T) {
	g := fixed{st: Status{State: Good, Source: "g"}}
	r := fixed{st: Status{State: Revoked, Source: "r"}}
	u := fixed{st: Status{State: Unknown, Source: "u"}}
	n := fixed{st: Status{State: NotRevocable, Source: "n"}}
	e := fixed{err: errors.New("offline")}
	tests := []struct {
		name    string
		c       Chain
		want    State
		source  string
		wantErr bool
	}{
		{"revoked-after-good", Chain{g, r}, Revoked, "r", false},
		{"first-good", Chain{u, g, fixed{st: Status{State: Good, Source: "g2"}}}, Good, "g", false},
		{"good-beats-notrevocable", Chain{n, g}, Good, "g", false},
		{"notrevocable", Chain{n, u}, NotRevocable, "n", false},
		{"unknown", Chain{u, u}, Unknown, "chain[u,u]", false},
		{"error-is-unknown", Chain{e, u}, Unknown, "chain[u]", true},
		{"error-then-good", Chain{e, g}, Good, "g", false},
		{"empty", Chain{}, Unknown, "chain[]", false},
	}
	for _, tt := range tests {
		st, err := tt.c.Status(context.Background(), Ref{Kind: KindKey, KeyID: kidA}, t0)
		if st.State != tt.want || st.Source != tt.source || (err != nil) != tt.wantErr {
			t.Errorf("%s: got %v from %q, err %v", tt.name, st.State, st.Source, err)
		}
	}
}

func TestCountsTowardsThreshold(t *testing.T) {
	for _, tt := range []struct {
		st      State
		err     error
		unknown bool
		want    bool
	}{
		{Good, nil, false, true}, {NotRevocable, nil, false, true}, {Revoked, nil, true, false},
		{Unknown, nil, false, false}, {Unknown, nil, true, true}, {Good, errors.New("x"), false, false},
	} {
		if got := CountsTowardsThreshold(Status{State: tt.st}, tt.err, tt.unknown); got != tt.want {
			t.Errorf("%v/%v/%v = %v", tt.st, tt.err, tt.unknown, got)
		}
	}
}

func TestSuperseded(t *testing.T) {
	s := NewSuperseded(map[string]int64{"app.layout": 3}, t0)
	for _, tt := range []struct {
		ref  Ref
		want State
	}{
		{Ref{Kind: KindLayout, Name: "app.layout", Version: 2}, Revoked},
		{Ref{Kind: KindLayout, Name: "app.layout", Version: 3}, Good},
		{Ref{Kind: KindLayout, Name: "app.layout"}, Unknown},
		{Ref{Kind: KindLayout, Name: "other", Version: 1}, Unknown},
		{Ref{Kind: KindKey, KeyID: kidA}, NotRevocable},
	} {
		st, _ := s.Status(context.Background(), tt.ref, t0)
		if st.State != tt.want {
			t.Errorf("%+v: %v, want %v", tt.ref, st.State, tt.want)
		}
	}
}

func signers(t *testing.T, n int) []*keys.Signer {
	var out []*keys.Signer
	for i := 0; i < n; i++ {
		s, err := keys.GenerateEd25519(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestList(t *testing.T) {
	ss := signers(t, 3)
	doc := ListDocument{Version: 7, Issued: t0, NextUpdate: t0.Add(7 * 24 * time.Hour),
		Entries: []Entry{{Ref: "functionary:" + kidA, RevokedAt: t0, Reason: "laptop stolen"}}}
	env, err := SignList(doc, ss[0], ss[1])
	if err != nil {
		t.Fatal(err)
	}
	trusted := []*keys.Key{ss[0].Key, ss[1].Key}
	l, err := ParseList(env, ListOptions{Keys: trusted, Threshold: 2, Name: "revocations.json"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, _ := l.Status(ctx, Ref{Kind: KindFunctionary, KeyID: kidA, Step: "build"}, t0.Add(time.Hour))
	if st.State != Revoked || st.Source != "list:revocations.json@v7" || st.Reason != "laptop stolen" {
		t.Errorf("revoked lookup = %+v", st)
	}
	st, _ = l.Status(ctx, Ref{Kind: KindKey, KeyID: kidB}, t0.Add(time.Hour))
	if st.State != Good {
		t.Errorf("unlisted = %+v", st)
	}
	st, _ = l.Status(ctx, Ref{Kind: KindKey, KeyID: kidB}, t0.Add(8*24*time.Hour))
	if st.State != Unknown {
		t.Errorf("stale = %+v", st)
	}

	if _, err := ParseList(env, ListOptions{Keys: trusted, Threshold: 3}); !errors.Is(err, verr.Threshold) {
		t.Errorf("threshold 3: %v", err)
	}
	if _, err := ParseList(env, ListOptions{Keys: []*keys.Key{ss[2].Key}}); !errors.Is(err, verr.BadSignature) {
		t.Errorf("untrusted key: %v", err)
	}
	if _, err := ParseList(env, ListOptions{Keys: trusted, MinVersion: 8}); !errors.Is(err, verr.Rollback) {
		t.Errorf("rollback: %v", err)
	}
	if _, err := ParseList(env, ListOptions{}); err == nil {
		t.Error("no keys accepted")
	}
	// Tamper with the payload: the signature is over the PAE of the received bytes.
	tampered := strings.Replace(string(env), `"payload": "`, `"payload": "eyJ`, 1)
	if _, err := ParseList([]byte(tampered), ListOptions{Keys: trusted}); err == nil {
		t.Error("tampered payload accepted")
	}
	dup := strings.Replace(string(env), `"payloadType"`, `"payloadType": "x", "payloadType"`, 1)
	if _, err := ParseList([]byte(dup), ListOptions{Keys: trusted}); !errors.Is(err, verr.ErrInvalidInput) {
		t.Errorf("duplicate key: %v", err)
	}
}

func TestCRL(t *testing.T) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tinto test CA"},
		NotBefore: t0.Add(-time.Hour), NotAfter: t0.Add(365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(5), ThisUpdate: t0, NextUpdate: t0.Add(24 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(42), RevocationTime: t0, ReasonCode: 1}},
	}, ca, caKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCRL(crlDER, ca, t0)
	if err != nil {
		t.Fatal(err)
	}
	issuer := ca.Subject.String()
	ctx := context.Background()
	for _, tt := range []struct {
		ref  Ref
		at   time.Time
		want State
	}{
		{Ref{Kind: KindCertificate, Issuer: issuer, Serial: "42"}, t0.Add(time.Hour), Revoked},
		{Ref{Kind: KindCertificate, Issuer: issuer, Serial: "43"}, t0.Add(time.Hour), Good},
		{Ref{Kind: KindCertificate, Issuer: issuer, Serial: "43"}, t0.Add(48 * time.Hour), Unknown},
		{Ref{Kind: KindCertificate, Issuer: "CN=other", Serial: "42"}, t0.Add(time.Hour), Unknown},
		{Ref{Kind: KindKey, KeyID: kidA}, t0, NotRevocable},
	} {
		st, _ := c.Status(ctx, tt.ref, tt.at)
		if st.State != tt.want {
			t.Errorf("%+v: %v, want %v", tt.ref, st.State, tt.want)
		}
		if st.State == Revoked && st.Reason != "keyCompromise" {
			t.Errorf("reason %q", st.Reason)
		}
	}
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl2 := *tmpl
	der2, _ := x509.CreateCertificate(rand.Reader, &tmpl2, &tmpl2, &otherKey.PublicKey, otherKey)
	other, _ := x509.ParseCertificate(der2)
	if _, err := NewCRL(crlDER, other, t0); !errors.Is(err, verr.BadSignature) {
		t.Errorf("wrong issuer: %v", err)
	}
	if _, err := NewCRL([]byte("junk"), ca, t0); !errors.Is(err, verr.ErrInvalidInput) {
		t.Errorf("junk: %v", err)
	}
}

func FuzzParseList(f *testing.F) {
	f.Add([]byte(`{"payloadType":"application/vnd.tinto.revocation-list.v1+json","payload":"e30=","signatures":[]}`))
	f.Add([]byte(`{}`))
	s, _ := keys.GenerateEd25519(rand.Reader)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseList(data, ListOptions{Keys: []*keys.Key{s.Key}})
	})
}

// FuzzEntryRef checks that any entry ref is either refused with an input error or indexed and
// found again by a lookup of its own kind without panicking.
func FuzzEntryRef(f *testing.F) {
	for _, s := range []string{"key:" + kidA, "functionary:" + kidB + ":build", "certificate:42:CN=ca", "layout:" + dig, "layout:a@3", "link:" + dig, "artifact:" + other, "x:y", ":", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		s, err := NewStatic([]Entry{{Ref: ref}}, StaticOptions{})
		if err != nil {
			if !errors.Is(err, verr.ErrInvalidInput) {
				t.Fatalf("NewStatic(%q): %v is not an input error", ref, err)
			}
			return
		}
		kind, rest, _ := strings.Cut(ref, ":")
		r := Ref{Kind: Kind(kind), KeyID: rest, Digest: rest}
		if _, err := s.Status(context.Background(), r, t0); err != nil {
			t.Fatal(err)
		}
	})
}

func TestIsSignedList(t *testing.T) {
	for _, tc := range []struct {
		data string
		want bool
	}{
		{`{"payloadType":"application/vnd.tinto.revocations+json","payload":"","signatures":[]}`, true},
		{`{"payloadType":1}`, true},
		{`{"version":1,"entries":[]}`, false},
		{`[{"payloadType":"x"}]`, false},
		{`{"payloadType":"x","payloadType":"y"}`, false}, // duplicate key: not a valid document
		{`not json`, false},
		{``, false},
	} {
		if got := IsSignedList([]byte(tc.data)); got != tc.want {
			t.Errorf("IsSignedList(%s) = %v, want %v", tc.data, got, tc.want)
		}
	}
}
