package tuf_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gotufmeta "github.com/theupdateframework/go-tuf/v2/metadata"
	gotufconfig "github.com/theupdateframework/go-tuf/v2/metadata/config"
	gotufupdater "github.com/theupdateframework/go-tuf/v2/metadata/updater"

	"github.com/tintoproject/tinto/pkg/tuf"
	"github.com/tintoproject/tinto/pkg/tuf/publish"
)

// Benchmarks compare this client with go-tuf v2.4.2's updater on identical generated
// repositories, in the same binary:
//
//	go test ./pkg/tuf -run '^$' -bench . -benchmem -benchtime 5x
//
// Names follow BenchmarkX/impl=.../n=... so benchstat can compare the two implementations.

type benchRepo struct {
	repo  *publish.Repository
	names []string
}

// benchRepos caches generated repositories for the life of the test binary (generation of the
// 100k-target repositories takes seconds).
var benchRepos sync.Map

func flatRepo(b testing.TB, n int) *benchRepo {
	key := fmt.Sprintf("flat/%d", n)
	if v, ok := benchRepos.Load(key); ok {
		return v.(*benchRepo)
	}
	r, err := publish.New(publish.Options{Now: t0})
	if err != nil {
		b.Fatal(err)
	}
	r.HashAlgorithms = []string{"sha256"}
	br := &benchRepo{repo: r}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("pkgs/package-%06d.tar.gz", i)
		if err := r.AddTarget("targets", name, []byte(name), nil); err != nil {
			b.Fatal(err)
		}
		br.names = append(br.names, name)
	}
	if err := r.Publish(); err != nil {
		b.Fatal(err)
	}
	benchRepos.Store(key, br)
	return br
}

func binRepo(b testing.TB, bits, n int) *benchRepo {
	key := fmt.Sprintf("bins/%d/%d", bits, n)
	if v, ok := benchRepos.Load(key); ok {
		return v.(*benchRepo)
	}
	r, err := publish.New(publish.Options{Now: t0})
	if err != nil {
		b.Fatal(err)
	}
	r.HashAlgorithms = []string{"sha256"}
	sc, err := r.DelegateSuccinct("targets", bits, "bin")
	if err != nil {
		b.Fatal(err)
	}
	br := &benchRepo{repo: r}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("pkgs/package-%06d.tar.gz", i)
		if err := r.AddTarget(sc.BinFor(name), name, []byte(name), nil); err != nil {
			b.Fatal(err)
		}
		br.names = append(br.names, name)
	}
	if err := r.Publish(); err != nil {
		b.Fatal(err)
	}
	benchRepos.Store(key, br)
	return br
}

