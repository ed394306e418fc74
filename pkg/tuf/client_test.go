package tuf_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf"
	"github.com/tintoproject/tinto/pkg/tuf/publish"
	"github.com/tintoproject/tinto/pkg/verr"
)

func TestRefreshAndDownload(t *testing.T) {
	ctx := context.Background()
	s := newSim(t)
	if err := s.repo.AddTarget("targets", "dir/with custom.txt", []byte("data"), map[string]any{"in-toto": []any{"root.layout"}}); err != nil {
		t.Fatal(err)
	}
	s.publish()
	c := s.client()
	got, err := fetchTarget(ctx, c, "file.txt")
	if err != nil || string(got) != "genuine content" {
		t.Fatalf("got %q, %v", got, err)
	}
	tf, err := c.Target(ctx, "dir/with custom.txt")
	if err != nil {
		t.Fatal(err)
	}
	var cb bytes.Buffer
	if err := json.Compact(&cb, tf.Custom); err != nil || cb.String() != `{"in-toto":["root.layout"]}` {
		t.Errorf("custom = %s", tf.Custom)
	}
	_, err = c.Target(ctx, "missing")
	wantReason(t, err, verr.NotFound)
	info, err := c.Info()
	if err != nil || info.TargetsVersion != 2 || info.TopLevelTargets != 2 {
		t.Fatalf("info %+v %v", info, err)
	}
}

func TestTargetBeforeRefresh(t *testing.T) {
	s := newSim(t)
	if _, err := s.client().Target(context.Background(), "file.txt"); err == nil {
		t.Fatal("lookup before refresh succeeded")
	}
}

func TestRootRotation(t *testing.T) {
	ctx := context.Background()
	s := newSim(t)
	c := s.client()
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	oldRoot := s.repo.Roles["root"].Signers
	for i := 0; i < 3; i++ {
		ns, _ := publish.GenerateEd25519(nil)
		s.repo.Roles["root"].Signers = []*publish.Signer{ns}
		if err := s.repo.PublishRoot(oldRoot); err != nil {
			t.Fatal(err)
		}
		oldRoot = s.repo.Roles["root"].Signers
	}
	s.publish()
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if info, _ := c.Info(); info.RootVersion != 4 {
		t.Fatalf("root version %d", info.RootVersion)
	}
	// MaxRootRotations bounds the versions fetched in one refresh.
	c2 := s.client(func(o *tuf.Options) { o.MaxRootRotations = 1 })
	if err := c2.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if info, _ := c2.Info(); info.RootVersion != 2 {
		t.Fatalf("root version %d after one rotation", info.RootVersion)
	}
}

func TestRootRotationNotSignedByOldKeys(t *testing.T) {
	s := newSim(t)
	c := s.client()
	ns, _ := publish.GenerateEd25519(nil)
	s.repo.Roles["root"].Signers = []*publish.Signer{ns}
	if err := s.repo.PublishRoot(nil); err != nil { // signed by the new key only
		t.Fatal(err)
	}
	err := c.Refresh(context.Background())
	wantReason(t, err, verr.BadSignature)
}

