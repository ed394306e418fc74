package rego

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/tintoproject/tinto/pkg/policy"
)

// benchInput is the typical evidence: 3 layouts, each with steps clone, build and package (one
// link each, 10 artifacts per side), the target a product of package.
func benchInput() *policy.Input { return benchInputN(10) }

// benchInputN is benchInput with n artifacts per link side.
func benchInputN(nArt int) *policy.Input {
	in := &policy.Input{
		Target: &policy.Target{Name: "app.tar.gz", Length: 1 << 20, Hashes: map[string]string{"sha256": appHash},
			Custom: map[string]any{"team": "core", "tier": "1"}},
		Params: map[string]string{"env": "prod"},
		Time:   evalTime,
	}
	for li := 0; li < 3; li++ {
		l := policy.Layout{Name: fmt.Sprintf("rebuild-%d.layout", li), Digest: fmt.Sprintf("sha256:%064d", li+1),
			Version: 3, Expires: evalTime.Add(90 * 24 * time.Hour), Signers: []string{keyOwner}}
		prev := map[string]policy.Digests{}
		for si, name := range []string{"clone", "build", "package"} {
			kid := fmt.Sprintf("%02d", li*3+si) + strings.Repeat("ab", 31)
			l.Keys = append(l.Keys, policy.Key{KeyID: kid, KeyType: "ed25519", Scheme: "ed25519"})
			prods := map[string]policy.Digests{}
			for a := 0; a < nArt; a++ {
				prods[fmt.Sprintf("%s/file%d.go", name, a)] = policy.Digests{"sha256": fmt.Sprintf("%064x", li*100+si*10+a)}
			}
			if name == "package" {
				prods["app.tar.gz"] = policy.Digests{"sha256": appHash}
			}
			l.Steps = append(l.Steps, policy.Step{Name: name, Functionaries: []string{kid}, Threshold: 1,
				Command: []string{"make", name},
				Links: []policy.Link{{KeyID: kid, Digest: fmt.Sprintf("sha256:%064x", 1000+li*10+si),
					Materials: prev, Products: prods, Command: []string{"make", name}}}})
			l.Rules = append(l.Rules, policy.RuleResult{Step: name, Side: "products", Rule: "ALLOW *", Verb: "ALLOW", OK: true})
			prev = prods
		}
		in.Layouts = append(in.Layouts, l)
	}
	return in
}

// benchPolicy is the typical policy: 10 rules, 5 of them with a CEL condition (cel=5), or the
// same rules with the conditions removed (cel=0).
func benchPolicy(cel bool) string {
	c := func(s string) string {
		if !cel {
			return ""
		}
		return s
	}
	pick := func(with, without string) string {
		if cel {
			return with
		}
		return without
	}
	return `apiVersion: tinto.dev/policy/v1
kind: Policy
layouts:
  require: all
rules:
  - {id: bound, verb: REQUIRE, subject: target, productOf: package}
  - {id: no-pem, verb: DISALLOW, subject: step, artifacts: "*.pem"}
  - {id: no-keys, verb: DISALLOW, subject: step, step: package, artifacts: "*.key"}
  - {id: revoke-old, verb: REVOKE, subject: functionary, keyids: ["` + strings.Repeat("ef", 32) + `"]}
  - {id: revoke-bad-layout, verb: REVOKE, subject: layout, digests: ["sha256:` + strings.Repeat("e", 64) + `"]}
  - {id: prod, verb: DENY, strength: PREFERRED, ` + pick(`subject: target, when: 'params.env != "prod"'`, `subject: attestation`) + `}
  - {id: team, verb: ALLOW, strength: MEDIUM, subject: target` + c(`, when: 'target.custom.team == "core"'`) + `}
  - {id: lifetime, verb: REQUIRE, strength: WEAK, subject: layout, ` + func() string {
		if cel {
			return `expect: ['layout.expires - now < duration("8760h")']}`
		}
		return `min: 1}`
	}() + `
  - {id: versioned, verb: REQUIRE, strength: MEDIUM, subject: layout, ` + func() string {
		if cel {
			return `expect: ['layout.version > 0']}`
		}
		return `min: 3}`
	}() + `
  - {id: small, verb: DENY, strength: PREFERRED, ` + pick(`subject: target, when: 'target.length > 1073741824'`, `subject: attestation`) + `}
`
}

