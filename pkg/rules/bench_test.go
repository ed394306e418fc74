package rules

import (
	"fmt"
	"maps"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	intoto "github.com/in-toto/in-toto-golang/in_toto"
)

// Benchmark data: one "build" step whose products (the queue) are N artifacts, and a "fetch"
// step whose products are the build's sources. Names are spread over 50 components:
//
//	60% src/compCC/pkgP/fileNNNNNNN.go  (materials too, equal digests; also fetch's products)
//	20% dist/compCC/binNNNNNNN          (created)
//	10% docs/compCC/pageNNNNNNN.md      (created)
//	10% certs/keyNNNNNNN.pem            (created)
//	plus five top-level files: README.md LICENSE VERSION Makefile go.mod (created)
//
// Every rule set consumes every artifact before its final DISALLOW *, so both implementations
// do the whole work and both must report success.
type benchData struct {
	build, fetch StepArtifacts
	// The products of build in the order they were made (the order of their bytes in
	// memory), as pkg/intoto hands a parsed link's artifacts to RunOptions.Queue.
	names []string
	digs  []Digests
}

var (
	benchMu    sync.Mutex
	benchCache = map[int]*benchData{}
)

func benchDataFor(n int) *benchData {
	benchMu.Lock()
	defer benchMu.Unlock()
	if d := benchCache[n]; d != nil {
		return d
	}
	for k := range benchCache { // keep one data set at a time (1M artifacts are big)
		delete(benchCache, k)
	}
	d := &benchData{
		build: StepArtifacts{Materials: Artifacts{}, Products: make(Artifacts, n)},
		fetch: StepArtifacts{Materials: Artifacts{}, Products: Artifacts{}},
	}
	top := []string{"README.md", "LICENSE", "VERSION", "Makefile", "go.mod"}
	for i := 0; i < n; i++ {
		hex := fmt.Sprintf("%064x", i)
		dig := SHA256(hex)
		c := (i / 10) % 50
		var name string
		switch {
		case i < len(top):
			name = top[i]
		case i%10 < 6:
			name = fmt.Sprintf("src/comp%02d/pkg%d/file%07d.go", c, i%13, i)
			// Separate maps and strings per link, as parsing three JSON documents gives.
			d.build.Materials[name] = SHA256(strings.Clone(hex))
			d.fetch.Products[name] = SHA256(strings.Clone(hex))
		case i%10 < 8:
			name = fmt.Sprintf("dist/comp%02d/bin%07d", c, i)
		case i%10 < 9:
			name = fmt.Sprintf("docs/comp%02d/page%07d.md", c, i)
		default:
			name = fmt.Sprintf("certs/key%07d.pem", i)
		}
		d.build.Products[name] = dig
		d.names = append(d.names, name)
		d.digs = append(d.digs, dig)
	}
	benchCache[n] = d
	return d
}

// benchRules returns a realistic product rule list of r rules (3, 12 or 102).
func benchRules(r int) [][]string {
	matchIn := func(c int) []string {
		p := fmt.Sprintf("src/comp%02d", c)
		return []string{"MATCH", "*", "IN", p, "WITH", "PRODUCTS", "IN", p, "FROM", "fetch"}
	}
	var rs [][]string
	switch r {
	case 3:
		rs = [][]string{{"MATCH", "*", "WITH", "PRODUCTS", "FROM", "fetch"}, {"CREATE", "*"}}
	case 12:
		for c := range 3 {
			rs = append(rs, matchIn(c))
		}
		for c := range 3 {
			rs = append(rs, []string{"CREATE", fmt.Sprintf("dist/comp%02d/*", c)})
		}
		rs = append(rs, []string{"ALLOW", "*.md"}, []string{"ALLOW", "*.pem"}, []string{"ALLOW", "LICENSE"},
			[]string{"MATCH", "*", "WITH", "PRODUCTS", "FROM", "fetch"}, []string{"CREATE", "*"})
	case 102:
		// 100 specific rules: 40 MATCH with prefixes, 50 CREATE of a directory, 5 suffixes and
		// 5 literal names; then a catch-all MATCH.
		for c := range 40 {
			rs = append(rs, matchIn(c))
		}
		for c := range 50 {
			rs = append(rs, []string{"CREATE", fmt.Sprintf("dist/comp%02d/*", c)})
		}
		for _, s := range []string{"*.md", "*.pem", "*.sig", "*.txt", "*.json"} {
			rs = append(rs, []string{"ALLOW", s})
		}
		for _, s := range []string{"README.md", "LICENSE", "VERSION", "Makefile", "go.mod"} {
			rs = append(rs, []string{"CREATE", s})
		}
		rs = append(rs, []string{"MATCH", "*", "WITH", "PRODUCTS", "FROM", "fetch"})
	default:
		panic("bad r")
	}
	return append(rs, []string{"DISALLOW", "*"})
}

