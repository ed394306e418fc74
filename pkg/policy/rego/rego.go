// Package rego evaluates tinto policies written in OPA's Rego language.
//
// It lives in its own package so that programs importing pkg/policy do not link OPA.
//
// # Contract
//
// A module (one or more .rego files) in package tinto (Options.Package) defines two sets:
//
//	deny contains {"msg": "...", "code": "..."} if { ... }
//	warn contains {"msg": "...", "code": "..."} if { ... }
//
// Each element of deny becomes a trail entry with verb REGO, rule "rego:<code>", outcome deny,
// strength STRONG (or the element's optional "strength": "PREFERRED", "MEDIUM" or "WEAK").
// Each element of warn becomes a warning entry. When deny is empty the engine records one
// satisfied entry "rego". A Rego evaluation error is Indeterminate and denies.
//
// input is the JSON form of policy.Input (target, layouts, attestations, params, time) plus
// "revocations": every revocation lookup already made, so a module can look at them. Before the
// Rego rules, the engine applies the same implicit rules as the built-in language
// (policy.BaseEntries): revocation and layout combination, so a revoked key, layout or link
// denies whatever the module says.
//
// The query is prepared once (rego.PrepareForEval) and the input is converted directly into an
// ast.Value (rego.EvalParsedInput), with no JSON round trip. Top-level input members that no
// reference in the modules can reach (every reference to input names its first member with a
// constant, and none names this one) are left empty rather than converted: a module that never
// mentions input.revocations does not pay for them. A *Policy is safe for concurrent use.
package rego

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/verr"
)

// Options configures New. The zero value is the strict choice.
type Options struct {
	// Package is the Rego package holding deny and warn ("" -> "tinto").
	Package string
	// Base configures the implicit revocation and layouts rules (zero: all layouts required,
	// Unknown revocation answers deny).
	Base policy.BaseOptions
}

// Policy is a prepared Rego policy. It implements policy.Policy and is safe for concurrent use.
type Policy struct {
	id    string
	query rego.PreparedEvalQuery
	base  policy.BaseOptions
	reach *inputKeys // the top-level input members the modules can reach
}

var _ policy.Policy = (*Policy)(nil)

// New compiles and prepares the modules (file name -> source). A compile error is a
// *verr.InputError.
func New(ctx context.Context, modules map[string]string, opts Options) (*Policy, error) {
	pkg := opts.Package
	if pkg == "" {
		pkg = "tinto"
	}
	if len(modules) == 0 {
		return nil, verr.Invalid("rego policy", "no modules")
	}
	names := make([]string, 0, len(modules))
	for n := range modules {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	fmt.Fprintf(h, "tinto-rego-v1\x00%s\x00%s\x00", pkg, opts.Base.Layouts)
	if opts.Base.UnknownWarn {
		h.Write([]byte("unknown-warn\x00"))
	}
	args := []func(*rego.Rego){rego.Query("data." + pkg), rego.StrictBuiltinErrors(true)}
	// The modules are parsed here once, for the compiler and for the input reachability
	// analysis. A module that does not parse is handed to rego as text, so that the error is
	// the one rego reports.
	parsed := make([]*ast.Module, 0, len(names))
	for _, n := range names {
		m, err := ast.ParseModuleWithOpts(n, modules[n], ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			args = append(args, rego.Module(n, modules[n]))
			parsed = nil
		} else {
			args = append(args, rego.ParsedModule(m))
			if parsed != nil {
				parsed = append(parsed, m)
			}
		}
		fmt.Fprintf(h, "%d:%s\x00%d:%s\x00", len(n), n, len(modules[n]), modules[n])
	}
	pq, err := rego.New(args...).PrepareForEval(ctx)
	if err != nil {
		return nil, &verr.InputError{What: "rego policy", Offset: -1, Err: err}
	}
	return &Policy{id: "sha256:" + hex.EncodeToString(h.Sum(nil)), query: pq, base: opts.Base,
		reach: reachableInput(parsed)}, nil
}

// ID implements policy.Policy.
func (p *Policy) ID() string { return p.id }

// Evaluate implements policy.Policy.
func (p *Policy) Evaluate(ctx context.Context, in *policy.Input) (*policy.Decision, error) {
	trail, err := policy.BaseEntries(ctx, in, p.base)
	if err != nil {
		return nil, err
	}
	return p.eval(ctx, in, trail, inputValue(in, trail[0].Revocations, p.reach))
}

// EvaluateValue is Evaluate with the Rego input already converted by InputValue (for example
// once for several policies, or for many evaluations of the same evidence). v must have been
// made from in and the revocation lookups of policy.BaseEntries over in with the same options;
// Evaluate is the safe default.
func (p *Policy) EvaluateValue(ctx context.Context, in *policy.Input, v ast.Value) (*policy.Decision, error) {
	trail, err := policy.BaseEntries(ctx, in, p.base)
	if err != nil {
		return nil, err
	}
	return p.eval(ctx, in, trail, v)
}

func (p *Policy) eval(ctx context.Context, in *policy.Input, trail []policy.TrailEntry, input ast.Value) (*policy.Decision, error) {
	rs, err := p.query.Eval(ctx, rego.EvalParsedInput(input))
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxErr
	}
	trail = append(trail, entries(rs, err)...)
	return policy.Decide(p.id, in.Time, trail, nil), nil
}

