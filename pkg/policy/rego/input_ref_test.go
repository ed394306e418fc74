package rego

import (
	"context"
	"maps"
	"math/big"
	"slices"
	"strings"
	"testing"

	"encoding/json"
	"strconv"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/policy/internal/policybench"
	"github.com/tintoproject/tinto/pkg/rules"
)

// refInputValue is the straightforward converter inputValue replaced, kept to check that the
// faster one builds the same document. It converts evidence into the Rego input document directly (no JSON round trip). Its
// shape is the JSON form of policy.Input, with "time" as an RFC 3339 string and the revocation
// lookups under "revocations".
//
// Without indexes, it leaves the indexes out (the document of a policy that names none).
func refInputValue(in *policy.Input, lookups []policy.Lookup, indexes bool) ast.Value {
	obj := ast.NewObject()
	if in.Target != nil {
		t := in.Target
		obj.Insert(ast.StringTerm("target"), ast.NewTerm(ast.NewObject(
			refKV("name", ast.String(t.Name)),
			refKV("length", ast.Number(json.Number(refItoa(t.Length)))),
			refKV("hashes", refStrMap(t.Hashes)),
			refKV("custom", anyValue(t.Custom)),
		)))
	}
	layouts := make([]*ast.Term, 0, len(in.Layouts))
	for i := range in.Layouts {
		layouts = append(layouts, ast.NewTerm(refLayoutValue(&in.Layouts[i], indexes)))
	}
	obj.Insert(ast.StringTerm("layouts"), ast.ArrayTerm(layouts...))
	atts := make([]*ast.Term, 0, len(in.Attestations))
	for _, a := range in.Attestations {
		subj := ast.NewObject()
		for n, d := range a.Subjects {
			subj.Insert(ast.StringTerm(n), ast.NewTerm(refStrMap(d.Map())))
		}
		atts = append(atts, ast.NewTerm(ast.NewObject(
			refKV("digest", ast.String(a.Digest)),
			refKV("predicate_type", ast.String(a.PredicateType)),
			refKV("predicate", anyValue(a.Predicate)),
			refKV("subjects", subj),
			refKV("signer", ast.String(a.Signer)),
		)))
	}
	obj.Insert(ast.StringTerm("attestations"), ast.ArrayTerm(atts...))
	obj.Insert(ast.StringTerm("params"), ast.NewTerm(refStrMap(in.Params)))
	obj.Insert(ast.StringTerm("time"), ast.StringTerm(in.Time.UTC().Format(time.RFC3339Nano)))
	if indexes {
		obj.Insert(ast.StringTerm("time_ns"), ast.NewTerm(refUnixNano(in.Time)))
	}
	revs := make([]*ast.Term, 0, len(lookups))
	for _, l := range lookups {
		revs = append(revs, ast.NewTerm(ast.NewObject(
			refKV("kind", ast.String(string(l.Ref.Kind))),
			refKV("keyid", ast.String(l.Ref.KeyID)),
			refKV("digest", ast.String(l.Ref.Digest)),
			refKV("name", ast.String(l.Ref.Name)),
			refKV("step", ast.String(l.Ref.Step)),
			refKV("state", ast.String(string(l.Status.State))),
			refKV("source", ast.String(l.Status.Source)),
			refKV("reason", ast.String(l.Status.Reason)),
		)))
	}
	obj.Insert(ast.StringTerm("revocations"), ast.ArrayTerm(revs...))
	return obj
}