func toGolang(a Artifacts) map[string]intoto.HashObj {
	out := make(map[string]intoto.HashObj, len(a))
	for k, v := range a {
		out[k] = intoto.HashObj(v.Map())
	}
	return out
}

// BenchmarkRules evaluates one step's product rules over N artifacts with R rules, in this
// package (Compile + Run) and in in-toto-golang v0.11.0 (VerifyArtifacts on the same step), on
// identical data. in-toto-golang at N=1M takes minutes per operation and is skipped unless
// TINTO_BENCH_GOLANG_1M=1.
//
//	go test ./pkg/rules -run '^$' -bench 'Rules/' -benchtime 1x -count 1
func BenchmarkRules(b *testing.B) {
	// tinto-compact is Program.RunWith with RunOptions{CompactConsumers: true} (which rule
	// consumed each artifact kept in a list instead of the ConsumedBy map) and the artifacts
	// visited in the order they were made (RunOptions.Queue), as pkg/intoto runs it; names are
	// checked as in Run.
	for _, impl := range []string{"tinto", "tinto-compact", "intoto-golang"} {
		for _, n := range []int{1000, 10000, 100000, 1000000} {
			for _, r := range []int{3, 12, 102} {
				b.Run(fmt.Sprintf("impl=%s/n=%d/r=%d", impl, n, r), func(b *testing.B) {
					if impl == "intoto-golang" && n >= 1000000 && os.Getenv("TINTO_BENCH_GOLANG_1M") == "" {
						b.Skip("in-toto-golang at 1M artifacts takes minutes; set TINTO_BENCH_GOLANG_1M=1")
					}
					d := benchDataFor(n)
					rules := benchRules(r)
					switch impl {
					case "tinto":
						benchTinto(b, d, rules, RunOptions{})
					case "tinto-compact":
						benchTinto(b, d, rules, RunOptions{CompactConsumers: true, Queue: func(yield func(string, Digests) bool) {
							for i, name := range d.names {
								if !yield(name, d.digs[i]) {
									return
								}
							}
						}})
					default:
						benchGolang(b, d, rules)
					}
				})
			}
		}
	}
}

