package rego

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/policy/internal/policybench"
	"github.com/tintoproject/tinto/pkg/rules"
)

// benchInput is the typical evidence: 3 layouts, each with steps clone, build and package (one
// link each, 10 artifacts per side), the target a product of package.
func benchInput() *policy.Input { return policybench.Input(10) }

// benchRego expresses the same decisions as policybench.Policy(true) in Rego. It is written the way
// an evaluation-cost-aware module should be: no rule iterates over artifacts in Rego. The
// binding looks the target up by its name first and scans the products (by hash, like the
// built-in REQUIRE productOf) only when that fails; the DISALLOW-like rules hand each link's
// products to tinto.artifacts_matching (in-toto's glob semantics, as the built-in DISALLOW);
// the links of all layouts are collected once for the rule that looks at every one of them;
// the evaluation time is parsed once.
//
// benchRegoKeys is the same policy in portable Rego (no tinto built-in: the DISALLOW-like rules
// use strings.any_suffix_match(object.keys(...))), the form the per-call anchor evaluates, and
// benchRegoScan the same policy written naively (every rule scans artifacts in Rego).
const benchRego = `package tinto

deny contains {"msg": "target not a product of package", "code": "bound"} if {
	some l in input.layouts
	not bound(l)
}

# The target's name is looked up first; the products are scanned by hash only when that fails.
bound(l) := true if {
	some s in l.steps
	s.name == "package"
	some k in s.links
	k.products[input.target.name].sha256 == input.target.hashes.sha256
} else := true if {
	some s in l.steps
	s.name == "package"
	some k in s.links
	some d in k.products
	d.sha256 == input.target.hashes.sha256
}

# Every link of every layout, collected once per query for the rules that look at all of them.
links := [k | some l in input.layouts; some s in l.steps; some k in s.links]

deny contains {"msg": "private key in products", "code": "no-pem"} if {
	some k in links
	some _ in tinto.artifacts_matching(k.products, "*.pem")
}

deny contains {"msg": "key in package products", "code": "no-keys"} if {
	some l in input.layouts
	some s in l.steps
	s.name == "package"
	some k in s.links
	some _ in tinto.artifacts_matching(k.products, "*.key")
}

deny contains {"msg": "not production", "code": "prod", "strength": "PREFERRED"} if {
	input.params.env != "prod"
}

deny contains {"msg": "too large", "code": "small", "strength": "PREFERRED"} if {
	input.target.length > 1073741824
}

deny contains {"msg": "unversioned layout", "code": "versioned", "strength": "MEDIUM"} if {
	some l in input.layouts
	l.version <= 0
}

warn contains {"msg": "layout lives longer than a year", "code": "lifetime"} if {
	some l in input.layouts
	time.parse_rfc3339_ns(l.expires) > year_from_now
}

# A complete rule is evaluated once per query (a body expression would be once per layout).
year_from_now := time.parse_rfc3339_ns(input.time) + 365 * 24 * 3600 * 1000000000
`

const benchRegoKeys = `package tinto

deny contains {"msg": "target not a product of package", "code": "bound"} if {
	some l in input.layouts
	not bound(l)
}

bound(l) if {
	some s in l.steps
	s.name == "package"
	some k in s.links
	is_target(k.products)
}

is_target(products) := true if {
	products[input.target.name].sha256 == input.target.hashes.sha256
} else := true if {
	some d in products
	d.sha256 == input.target.hashes.sha256
}

deny contains {"msg": "private key in products", "code": "no-pem"} if {
	some l in input.layouts
	some s in l.steps
	some k in s.links
	strings.any_suffix_match(object.keys(k.products), ".pem")
}

deny contains {"msg": "key in package products", "code": "no-keys"} if {
	some l in input.layouts
	some s in l.steps
	s.name == "package"
	some k in s.links
	strings.any_suffix_match(object.keys(k.products), ".key")
}

deny contains {"msg": "not production", "code": "prod", "strength": "PREFERRED"} if {
	input.params.env != "prod"
}

deny contains {"msg": "too large", "code": "small", "strength": "PREFERRED"} if {
	input.target.length > 1073741824
}

deny contains {"msg": "unversioned layout", "code": "versioned", "strength": "MEDIUM"} if {
	some l in input.layouts
	l.version <= 0
}

warn contains {"msg": "layout lives longer than a year", "code": "lifetime"} if {
	some l in input.layouts
	time.parse_rfc3339_ns(l.expires) > year_from_now
}

# A complete rule is evaluated once per query (a body expression would be once per layout).
year_from_now := time.parse_rfc3339_ns(input.time) + 365 * 24 * 3600 * 1000000000
`