func TestSpecVersion(t *testing.T) {
	r, err := publish.New(publish.Options{Now: t0, SpecVersion: "2.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(); err != nil {
		t.Fatal(err)
	}
	_, err = tuf.New(r.TrustedRoot(), tuf.Options{Fetcher: tuf.MemFetcher{}})
	wantReason(t, err, verr.BadSpec)
}

func TestCacheWarmStartAndOffline(t *testing.T) {
	ctx := context.Background()
	s := newSim(t)
	// A large targets role, so that the warm start binds it.
	for i := 0; i < 3000; i++ {
		name := "pkg/" + string(rune('a'+i%26)) + "/" + time.Duration(i).String()
		if err := s.repo.AddTarget("targets", name, []byte(name), nil); err != nil {
			t.Fatal(err)
		}
	}
	s.publish()
	dir := t.TempDir()
	c := s.client(func(o *tuf.Options) { o.CacheDir = dir })
	if _, err := fetchTarget(ctx, c, "file.txt"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"root.json", "timestamp.json", "snapshot.json", "targets.json", ".tinto-bindings.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("cache: %v", err)
		}
	}
	// Warm start: same answers from the bound cache.
	c2 := s.client(func(o *tuf.Options) { o.CacheDir = dir })
	if _, err := fetchTarget(ctx, c2, "file.txt"); err != nil {
		t.Fatal(err)
	}
	// A tampered cached targets file no longer matches its binding or snapshot: it is
	// re-verified, fails, and the client fetches a good copy.
	tf := filepath.Join(dir, "targets.json")
	b, _ := os.ReadFile(tf)
	b[len(b)/2] ^= 1
	os.WriteFile(tf, b, 0o644)
	c3 := s.client(func(o *tuf.Options) { o.CacheDir = dir })
	if _, err := fetchTarget(ctx, c3, "file.txt"); err != nil {
		t.Fatal(err)
	}
	// Offline: nothing is fetched.
	off := s.client(func(o *tuf.Options) { o.CacheDir = dir; o.Offline = true; o.Fetcher = nil })
	if err := off.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	offTarget, err := off.Target(ctx, "file.txt")
	if err != nil {
		t.Fatal(err)
	}
	// Without a Fetcher a target cannot be downloaded: an error, not a panic.
	if err := off.Download(ctx, offTarget, io.Discard); err == nil || !strings.Contains(err.Error(), "no Fetcher") {
		t.Fatalf("offline download without a fetcher: %v", err)
	}
	// Offline after expiry: stale.
	s.now = t0.Add(400 * 24 * time.Hour)
	err = off.Refresh(ctx)
	wantReason(t, err, verr.Freeze)
	// Offline with a maximum cache age.
	s.now = t0.Add(2 * time.Hour)
	aged := s.client(func(o *tuf.Options) { o.CacheDir = dir; o.Offline = true; o.MaxCacheAge = time.Minute })
	wantReason(t, aged.Refresh(ctx), verr.Freeze)
}

