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
// satisfied entry "rego". A Rego evaluation error is Indeterminate and denies. Other rules of
// the package are evaluated only as far as deny and warn depend on them. deny or warn defined in
// another way (a complete rule holding a set or an array) is read the same way; undefined is
// empty.
//
// input is the JSON form of policy.Input (target, layouts, attestations, params, time) plus
// "revocations": every revocation lookup already made, so a module can look at them, and
// indexes of the same evidence (time_ns; per layout expires_ns, steps_by_name, product_names,
// material_names; per step product_names, material_names, products_by_digest: see NewInput),
// so that a module looks things up by key rather than iterating. A module that names no index
// (as a string constant anywhere) is given the document without them. Before the Rego rules, the engine applies the same implicit rules as the built-in language
// (policy.BaseEntries): revocation and layout combination, so a revoked key, layout or link
// denies whatever the module says.
//
// Modules can call one tinto built-in besides OPA's: tinto.artifacts_matching(artifacts,
// pattern), the sorted names of the artifacts (an object keyed by name, such as a link's
// products, or a set of names, such as a step's product_names) that match an in-toto artifact
// pattern, with the layouts' glob semantics. It is the
// cheap way to write a DISALLOW-like rule (see artifactsMatching).
//
// # Evaluation
//
// New parses and compiles the modules and prepares one query (rego.PrepareForEval) that reads
// deny and warn and nothing else of the package. An evaluation passes the input as an ast.Value
// built directly from the evidence (rego.EvalParsedInput: no JSON round trip) and reads the
// results as OPA values; it records no metrics and starts no goroutine (a cancellable context
// stops the evaluation through context.AfterFunc).
//
// Evaluate converts the evidence on every call, leaving out the top-level input members that no
// reference in the modules can reach (every reference to input names its first member with a
// constant, and none names this one): a module that never mentions input.revocations does not
// pay for them. The conversion costs more than a typical evaluation, so evidence evaluated more
// than once (several policies, repeated decisions) should be converted once with NewInput and
// evaluated with EvaluateInput: that is the fast path. An Input is made only by this package's
// converter from the evidence it describes; see Input for its contract.
//
// A *Policy and an *Input are safe for concurrent use.
package rego

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"

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

// Policy is a prepared Rego policy. It implements policy.Policy and is safe for concurrent use:
// it holds only the prepared query and immutable analysis results, and every evaluation has its
// own state.
type Policy struct {
	id    string
	query rego.PreparedEvalQuery
	base  policy.BaseOptions
	reach *inputKeys // the top-level input members the modules can reach
	// deny and warn say how the query reads each set (see resultForm).
	deny, warn resultForm
	// globs are the constant patterns of tinto.artifacts_matching calls, compiled by New.
	globs globs
	// never is the cancellation flag of evaluations whose context cannot be cancelled; nothing
	// ever sets it, so sharing it between goroutines is safe.
	never topdown.Cancel
}

var _ policy.Policy = (*Policy)(nil)

// resultForm is how the prepared query reads deny (or warn).
type resultForm uint8

const (
	// formAbsent: no rule defines the set; it is empty and the query does not read it.
	formAbsent resultForm = iota
	// formSet: only partial set rules (deny contains ... if ...) in the package define it, so
	// it is always defined, possibly empty; the query binds it directly.
	formSet
	// formOther: anything else (a complete rule, a default, a rule with a longer ref head, a
	// package below it): the query collects it with a comprehension, which is [] when the
	// document is undefined.
	formOther
)

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
	pkgRef, err := ast.ParseRef("data." + pkg)
	if err != nil {
		return nil, &verr.InputError{What: "rego policy package", Offset: -1, Err: err}
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
	// The modules are parsed here once, for the compiler and for the analyses below. A module
	// that does not parse is handed to rego as text, so that the error is the one rego reports.
	args := []func(*rego.Rego){rego.StrictBuiltinErrors(true)}
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
	g, err := constantGlobs(parsed)
	if err != nil {
		return nil, err
	}
	args = append(args, rego.Function2(artifactsMatchingFunc, g.artifactsMatching))
	p := &Policy{id: "sha256:" + hex.EncodeToString(h.Sum(nil)), base: opts.Base, globs: g,
		reach: reachableInput(parsed), never: topdown.NewCancel()}
	if parsed == nil { // New fails below; the forms only shape the query
		p.deny, p.warn = formOther, formOther
	} else {
		p.deny, p.warn = setForm(parsed, pkgRef, "deny"), setForm(parsed, pkgRef, "warn")
	}
	args = append(args, rego.Query(resultQuery(pkgRef, p.deny, p.warn)))
	p.query, err = rego.New(args...).PrepareForEval(ctx)
	if err != nil {
		return nil, &verr.InputError{What: "rego policy", Offset: -1, Err: err}
	}
	return p, nil
}

