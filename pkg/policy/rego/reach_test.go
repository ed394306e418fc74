package rego

import (
	"context"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/tintoproject/tinto/pkg/policy"
)

func TestReachableInput(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		all       bool
		keys      []string
		not       []string
	}{
		{"members", "package tinto\ndeny contains 1 if { input.params.env == \"x\"; some l in input.layouts; l.name == input.target.name }\n",
			false, []string{"params", "layouts", "target"}, []string{"revocations", "attestations", "time"}},
		{"bare", "package tinto\nx := json.marshal(input)\n", true, nil, nil},
		{"variable member", "package tinto\nx contains v if { some k; v := input[k] }\n", true, nil, nil},
		{"with", "package tinto\ny := 1\nx := y with input as {}\n", true, nil, nil},
		{"import", "package tinto\nimport input.revocations as r\nx := count(r)\n", false, []string{"revocations"}, []string{"layouts"}},
		{"nested", "package tinto\nx := input.params[input.time]\n", false, []string{"params", "time"}, []string{"layouts"}},
		{"function argument", "package tinto\nf(i) := i.layouts\nx := f(input)\n", true, nil, nil},
		{"parse error", "package tinto\nx := \n", true, nil, nil},
	} {
		var mods []*ast.Module
		if m, err := ast.ParseModuleWithOpts("m.rego", tc.src, ast.ParserOptions{RegoVersion: ast.RegoV1}); err == nil {
			mods = []*ast.Module{m}
		}
		r := reachableInput(mods)
		if r.all != tc.all {
			t.Errorf("%s: all = %v, want %v", tc.name, r.all, tc.all)
		}
		for _, k := range tc.keys {
			if !r.has(k) {
				t.Errorf("%s: %s not reachable", tc.name, k)
			}
		}
		for _, k := range tc.not {
			if r.has(k) {
				t.Errorf("%s: %s reachable", tc.name, k)
			}
		}
	}
}

// TestPrunedInputSameDecision checks that a module that reads the revocations sees them (they
// are converted when named), and one that does not decides the same with or without them.
func TestPrunedInputSameDecision(t *testing.T) {
	ctx := context.Background()
	in := benchInput()
	p, err := New(ctx, map[string]string{"m.rego": `package tinto

deny contains {"msg": "revoked", "code": "rev"} if {
	some r in input.revocations
	r.state == "good"
	r.kind == "functionary"
}
`}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.Evaluate(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed() {
		t.Fatalf("revocations not visible to the module: %s", d.Reason)
	}
	q, err := New(ctx, map[string]string{"m.rego": benchRego}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := q.Evaluate(ctx, in)
	x, err := NewInput(ctx, in, policy.BaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := q.EvaluateInput(ctx, x)
	if d1.Effect != d2.Effect || d1.Reason != d2.Reason {
		t.Errorf("pruned %s (%s), full %s (%s)", d1.Effect, d1.Reason, d2.Effect, d2.Reason)
	}
}

// TestIndexedInput checks which modules are given the indexes (those that name one as a string
// constant) and that each sees the same document through Evaluate and EvaluateInput: the keys of
// the input, of a layout and of a step.
func TestIndexedInput(t *testing.T) {
	ctx := context.Background()
	const show = `package tinto

warn contains {"code": "input", "msg": concat(",", object.keys(input))}
warn contains {"code": "layout", "msg": concat(",", object.keys(input.layouts[0]))}
warn contains {"code": "step", "msg": concat(",", object.keys(input.layouts[0].steps[0]))}
`
	plainKeys := map[string]string{
		"input":  "attestations,layouts,params,revocations,target,time",
		"layout": "digest,expires,failure,keys,name,rules,signers,steps,version",
		"step":   "command,functionaries,links,name,threshold",
	}
	indexedKeys := map[string]string{
		"input":  "attestations,layouts,params,revocations,target,time,time_ns",
		"layout": "digest,expires,expires_ns,failure,keys,material_names,name,product_names,rules,signers,steps,steps_by_name,version",
		"step":   "command,functionaries,links,material_names,name,product_names,products_by_digest,threshold",
	}
	for _, tc := range []struct {
		name, extra string
		want        map[string]string
	}{
		{"no index named", "", plainKeys},
		{"a reference", "x if input.layouts[0].steps_by_name.build\n", indexedKeys},
		{"a string", "x := object.get(input, \"time_ns\", 0)\n", indexedKeys},
		{"a field of a variable", "x if { some s in input.layouts[0].steps; s.products_by_digest }\n", indexedKeys},
		{"another name", "x if input.layouts[0].steps_by_names\n", plainKeys},
	} {
		p := load(t, show+tc.extra, Options{})
		if got := p.reach.indexes(); got != (tc.want["input"] == indexedKeys["input"]) {
			t.Errorf("%s: indexes %v", tc.name, got)
		}
		in := benchInput()
		x, err := NewInput(ctx, in, policy.BaseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d1, err1 := p.Evaluate(ctx, in)
		d2, err2 := p.EvaluateInput(ctx, x)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		for _, d := range []*policy.Decision{d1, d2} {
			got := map[string]string{}
			for _, e := range d.Trail() {
				if e.Warning {
					got[e.Rule[len("rego:"):]] = e.Message
				}
			}
			for k, want := range tc.want {
				if got[k] != want {
					t.Errorf("%s: %s keys %q, want %q", tc.name, k, got[k], want)
				}
			}
		}
	}
}
