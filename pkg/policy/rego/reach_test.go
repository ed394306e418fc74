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
