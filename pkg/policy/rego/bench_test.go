package rego

import (
	"context"
	"encoding/json"
	"strings"
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

// benchRego expresses the same decisions as policybench.Policy(true) in Rego, written the way
// an evaluation-cost-aware module should be: it reads the input's indexes instead of iterating.
// The binding is one lookup per layout (steps_by_name, then products_by_digest: by hash, whatever
// the product's name, like the built-in REQUIRE productOf); the DISALLOW-like rules hand a
// layout's or a step's product_names to tinto.artifacts_matching (in-toto's glob semantics, as
// the built-in DISALLOW); the lifetime compares expires_ns with a bound computed once.
//
// benchRegoNoIndex is the same policy with tinto.artifacts_matching but without the indexes
// (the links scanned step by step, the binding looked up by name then scanned by hash, the times
// parsed from their strings), benchRegoKeys the same policy in portable Rego (no tinto built-in,
// no index: the DISALLOW-like rules use strings.any_suffix_match(object.keys(...))), the form
// the per-call anchor evaluates, and benchRegoScan the same policy written naively (every rule
// scans artifacts in Rego).
const benchRego = `package tinto

# In every layout, the package step has a product with the target's sha256 (whatever its name).
deny contains {"msg": "target not a product of package", "code": "bound"} if {
	some l in input.layouts
	not l.steps_by_name["package"].products_by_digest.sha256[input.target.hashes.sha256]
}

deny contains {"msg": "private key in products", "code": "no-pem"} if {
	some l in input.layouts
	some _ in tinto.artifacts_matching(l.product_names, "*.pem")
}

deny contains {"msg": "key in package products", "code": "no-keys"} if {
	some l in input.layouts
	some _ in tinto.artifacts_matching(l.steps_by_name["package"].product_names, "*.key")
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
	l.expires_ns > year_from_now
}

# 365 days (the built-in policy's 8760h) after the evaluation time, in nanoseconds. A complete
# rule is evaluated once per query (a body expression would be once per layout).
year_from_now := time.add_date(input.time_ns, 0, 0, 365)
`

const benchRegoNoIndex = `package tinto

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
	b.Run("impl=rego-prepared-preconverted-noindex/rules=7/layouts=3", func(b *testing.B) { preconverted(b, benchRegoNoIndex) })
	b.Run("impl=rego-prepared-preconverted-objectkeys/rules=7/layouts=3", func(b *testing.B) { preconverted(b, benchRegoKeys) })
	// What NewInput does once, and its parts: the implicit rules (BaseEntries) and the
	// conversion of every member, indexes included.
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
	b.Run("impl=rego-newinput/layouts=3", func(b *testing.B) {
		b.ReportAllocs()
		b.ResetTimer()
		start := policybench.CPUTime()
		for i := 0; i < b.N; i++ {
			if _, err := NewInput(ctx, in, policy.BaseOptions{}); err != nil {
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
			if _, err := inputValue(in, base[0].Revocations, nil); err != nil {
				b.Fatal(err)
			}
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
	np, err := New(ctx, map[string]string{"bench.rego": benchRegoNoIndex}, Options{})
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
		func(in *policy.Input) { // the target is a product of build, not of package
			delete(in.Layouts[0].Steps[2].Links[0].Products, "app.tar.gz")
			in.Layouts[0].Steps[1].Links[0].Products["app.tar.gz"] = rules.SHA256(policybench.AppHash)
		},
		func(in *policy.Input) { in.Layouts[2].Expires = in.Time.Add(366 * 24 * time.Hour) },
		func(in *policy.Input) { in.Layouts[2].Expires = in.Time.Add(364 * 24 * time.Hour) },
		func(in *policy.Input) { in.Layouts[1].Version = 0 },
	} {
		in := benchInput()
		if m != nil {
			m(in)
		}
		d1, _ := bp.Evaluate(ctx, in)
		d2, _ := rp.Evaluate(ctx, in)
		d3, _ := sp.Evaluate(ctx, in)
		d4, _ := kp.Evaluate(ctx, in)
		d5, _ := np.Evaluate(ctx, in)
		if d4.Effect != d2.Effect || d4.Reason != d2.Reason {
			t.Errorf("case %d: rego %s (%s), rego object.keys %s (%s)", i, d2.Effect, d2.Reason, d4.Effect, d4.Reason)
		}
		if d5.Effect != d2.Effect || d5.Reason != d2.Reason {
			t.Errorf("case %d: rego %s (%s), rego without indexes %s (%s)", i, d2.Effect, d2.Reason, d5.Effect, d5.Reason)
		}
		if w2, w4, w5 := warnings(d2), warnings(d4), warnings(d5); w2 != w4 || w2 != w5 {
			t.Errorf("case %d: warnings %q, %q (object.keys), %q (without indexes)", i, w2, w4, w5)
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

// warnings lists the rules of a decision's warnings.
func warnings(d *policy.Decision) string {
	var ws []string
	for _, e := range d.Trail() {
		if e.Warning {
			ws = append(ws, e.Rule)
		}
	}
	return strings.Join(ws, ",")
}

func reportCPU(b *testing.B, start time.Duration) {
	b.StopTimer()
	if d := policybench.CPUTime() - start; d > 0 && b.N > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
