package intoto

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	golang "github.com/in-toto/in-toto-golang/in_toto"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/keys"
)

// Benchmarks (see docs/performance-intoto.md):
//
//	go test -run '^$' -bench 'BenchmarkVerify' -benchtime 3x ./pkg/intoto
//
// BenchmarkVerify verifies, end to end (read the layout and links from disk, parse, check
// signatures, thresholds and every artifact rule), the three-step chain of GenerateChain with
// n artifacts per step, with tinto and with in-toto-golang v0.11.0 on identical files.
//
// Environment:
//
//	TINTO_BENCH_DIR=dir        keep generated fixtures in dir (reused across runs)
//	TINTO_BENCH_N=1000,10000   the sizes (default 1000,10000,100000,1000000)
//	TINTO_BENCH_GOLANG_1M=1    also run in-toto-golang at n >= 1000000 (minutes, ~9 GiB)

func benchSizes() []int {
	s := os.Getenv("TINTO_BENCH_N")
	if s == "" {
		return []int{1000, 10000, 100000, 1000000}
	}
	var out []int
	for _, f := range splitComma(s) {
		n, err := strconv.Atoi(f)
		if err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// benchFixture writes (or reuses) the chain for n under the fixture directory and returns its
// directory and the owner's key.
func benchFixture(b *testing.B, n, dirs int) (string, *keys.Key) {
	b.Helper()
	base := os.Getenv("TINTO_BENCH_DIR")
	if base == "" {
		base = filepath.Join(os.TempDir(), "tinto-bench-intoto")
	}
	dir := filepath.Join(base, fmt.Sprintf("n%d", n))
	if dirs > 1 {
		dir = filepath.Join(base, fmt.Sprintf("n%d-d%d", n, dirs))
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "owner.json")); err == nil {
		k, err := keys.ParseSSLib(raw)
		if err != nil {
			b.Fatal(err)
		}
		return dir, k
	}
	os.RemoveAll(dir)
	c, err := GenerateChain(ChainSpec{Artifacts: n, Dirs: dirs, KeyType: "ecdsa", Now: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.WriteDir(dir); err != nil {
		b.Fatal(err)
	}
	raw, err := c.Owner.Key.MarshalSSLib()
	if err != nil {
		b.Fatal(err)
	}
	if err := WriteFile(dir, "owner.json", raw); err != nil {
		b.Fatal(err)
	}
	return dir, c.Owner.Key
}

func verifyTinto(dir string, k *keys.Key) error {
	data, err := os.ReadFile(filepath.Join(dir, "root.layout"))
	if err != nil {
		return err
	}
	_, err = Verify(context.Background(), data, Options{
		LayoutKeys: []*keys.Key{k},
		Links:      &DirSource{Dir: filepath.Join(dir, "links"), MaxBytes: -1},
		Limits:     cjson.Limits{MaxBytes: -1},
	})
	return err
}

func golangKey(k *keys.Key) (golang.Key, error) {
	var gk golang.Key
	raw, err := json.Marshal(k.SSLib())
	if err != nil {
		return gk, err
	}
	err = json.Unmarshal(raw, &gk)
	return gk, err
}

func verifyGolang(dir string, k *keys.Key) error {
	gk, err := golangKey(k)
	if err != nil {
		return err
	}
	env, err := golang.LoadMetadata(filepath.Join(dir, "root.layout"))
	if err != nil {
		return err
	}
	_, err = golang.InTotoVerify(env, map[string]golang.Key{gk.KeyID: gk}, filepath.Join(dir, "links"), "", nil, nil, false)
	return err
}

// BenchmarkVerify's r is the number of rules per side of the "build" step: r=2 is one MATCH
// (or CREATE) rule and a DISALLOW; r=11 spreads the artifacts over ten directories with one
// rule each, as layouts that treat parts of a tree differently do.
func BenchmarkVerify(b *testing.B) {
	for _, impl := range []string{"tinto", "intoto-golang"} {
		for _, n := range benchSizes() {
			for _, dirs := range []int{1, 10} {
				b.Run(fmt.Sprintf("impl=%s/n=%d/r=%d", impl, n, dirs+1), func(b *testing.B) {
					benchVerify(b, impl, n, dirs)
				})
			}
		}
	}
}

func benchVerify(b *testing.B, impl string, n, dirs int) {
	if impl == "intoto-golang" && n >= 1000000 && os.Getenv("TINTO_BENCH_GOLANG_1M") == "" {
		b.Skip("in-toto-golang at 1M artifacts takes minutes and ~9 GiB; set TINTO_BENCH_GOLANG_1M=1")
	}
	dir, k := benchFixture(b, n, dirs)
	f := verifyTinto
	if impl == "intoto-golang" {
		f = verifyGolang
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		if err := f(dir, k); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time (user+sys of the whole process: all goroutines and the GC) per verification.
	// Unlike wall time it hardly depends on what else the machine is running.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestBenchFixtureVerifies checks that both implementations accept the benchmark chain.
func TestBenchFixtureVerifies(t *testing.T) {
	dir := t.TempDir()
	c, err := GenerateChain(ChainSpec{Artifacts: 50, Dirs: 10, KeyType: "ecdsa", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := verifyTinto(dir, c.Owner.Key); err != nil {
		t.Fatalf("tinto: %v", err)
	}
	if err := verifyGolang(dir, c.Owner.Key); err != nil {
		t.Fatalf("in-toto-golang: %v", err)
	}
}
