package verify_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf"
	"github.com/tintoproject/tinto/pkg/verify"
	"github.com/tintoproject/tinto/pkg/verify/verifytest"
	"github.com/tintoproject/tinto/pkg/verr"
)

// countingFetcher records every location it is asked for.
type countingFetcher struct {
	f    tuf.Fetcher
	mu   sync.Mutex
	locs []string
}

func (c *countingFetcher) Fetch(ctx context.Context, loc string, limit int64) (io.ReadCloser, error) {
	c.mu.Lock()
	c.locs = append(c.locs, loc)
	c.mu.Unlock()
	return c.f.Fetch(ctx, loc, limit)
}

func (c *countingFetcher) metadataFetches() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, l := range c.locs {
		if strings.HasPrefix(l, "metadata/") {
			out = append(out, l)
		}
	}
	return out
}

// TestOffline: Options.Offline verifies with the cached TUF metadata and fetches none; stale or
// missing cached metadata denies with reason freeze; the options that cannot work are refused.
func TestOffline(t *testing.T) {
	r, _ := newRepo(t, verifytest.Options{})
	repoDir := t.TempDir()
	if err := r.WriteDir(repoDir); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	at := func(d time.Duration) func() time.Time { return func() time.Time { return t0.Add(d) } }
	verifyWith := func(mod func(o *verify.Options)) (*verify.Result, error) {
		t.Helper()
		o := verify.Options{Remote: repoDir, CacheDir: cache, Now: at(time.Hour)}
		mod(&o)
		v, err := verify.New(r.TrustedRoot(), o)
		if err != nil {
			t.Fatal(err)
		}
		return v.Verify(context.Background(), verifytest.DefaultPackage)
	}

	// Offline before any online refresh: nothing is cached, so the metadata is stale.
	res, err := verifyWith(func(o *verify.Options) { o.Offline = true })
	if !errors.Is(err, verr.Freeze) || res.Allowed() || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("offline with an empty cache: got %v, want a freeze (stale) denial", err)
	}

	// Online, filling the cache.
	if _, err := verifyWith(func(o *verify.Options) {}); err != nil {
		t.Fatalf("online: %v", err)
	}

	// Offline: allowed, and no TUF metadata is fetched (targets still are, from the directory).
	cf := &countingFetcher{f: tuf.DirFetcher{Dir: repoDir}}
	res, err = verifyWith(func(o *verify.Options) { o.Offline, o.Remote, o.Fetcher = true, "", cf })
	if err != nil || !res.Allowed() {
		t.Fatalf("offline with a fresh cache: %v", err)
	}
	if m := cf.metadataFetches(); len(m) != 0 {
		t.Errorf("offline fetched TUF metadata: %v", m)
	}
	if len(cf.locs) == 0 {
		t.Error("no target was read")
	}

	// Offline once the cached metadata has expired: stale.
	res, err = verifyWith(func(o *verify.Options) { o.Offline, o.Now = true, at(3*365*24*time.Hour) })
	if !errors.Is(err, verr.Freeze) || res.Allowed() || !strings.Contains(err.Error(), "stale") {
		t.Fatalf("offline after expiry: got %v, want a freeze (stale) denial", err)
	}
	// Offline with MaxCacheAge: the last online refresh was at t0+1h.
	if _, err := verifyWith(func(o *verify.Options) { o.Offline, o.MaxCacheAge, o.Now = true, time.Hour, at(90*time.Minute) }); err != nil {
		t.Fatalf("offline within MaxCacheAge: %v", err)
	}
	res, err = verifyWith(func(o *verify.Options) { o.Offline, o.MaxCacheAge, o.Now = true, time.Minute, at(2*time.Hour) })
	if !errors.Is(err, verr.Freeze) || res.Allowed() || !strings.Contains(err.Error(), "last online refresh") {
		t.Fatalf("offline beyond MaxCacheAge: got %v, want a freeze denial", err)
	}

	// Options that cannot work offline.
	for name, o := range map[string]verify.Options{
		"no cache":           {Remote: repoDir, Offline: true},
		"http remote":        {Remote: "https://repo.example", CacheDir: cache, Offline: true},
		"with a Repository":  {Repository: verify.NewRepository(nil), CacheDir: cache, Offline: true},
		"negative cache age": {Remote: repoDir, CacheDir: cache, Offline: true, MaxCacheAge: -time.Second},
	} {
		if _, err := verify.New(r.TrustedRoot(), o); err == nil {
			t.Errorf("%s: New accepted the options", name)
		}
	}
}
