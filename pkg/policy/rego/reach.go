package rego

import (
	"github.com/open-policy-agent/opa/v1/ast"
)

// inputKeys is the set of top-level members of the input document a set of modules can reach.
// A module reaches input only through references that start at the input variable, so when
// every such reference names its first member with a constant string, the members no reference
// names are unreachable and need not be converted. Anything else (input on its own, as in
// json.marshal(input) or `with input as`, or a member chosen by a variable) reaches everything.
//
// It also says whether the modules read the input's indexes (see NewInput): they do when some
// string constant in them is the name of an index (l.steps_by_name, object.get(s,
// "product_names", ...)). The policies that do not are given the document without them, by
// Evaluate and by EvaluateInput alike, so that they do not pay for building them and see the same
// document either way.
type inputKeys struct {
	all     bool
	keys    map[string]bool
	indexed bool
}

// has reports whether member k may be reached.
func (r *inputKeys) has(k string) bool { return r == nil || r.all || r.keys[k] }

// indexes reports whether the modules are given the document with the indexes.
func (r *inputKeys) indexes() bool { return r == nil || r.indexed }

// indexNames are the members of the input document that are indexes.
var indexNames = map[string]bool{"time_ns": true, "expires_ns": true, "steps_by_name": true,
	"product_names": true, "material_names": true, "products_by_digest": true}

// reachableInput analyses the parsed modules; nil (a module did not parse) reaches everything.
func reachableInput(modules []*ast.Module) *inputKeys {
	if modules == nil {
		return &inputKeys{all: true, indexed: true}
	}
	r := &inputKeys{keys: map[string]bool{}}
	var vis *ast.GenericVisitor
	vis = ast.NewGenericVisitor(func(x any) bool {
		switch t := x.(type) {
		case ast.Ref:
			if len(t) == 0 || !t[0].Equal(ast.InputRootDocument) {
				return false
			}
			if len(t) < 2 {
				r.all = true
				return true
			}
			if s, ok := t[1].Value.(ast.String); ok {
				r.keys[string(s)] = true
			} else {
				r.all = true
			}
			for _, e := range t[1:] {
				vis.Walk(e)
			}
			return true
		case ast.Var:
			if t.Equal(ast.InputRootDocument.Value) {
				r.all = true
			}
		case ast.String:
			if indexNames[string(t)] {
				r.indexed = true
			}
		}
		return false
	})
	for _, m := range modules {
		vis.Walk(m)
	}
	return r
}