func tintoClient(b testing.TB, r *publish.Repository, cacheDir string) *tuf.Client {
	c, err := tuf.New(r.TrustedRoot(), tuf.Options{
		Fetcher: tuf.FetcherFunc(func(ctx context.Context, loc string, limit int64) (io.ReadCloser, error) {
			d, ok := r.Lookup(loc)
			if !ok {
				return nil, tuf.ErrNotExist
			}
			return tuf.MemFetcher{loc: d}.Fetch(ctx, loc, limit)
		}),
		MetadataBase: "metadata/",
		TargetsBase:  "targets/",
		CacheDir:     cacheDir,
		Now:          func() time.Time { return t0.Add(time.Hour) },
	})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// goTUFFetcher serves a publish.Repository to go-tuf's updater.
type goTUFFetcher struct{ r *publish.Repository }

const goTUFBase = "https://repo.test/"

func (f goTUFFetcher) DownloadFile(u string, maxLength int64, _ time.Duration) ([]byte, error) {
	d, ok := f.r.Lookup(strings.TrimPrefix(u, goTUFBase))
	if !ok {
		return nil, &gotufmeta.ErrDownloadHTTP{StatusCode: 404, URL: u}
	}
	if int64(len(d)) > maxLength {
		return nil, &gotufmeta.ErrDownloadLengthMismatch{Msg: "too long"}
	}
	return append([]byte(nil), d...), nil
}

func goTUFUpdater(b testing.TB, r *publish.Repository, cacheDir string) *gotufupdater.Updater {
	cfg, err := gotufconfig.New(goTUFBase+"metadata", r.TrustedRoot())
	if err != nil {
		b.Fatal(err)
	}
	cfg.Fetcher = goTUFFetcher{r}
	cfg.RemoteTargetsURL = goTUFBase + "targets"
	cfg.SnapshotMaxLength = 1 << 30
	cfg.TargetsMaxLength = 1 << 30
	if cacheDir == "" {
		cfg.DisableLocalCache = true
	} else {
		cfg.LocalMetadataDir = cacheDir
		cfg.LocalTargetsDir = filepath.Join(cacheDir, "targets")
	}
	u, err := gotufupdater.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	u.UnsafeSetRefTime(t0.Add(time.Hour))
	return u
}

func BenchmarkRefresh(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		br := flatRepo(b, n)
		size := len(br.repo.Metadata("targets"))
		b.Run(fmt.Sprintf("impl=tinto/n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(size))
			defer reportCPU(b, cpuTime())
			for i := 0; i < b.N; i++ {
				c := tintoClient(b, br.repo, "")
				if err := c.Refresh(context.Background()); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Target(context.Background(), br.names[n/2]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("impl=go-tuf/n=%d", n), func(b *testing.B) {
			b.SetBytes(int64(size))
			defer reportCPU(b, cpuTime())
			for i := 0; i < b.N; i++ {
				u := goTUFUpdater(b, br.repo, "")
				if err := u.Refresh(); err != nil {
					b.Fatal(err)
				}
				if _, err := u.GetTargetInfo(br.names[n/2]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWarmStart(b *testing.B) {
	const n = 100000
	br := flatRepo(b, n)
	b.Run(fmt.Sprintf("impl=tinto/n=%d", n), func(b *testing.B) {
		dir := b.TempDir()
		if err := tintoClient(b, br.repo, dir).Refresh(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		defer reportCPU(b, cpuTime())
		for i := 0; i < b.N; i++ {
			c := tintoClient(b, br.repo, dir)
			if err := c.Refresh(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(fmt.Sprintf("impl=go-tuf/n=%d", n), func(b *testing.B) {
		dir := b.TempDir()
		if err := goTUFUpdater(b, br.repo, dir).Refresh(); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		defer reportCPU(b, cpuTime())
		for i := 0; i < b.N; i++ {
			if err := goTUFUpdater(b, br.repo, dir).Refresh(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFirstLookup measures the first lookup of a target in a 1024-bin succinct delegation
// holding 100k targets (about 100 per bin): fetching, verifying and searching one bin.
func BenchmarkFirstLookup(b *testing.B) {
	const bits, n = 10, 100000
	br := binRepo(b, bits, n)
	b.Run(fmt.Sprintf("impl=tinto/bins=%d/n=%d", 1<<bits, n), func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			c := tintoClient(b, br.repo, "")
			if err := c.Refresh(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := c.Target(context.Background(), br.names[i%n]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(fmt.Sprintf("impl=go-tuf/bins=%d/n=%d", 1<<bits, n), func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			u := goTUFUpdater(b, br.repo, "")
			if err := u.Refresh(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := u.GetTargetInfo(br.names[i%n]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// cpuTime returns the process's user+system CPU time. The benchmarks report it per operation
// ("cpu-ms/op") next to wall time, because the machines they run on are often shared.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}

// TestWriteBenchRepo writes the 100k-target benchmark repository to $TINTO_TUF_WRITE_REPO (for
// measuring other clients, e.g. python-tuf, on the same bytes; see docs/performance-tuf.md).
func TestWriteBenchRepo(t *testing.T) {
	dir := os.Getenv("TINTO_TUF_WRITE_REPO")
	if dir == "" {
		t.Skip("set TINTO_TUF_WRITE_REPO")
	}
	br := flatRepo(t, 100000)
	if err := br.repo.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "root.json"), br.repo.TrustedRoot(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "target-name"), []byte(br.names[len(br.names)/2]), 0o644); err != nil {
		t.Fatal(err)
	}
}
