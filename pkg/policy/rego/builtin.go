package rego

import (
	"sort"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown/builtins"
	"github.com/open-policy-agent/opa/v1/types"

	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

// artifactsMatching is the built-in function every module can call:
//
//	tinto.artifacts_matching(artifacts, pattern) -> array of strings
//
// artifacts is an object keyed by artifact name (a link's materials or products, an
// attestation's subjects) or a set of names (a step's or a layout's product_names and
// material_names; elements that are not strings are skipped), and pattern an in-toto artifact pattern; the result is the sorted
// names that match it, with the glob semantics of the layouts' artifact rules and of the
// built-in language's DISALLOW (rules.Glob: python's fnmatch, `*` crosses `/`). A pattern that
// does not compile is an evaluation error, and so a denial.
//
// It is what a DISALLOW-like rule should call:
//
//	deny contains {"msg": "private key in products", "code": "no-pem"} if {
//		some l in input.layouts
//		some _ in tinto.artifacts_matching(l.product_names, "*.pem")
//	}
//
// (some name in ... binds the offending names, for a message; it is also cheaper than
// count(...) > 0, which costs two more built-in calls. A layout's product_names, one call for
// all its steps, is cheaper than a call per link.)
//
// Without it, a module either unifies name by name (some name, _ in k.products;
// endswith(name, ".pem")) or builds a set of every name (object.keys), both several times
// dearer in OPA's evaluator, and neither with in-toto's glob semantics.
const artifactsMatchingName = "tinto.artifacts_matching"

var artifactsMatchingRef = ast.MustParseRef(artifactsMatchingName)

var artifactsMatchingFunc = &rego.Function{
	Name: artifactsMatchingName,
	Description: "Returns the sorted names of the artifacts (an object keyed by artifact name) " +
		"that match the in-toto artifact pattern.",
	Decl: types.NewFunction(
		types.Args(
			types.Named("artifacts", types.NewAny(
				types.NewObject(nil, types.NewDynamicProperty(types.A, types.A)),
				types.NewSet(types.A),
			)).Description("artifacts keyed by name (such as a link's materials or products), or a set of names (such as a step's product_names)"),
			types.Named("pattern", types.S).Description("in-toto artifact pattern (fnmatch; * crosses /)"),
		),
		types.Named("names", types.NewArray(nil, types.S)).Description("the matching names, sorted"),
	),
}

// globs holds the patterns the modules pass to tinto.artifacts_matching as constants, compiled
// once by New. It is not changed after New, so the built-in can read it from any goroutine.
type globs map[string]*rules.Glob

// constantGlobs compiles the constant patterns of every tinto.artifacts_matching call in the
// modules. A pattern that does not compile is an *verr.InputError.
func constantGlobs(modules []*ast.Module) (globs, error) {
	g := globs{}
	var firstErr error
	add := func(op *ast.Term, args []*ast.Term) {
		if !op.Equal(ast.NewTerm(artifactsMatchingRef)) || len(args) < 2 {
			return
		}
		s, ok := args[1].Value.(ast.String)
		if !ok || g[string(s)] != nil {
			return
		}
		c, err := rules.CompileGlob(string(s))
		if err != nil {
			if firstErr == nil {
				firstErr = &verr.InputError{What: "rego policy: " + artifactsMatchingName + " pattern", Offset: -1, Err: err}
			}
			return
		}
		g[string(s)] = c
	}
	vis := ast.NewGenericVisitor(func(x any) bool {
		switch t := x.(type) {
		case ast.Call:
			if len(t) > 0 {
				add(t[0], t[1:])
			}
		case *ast.Expr:
			if t.IsCall() {
				terms := t.Terms.([]*ast.Term)
				add(terms[0], terms[1:])
			}
		}
		return false
	})
	for _, m := range modules {
		vis.Walk(m)
	}
	return g, firstErr
}

// artifactsMatching implements tinto.artifacts_matching.
func (g globs) artifactsMatching(_ rego.BuiltinContext, a, p *ast.Term) (*ast.Term, error) {
	var each func(func(*ast.Term))
	switch v := a.Value.(type) {
	case ast.Object:
		each = func(f func(*ast.Term)) { v.Foreach(func(k, _ *ast.Term) { f(k) }) }
	case ast.Set:
		each = v.Foreach
	default:
		return nil, builtins.NewOperandTypeErr(1, a.Value, "object", "set")
	}
	pat, ok := p.Value.(ast.String)
	if !ok {
		return nil, builtins.NewOperandTypeErr(2, p.Value, "string")
	}
	glob := g[string(pat)]
	if glob == nil {
		var err error
		if glob, err = rules.CompileGlob(string(pat)); err != nil {
			return nil, err
		}
	}
	var names []*ast.Term
	each(func(k *ast.Term) {
		if s, ok := k.Value.(ast.String); ok && glob.Match(string(s)) {
			names = append(names, k)
		}
	})
	if len(names) == 0 {
		return ast.InternedEmptyArray, nil
	}
	sort.Slice(names, func(i, j int) bool { return names[i].Value.(ast.String) < names[j].Value.(ast.String) })
	return ast.ArrayTerm(names...), nil
}