func entries(rs rego.ResultSet, err error) []policy.TrailEntry {
	if err != nil {
		return []policy.TrailEntry{{Rule: "rego", Verb: policy.VerbRego, Strength: policy.Strong,
			Outcome: policy.OutcomeIndeterminate, Effect: policy.Deny, Reason: verr.PolicyDenied,
			Message: "rego evaluation error: " + err.Error()}}
	}
	var doc map[string]any
	if len(rs) == 1 && len(rs[0].Expressions) == 1 {
		doc, _ = rs[0].Expressions[0].Value.(map[string]any)
	}
	var out []policy.TrailEntry
	denies := items(doc["deny"])
	for _, it := range denies {
		e := policy.TrailEntry{Rule: "rego:" + it.code, Verb: policy.VerbRego, Subject: "input", Strength: policy.Strong,
			Outcome: policy.OutcomeDeny, Effect: policy.Deny, Reason: verr.PolicyDenied, Message: it.msg}
		if it.bad != "" {
			e.Message += " (" + it.bad + ")"
		}
		if s, ok := strength(it.strength); ok {
			e.Strength = s
		} else if it.strength != "" {
			e.Message += fmt.Sprintf(" (unknown strength %q: STRONG applied)", it.strength)
		}
		out = append(out, e)
	}
	for _, it := range items(doc["warn"]) {
		out = append(out, policy.TrailEntry{Rule: "rego:" + it.code, Verb: policy.VerbRego, Subject: "input",
			Strength: policy.Weak, Outcome: policy.OutcomeDeny, Warning: true, Message: it.msg})
	}
	if len(denies) == 0 {
		out = append(out, policy.TrailEntry{Rule: "rego", Verb: policy.VerbRego, Subject: "input", Strength: policy.Strong,
			Outcome: policy.OutcomeSatisfied, Message: "deny is empty"})
	}
	return out
}

type item struct{ msg, code, strength, bad string }

// items reads a deny or warn set: elements are {msg, code[, strength]} objects; a bare string
// is accepted as msg; anything else is kept, described, with code "invalid".
func items(v any) []item {
	list, _ := v.([]any)
	out := make([]item, 0, len(list))
	for _, x := range list {
		switch t := x.(type) {
		case map[string]any:
			it := item{code: "unspecified"}
			if s, ok := t["msg"].(string); ok {
				it.msg = s
			} else {
				it.bad = "no msg"
			}
			if s, ok := t["code"].(string); ok && s != "" {
				it.code = s
			}
			if s, ok := t["strength"].(string); ok {
				it.strength = s
			}
			out = append(out, it)
		case string:
			out = append(out, item{msg: t, code: "unspecified"})
		default:
			out = append(out, item{msg: fmt.Sprintf("%v", t), code: "invalid", bad: "not a {msg, code} object"})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].code != out[j].code {
			return out[i].code < out[j].code
		}
		return out[i].msg < out[j].msg
	})
	return out
}

func strength(s string) (policy.Strength, bool) {
	var st policy.Strength
	if err := st.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, false
	}
	return st, true
}