// benchRego expresses the same decisions as benchPolicy(true) in Rego. It is written the way
// an evaluation-cost-aware module should be: no rule iterates over artifacts in Rego. The
// binding looks the target up by its name first and scans the products (by hash, like the
// built-in REQUIRE productOf) only when that fails; the DISALLOW-like rules hand each link's
// product names to one strings.any_suffix_match call instead of unifying name by name; the
// evaluation time is parsed once.
// benchRegoScan is the same policy written naively (every rule scans artifacts in Rego).
const benchRego = `package tinto

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
		start := cpuTime()
		for i := 0; i < b.N; i++ {
			if _, err := p.Evaluate(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, start)
	}
	b.Run("impl=builtin/rules=10/layouts=3/cel=0", func(b *testing.B) { run(b, mustBuiltin(b, benchPolicy(false))) })
	b.Run("impl=builtin/rules=10/layouts=3/cel=5", func(b *testing.B) { run(b, mustBuiltin(b, benchPolicy(true))) })
	// The same with one artifact per link side: the per-decision cost without the artifact scans.
	b.Run("impl=builtin/rules=10/layouts=3/cel=5/artifacts=1", func(b *testing.B) {
		saved := in
		in = benchInputN(1)
		defer func() { in = saved }()
		run(b, mustBuiltin(b, benchPolicy(true)))
	})
	b.Run("impl=rego-prepared/rules=7/layouts=3/artifacts=1", func(b *testing.B) {
		saved := in
		in = benchInputN(1)
		defer func() { in = saved }()
		p, err := New(ctx, map[string]string{"bench.rego": benchRego}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		run(b, p)
	})
	b.Run("impl=rego-prepared/rules=7/layouts=3", func(b *testing.B) {
		p, err := New(ctx, map[string]string{"bench.rego": benchRego}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		run(b, p)
	})
	b.Run("impl=rego-prepared-scanning/rules=7/layouts=3", func(b *testing.B) {
		p, err := New(ctx, map[string]string{"bench.rego": benchRegoScan}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		run(b, p)
	})
	b.Run("impl=rego-prepared-preconverted/rules=7/layouts=3", func(b *testing.B) {
		p, err := New(ctx, map[string]string{"bench.rego": benchRego}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		base, _ := policy.BaseEntries(ctx, in, policy.BaseOptions{})
		v := InputValue(in, base[0].Revocations)
		b.ReportAllocs()
		b.ResetTimer()
		start := cpuTime()
		for i := 0; i < b.N; i++ {
			if _, err := p.EvaluateValue(ctx, in, v); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, start)
	})
	b.Run("impl=rego-input-conversion/layouts=3", func(b *testing.B) {
		base, _ := policy.BaseEntries(ctx, in, policy.BaseOptions{})
		b.ReportAllocs()
		b.ResetTimer()
		start := cpuTime()
		for i := 0; i < b.N; i++ {
			_ = InputValue(in, base[0].Revocations)
		}
		reportCPU(b, start)
	})
	// The anchor: build the query on every call and pass the input as a Go value decoded from
	// JSON, the way go-witness evaluates its Rego policies.
	b.Run("impl=rego-per-call/rules=7/layouts=3", func(b *testing.B) {
		raw, _ := json.Marshal(in)
		b.ReportAllocs()
		b.ResetTimer()
		start := cpuTime()
		defer reportCPU(b, start)
		for i := 0; i < b.N; i++ {
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				b.Fatal(err)
			}
			rs, err := rego.New(rego.Query("data.tinto"), rego.Module("bench.rego", benchRego), rego.Input(v)).Eval(ctx)
			if err != nil || len(rs) != 1 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCompile(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=builtin/rules=10/cel=5", func(b *testing.B) {
		src := []byte(benchPolicy(true))
		b.ReportAllocs()
		start := cpuTime()
		defer reportCPU(b, start)
		for i := 0; i < b.N; i++ {
			if _, _, err := policy.Load(src, policy.Options{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=rego/rules=7", func(b *testing.B) {
		b.ReportAllocs()
		start := cpuTime()
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
	bp, _, err := policy.Load([]byte(benchPolicy(true)), policy.Options{})
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
	for i, m := range []func(*policy.Input){nil,
		func(in *policy.Input) { in.Params["env"] = "dev" },
		func(in *policy.Input) { in.Target.Hashes["sha256"] = "00" },
		func(in *policy.Input) {
			in.Layouts[1].Steps[1].Links[0].Products["x.pem"] = policy.Digests{"sha256": "00"}
		},
		func(in *policy.Input) {
			in.Layouts[2].Steps[2].Links[0].Products["dir/x.key"] = policy.Digests{"sha256": "00"}
		},
		func(in *policy.Input) { // bound by hash under another name
			p := in.Layouts[0].Steps[2].Links[0].Products
			p["renamed.tgz"] = p["app.tar.gz"]
			delete(p, "app.tar.gz")
		},
		func(in *policy.Input) { // the target's name, but another hash
			in.Layouts[0].Steps[2].Links[0].Products["app.tar.gz"] = policy.Digests{"sha256": "00"}
		},
	} {
		in := benchInput()
		if m != nil {
			m(in)
		}
		d1, _ := bp.Evaluate(ctx, in)
		d2, _ := rp.Evaluate(ctx, in)
		d3, _ := sp.Evaluate(ctx, in)
		if d1.Effect != d2.Effect || d1.Effect != d3.Effect {
			t.Errorf("case %d: builtin %s (%s), rego %s (%s), rego scanning %s (%s)", i, d1.Effect, d1.Reason,
				d2.Effect, d2.Reason, d3.Effect, d3.Reason)
		}
		if d2.Reason != d3.Reason {
			t.Errorf("case %d: rego %s, rego scanning %s", i, d2.Reason, d3.Reason)
		}
	}
}

// cpuTime is the process's user+system CPU time. On a machine shared with other work the wall
// time per op (ns/op) is inflated by waiting for a CPU; cpu-ns/op (run with -cpu 1 so that
// nothing else in the process runs in parallel, GC aside) is what the code costs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.StopTimer()
	if d := cpuTime() - start; d > 0 && b.N > 0 {
		b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}
