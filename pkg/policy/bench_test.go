package policy_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/policy/internal/policybench"
)

// BenchmarkEvaluate is pkg/policy/rego's BenchmarkDecision impl=builtin (same evidence and
// policy, from internal/policybench) in a test binary that does not link OPA, as for a program that only uses
// the built-in language: OPA's package state makes every garbage collection in the rego binary
// dearer.
func BenchmarkEvaluate(b *testing.B) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		cel      bool
		n        int
		prepared bool
	}{
		{"impl=builtin/rules=10/layouts=3/cel=0", false, 10, false},
		{"impl=builtin/rules=10/layouts=3/cel=5", true, 10, false},
		{"impl=builtin/rules=10/layouts=3/cel=5/artifacts=1", true, 1, false},
		// The same evidence after Input.Prepare (see BenchmarkPrepare for its cost, paid once
		// per Input).
		{"impl=builtin/rules=10/layouts=3/cel=0/prepared", false, 10, true},
		{"impl=builtin/rules=10/layouts=3/cel=5/prepared", true, 10, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p, _, err := policy.Load([]byte(policybench.Policy(tc.cel)), policy.Options{})
			if err != nil {
				b.Fatal(err)
			}
			in := policybench.Input(tc.n)
			if tc.prepared {
				if err := in.Prepare(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := policybench.CPUTime()
			for i := 0; i < b.N; i++ {
				if _, err := p.Evaluate(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if d := policybench.CPUTime() - start; d > 0 {
				b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// BenchmarkPrepare is Input.Prepare over BenchmarkEvaluate's evidence: validating and listing
// every artifact name once, when the Input is built.
func BenchmarkPrepare(b *testing.B) {
	for _, n := range []int{10, 1} {
		b.Run("layouts=3/artifacts="+strconv.Itoa(n), func(b *testing.B) {
			in := policybench.Input(n)
			b.ReportAllocs()
			start := policybench.CPUTime()
			for i := 0; i < b.N; i++ {
				if err := in.Prepare(); err != nil {
					b.Fatal(err)
				}
			}
			if d := policybench.CPUTime() - start; d > 0 {
				b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// BenchmarkTrail is reading a decision's trail (Decision.Trail) and writing its JSON form
// (MarshalJSON), which the built-in engine defers until they are asked for.
func BenchmarkTrail(b *testing.B) {
	p, _, err := policy.Load([]byte(policybench.Policy(false)), policy.Options{})
	if err != nil {
		b.Fatal(err)
	}
	d, err := p.Evaluate(context.Background(), policybench.Input(10))
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    func() error
	}{
		{"Trail", func() error { _ = d.Trail(); return nil }},
		{"MarshalJSON", func() error { _, err := d.MarshalJSON(); return err }},
		// encoding/json checks and compacts what MarshalJSON writes.
		{"json.Marshal", func() error { _, err := json.Marshal(d); return err }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			start := policybench.CPUTime()
			for i := 0; i < b.N; i++ {
				if err := tc.f(); err != nil {
					b.Fatal(err)
				}
			}
			if d := policybench.CPUTime() - start; d > 0 {
				b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

// BenchmarkLoad is compiling the benchmark policy: parse, type check, CEL compile, normalise and
// hash, and the precomputed lookup tables and texts.
func BenchmarkLoad(b *testing.B) {
	for _, tc := range []struct {
		name string
		cel  bool
	}{{"rules=10/cel=0", false}, {"rules=10/cel=5", true}} {
		b.Run(tc.name, func(b *testing.B) {
			src := []byte(policybench.Policy(tc.cel))
			b.ReportAllocs()
			start := policybench.CPUTime()
			for i := 0; i < b.N; i++ {
				if _, _, err := policy.Load(src, policy.Options{}); err != nil {
					b.Fatal(err)
				}
			}
			if d := policybench.CPUTime() - start; d > 0 {
				b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
		})
	}
}