func TestConcurrentLookups(t *testing.T) {
	ctx := context.Background()
	s := newSim(t)
	if _, err := s.repo.Delegate("targets", publish.DelegatedRole{Name: "d", Paths: []string{"d/*"}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if err := s.repo.AddTarget("d", "d/"+string(rune('a'+i)), []byte{byte(i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	s.publish()
	c := s.client()
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if g == 0 && i%5 == 0 {
					if err := c.Refresh(ctx); err != nil {
						errs <- err
					}
					continue
				}
				if _, err := c.Target(ctx, "d/"+string(rune('a'+i))); err != nil {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A large role trusted from a bound cache and then reached through a second delegator is
// verified again in full, and accepted when that delegator's key signed it.
func TestWarmStartDiamondReverify(t *testing.T) {
	ctx := context.Background()
	s := newSim(t)
	for _, p := range []struct{ name, path string }{{"pa", "a/*"}, {"pb", "b/*"}} {
		if _, err := s.repo.Delegate("targets", publish.DelegatedRole{Name: p.name, Paths: []string{p.path}}); err != nil {
			t.Fatal(err)
		}
	}
	rel, err := s.repo.Delegate("pa", publish.DelegatedRole{Name: "rel", Paths: []string{"a/*"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.repo.Delegate("pb", publish.DelegatedRole{Name: "rel", Paths: []string{"b/*"}, Signers: rel.Signers}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1500; i++ {
		s.repo.AddTarget("rel", "a/"+time.Duration(i).String(), []byte{byte(i)}, nil)
	}
	s.repo.AddTarget("rel", "a/x", []byte("A"), nil)
	s.repo.AddTarget("rel", "b/x", []byte("B"), nil)
	s.publish()
	if len(s.repo.Metadata("rel")) < 256<<10 {
		t.Fatalf("rel is only %d bytes: too small to be bound", len(s.repo.Metadata("rel")))
	}
	dir := t.TempDir()
	for i := 0; i < 2; i++ { // cold, then warm (bound)
		c := s.client(func(o *tuf.Options) { o.CacheDir = dir })
		if err := c.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"a/x", "b/x"} {
			if _, err := c.Target(ctx, name); err != nil {
				t.Fatalf("run %d, %s: %v", i, name, err)
			}
		}
		if b, _ := os.ReadFile(filepath.Join(dir, ".tinto-bindings.json")); !bytes.Contains(b, []byte(`"rel"`)) {
			t.Fatalf("rel is not bound: %s", b)
		}
	}
}

// Malformed metadata is a bad-metadata denial that also matches verr.ErrInvalidInput.
func TestMalformedMetadata(t *testing.T) {
	s := newSim(t)
	s.serve("metadata/timestamp.json", []byte(`{"signed": {"a": 1, "a": 2}, "signatures": []}`))
	err := s.client().Refresh(context.Background())
	wantReason(t, err, verr.BadMetadata)
	if !errors.Is(err, verr.ErrInvalidInput) {
		t.Fatalf("%v does not match ErrInvalidInput", err)
	}
}

// Fields that differ from known fields only in letter case are refused, so that this client
// and python-tuf read signed data the same way.
func TestFieldCase(t *testing.T) {
	for _, tc := range []struct {
		role  string
		extra map[string]any
	}{
		{"targets", map[string]any{"Version": 7}},
		{"targets", map[string]any{"delegations": map[string]any{"keys": map[string]any{}, "roles": []any{
			map[string]any{"name": "d", "keyids": []any{}, "threshold": 1, "paths": []any{"*"}, "Threshold": 0}}}}},
		{"root", map[string]any{"Consistent_Snapshot": false}},
	} {
		s := newSim(t)
		s.repo.Roles[tc.role].Extra = tc.extra
		s.publish(tc.role)
		_, err := fetchTarget(context.Background(), s.client(), "file.txt")
		wantReason(t, err, verr.BadMetadata)
	}
}

// Every supported key type signs a role: ed25519 (root, timestamp), ECDSA P-256 (targets),
// RSA-PSS (snapshot).
func TestKeyTypes(t *testing.T) {
	s := newSim(t)
	ec, err := publish.GenerateECDSA()
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := publish.NewSigner(rk)
	if err != nil {
		t.Fatal(err)
	}
	s.repo.Roles["targets"].Signers = []*publish.Signer{ec}
	s.repo.Roles["snapshot"].Signers = []*publish.Signer{rs}
	s.repo.MarkDirty("root")
	s.repo.MarkDirty("targets")
	s.publish()
	if _, err := fetchTarget(context.Background(), s.client(), "file.txt"); err != nil {
		t.Fatal(err)
	}
	// The ECDSA (targets) and RSA (snapshot) signatures no longer verify once the signed
	// content changes.
	tamper := func(f string) []byte {
		orig := s.repo.Files[f]
		exp := []byte(s.repo.Roles["targets"].Expires.Format(time.RFC3339))
		out := bytes.Replace(orig, exp, bytes.Replace(exp, []byte(":00Z"), []byte(":01Z"), 1), 1)
		if bytes.Equal(out, orig) {
			t.Fatalf("%s: no change", f)
		}
		return out
	}
	s.serve("metadata/2.targets.json", tamper("2.targets.json"))
	_, err = fetchTarget(context.Background(), s.client(), "file.txt")
	wantReason(t, err, verr.BadSignature)
	// Snapshot (RSA): through the state machine, as from a cache (no hash check first).
	tr, err := tuf.NewTrusted(s.repo.TrustedRoot(), s.now)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"2.root.json"} {
		if err := tr.UpdateRoot(s.repo.Files[v]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.UpdateTimestamp(s.repo.Files["timestamp.json"]); err != nil {
		t.Fatal(err)
	}
	wantReason(t, tr.UpdateSnapshot(tamper("2.snapshot.json"), true), verr.BadSignature)
	if err := tr.UpdateSnapshot(s.repo.Files["2.snapshot.json"], true); err != nil {
		t.Fatal(err)
	}
}
