package verify_test

import (
	"context"
	"fmt"
	"path"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/intoto"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/tuf"
	"github.com/tintoproject/tinto/pkg/verify"
	"github.com/tintoproject/tinto/pkg/verify/verifytest"
)

// memRepository returns a Repository over the repository's files in memory (no network), so
// that the benchmarks measure verification, not a socket.
func memRepository(b *testing.B, r *verifytest.Repo, now func() time.Time) verify.Repository {
	c, err := tuf.New(r.TrustedRoot(), tuf.Options{Fetcher: tuf.MemFetcher(r.Files()), MetadataBase: "metadata/", TargetsBase: "targets/", Now: now})
	if err != nil {
		b.Fatal(err)
	}
	return verify.NewRepository(c)
}

// BenchmarkVerifyWarm verifies one small package again and again with one Verifier: TUF
// metadata already fresh (RefreshInterval), a 3-step layout, n artifacts per step. Every
// iteration still looks the target up, downloads and hashes it, reads the in-toto metadata
// targets (bytes cached by signed digest), reuses the cached in-toto result, binds, and
// evaluates the policy. Target: >= 2000 verifications/s/core, i.e. <= 500 µs/op with -cpu 1.
func BenchmarkVerifyWarm(b *testing.B) {
	for _, n := range []int{100} {
		for _, transport := range []string{"memory", "http"} {
			b.Run(fmt.Sprintf("n=%d/transport=%s", n, transport), func(b *testing.B) {
				r, err := verifytest.New(verifytest.Options{Now: t0, Artifacts: n})
				if err != nil {
					b.Fatal(err)
				}
				now := func() time.Time { return t0.Add(time.Hour) }
				opts := verify.Options{Now: now, RefreshInterval: time.Hour}
				if transport == "memory" {
					opts.Repository = memRepository(b, r, now)
				} else {
					s, err := r.Serve()
					if err != nil {
						b.Fatal(err)
					}
					defer s.Close()
					opts.Remote = s.URL
				}
				v, err := verify.New(r.TrustedRoot(), opts)
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				if _, err := v.Verify(ctx, verifytest.DefaultPackage); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				cpu0 := cpuTime()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := v.Verify(ctx, verifytest.DefaultPackage); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				cpu := cpuTime() - cpu0
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
				// Process CPU time (all threads, GC included) per verification: the cost per
				// core, independent of what else the machine runs.
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// BenchmarkVerifyCold verifies a package whose supply chain has n artifacts per step with a new
// Verifier every iteration (nothing cached), side by side with the two layers it is made of,
// measured on the same data in the same binary:
//
//	layer=tuf:    a TUF client from the trusted root: refresh, then look up and download every
//	              target the verification reads (package, layout, key, links, revocation list);
//	layer=intoto: pkg/intoto.Verify of the same layout and links, from memory;
//	layer=verify: verify.New + Verifier.Verify, end to end (TUF, in-toto, binding, policy).
//
// Target: layer=verify within 1.2x of layer=tuf + layer=intoto.
func BenchmarkVerifyCold(b *testing.B) {
	for _, n := range []int{1000, 100000} {
		if n > 1000 && testing.Short() {
			continue
		}
		r, err := verifytest.New(verifytest.Options{Now: t0, Artifacts: n})
		if err != nil {
			b.Fatal(err)
		}
		now := func() time.Time { return t0.Add(time.Hour) }
		files := r.Files()
		ctx := context.Background()
		targets := []string{verifytest.DefaultPackage, verifytest.LayoutPath, verifytest.OwnerKeyPath, verifytest.RevocationsPath}
		links := intoto.MemLinks{}
		for name := range r.TUF.Roles["targets"].Targets {
			if path.Dir(name) == verifytest.LinkDir(verifytest.DefaultPackage) {
				targets = append(targets, name)
				links[path.Base(name)] = r.TUF.Roles["targets"].Targets[name].Data
			}
		}
		layout := r.TUF.Roles["targets"].Targets[verifytest.LayoutPath].Data
		b.Run(fmt.Sprintf("n=%d/layer=tuf", n), func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for i := 0; i < b.N; i++ {
				c, err := tuf.New(r.TrustedRoot(), tuf.Options{Fetcher: tuf.MemFetcher(files), MetadataBase: "metadata/", TargetsBase: "targets/", Now: now})
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Refresh(ctx); err != nil {
					b.Fatal(err)
				}
				for _, t := range targets {
					tf, err := c.Target(ctx, t)
					if err != nil {
						b.Fatal(err)
					}
					if err := c.Download(ctx, tf, discard{}); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/layer=intoto", n), func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for i := 0; i < b.N; i++ {
				_, err := intoto.Verify(ctx, layout, intoto.Options{LayoutKeys: []*keys.Key{r.Owner.Key}, Links: links, Now: now, Params: map[string]string{},
					Limits: cjson.Limits{MaxBytes: 64 << 20}})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/layer=verify", n), func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			for i := 0; i < b.N; i++ {
				v, err := verify.New(r.TrustedRoot(), verify.Options{Now: now, Repository: memRepository(b, r, now),
					Limits: verify.Limits{MaxMetadataBytes: 64 << 20}})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.Verify(ctx, verifytest.DefaultPackage); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// reportCPU starts measuring process CPU time; the returned function reports cpu-ns/op. On a
// shared machine wall time varies with the load; CPU time much less.
func reportCPU(b *testing.B) func() {
	runtime.GC()
	c0 := cpuTime()
	return func() {
		b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