// benchRegoScan is benchRego with the artifact scans written out in Rego (the previous form of
// the benchmark policy), to show what they cost.
const benchRegoScan = `package tinto

deny contains {"msg": "target not a product of package", "code": "bound"} if {
	some l in input.layouts
	not bound(l)
}

bound(l) if {
	some s in l.steps
	s.name == "package"
	some k in s.links
	some _, d in k.products
	d.sha256 == input.target.hashes.sha256
}

deny contains {"msg": "private key in products", "code": "no-pem"} if {
	some l in input.layouts
	some s in l.steps
	some k in s.links
	some name, _ in k.products
	endswith(name, ".pem")
}

deny contains {"msg": "key in package products", "code": "no-keys"} if {
	some l in input.layouts
	some s in l.steps
	s.name == "package"
	some k in s.links
	some name, _ in k.products
	endswith(name, ".key")
}

deny contains {"msg": "not production", "code": "prod", "strength": "PREFERRED"} if {
	input.params.env != "prod"
}

deny contains {"msg": "too large", "code": "small", "strength": "PREFERRED"} if {
	input.target.length > 1073741824
}

deny contains {"msg": "unversioned layout", "code": "versioned", "strength": "MEDIUM"} if {
	some l in input.layouts
	l.version <= 0
}

warn contains {"msg": "layout lives longer than a year", "code": "lifetime"} if {
	some l in input.layouts
	time.parse_rfc3339_ns(l.expires) - time.parse_rfc3339_ns(input.time) > 365 * 24 * 3600 * 1000000000
}
`

