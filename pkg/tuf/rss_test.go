package tuf_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	gotufconfig "github.com/theupdateframework/go-tuf/v2/metadata/config"
	gotufupdater "github.com/theupdateframework/go-tuf/v2/metadata/updater"

	"github.com/tintoproject/tinto/pkg/tuf"
	"github.com/tintoproject/tinto/pkg/tuf/publish"
)

// Peak memory is measured in a child process (this test binary re-run with
// TINTO_TUF_RSS_CHILD set), which fetches from an HTTP server in the parent and reports its own
// peak RSS (getrusage ru_maxrss). The parent reports it as the metric "peak-RSS-MiB".

const bigTargetSize = 256 << 20

// bigContent streams n deterministic bytes.
type bigContent struct{ n, off int64 }

func (b *bigContent) Read(p []byte) (int, error) {
	if b.off >= b.n {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n-b.off {
		p = p[:b.n-b.off]
	}
	for i := range p {
		x := uint64(b.off + int64(i))
		p[i] = byte(x*2654435761>>13) ^ byte(x)
	}
	b.off += int64(len(p))
	return len(p), nil
}

func TestRSSChild(t *testing.T) {
	mode := os.Getenv("TINTO_TUF_RSS_CHILD")
	if mode == "" {
		t.Skip("run by the PeakRSS benchmarks")
	}
	base := os.Getenv("TINTO_TUF_RSS_URL")
	root, err := os.ReadFile(os.Getenv("TINTO_TUF_RSS_ROOT"))
	if err != nil {
		t.Fatal(err)
	}
	target := os.Getenv("TINTO_TUF_RSS_TARGET")
	now := t0.Add(time.Hour)
	impl, op, _ := strings.Cut(mode, ":")
	switch impl {
	case "tinto":
		c, err := tuf.New(root, tuf.Options{Fetcher: &tuf.HTTPFetcher{}, MetadataBase: base + "/metadata/",
			TargetsBase: base + "/targets/", Now: func() time.Time { return now }, CacheDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := c.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		tf, err := c.Target(ctx, target)
		if err != nil {
			t.Fatal(err)
		}
		if op == "download" {
			if err := c.DownloadFile(ctx, tf, filepath.Join(t.TempDir(), "big")); err != nil {
				t.Fatal(err)
			}
		}
	case "go-tuf":
		cfg, _ := gotufconfig.New(base+"/metadata", root)
		cfg.RemoteTargetsURL = base + "/targets"
		cfg.LocalMetadataDir = t.TempDir()
		cfg.LocalTargetsDir = t.TempDir()
		cfg.SnapshotMaxLength, cfg.TargetsMaxLength = 1<<30, 1<<30
		u, err := gotufupdater.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		u.UnsafeSetRefTime(now)
		if err := u.Refresh(); err != nil {
			t.Fatal(err)
		}
		tf, err := u.GetTargetInfo(target)
		if err != nil {
			t.Fatal(err)
		}
		if op == "download" {
			if _, _, err := u.DownloadTarget(tf, filepath.Join(t.TempDir(), "big"), ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	// VmHWM is the peak RSS of this process image. (getrusage's ru_maxrss is not used: on Linux
	// it also counts the parent's image from before exec.)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fmt.Printf("RSS_KB=%s\n", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
}

// runRSSChild runs the child and returns its peak RSS in MiB.
func runRSSChild(b *testing.B, mode, url, rootFile, target string) float64 {
	cmd := exec.Command(os.Args[0], "-test.run=^TestRSSChild$", "-test.v")
	cmd.Env = append(os.Environ(), "GODEBUG="+os.Getenv("TINTO_TUF_RSS_GODEBUG"), "TINTO_TUF_RSS_CHILD="+mode, "TINTO_TUF_RSS_URL="+url,
		"TINTO_TUF_RSS_ROOT="+rootFile, "TINTO_TUF_RSS_TARGET="+target)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("child %s: %v\n%s", mode, err, out)
	}
	if os.Getenv("TINTO_TUF_RSS_GODEBUG") != "" {
		b.Logf("child %s:\n%s", mode, out)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RSS_KB="); ok {
			kb, _ := strconv.ParseFloat(v, 64)
			return kb / 1024
		}
	}
	b.Fatalf("child %s: no RSS line\n%s", mode, out)
	return 0
}

func serveRepo(r *publish.Repository, big bool) *httptest.Server {
	h := r.Handler()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if big && strings.HasPrefix(req.URL.Path, "/targets/") && strings.HasSuffix(req.URL.Path, "big.bin") {
			w.Header().Set("Content-Length", strconv.Itoa(bigTargetSize))
			io.Copy(w, &bigContent{n: bigTargetSize})
			return
		}
		h.ServeHTTP(w, req)
	}))
}

// BenchmarkPeakRSS reports the peak RSS of a child process that refreshes a 100k-target
// repository, or downloads a 256 MiB target, over HTTP from 127.0.0.1.
//
//	go test ./pkg/tuf -run '^$' -bench PeakRSS -benchtime 1x
func BenchmarkPeakRSS(b *testing.B) {
	dir := b.TempDir()
	// The 256 MiB download.
	r, err := publish.New(publish.Options{Now: t0})
	if err != nil {
		b.Fatal(err)
	}
	h := sha256.New()
	io.Copy(h, &bigContent{n: bigTargetSize})
	if err := r.AddTargetInfo("targets", "big.bin", bigTargetSize, map[string]string{"sha256": hex.EncodeToString(h.Sum(nil))}, nil); err != nil {
		b.Fatal(err)
	}
	if err := r.Publish(); err != nil {
		b.Fatal(err)
	}
	bigRoot := filepath.Join(dir, "big-root.json")
	os.WriteFile(bigRoot, r.TrustedRoot(), 0o644)
	bigSrv := serveRepo(r, true)
	defer bigSrv.Close()
	// The 100k-target refresh.
	fr := flatRepo(b, 100000)
	flatRoot := filepath.Join(dir, "flat-root.json")
	os.WriteFile(flatRoot, fr.repo.TrustedRoot(), 0o644)
	flatSrv := serveRepo(fr.repo, false)
	defer flatSrv.Close()
	targetsMiB := float64(len(fr.repo.Metadata("targets"))) / (1 << 20)

	for _, impl := range []string{"tinto", "go-tuf"} {
		b.Run("impl="+impl+"/op=refresh/n=100000", func(b *testing.B) {
			var rss float64
			for i := 0; i < b.N; i++ {
				rss = runRSSChild(b, impl+":refresh", flatSrv.URL, flatRoot, fr.names[0])
			}
			b.ReportMetric(rss, "peak-RSS-MiB")
			b.ReportMetric(rss/targetsMiB, "x-targets-size")
		})
		b.Run("impl="+impl+"/op=download/size=256MiB", func(b *testing.B) {
			var rss float64
			for i := 0; i < b.N; i++ {
				rss = runRSSChild(b, impl+":download", bigSrv.URL, bigRoot, "big.bin")
			}
			b.ReportMetric(rss, "peak-RSS-MiB")
		})
	}
}
