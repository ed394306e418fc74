package tuf_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf"
	"github.com/tintoproject/tinto/pkg/verr"
)

func TestHTTPFetcher(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/flaky":
			if hits.Add(1) < 3 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte("ok"))
		case "/ua":
			w.Write([]byte(r.UserAgent()))
		case "/forbidden":
			http.Error(w, "no", http.StatusForbidden)
		case "/big":
			w.Header().Set("Content-Length", "1000")
			w.Write(make([]byte, 1000))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	f := &tuf.HTTPFetcher{Backoff: time.Millisecond, UserAgent: "test-agent"}
	read := func(loc string, limit int64) (string, error) {
		rc, err := f.Fetch(ctx, srv.URL+loc, limit)
		if err != nil {
			return "", err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		return string(b), err
	}
	if got, err := read("/flaky", 10); err != nil || got != "ok" {
		t.Fatalf("retries: %q %v", got, err)
	}
	if got, _ := read("/ua", 100); got != "test-agent" {
		t.Errorf("user agent %q", got)
	}
	for _, loc := range []string{"/missing", "/forbidden"} {
		if _, err := read(loc, 10); !errors.Is(err, tuf.ErrNotExist) {
			t.Errorf("%s: %v, want ErrNotExist", loc, err)
		}
	}
	if _, err := read("/big", 10); err == nil {
		t.Error("a body longer than the limit was accepted")
	}
}

func TestDirAndFSFetchers(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "metadata"), 0o755)
	os.WriteFile(filepath.Join(dir, "metadata", "x.json"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(t.TempDir(), "secret"), []byte("s"), 0o644)
	ctx := context.Background()
	fsys := fstest.MapFS{"metadata/x.json": {Data: []byte("x")}}
	for name, f := range map[string]tuf.Fetcher{"dir": tuf.DirFetcher{Dir: dir}, "fs": tuf.FSFetcher{FS: fsys}} {
		rc, err := f.Fetch(ctx, "metadata/x.json", 10)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rc.Close()
		for _, bad := range []string{"../secret", "/etc/passwd", "metadata/../../secret", "metadata/missing.json", "metadata"} {
			if rc, err := f.Fetch(ctx, bad, 10); err == nil {
				rc.Close()
				t.Errorf("%s: fetched %q", name, bad)
			}
		}
	}
	// A symlink out of the directory is refused (os.Root).
	os.Symlink("/etc/passwd", filepath.Join(dir, "metadata", "link.json"))
	if rc, err := (tuf.DirFetcher{Dir: dir}).Fetch(ctx, "metadata/link.json", 10); err == nil {
		rc.Close()
		t.Error("followed a symlink out of the repository")
	}
}

func TestDirRepositoryEndToEnd(t *testing.T) {
	s := newSim(t)
	dir := t.TempDir()
	if err := s.repo.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	c, err := tuf.New(s.repo.TrustedRoot(), tuf.Options{Fetcher: tuf.DirFetcher{Dir: dir}, MetadataBase: "metadata",
		TargetsBase: "targets", Now: func() time.Time { return s.now }, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := fetchTarget(context.Background(), c, "file.txt")
	if err != nil || string(got) != "genuine content" {
		t.Fatalf("%q %v", got, err)
	}
	// Downloading into a file: a failure leaves nothing behind.
	tf, _ := c.Target(context.Background(), "file.txt")
	os.WriteFile(filepath.Join(dir, "targets", tf.Hashes[0].Hex+".file.txt"), []byte("GENUINE content"), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	err = c.DownloadFile(context.Background(), tf, out)
	wantReason(t, err, verr.Mismatch)
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed download left %s", out)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 0 {
		t.Errorf("temporary files left: %v", entries)
	}
}