func mustBuiltin(b *testing.B, src string) policy.Policy {
	p, _, err := policy.Load([]byte(src), policy.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkDecision(b *testing.B) {
	ctx := context.Background()
	in := benchInput()
	run := func(b *testing.B, p policy.Policy) {
		d, err := p.Evaluate(ctx, in)
		if err != nil || !d.Allowed() {
			b.Fatalf("%v %s", err, d.Reason)
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := policybench.CPUTime()
		for i := 0; i < b.N; i++ {
			if _, err := p.Evaluate(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, start)
	}
	b.Run("impl=builtin/rules=10/layouts=3/cel=0", func(b *testing.B) { run(b, mustBuiltin(b, policybench.Policy(false))) })
	b.Run("impl=builtin/rules=10/layouts=3/cel=5", func(b *testing.B) { run(b, mustBuiltin(b, policybench.Policy(true))) })
	// The same with one artifact per link side: the per-decision cost without the artifact scans.
	b.Run("impl=builtin/rules=10/layouts=3/cel=5/artifacts=1", func(b *testing.B) {
		saved := in
		in = policybench.Input(1)
		defer func() { in = saved }()
		run(b, mustBuiltin(b, policybench.Policy(true)))
	})
	b.Run("impl=rego-prepared/rules=7/layouts=3/artifacts=1", func(b *testing.B) {
		saved := in
		in = policybench.Input(1)
		defer func() { in = saved }()
		run(b, mustRego(b, benchRego))
	})
	b.Run("impl=rego-prepared/rules=7/layouts=3", func(b *testing.B) { run(b, mustRego(b, benchRego)) })
	b.Run("impl=rego-prepared-objectkeys/rules=7/layouts=3", func(b *testing.B) { run(b, mustRego(b, benchRegoKeys)) })
	b.Run("impl=rego-prepared-scanning/rules=7/layouts=3", func(b *testing.B) { run(b, mustRego(b, benchRegoScan)) })
	// The supported fast path: the evidence converted once (NewInput), then EvaluateInput.
	preconverted := func(b *testing.B, src string) {
		p := mustRego(b, src)
		x, err := NewInput(ctx, in, policy.BaseOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if d, err := p.EvaluateInput(ctx, x); err != nil || !d.Allowed() {
			b.Fatalf("%v %s", err, d.Reason)
		}
		b.ReportAllocs()
		b.ResetTimer()
		start := policybench.CPUTime()
		for i := 0; i < b.N; i++ {
			if _, err := p.EvaluateInput(ctx, x); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, start)
	}
	b.Run("impl=rego-prepared-preconverted/rules=7/layouts=3", func(b *testing.B) { preconverted(b, benchRego) })
	b.Run("impl=rego-prepared-preconverted-objectkeys/rules=7/layouts=3", func(b *testing.B) { preconverted(b, benchRegoKeys) })
	// The parts of a decision that NewInput does once: the implicit rules (BaseEntries) and
	// the conversion of every member.
	b.Run("impl=rego-implicit-rules/layouts=3", func(b *testing.B) {
		b.ReportAllocs()
		b.ResetTimer()
		start := policybench.CPUTime()
		for i := 0; i < b.N; i++ {
			if _, err := policy.BaseEntries(ctx, in, policy.BaseOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, start)
	})
	b.Run("impl=rego-input-conversion/layouts=3", func(b *testing.B) {
		base, _ := policy.BaseEntries(ctx, in, policy.BaseOptions{})
		b.ReportAllocs()
		b.ResetTimer()
		start := policybench.CPUTime()
		for i := 0; i < b.N; i++ {
			_ = inputValue(in, base[0].Revocations, nil)
		}
		reportCPU(b, start)
	})
	// The anchor: build the query on every call and pass the input as a Go value decoded from
	// JSON, the way go-witness evaluates its Rego policies (portable module: no tinto built-in).
	b.Run("impl=rego-per-call/rules=7/layouts=3", func(b *testing.B) {
		raw, _ := json.Marshal(in)
		b.ReportAllocs()
		b.ResetTimer()
		start := policybench.CPUTime()
		defer reportCPU(b, start)
		for i := 0; i < b.N; i++ {
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				b.Fatal(err)
			}
			rs, err := rego.New(rego.Query("data.tinto"), rego.Module("bench.rego", benchRegoKeys), rego.Input(v)).Eval(ctx)
			if err != nil || len(rs) != 1 {
				b.Fatal(err)
			}
		}
	})
}

func mustRego(b *testing.B, src string) *Policy {
	p, err := New(context.Background(), map[string]string{"bench.rego": src}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkCompile(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=builtin/rules=10/cel=5", func(b *testing.B) {
		src := []byte(policybench.Policy(true))
		b.ReportAllocs()
		start := policybench.CPUTime()
		defer reportCPU(b, start)
		for i := 0; i < b.N; i++ {
			if _, _, err := policy.Load(src, policy.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=rego/rules=7", func(b *testing.B) {
		b.ReportAllocs()
		start := policybench.CPUTime()
		defer reportCPU(b, start)
		for i := 0; i < b.N; i++ {
			if _, err := New(ctx, map[string]string{"bench.rego": benchRego}, Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestBenchPoliciesAgree checks that the benchmark's built-in and Rego policies decide alike.
func TestBenchPoliciesAgree(t *testing.T) {
	ctx := context.Background()
	bp, _, err := policy.Load([]byte(policybench.Policy(true)), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := New(ctx, map[string]string{"bench.rego": benchRego}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := New(ctx, map[string]string{"bench.rego": benchRegoScan}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	kp, err := New(ctx, map[string]string{"bench.rego": benchRegoKeys}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range []func(*policy.Input){nil,
		func(in *policy.Input) { in.Params["env"] = "dev" },
		func(in *policy.Input) { in.Target.Hashes["sha256"] = "00" },
		func(in *policy.Input) {
			in.Layouts[1].Steps[1].Links[0].Products["x.pem"] = rules.SHA256("00")
		},
		func(in *policy.Input) {
			in.Layouts[2].Steps[2].Links[0].Products["dir/x.key"] = rules.SHA256("00")
		},
		func(in *policy.Input) { // bound by hash under another name
			p := in.Layouts[0].Steps[2].Links[0].Products
			p["renamed.tgz"] = p["app.tar.gz"]
			delete(p, "app.tar.gz")
		},
		func(in *policy.Input) { // the target's name, but another hash
			in.Layouts[0].Steps[2].Links[0].Products["app.tar.gz"] = rules.SHA256("00")
		},
	} {
		in := benchInput()
		if m != nil {
			m(in)
		}
		d1, _ := bp.Evaluate(ctx, in)
		d2, _ := rp.Evaluate(ctx, in)
		d3, _ := sp.Evaluate(ctx, in)
		d4, _ := kp.Evaluate(ctx, in)
		if d4.Effect != d2.Effect || d4.Reason != d2.Reason {
			t.Errorf("case %d: rego %s (%s), rego object.keys %s (%s)", i, d2.Effect, d2.Reason, d4.Effect, d4.Reason)
		}
		if d1.Effect != d2.Effect || d1.Effect != d3.Effect {
			t.Errorf("case %d: builtin %s (%s), rego %s (%s), rego scanning %s (%s)", i, d1.Effect, d1.Reason,
				d2.Effect, d2.Reason, d3.Effect, d3.Reason)
		}
		if d2.Reason != d3.Reason {
			t.Errorf("case %d: rego %s, rego scanning %s", i, d2.Reason, d3.Reason)
		}
	}
}

func reportCPU(b *testing.B, start time.Duration) {
	b.StopTimer()
	if d := policybench.CPUTime() - start; d > 0 && b.N > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
