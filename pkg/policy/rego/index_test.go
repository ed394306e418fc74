package rego

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

// indexCheck recomputes every index of the input document from the plain fields, in Rego, and
// warns (code "index") for each place where the converter's index differs. It also checks that
// the indexes it reads are all there (a missing one would make the comparisons undefined).
const indexCheck = `package tinto

names(links, side) := {n | some k in links; some n, _ in k[side]}

by_digest(links, side) := {alg: hexes |
	some k in links
	some _, d in k[side]
	some alg, _ in d
	hexes := {h: with_digest(links, side, alg, h) | some k2 in links; some _, d2 in k2[side]; h := d2[alg]}
}

with_digest(links, side, alg, h) := sort({n | some k in links; some n, d in k[side]; d[alg] == h})

warn contains sprintf("%s/%s: %s", [l.name, s.name, what]) if {
	some l in input.layouts
	some s in l.steps
	some what, ok in {
		"product_names": names(s.links, "products") == s.product_names,
		"material_names": names(s.links, "materials") == s.material_names,
		"products_by_digest": by_digest(s.links, "products") == s.products_by_digest,
		"steps_by_name": l.steps_by_name[s.name] == s,
	}
	not ok
}

warn contains sprintf("%s: %s", [l.name, what]) if {
	some l in input.layouts
	some what, ok in {
		"product_names": {n | some s in l.steps; some n in s.product_names} == l.product_names,
		"material_names": {n | some s in l.steps; some n in s.material_names} == l.material_names,
		"steps_by_name": count(l.steps_by_name) == count(l.steps),
		"expires_ns": time.parse_rfc3339_ns(l.expires) == l.expires_ns,
	}
	not ok
}

warn contains "time_ns" if time.parse_rfc3339_ns(input.time) != input.time_ns

warn contains "checked" if {
	count([l | some l in input.layouts; l.expires_ns; l.product_names; l.material_names; l.steps_by_name]) == count(input.layouts)
	count([s | some l in input.layouts; some s in l.steps; s.product_names; s.material_names; s.products_by_digest]) ==
		count([s | some l in input.layouts; some s in l.steps])
	input.time_ns
}
`

// randomEvidence is evidence with 1-3 layouts of 1-4 steps (unique names within a layout) of 0-3
// links, whose artifacts come from small pools of names and digests (one or two algorithms), so
// that names repeat across links and steps and digests across names.
func randomEvidence(rng *rand.Rand) *policy.Input {
	in := fixture()
	in.Time = time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).UTC()
	in.Layouts = in.Layouts[:1]
	base := in.Layouts[0]
	in.Layouts = nil
	names := []string{"a", "b", "dir/c.pem", "d.key", "e", "f g", "ü"}
	hexes := []string{"00", "01", "02", "ff"}
	artifacts := func() map[string]policy.Digests {
		m := map[string]policy.Digests{}
		for range rng.IntN(5) {
			d := map[string]string{"sha256": hexes[rng.IntN(len(hexes))]}
			if rng.IntN(3) == 0 {
				d["sha512"] = hexes[rng.IntN(len(hexes))]
			}
			if rng.IntN(5) == 0 {
				delete(d, "sha256")
				d["md5"] = hexes[rng.IntN(len(hexes))]
			}
			m[names[rng.IntN(len(names))]] = rules.MustDigests(d)
		}
		return m
	}
	for li := range 1 + rng.IntN(3) {
		l := base
		l.Name = fmt.Sprintf("l%d", li)
		l.Rules = nil
		switch rng.IntN(3) {
		case 0:
			l.Expires = time.Unix(rng.Int64N(4e9), 0).UTC()
		case 1:
			l.Expires = time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).UTC() // the string has no fraction
		default:
			// Far from now (years beyond int64 nanoseconds are in TestIndexes: OPA's
			// time.parse_rfc3339_ns, which the check uses, rejects them).
			l.Expires = time.Date(1680+rng.IntN(580), time.Month(1+rng.IntN(12)), 1, 0, 0, 0, 0, time.UTC)
		}
		l.Steps = nil
		for si := range 1 + rng.IntN(4) {
			s := policy.Step{Name: fmt.Sprintf("s%d", si), Threshold: 1}
			for range rng.IntN(4) {
				s.Links = append(s.Links, policy.Link{KeyID: keyBob, Digest: "sha256:00", Materials: artifacts(), Products: artifacts()})
			}
			l.Steps = append(l.Steps, s)
		}
		in.Layouts = append(in.Layouts, l)
	}
	return in
}