// setForm finds how the modules define the document pkg.name (see resultForm).
func setForm(modules []*ast.Module, pkg ast.Ref, name string) resultForm {
	doc := pkg.Append(ast.StringTerm(name))
	form := formAbsent
	for _, m := range modules {
		path := m.Package.Path
		if len(path) > len(pkg) && path.HasPrefix(doc) {
			return formOther // a package at or below the document
		}
		if !path.Equal(pkg) {
			continue
		}
		for _, r := range m.Rules {
			ref := r.Head.Ref()
			if len(r.Head.Args) > 0 || len(ref) == 0 || !ref[0].Equal(ast.VarTerm(name)) {
				continue // functions are not part of the document
			}
			if len(ref) != 1 || r.Default || r.Head.RuleKind() != ast.MultiValue {
				return formOther
			}
			form = formSet
		}
	}
	return form
}

// resultQuery is the query that reads deny and warn, and nothing else of the package (rules the
// two sets do not depend on are not evaluated).
func resultQuery(pkg ast.Ref, deny, warn resultForm) string {
	var parts []string
	for _, x := range []struct {
		name string
		form resultForm
	}{{"deny", deny}, {"warn", warn}} {
		doc := pkg.Append(ast.StringTerm(x.name)).String()
		switch x.form {
		case formSet:
			parts = append(parts, x.name+" := "+doc)
		case formOther:
			parts = append(parts, x.name+" := [__v | __v := "+doc+"]")
		}
	}
	if len(parts) == 0 {
		return "true"
	}
	return strings.Join(parts, "; ")
}

// ID implements policy.Policy.
func (p *Policy) ID() string { return p.id }

// Evaluate implements policy.Policy. It applies the implicit rules, converts the evidence (the
// members the modules can reach) and evaluates the prepared query. To evaluate the same
// evidence more than once, convert it once with NewInput and use EvaluateInput.
func (p *Policy) Evaluate(ctx context.Context, in *policy.Input) (*policy.Decision, error) {
	trail, err := policy.BaseEntries(ctx, in, p.base)
	if err != nil {
		return nil, err
	}
	v, err := inputValue(in, trail[0].Revocations, p.reach)
	if err != nil {
		return nil, err
	}
	return p.eval(ctx, in, trail, v)
}

// EvaluateInput is Evaluate for evidence converted once by NewInput. The decision is the one
// Evaluate would make for the same evidence with the same revocation answers; its trail is the
// decision's own. When the Input was made with other base options than the policy's, the
// implicit rules are applied again with the policy's.
func (p *Policy) EvaluateInput(ctx context.Context, x *Input) (*policy.Decision, error) {
	if x == nil {
		return nil, verr.Invalid("rego input", "nil Input")
	}
	var trail []policy.TrailEntry
	if x.base == p.base {
		trail = x.baseTrail(4)
	} else {
		var err error
		if trail, err = policy.BaseEntries(ctx, x.in, p.base); err != nil {
			return nil, err
		}
	}
	v := x.value
	if !p.reach.indexes() {
		v = x.plain
	}
	return p.eval(ctx, x.in, trail, v)
}

func (p *Policy) eval(ctx context.Context, in *policy.Input, trail []policy.TrailEntry, input ast.Value) (*policy.Decision, error) {
	cancel := p.never
	if ctx.Done() != nil {
		c := topdown.NewCancel()
		stop := context.AfterFunc(ctx, c.Cancel)
		defer stop()
		cancel = c
	}
	rs, err := p.query.Eval(ctx, rego.EvalParsedInput(input), rego.EvalExternalCancel(cancel),
		rego.EvalMetrics(noMetrics), rego.EvalGenerateJSON(keepTerm))
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxErr
	}
	trail = append(trail, p.entries(rs, err)...)
	return policy.Decide(p.id, in.Time, trail, nil), nil
}