func refLayoutValue(l *policy.Layout, indexes bool) ast.Value {
	steps := make([]*ast.Term, 0, len(l.Steps))
	byName := ast.NewObject()
	var allProducts, allMaterials []map[string]policy.Digests
	for _, s := range l.Steps {
		links := make([]*ast.Term, 0, len(s.Links))
		for _, k := range s.Links {
			links = append(links, ast.NewTerm(ast.NewObject(
				refKV("keyid", ast.String(k.KeyID)),
				refKV("digest", ast.String(k.Digest)),
				refKV("materials", refArtifacts(k.Materials)),
				refKV("products", refArtifacts(k.Products)),
				refKV("command", refStrList(k.Command)),
			)))
		}
		var products, materials []map[string]policy.Digests
		for _, k := range s.Links {
			products, materials = append(products, k.Products), append(materials, k.Materials)
		}
		allProducts, allMaterials = append(allProducts, products...), append(allMaterials, materials...)
		step := ast.NewTerm(ast.NewObject(
			refKV("name", ast.String(s.Name)),
			refKV("functionaries", refStrList(s.Functionaries)),
			refKV("threshold", ast.Number(json.Number(refItoa(int64(s.Threshold))))),
			refKV("command", refStrList(s.Command)),
			refKV("links", ast.NewArray(links...)),
		))
		if indexes {
			o := step.Value.(ast.Object)
			o.Insert(ast.StringTerm("product_names"), ast.NewTerm(refNames(products)))
			o.Insert(ast.StringTerm("material_names"), ast.NewTerm(refNames(materials)))
			o.Insert(ast.StringTerm("products_by_digest"), ast.NewTerm(refByDigest(products)))
		}
		steps = append(steps, step)
		byName.Insert(ast.StringTerm(s.Name), step)
	}
	keys := make([]*ast.Term, 0, len(l.Keys))
	for _, k := range l.Keys {
		keys = append(keys, ast.NewTerm(ast.NewObject(
			refKV("keyid", ast.String(k.KeyID)), refKV("keytype", ast.String(k.KeyType)), refKV("scheme", ast.String(k.Scheme)),
		)))
	}
	rules := make([]*ast.Term, 0, len(l.Rules))
	for _, r := range l.Rules {
		rules = append(rules, ast.NewTerm(ast.NewObject(
			refKV("step", ast.String(r.Step)), refKV("side", ast.String(r.Side)), refKV("rule", ast.String(r.Rule)),
			refKV("verb", ast.String(r.Verb)), refKV("ok", ast.Boolean(r.OK)), refKV("consumed", refStrList(r.Consumed)),
			refKV("failure", ast.String(r.Failure)),
		)))
	}
	o := ast.NewObject(
		refKV("name", ast.String(l.Name)),
		refKV("digest", ast.String(l.Digest)),
		refKV("version", ast.Number(json.Number(refItoa(l.Version)))),
		refKV("expires", ast.String(l.Expires.UTC().Format(time.RFC3339))),
		refKV("signers", refStrList(l.Signers)),
		refKV("keys", ast.NewArray(keys...)),
		refKV("steps", ast.NewArray(steps...)),
		refKV("rules", ast.NewArray(rules...)),
		refKV("failure", ast.String(l.Failure)),
	)
	if indexes {
		o.Insert(ast.StringTerm("expires_ns"), ast.NewTerm(refUnixNano(l.Expires.Truncate(time.Second))))
		o.Insert(ast.StringTerm("steps_by_name"), ast.NewTerm(byName))
		o.Insert(ast.StringTerm("product_names"), ast.NewTerm(refNames(allProducts)))
		o.Insert(ast.StringTerm("material_names"), ast.NewTerm(refNames(allMaterials)))
	}
	return o
}

// refNames is the set of the names of the artifacts.
func refNames(ms []map[string]policy.Digests) ast.Value {
	s := ast.NewSet()
	for _, m := range ms {
		for n := range m {
			s.Add(ast.StringTerm(n))
		}
	}
	return s
}

// refByDigest is {alg: {hex: [names]}}, the names sorted and without repeats.
func refByDigest(ms []map[string]policy.Digests) ast.Value {
	idx := map[string]map[string]map[string]bool{}
	for _, m := range ms {
		for n, d := range m {
			for alg, h := range d.Map() {
				if idx[alg] == nil {
					idx[alg] = map[string]map[string]bool{}
				}
				if idx[alg][h] == nil {
					idx[alg][h] = map[string]bool{}
				}
				idx[alg][h][n] = true
			}
		}
	}
	o := ast.NewObject()
	for alg, byHex := range idx {
		inner := ast.NewObject()
		for h, names := range byHex {
			ns := slices.Sorted(maps.Keys(names))
			ts := make([]*ast.Term, len(ns))
			for i, n := range ns {
				ts[i] = ast.StringTerm(n)
			}
			inner.Insert(ast.StringTerm(h), ast.ArrayTerm(ts...))
		}
		o.Insert(ast.StringTerm(alg), ast.NewTerm(inner))
	}
	return o
}

// refUnixNano is t in nanoseconds since the Unix epoch, with math/big.
func refUnixNano(t time.Time) ast.Value {
	n := new(big.Int).Mul(big.NewInt(t.Unix()), big.NewInt(1000000000))
	return ast.Number(n.Add(n, big.NewInt(int64(t.Nanosecond()))).String())
}

