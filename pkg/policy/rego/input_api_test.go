package rego

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

// inputVariants are evidence variations under which the benchmark policies decide differently.
var inputVariants = []func(*policy.Input){nil,
	func(in *policy.Input) { in.Params["env"] = "dev" },
	func(in *policy.Input) { in.Target.Hashes["sha256"] = "00" },
	func(in *policy.Input) {
		in.Layouts[1].Steps[1].Links[0].Products["x.pem"] = rules.SHA256("00")
	},
	func(in *policy.Input) {
		in.Layouts[2].Steps[2].Links[0].Products["dir/x.key"] = rules.SHA256("00")
	},
	func(in *policy.Input) { in.Layouts[0].Version = 0 },
	func(in *policy.Input) { in.Layouts[0].Expires = in.Time.Add(400 * 24 * time.Hour) },
	func(in *policy.Input) { in.Time = in.Time.Add(100 * 24 * time.Hour) }, // expired layouts
	func(in *policy.Input) { in.Revocation = checker{}; in.Layouts[0].Steps[0].Functionaries[0] = keyBob },
}

// TestEvaluateInputSameDecision checks that a decision on evidence converted once (NewInput,
// EvaluateInput) is the decision Evaluate makes, trail included, for every variation.
func TestEvaluateInputSameDecision(t *testing.T) {
	ctx := context.Background()
	for _, opts := range []Options{{}, {Base: policy.BaseOptions{Layouts: "any", UnknownWarn: true}}} {
		for _, src := range []string{benchRego, benchRegoScan, module} {
			p, err := New(ctx, map[string]string{"m.rego": src}, opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range inputVariants {
				in := benchInput()
				if m != nil {
					m(in)
				}
				want, err := p.Evaluate(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				// Same options, and other options (the implicit rules are applied again).
				for _, base := range []policy.BaseOptions{opts.Base, {Layouts: "1"}} {
					x, err := NewInput(ctx, in, base)
					if err != nil {
						t.Fatal(err)
					}
					got, err := p.EvaluateInput(ctx, x)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("variant %d, base %+v: EvaluateInput\n%+v\nEvaluate\n%+v", i, base, got, want)
					}
				}
			}
		}
	}
}

// TestEvaluateInputOwnTrail checks that decisions made from one Input share nothing a caller
// may change (policy.Decision.Trail: the returned slice and its entries' fields; the records
// the entries point to are read-only), and that Decide's writes into one decision's entries
// do not reach another's.
func TestEvaluateInputOwnTrail(t *testing.T) {
	ctx := context.Background()
	p := load(t, benchRego, Options{})
	in := benchInput()
	in.Params["env"] = "dev" // a deny, so that Decide writes OverriddenBy
	in.Revocation = checker{}
	x, err := NewInput(ctx, in, policy.BaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := p.EvaluateInput(ctx, x)
	want, _ := p.Evaluate(ctx, in) // shares nothing with x
	if len(want.Trail()) < 3 || len(want.Trail()[0].Revocations) == 0 || len(want.Trail()[1].Evidence) == 0 {
		t.Fatalf("the fixture does not exercise the trail: %+v", want.Trail())
	}
	tr := d1.Trail()
	for i := range tr {
		e := &tr[i]
		e.Message, e.Rule, e.Effect = "changed", "changed", policy.Allow
		e.Revocations, e.Evidence, e.OverriddenBy = nil, nil, []string{"changed"}
	}
	tr[0] = policy.TrailEntry{Rule: "replaced"}
	d2, _ := p.EvaluateInput(ctx, x)
	if !reflect.DeepEqual(d2, want) {
		t.Errorf("a decision changed by changing another one:\n%+v\n%+v", d2, want)
	}
	if !reflect.DeepEqual(d1, want) {
		t.Errorf("a decision changed by changing the slice its Trail returned:\n%+v\n%+v", d1, want)
	}
	for _, e := range x.trail {
		if len(e.OverriddenBy) != 0 {
			t.Errorf("Decide wrote into the Input's entries: %+v", e)
		}
	}
}

// TestEvaluateInputConcurrent evaluates one Input with one policy from several goroutines
// (run with -race).
func TestEvaluateInputConcurrent(t *testing.T) {
	ctx := context.Background()
	p := load(t, benchRego, Options{})
	in := benchInput()
	in.Params["env"] = "dev"
	x, err := NewInput(ctx, in, policy.BaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := p.EvaluateInput(ctx, x)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				c, cancel := context.WithCancel(ctx) // cancellable contexts too
				d, err := p.EvaluateInput(c, x)
				cancel()
				if err != nil || !reflect.DeepEqual(d, want) {
					errs <- "concurrent decision differs"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestEvaluateInputErrors(t *testing.T) {
	ctx := context.Background()
	p := load(t, benchRego, Options{})
	if _, err := p.EvaluateInput(ctx, nil); !errors.Is(err, verr.ErrInvalidInput) {
		t.Errorf("nil Input: %v", err)
	}
	if _, err := NewInput(ctx, &policy.Input{}, policy.BaseOptions{}); err == nil {
		t.Error("NewInput without an evaluation time: no error")
	}
	if _, err := NewInput(ctx, benchInput(), policy.BaseOptions{Layouts: "x"}); err == nil {
		t.Error("NewInput with bad options: no error")
	}
	x, err := NewInput(ctx, benchInput(), policy.BaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.EvaluateInput(c, x); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	if _, err := p.Evaluate(c, benchInput()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context (Evaluate): %v", err)
	}
}

// TestResultForms checks how deny and warn are read whatever rules define them.
func TestResultForms(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name       string
		modules    map[string]string
		deny, warn resultForm
		denied     string // DecidedBy, "" for allowed
		warnings   int
	}{
		{"none", map[string]string{"a.rego": "package tinto\nx := 1\n"}, formAbsent, formAbsent, "", 0},
		{"deny only", map[string]string{"a.rego": "package tinto\ndeny contains \"no\" if { input.params.env == \"prod\" }\n"},
			formSet, formAbsent, "rego:unspecified", 0},
		{"warn only", map[string]string{"a.rego": "package tinto\nwarn contains {\"msg\": \"w\", \"code\": \"w\"} if { true }\n"},
			formAbsent, formSet, "", 1},
		{"complete deny, defined", map[string]string{"a.rego": "package tinto\ndeny := {{\"msg\": \"m\", \"code\": \"c\"}} if { true }\nwarn contains \"w\" if { true }\n"},
			formOther, formSet, "rego:c", 1},
		{"complete deny, undefined", map[string]string{"a.rego": "package tinto\ndeny := {{\"msg\": \"m\", \"code\": \"c\"}} if { false }\nwarn contains \"w\" if { true }\n"},
			formOther, formSet, "", 1},
		{"default deny", map[string]string{"a.rego": "package tinto\ndefault deny := []\ndeny := [\"x\"] if { input.params.env == \"prod\" }\n"},
			formOther, formAbsent, "rego:unspecified", 0},
		{"package below", map[string]string{"a.rego": "package tinto\nwarn contains \"w\" if { false }\n",
			"b.rego": "package tinto.deny\nx := {\"msg\": \"m\", \"code\": \"c\"}\n"}, formOther, formSet, "", 0},
		{"ref head", map[string]string{"a.rego": "package tinto\ndeny.a := \"x\"\n"}, formOther, formAbsent, "", 0},
		{"function", map[string]string{"a.rego": "package tinto\ndeny(x) := x\nwarn contains deny(\"w\") if { true }\n"},
			formAbsent, formSet, "", 1},
		{"other package", map[string]string{"a.rego": "package other\ndeny contains \"x\" if { true }\n"}, formAbsent, formAbsent, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(ctx, tc.modules, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if p.deny != tc.deny || p.warn != tc.warn {
				t.Errorf("forms %d %d, want %d %d", p.deny, p.warn, tc.deny, tc.warn)
			}
			d, err := p.Evaluate(ctx, fixture())
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(d.DecidedBy, ",") != tc.denied || len(d.Warnings) != tc.warnings {
				t.Errorf("decided by %v (%s), %d warnings; want %q, %d", d.DecidedBy, d.Reason, len(d.Warnings), tc.denied, tc.warnings)
			}
		})
	}
}

// TestItems checks the reading of deny and warn elements.
func TestItems(t *testing.T) {
	ctx := context.Background()
	p := load(t, `package tinto

deny contains {"msg": "a", "code": "c1", "strength": "weak"}
deny contains {"msg": "b", "code": "c2", "strength": "sometimes"}
deny contains {"code": "c3"}
deny contains {"msg": "d", "code": ""}
deny contains "e"
deny contains 42
deny contains ["x", 1]
warn contains {"msg": "w", "code": "cw"}
`, Options{})
	d, err := p.Evaluate(ctx, fixture())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range d.Trail() {
		if e.Verb == policy.VerbRego {
			got = append(got, e.Rule+"|"+e.Strength.String()+"|"+e.Message)
		}
	}
	want := []string{
		"rego:c1|WEAK|a",
		"rego:c2|STRONG|b (unknown strength \"sometimes\": STRONG applied)",
		"rego:c3|STRONG| (no msg)",
		"rego:invalid|STRONG|42 (not a {msg, code} object)",
		"rego:invalid|STRONG|[x 1] (not a {msg, code} object)",
		"rego:unspecified|STRONG|d",
		"rego:unspecified|STRONG|e",
		"rego:cw|WEAK|w",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