// noMetrics is OPA's shared metrics sink that records nothing (an evaluation otherwise makes
// a metrics map and timers it never reports).
var noMetrics = metrics.NoOp()

// keepTerm hands the query's results over as OPA terms, read by entries, instead of converting
// them to Go values.
func keepTerm(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }

func (p *Policy) entries(rs rego.ResultSet, err error) []policy.TrailEntry {
	if err != nil {
		return []policy.TrailEntry{{Rule: "rego", Verb: policy.VerbRego, Strength: policy.Strong,
			Outcome: policy.OutcomeIndeterminate, Effect: policy.Deny, Reason: verr.PolicyDenied,
			Message: "rego evaluation error: " + err.Error()}}
	}
	var denyV, warnV ast.Value
	if len(rs) == 1 {
		denyV = resultValue(rs[0].Bindings["deny"], p.deny)
		warnV = resultValue(rs[0].Bindings["warn"], p.warn)
	}
	var out []policy.TrailEntry
	denies := items(denyV)
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
	for _, it := range items(warnV) {
		out = append(out, policy.TrailEntry{Rule: "rego:" + it.code, Verb: policy.VerbRego, Subject: "input",
			Strength: policy.Weak, Outcome: policy.OutcomeDeny, Warning: true, Message: it.msg})
	}
	if len(denies) == 0 {
		out = append(out, policy.TrailEntry{Rule: "rego", Verb: policy.VerbRego, Subject: "input", Strength: policy.Strong,
			Outcome: policy.OutcomeSatisfied, Message: "deny is empty"})
	}
	return out
}

// resultValue is the value of deny or warn in a query result: the term itself for formSet, the
// comprehension's only element (if any) for formOther.
func resultValue(x any, form resultForm) ast.Value {
	t, _ := x.(*ast.Term)
	if t == nil {
		return nil
	}
	if form != formOther {
		return t.Value
	}
	if a, ok := t.Value.(*ast.Array); ok && a.Len() == 1 {
		return a.Elem(0).Value
	}
	return nil
}

type item struct{ msg, code, strength, bad string }

// items reads a deny or warn set (or array): elements are {msg, code[, strength]} objects; a
// bare string is accepted as msg; anything else is kept, described, with code "invalid". Any
// other document (an object, a number, undefined) has no items.
func items(v ast.Value) []item {
	var out []item
	add := func(t *ast.Term) {
		switch x := t.Value.(type) {
		case ast.Object:
			it := item{code: "unspecified"}
			if s, ok := termString(x.Get(msgKey)); ok {
				it.msg = s
			} else {
				it.bad = "no msg"
			}
			if s, ok := termString(x.Get(codeKey)); ok && s != "" {
				it.code = s
			}
			if s, ok := termString(x.Get(strengthKey)); ok {
				it.strength = s
			}
			out = append(out, it)
		case ast.String:
			out = append(out, item{msg: string(x), code: "unspecified"})
		default:
			var msg string
			if j, err := ast.JSON(x); err == nil {
				msg = fmt.Sprintf("%v", j)
			} else {
				msg = x.String()
			}
			out = append(out, item{msg: msg, code: "invalid", bad: "not a {msg, code} object"})
		}
	}
	switch x := v.(type) {
	case ast.Set:
		out = make([]item, 0, x.Len())
		x.Foreach(add)
	case *ast.Array:
		out = make([]item, 0, x.Len())
		x.Foreach(add)
	}
	if len(out) > 1 {
		slices.SortFunc(out, func(a, b item) int {
			if c := cmp.Compare(a.code, b.code); c != 0 {
				return c
			}
			return cmp.Compare(a.msg, b.msg)
		})
	}
	return out
}

var (
	msgKey      = ast.StringTerm("msg")
	codeKey     = ast.StringTerm("code")
	strengthKey = ast.StringTerm("strength")
)

func termString(t *ast.Term) (string, bool) {
	if t == nil {
		return "", false
	}
	s, ok := t.Value.(ast.String)
	return string(s), ok
}

func strength(s string) (policy.Strength, bool) {
	var st policy.Strength
	if err := st.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, false
	}
	return st, true
}
