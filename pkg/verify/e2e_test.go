package verify_test

import (
	"context"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/verify"
	"github.com/tintoproject/tinto/pkg/verify/verifytest"
)

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func newRepo(t testing.TB, opts verifytest.Options) (*verifytest.Repo, *verifytest.Server) {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = t0
	}
	r, err := verifytest.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := r.Serve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return r, s
}

func newVerifier(t testing.TB, r *verifytest.Repo, url string, mod func(*verify.Options)) *verify.Verifier {
	t.Helper()
	opts := verify.Options{Remote: url, Now: func() time.Time { return t0.Add(time.Hour) }}
	if mod != nil {
		mod(&opts)
	}
	v, err := verify.New(r.TrustedRoot(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAllowed(t *testing.T) {
	r, s := newRepo(t, verifytest.Options{})
	v := newVerifier(t, r, s.URL, nil)
	res, err := v.Verify(context.Background(), verifytest.DefaultPackage)
	if err != nil {
		t.Fatalf("Verify: %v\nchecks: %+v", err, res)
	}
	if !res.Allowed() {
		t.Fatalf("not allowed: %+v", res.Decision)
	}
	t.Logf("%+v", res.Checks)
	// A fresh chain's evidence goes to the policy as it is; a chain reused from the cache is
	// prepared once, on its first reuse, and stays prepared.
	for i := 0; i < 3; i++ {
		if len(res.Layouts) == 0 {
			t.Fatal("no layout evidence")
		}
		for _, l := range res.Layouts {
			if want := i > 0; l.Prepared() != want {
				t.Errorf("verification %d: layout %s evidence prepared = %v, want %v", i+1, l.Name, l.Prepared(), want)
			}
		}
		if res, err = v.Verify(context.Background(), verifytest.DefaultPackage); err != nil || !res.Allowed() {
			t.Fatalf("Verify %d: %v", i+2, err)
		}
	}
}
