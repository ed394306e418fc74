package verify_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf"
	"github.com/tintoproject/tinto/pkg/verify"
	"github.com/tintoproject/tinto/pkg/verify/verifytest"
	"github.com/tintoproject/tinto/pkg/verr"
)

func TestVerifyFileAndDownload(t *testing.T) {
	r, s := newRepo(t, verifytest.Options{})
	v := newVerifier(t, r, s.URL, nil)
	ctx := context.Background()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.tar.gz")
	if err := os.WriteFile(good, r.Packages[verifytest.DefaultPackage], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyFile(ctx, verifytest.DefaultPackage, good); err != nil {
		t.Fatalf("VerifyFile: %v", err)
	}
	bad := filepath.Join(dir, "bad.tar.gz")
	b := bytes.Clone(r.Packages[verifytest.DefaultPackage])
	b[3] ^= 1
	os.WriteFile(bad, b, 0o644)
	if _, err := v.VerifyFile(ctx, verifytest.DefaultPackage, bad); !errors.Is(err, verr.Mismatch) {
		t.Fatalf("VerifyFile of a tampered copy: %v", err)
	}
	if _, err := v.VerifyFile(ctx, verifytest.DefaultPackage, dir); !errors.Is(err, verr.ErrInvalidInput) {
		t.Fatalf("VerifyFile of a directory: %v", err)
	}

	dst := filepath.Join(dir, "installed.tar.gz")
	os.WriteFile(dst, []byte("previous version"), 0o644)
	r.Tamper(verifytest.DefaultPackage, b)
	if _, err := v.Download(ctx, verifytest.DefaultPackage, dst); !errors.Is(err, verr.Mismatch) {
		t.Fatalf("Download of tampered bytes: %v", err)
	}
	if got, _ := os.ReadFile(dst); string(got) != "previous version" {
		t.Fatalf("a denied Download replaced the file: %q", got)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tinto-download") {
			t.Fatalf("temporary file left behind: %s", e.Name())
		}
	}
}

// TestCache: the second verification reuses the in-toto outcome; a new revocation list (a new
// input) does not.
func TestCache(t *testing.T) {
	r, s := newRepo(t, verifytest.Options{})
	v := newVerifier(t, r, s.URL, nil)
	ctx := context.Background()
	cached := func() bool {
		t.Helper()
		res, err := v.Verify(ctx, verifytest.DefaultPackage)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Checks {
			if strings.HasPrefix(c.Name, "in-toto:") {
				return c.Cached
			}
		}
		t.Fatal("no in-toto check")
		return false
	}
	if cached() {
		t.Fatal("first verification was cached")
	}
	if !cached() {
		t.Fatal("second verification was not cached")
	}
	if err := r.Revoke(strings.Repeat("ab", 32), "unrelated key"); err != nil {
		t.Fatal(err)
	}
	if cached() {
		t.Fatal("cached across a new revocation list")
	}
}

func TestNewErrors(t *testing.T) {
	for name, opts := range map[string]verify.Options{
		"no remote":          {},
		"negative threshold": {Remote: "x", LayoutThreshold: -1},
		"negative interval":  {Remote: "x", RefreshInterval: -1},
		"bad inspections":    {Remote: "x", Inspections: 7},
	} {
		if _, err := verify.New([]byte(`{}`), opts); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	if _, err := verify.New([]byte(`not json`), verify.Options{Remote: "http://127.0.0.1:1"}); err == nil {
		t.Error("New accepted a malformed root")
	}
}

func TestFetcherOption(t *testing.T) {
	r, err := verifytest.New(verifytest.Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(r.TrustedRoot(), verify.Options{Fetcher: tuf.MemFetcher(r.Files()), Now: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), verifytest.DefaultPackage); err != nil {
		t.Fatal(err)
	}
}

// TestRefreshInterval: within the interval, the refreshed metadata (and target lookups) are
// reused; once it has passed on the injected clock, a republished package is seen.
func TestRefreshInterval(t *testing.T) {
	r, s := newRepo(t, verifytest.Options{})
	var mu sync.Mutex
	now := t0.Add(time.Hour)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	v := newVerifier(t, r, s.URL, func(o *verify.Options) { o.Now = clock; o.RefreshInterval = time.Minute })
	ctx := context.Background()
	res, err := v.Verify(ctx, verifytest.DefaultPackage)
	if err != nil {
		t.Fatal(err)
	}
	first := res.Target.Hashes["sha256"]

	// The repository publishes a new build of the package.
	c, data, err := r.MakeChain(verifytest.DefaultPackage, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.AddPackageWith(verifytest.DefaultPackage, data, c); err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(); err != nil {
		t.Fatal(err)
	}
	if res, err = v.Verify(ctx, verifytest.DefaultPackage); err != nil || res.Target.Hashes["sha256"] != first {
		t.Fatalf("within the interval: err %v, new target seen: %v", err, res.Target.Hashes["sha256"] != first)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if res, err = v.Verify(ctx, verifytest.DefaultPackage); err != nil || res.Target.Hashes["sha256"] == first {
		t.Fatalf("after the interval: err %v, still the old target", err)
	}
}

// TestCancelled: a cancelled context is an operational failure, still with a denying decision.
func TestCancelled(t *testing.T) {
	r, s := newRepo(t, verifytest.Options{})
	v := newVerifier(t, r, s.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := v.Verify(ctx, verifytest.DefaultPackage)
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if _, evidence := verr.ReasonOf(err); evidence {
		t.Fatalf("a cancellation reported as evidence: %v", err)
	}
	if res == nil || res.Decision == nil || res.Allowed() {
		t.Fatal("no denying decision")
	}
}
