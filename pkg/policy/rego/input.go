package rego

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/tintoproject/tinto/pkg/policy"
)

// InputValue converts evidence into the Rego input document directly (no JSON round trip). Its
// shape is the JSON form of policy.Input, with "time" as an RFC 3339 string and the revocation
// lookups under "revocations".
func InputValue(in *policy.Input, lookups []policy.Lookup) ast.Value {
	obj := ast.NewObject()
	if in.Target != nil {
		t := in.Target
		obj.Insert(ast.StringTerm("target"), ast.NewTerm(ast.NewObject(
			kv("name", ast.String(t.Name)),
			kv("length", ast.Number(json.Number(itoa(t.Length)))),
			kv("hashes", strMap(t.Hashes)),
			kv("custom", anyValue(t.Custom)),
		)))
	}
	layouts := make([]*ast.Term, 0, len(in.Layouts))
	for i := range in.Layouts {
		layouts = append(layouts, ast.NewTerm(layoutValue(&in.Layouts[i])))
	}
	obj.Insert(ast.StringTerm("layouts"), ast.ArrayTerm(layouts...))
	atts := make([]*ast.Term, 0, len(in.Attestations))
	for _, a := range in.Attestations {
		subj := ast.NewObject()
		for n, d := range a.Subjects {
			subj.Insert(ast.StringTerm(n), ast.NewTerm(strMap(d)))
		}
		atts = append(atts, ast.NewTerm(ast.NewObject(
			kv("digest", ast.String(a.Digest)),
			kv("predicate_type", ast.String(a.PredicateType)),
			kv("predicate", anyValue(a.Predicate)),
			kv("subjects", subj),
			kv("signer", ast.String(a.Signer)),
		)))
	}
	obj.Insert(ast.StringTerm("attestations"), ast.ArrayTerm(atts...))
	obj.Insert(ast.StringTerm("params"), ast.NewTerm(strMap(in.Params)))
	obj.Insert(ast.StringTerm("time"), ast.StringTerm(in.Time.UTC().Format(time.RFC3339Nano)))
	revs := make([]*ast.Term, 0, len(lookups))
	for _, l := range lookups {
		revs = append(revs, ast.NewTerm(ast.NewObject(
			kv("kind", ast.String(string(l.Ref.Kind))),
			kv("keyid", ast.String(l.Ref.KeyID)),
			kv("digest", ast.String(l.Ref.Digest)),
			kv("name", ast.String(l.Ref.Name)),
			kv("step", ast.String(l.Ref.Step)),
			kv("state", ast.String(string(l.Status.State))),
			kv("source", ast.String(l.Status.Source)),
			kv("reason", ast.String(l.Status.Reason)),
		)))
	}
	obj.Insert(ast.StringTerm("revocations"), ast.ArrayTerm(revs...))
	return obj
}

func layoutValue(l *policy.Layout) ast.Value {
	steps := make([]*ast.Term, 0, len(l.Steps))
	for _, s := range l.Steps {
		links := make([]*ast.Term, 0, len(s.Links))
		for _, k := range s.Links {
			links = append(links, ast.NewTerm(ast.NewObject(
				kv("keyid", ast.String(k.KeyID)),
				kv("digest", ast.String(k.Digest)),
				kv("materials", artifacts(k.Materials)),
				kv("products", artifacts(k.Products)),
				kv("command", strList(k.Command)),
			)))
		}
		steps = append(steps, ast.NewTerm(ast.NewObject(
			kv("name", ast.String(s.Name)),
			kv("functionaries", strList(s.Functionaries)),
			kv("threshold", ast.Number(json.Number(itoa(int64(s.Threshold))))),
			kv("command", strList(s.Command)),
			kv("links", ast.NewArray(links...)),
		)))
	}
	keys := make([]*ast.Term, 0, len(l.Keys))
	for _, k := range l.Keys {
		keys = append(keys, ast.NewTerm(ast.NewObject(
			kv("keyid", ast.String(k.KeyID)), kv("keytype", ast.String(k.KeyType)), kv("scheme", ast.String(k.Scheme)),
		)))
	}
	rules := make([]*ast.Term, 0, len(l.Rules))
	for _, r := range l.Rules {
		rules = append(rules, ast.NewTerm(ast.NewObject(
			kv("step", ast.String(r.Step)), kv("side", ast.String(r.Side)), kv("rule", ast.String(r.Rule)),
			kv("verb", ast.String(r.Verb)), kv("ok", ast.Boolean(r.OK)), kv("consumed", strList(r.Consumed)),
			kv("failure", ast.String(r.Failure)),
		)))
	}
	return ast.NewObject(
		kv("name", ast.String(l.Name)),
		kv("digest", ast.String(l.Digest)),
		kv("version", ast.Number(json.Number(itoa(l.Version)))),
		kv("expires", ast.String(l.Expires.UTC().Format(time.RFC3339))),
		kv("signers", strList(l.Signers)),
		kv("keys", ast.NewArray(keys...)),
		kv("steps", ast.NewArray(steps...)),
		kv("rules", ast.NewArray(rules...)),
		kv("failure", ast.String(l.Failure)),
	)
}

func kv(k string, v ast.Value) [2]*ast.Term { return ast.Item(ast.StringTerm(k), ast.NewTerm(v)) }

func strMap(m map[string]string) ast.Value {
	o := ast.NewObjectWithCapacity(len(m))
	for k, v := range m {
		o.Insert(ast.StringTerm(k), ast.StringTerm(v))
	}
	return o
}

func strList(xs []string) ast.Value {
	ts := make([]*ast.Term, len(xs))
	for i, x := range xs {
		ts[i] = ast.StringTerm(x)
	}
	return ast.NewArray(ts...)
}

func artifacts(m map[string]policy.Digests) ast.Value {
	o := ast.NewObjectWithCapacity(len(m))
	for n, d := range m {
		o.Insert(ast.StringTerm(n), ast.NewTerm(strMap(d)))
	}
	return o
}

// anyValue converts a decoded JSON value (map[string]any, []any, string, bool, nil, float64,
// json.Number, ints). Anything else becomes null: evidence is JSON.
func anyValue(v any) ast.Value {
	if v == nil {
		return ast.Null{}
	}
	val, err := ast.InterfaceToValue(v)
	if err != nil {
		return ast.Null{}
	}
	return val
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