func benchTinto(b *testing.B, d *benchData, rules [][]string, o RunOptions) {
	steps := func(name string) (StepArtifacts, bool) {
		switch name {
		case "build":
			return d.build, true
		case "fetch":
			return d.fetch, true
		}
		return StepArtifacts{}, false
	}
	b.ReportAllocs()
	var c0 time.Duration
	for b.Loop() {
		if c0 == 0 {
			c0 = cpuTime()
		}
		p, err := CompileList(rules)
		if err != nil {
			b.Fatal(err)
		}
		res := p.RunWith(Products, d.build, steps, o)
		if res.Err != nil || res.Remaining != 0 {
			b.Fatalf("err=%v remaining=%d", res.Err, res.Remaining)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

func benchGolang(b *testing.B, d *benchData, rules [][]string) {
	step := intoto.Step{Type: "step", Threshold: 1}
	step.Name = "build"
	step.ExpectedProducts = rules
	link := func(name string, s StepArtifacts) intoto.Metadata {
		return &intoto.Metablock{Signed: intoto.Link{Type: "link", Name: name,
			Materials: toGolang(s.Materials), Products: toGolang(s.Products)}}
	}
	md := map[string]intoto.Metadata{"build": link("build", d.build), "fetch": link("fetch", d.fetch)}
	items := []interface{}{step}
	b.ReportAllocs()
	var c0 time.Duration
	for b.Loop() {
		if c0 == 0 {
			c0 = cpuTime()
		}
		if err := intoto.VerifyArtifacts(items, md); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/op")
}

// TestRunLarge checks the parallel path (queues of parallelMin artifacts and more) against the
// naive transcription, on the benchmark data and on a large random case.
func TestRunLarge(t *testing.T) {
	d := benchDataFor(parallelMin + 1000)
	steps := func(name string) (StepArtifacts, bool) {
		if name == "fetch" {
			return d.fetch, true
		}
		return StepArtifacts{}, false
	}
	for _, r := range []int{12, 102} {
		rs, err := ParseList(benchRules(r))
		if err != nil {
			t.Fatal(err)
		}
		// Drop the catch-all MATCH so that some rules fail and some artifacts remain.
		rs = append(rs[:len(rs)-2:len(rs)-2], rs[len(rs)-1])
		p := MustCompile(rs)
		res := p.run(Products, d.build, steps, 4, RunOptions{})
		var wantC map[string]int
		var wantF int
		if r == 12 {
			wantC, wantF = naiveRun(t, rs, Products, d.build, steps)
		} else { // the naive run is slow at this size; compare with the sequential path
			seq := p.run(Products, d.build, steps, 1, RunOptions{})
			wantC, wantF = seq.ConsumedBy, -1
			for k, o := range seq.Outcomes {
				if o.Failed {
					wantF = k
					break
				}
			}
			if fmt.Sprint(seq.Outcomes) != fmt.Sprint(res.Outcomes) {
				t.Fatalf("outcomes differ:\n%v\n%v", seq.Outcomes, res.Outcomes)
			}
		}
		failed := -1
		for k, o := range res.Outcomes {
			if o.Failed {
				failed = k
				break
			}
		}
		if failed != wantF || len(res.ConsumedBy) != len(wantC) {
			t.Fatalf("r=%d: failed=%d consumed=%d; naive failed=%d consumed=%d", r, failed, len(res.ConsumedBy), wantF, len(wantC))
		}
		for n, k := range wantC {
			if res.ConsumedBy[n] != k {
				t.Fatalf("r=%d: %s consumed by %d, naive %d", r, n, res.ConsumedBy[n], k)
			}
		}
	}
}

// TestBenchRulesAgree checks, on a small instance, that the benchmark's rule sets pass in both
// implementations and that every artifact is consumed by the rule the data was made for.
func TestBenchRulesAgree(t *testing.T) {
	d := benchDataFor(2000)
	steps := func(name string) (StepArtifacts, bool) {
		if name == "fetch" {
			return d.fetch, true
		}
		return StepArtifacts{}, false
	}
	for _, r := range []int{3, 12, 102} {
		p, err := CompileList(benchRules(r))
		if err != nil {
			t.Fatal(err)
		}
		res := p.Run(Products, d.build, steps)
		if res.Err != nil || res.Remaining != 0 || len(res.ConsumedBy) != 2000 {
			t.Fatalf("r=%d: err=%v remaining=%d consumed=%d", r, res.Err, res.Remaining, len(res.ConsumedBy))
		}
		for i, o := range res.Outcomes {
			if r == 102 && i < 40 && o.Consumed == 0 {
				t.Errorf("r=102: rule %d (%s) consumed nothing", i, o.Rule)
			}
		}
		step := intoto.Step{}
		step.Name = "build"
		step.ExpectedProducts = benchRules(r)
		md := map[string]intoto.Metadata{
			"build": &intoto.Metablock{Signed: intoto.Link{Materials: toGolang(d.build.Materials), Products: toGolang(d.build.Products)}},
			"fetch": &intoto.Metablock{Signed: intoto.Link{Materials: toGolang(d.fetch.Materials), Products: toGolang(d.fetch.Products)}},
		}
		if err := intoto.VerifyArtifacts([]interface{}{step}, md); err != nil {
			t.Fatalf("r=%d: in-toto-golang: %v", r, err)
		}
	}
}

// TestRunChunkReuse runs a queue of more chunks than the pipeline keeps in flight (so chunk
// buffers are reused) and compares the result with the sequential path.
func TestRunChunkReuse(t *testing.T) {
	d := benchDataFor(chunkSize*(4*2+4) + 123)
	steps := func(name string) (StepArtifacts, bool) {
		if name == "fetch" {
			return d.fetch, true
		}
		return StepArtifacts{}, false
	}
	p, err := CompileList(benchRules(12))
	if err != nil {
		t.Fatal(err)
	}
	par, seq := p.run(Products, d.build, steps, 2, RunOptions{}), p.run(Products, d.build, steps, 1, RunOptions{})
	if !maps.Equal(par.ConsumedBy, seq.ConsumedBy) || fmt.Sprint(par.Outcomes) != fmt.Sprint(seq.Outcomes) {
		t.Fatalf("parallel and sequential runs differ: %d vs %d consumed", len(par.ConsumedBy), len(seq.ConsumedBy))
	}
	if cp := p.run(Products, d.build, steps, 2, RunOptions{CompactConsumers: true}); !maps.Equal(cp.Consumers(), seq.ConsumedBy) ||
		cp.Remaining != seq.Remaining || fmt.Sprint(cp.Outcomes) != fmt.Sprint(seq.Outcomes) {
		t.Fatalf("compact parallel run differs: %d vs %d consumed", cp.NumConsumed(), len(seq.ConsumedBy))
	}
	if len(seq.ConsumedBy) != len(d.build.Products) {
		t.Fatalf("consumed %d of %d", len(seq.ConsumedBy), len(d.build.Products))
	}
}