func refKV(k string, v ast.Value) [2]*ast.Term { return ast.Item(ast.StringTerm(k), ast.NewTerm(v)) }

func refStrMap(m map[string]string) ast.Value {
	o := ast.NewObjectWithCapacity(len(m))
	for k, v := range m {
		o.Insert(ast.StringTerm(k), ast.StringTerm(v))
	}
	return o
}

func refStrList(xs []string) ast.Value {
	ts := make([]*ast.Term, len(xs))
	for i, x := range xs {
		ts[i] = ast.StringTerm(x)
	}
	return ast.NewArray(ts...)
}

func refArtifacts(m map[string]policy.Digests) ast.Value {
	o := ast.NewObjectWithCapacity(len(m))
	for n, d := range m {
		o.Insert(ast.StringTerm(n), ast.NewTerm(refStrMap(d.Map())))
	}
	return o
}

func refItoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestInputValueSame checks that inputValue builds exactly the document of the straightforward
// converter, on evidence that uses every field.
func TestInputValueSame(t *testing.T) {
	ctx := context.Background()
	full := benchInput()
	full.Target.Hashes["sha512"] = strings.Repeat("cd", 64)
	full.Target.Length = 1 << 40
	full.Layouts[0].Version = 100000
	full.Layouts[1].Failure = "bad signature"
	full.Layouts[1].Keys[0].Issuer, full.Layouts[1].Keys[0].Serial = "CN=ca", "42"
	full.Layouts[2].Steps[0].Links[0].Materials = map[string]policy.Digests{"m": rules.MustDigests(map[string]string{"sha256": "01", "sha512": "02", "md5": "03"})}
	full.Layouts[0].Rules[0].Consumed = []string{"a", "b"}
	full.Layouts[0].Rules[1].OK, full.Layouts[0].Rules[1].Failure = false, "nope"
	full.Attestations = []policy.Attestation{{Digest: "sha256:" + strings.Repeat("9", 64), PredicateType: "https://slsa.dev/provenance/v1",
		Predicate: map[string]any{"builder": map[string]any{"id": "x"}, "n": []any{1.5, "s", true, nil}},
		Subjects:  map[string]policy.Digests{"app.tar.gz": rules.SHA256(appHash)}, Signer: keyBob}}
	full.Params["empty"] = ""
	// A second link of a step, repeating names and digests (the step's indexes merge them);
	// times beyond int64 nanoseconds and with a fraction of a second.
	s := &full.Layouts[1].Steps[1]
	s.Links = append(s.Links, policy.Link{KeyID: keyBob, Products: map[string]policy.Digests{
		"build/file1.go": rules.SHA256("01"), "other": s.Links[0].Products["build/file2.go"], "m2": rules.MustDigests(map[string]string{"sha256": "01", "md5": "03"})}})
	full.Layouts[2].Expires = time.Date(3000, 1, 2, 3, 4, 5, 123, time.UTC)
	full.Time = time.Date(1500, 1, 2, 3, 4, 5, 6, time.UTC)
	for i, in := range []*policy.Input{fixture(), benchInput(), policybench.Input(1), full, {Time: evalTime}} {
		base, err := policy.BaseEntries(ctx, in, policy.BaseOptions{Layouts: "any"})
		if err != nil {
			t.Fatal(err)
		}
		// The document of a policy that reads the indexes, of one that does not, and both at
		// once (NewInput).
		indexed, err := inputValue(in, base[0].Revocations, nil)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := inputValue(in, base[0].Revocations, &inputKeys{all: true})
		if err != nil {
			t.Fatal(err)
		}
		indexed2, plain2, err := inputValues(in, base[0].Revocations)
		if err != nil {
			t.Fatal(err)
		}
		want, wantPlain := refInputValue(in, base[0].Revocations, true), refInputValue(in, base[0].Revocations, false)
		for j, c := range []struct{ got, want ast.Value }{{indexed, want}, {plain, wantPlain}, {indexed2, want}, {plain2, wantPlain}} {
			if c.got.Compare(c.want) != 0 {
				t.Errorf("case %d/%d:\n got %v\nwant %v", i, j, c.got, c.want)
			}
			if c.got.Hash() != c.want.Hash() {
				t.Errorf("case %d/%d: hash %d, want %d", i, j, c.got.Hash(), c.want.Hash())
			}
		}
	}
}
