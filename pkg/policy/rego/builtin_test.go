package rego

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

// TestArtifactsMatching checks tinto.artifacts_matching against rules.MatchGlob (the layouts'
// and the built-in DISALLOW's matching) on random names and patterns, with the pattern both
// compiled at New (a constant) and at evaluation (from the input).
func TestArtifactsMatching(t *testing.T) {
	ctx := context.Background()
	p := load(t, `package tinto

warn contains {"msg": concat(",", tinto.artifacts_matching(input.layouts[0].steps[0].links[0].products, input.params.pattern)), "code": "dynamic"}
warn contains {"msg": concat(",", tinto.artifacts_matching(input.layouts[0].steps[0].links[0].products, "*.pem")), "code": "constant"}
warn contains {"msg": concat(",", tinto.artifacts_matching(input.layouts[0].steps[0].product_names, input.params.pattern)), "code": "set"}
`, Options{})
	if len(p.globs) != 1 || p.globs["*.pem"] == nil {
		t.Fatalf("constant patterns: %v", p.globs)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "/", ".", "pem", "*", "?", "[a-b]", "[!a]", "\\"}
	word := func(n int, pattern bool) string {
		var b strings.Builder
		for range n {
			w := alphabet[rng.IntN(len(alphabet))]
			if !pattern && (w == "*" || w == "?" || strings.HasPrefix(w, "[")) {
				w = "x"
			}
			b.WriteString(w)
		}
		return b.String()
	}
	for i := 0; i < 300; i++ {
		in := fixture()
		products := map[string]policy.Digests{}
		for range rng.IntN(6) {
			products[word(1+rng.IntN(4), false)] = rules.SHA256("00")
		}
		products["k.pem"] = rules.SHA256("01")
		in.Layouts[0].Steps[0].Links[0].Products = products
		pattern := word(1+rng.IntN(4), true)
		in.Params["pattern"] = pattern
		d, err := p.Evaluate(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{"dynamic": nil, "constant": nil, "set": nil}
		for n := range products {
			if ok, _ := rules.MatchGlob(pattern, n); ok {
				want["dynamic"] = append(want["dynamic"], n)
				want["set"] = append(want["set"], n)
			}
			if ok, _ := rules.MatchGlob("*.pem", n); ok {
				want["constant"] = append(want["constant"], n)
			}
		}
		for _, e := range d.Trail() {
			code, ok := strings.CutPrefix(e.Rule, "rego:")
			if !ok || e.Verb != policy.VerbRego {
				continue
			}
			w := want[code]
			slices.Sort(w)
			if e.Message != strings.Join(w, ",") {
				t.Errorf("pattern %q, names %v: %s got %q, want %q", pattern, slices.Collect(mapsKeys(products)), code, e.Message, strings.Join(w, ","))
			}
			delete(want, code)
		}
		if len(want) != 0 {
			t.Errorf("pattern %q: no entry for %v (%s)", pattern, want, d.Reason)
		}
	}
}

func mapsKeys(m map[string]policy.Digests) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestArtifactsMatchingErrors(t *testing.T) {
	ctx := context.Background()
	long := strings.Repeat("a", rules.MaxPatternLen+1)
	if _, err := New(ctx, map[string]string{"m.rego": "package tinto\ndeny contains \"x\" if { count(tinto.artifacts_matching(input.params, \"" + long + "\")) > 0 }\n"}, Options{}); !errors.Is(err, verr.ErrInvalidInput) {
		t.Errorf("bad constant pattern: %v", err)
	}
	// A bad pattern or operand at evaluation time is an evaluation error, which denies.
	for _, src := range []string{
		"package tinto\nwarn contains \"x\" if { count(tinto.artifacts_matching(input.params, input.params.long)) > 0 }\n",
		"package tinto\nwarn contains \"x\" if { count(tinto.artifacts_matching(input.layouts, \"*\")) > 0 }\n",
		"package tinto\nwarn contains \"x\" if { count(tinto.artifacts_matching(input.params, input.layouts)) > 0 }\n",
	} {
		p := load(t, src, Options{})
		in := fixture()
		in.Params["long"] = long
		d, err := p.Evaluate(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed() || d.Trail()[d.Len()-1].Outcome != policy.OutcomeIndeterminate {
			t.Errorf("%s: %s %s", src, d.Effect, d.Reason)
		}
	}
	// Non-string keys are not artifact names.
	g := globs{}
	res, err := g.artifactsMatching(rego.BuiltinContext{}, ast.ObjectTerm(ast.Item(ast.IntNumberTerm(1), ast.NullTerm()), ast.Item(ast.StringTerm("b"), ast.NullTerm()), ast.Item(ast.StringTerm("a"), ast.NullTerm())), ast.StringTerm("*"))
	if err != nil || res.String() != `["a", "b"]` {
		t.Errorf("got %v, %v", res, err)
	}
	// A set of names: elements that are not strings are skipped.
	res, err = g.artifactsMatching(rego.BuiltinContext{}, ast.SetTerm(ast.IntNumberTerm(1), ast.StringTerm("b.pem"), ast.StringTerm("a.pem"), ast.StringTerm("c")), ast.StringTerm("*.pem"))
	if err != nil || res.String() != `["a.pem", "b.pem"]` {
		t.Errorf("set: got %v, %v", res, err)
	}
	// An array is not accepted (a name list is a set).
	if _, err := g.artifactsMatching(rego.BuiltinContext{}, ast.ArrayTerm(ast.StringTerm("a")), ast.StringTerm("*")); err == nil {
		t.Error("array accepted")
	}
}

// TestNewConcurrent compiles and evaluates policies that use the built-in from several
// goroutines (run with -race): the built-in's declaration is shared by every policy.
func TestNewConcurrent(t *testing.T) {
	ctx := context.Background()
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			p, err := New(ctx, map[string]string{"m.rego": benchRego}, Options{})
			if err == nil {
				var d *policy.Decision
				if d, err = p.Evaluate(ctx, benchInput()); err == nil && !d.Allowed() {
					err = errors.New(string(d.Reason))
				}
			}
			errs <- err
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