// TestIndexesAgree checks, on random evidence, that every index of the input document (the
// step and layout name sets, products_by_digest, steps_by_name,
// expires_ns and time_ns) is what a module computes from the plain fields.
func TestIndexesAgree(t *testing.T) {
	ctx := context.Background()
	p := load(t, indexCheck, Options{Base: policy.BaseOptions{Layouts: "any"}})
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200; i++ {
		in := randomEvidence(rng)
		x, err := NewInput(ctx, in, policy.BaseOptions{Layouts: "any"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := p.EvaluateInput(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for _, e := range d.Trail() {
			if e.Warning {
				msgs = append(msgs, e.Message)
			}
		}
		if len(msgs) != 1 || msgs[0] != "checked" {
			for _, e := range d.Trail() {
				t.Log(e.Rule, e.Outcome, e.Message)
			}
			t.Fatalf("case %d: %v (%s)", i, msgs, d.Reason)
		}
	}
}

// TestIndexes checks the indexes on a hand-made example: two links of one step that share names
// and digests, two algorithms.
func TestIndexes(t *testing.T) {
	in := fixture()
	in.Time = time.Date(2026, 11, 1, 12, 0, 0, 500, time.UTC)
	l := &in.Layouts[0]
	l.Expires = time.Date(2027, 1, 2, 3, 4, 5, 999, time.UTC)
	l.Steps = []policy.Step{{Name: "build", Links: []policy.Link{
		{Products: map[string]policy.Digests{"b": rules.SHA256("01"), "a": rules.MustDigests(map[string]string{"sha256": "01", "sha512": "02"})}},
		{Products: map[string]policy.Digests{"a": rules.SHA256("01"), "c": rules.SHA256("03")}, Materials: map[string]policy.Digests{"m": rules.SHA256("01")}},
	}}, {Name: "package"}}
	far := *l
	far.Expires = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	early := *l
	early.Expires = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	in.Layouts = append(in.Layouts, far, early)
	v, err := inputValue(in, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		`layouts[1].expires_ns`:                    `253402300799000000000`,
		`layouts[2].expires_ns`:                    `-62135596800000000000`,
		`time_ns`:                                  `1793534400000000500`,
		`layouts[0].expires_ns`:                    `1798859045000000000`,
		`layouts[0].steps[0].products_by_digest`:   `{"sha256": {"01": ["a", "b"], "03": ["c"]}, "sha512": {"02": ["a"]}}`,
		`layouts[0].steps[0].product_names`:        `{"a", "b", "c"}`,
		`layouts[0].steps[0].material_names`:       `{"m"}`,
		`layouts[0].steps[1].product_names`:        `set()`,
		`layouts[0].steps[1].products_by_digest`:   `{}`,
		`layouts[0].product_names`:                 `{"a", "b", "c"}`,
		`layouts[0].steps_by_name["package"].name`: `"package"`,
	} {
		got, err := lookupPath(v, path)
		if err != nil || got != want {
			t.Errorf("%s = %s (%v), want %s", path, got, err, want)
		}
	}
}

// TestDuplicateStepNames: steps_by_name cannot say which of two steps of the same name a policy
// means; such evidence (no verified layout has it) is an input error, for Evaluate and NewInput.
func TestDuplicateStepNames(t *testing.T) {
	ctx := context.Background()
	in := fixture()
	in.Layouts[0].Steps = append(in.Layouts[0].Steps, in.Layouts[0].Steps[0])
	if _, err := NewInput(ctx, in, policy.BaseOptions{}); !errors.Is(err, verr.ErrInvalidInput) || !strings.Contains(err.Error(), "two steps named") {
		t.Errorf("NewInput: %v", err)
	}
	p := load(t, "package tinto\ndeny contains \"x\" if { input.params.env == \"x\" }\n", Options{})
	if d, err := p.Evaluate(ctx, in); !errors.Is(err, verr.ErrInvalidInput) {
		t.Errorf("Evaluate: %v %v", d, err)
	}
}

// lookupPath is the value at path (a reference below input, such as layouts[0].name), printed.
func lookupPath(v ast.Value, path string) (string, error) {
	ref, err := ast.ParseRef("input." + path)
	if err != nil {
		return "", err
	}
	x, err := v.Find(ref[1:])
	if err != nil {
		return "", err
	}
	return x.String(), nil
}
