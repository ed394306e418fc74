package intoto

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/rules"
)

// This file holds the builders tinto uses to make its own fixtures (tests, benchmarks, the
// demo): they turn a Layout or a Link into the JSON python in-toto writes, and sign it as a
// Metablock, a DSSE envelope or an ITE-6 statement.

// ExpiresFormat is the layout time format ("2030-01-02T15:04:05Z").
const ExpiresFormat = "2006-01-02T15:04:05Z"

// Signed returns the layout's "signed" value as python in-toto writes it. Keys are exported
// with keys.Key.SSLib. The result is a fresh JSON value tree.
func (l *Layout) Signed() map[string]any {
	exp := l.ExpiresText
	if exp == "" {
		exp = l.Expires.UTC().Format(ExpiresFormat)
	}
	ks := map[string]any{}
	for id, k := range l.Keys {
		ks[id] = k.SSLib()
	}
	steps := []any{}
	for _, s := range l.Steps {
		steps = append(steps, map[string]any{
			"_type":              "step",
			"name":               s.Name,
			"threshold":          s.Threshold,
			"pubkeys":            strs(s.PubKeys),
			"expected_command":   strs(s.ExpectedCommand),
			"expected_materials": ruleTree(s.ExpectedMaterials),
			"expected_products":  ruleTree(s.ExpectedProducts),
		})
	}
	insp := []any{}
	for _, in := range l.Inspections {
		m := map[string]any{
			"_type":              "inspection",
			"name":               in.Name,
			"run":                strs(in.Run),
			"expected_materials": ruleTree(in.ExpectedMaterials),
			"expected_products":  ruleTree(in.ExpectedProducts),
		}
		if len(in.PubKeys) > 0 {
			m["pubkeys"] = strs(in.PubKeys)
			m["threshold"] = max(in.Threshold, 1)
		}
		insp = append(insp, m)
	}
	return map[string]any{
		"_type":   "layout",
		"expires": exp,
		"readme":  l.Readme,
		"keys":    ks,
		"steps":   steps,
		"inspect": insp,
	}
}

func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func ruleTree(rs [][]string) []any {
	out := make([]any, len(rs))
	for i, r := range rs {
		out[i] = strs(r)
	}
	return out
}

func artifactTree(a rules.Artifacts) map[string]any {
	out := make(map[string]any, len(a))
	for name, d := range a {
		dm := make(map[string]any, d.Len())
		for alg, h := range d.All() {
			dm[alg] = h
		}
		out[name] = dm
	}
	return out
}

func objOrEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// Signed returns the link's "signed" value as python in-toto writes it.
func (l *Link) Signed() map[string]any {
	return map[string]any{
		"_type":       "link",
		"name":        l.Name,
		"command":     strs(l.Command),
		"materials":   artifactTree(l.Materials),
		"products":    artifactTree(l.Products),
		"byproducts":  objOrEmpty(l.Byproducts),
		"environment": objOrEmpty(l.Environment),
	}
}

// marshalPython encodes v as python in-toto's Metablock.dump does: sorted keys, indent 1.
func marshalPython(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// SignMetablock signs the canonical JSON of signed with every signer and returns the Metablock
// document {"signatures": [...], "signed": signed}.
func SignMetablock(signed map[string]any, signers ...*keys.Signer) ([]byte, error) {
	msg, err := cjson.Canonical(signed)
	if err != nil {
		return nil, err
	}
	sigs := []any{}
	for _, s := range signers {
		sig, err := s.Sign(msg)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, map[string]any{"keyid": sig.KeyID, "sig": hex.EncodeToString(sig.Sig)})
	}
	return marshalPython(map[string]any{"signatures": sigs, "signed": signed})
}

// SignDSSE wraps payload (a JSON document: a layout's or link's signed value, or an ITE-6
// statement) in a DSSE envelope of type PayloadType signed by every signer.
func SignDSSE(payload []byte, signers ...*keys.Signer) ([]byte, error) {
	pae := cjson.PAE(PayloadType, payload)
	sigs := []any{}
	for _, s := range signers {
		sig, err := s.Sign(pae)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, map[string]any{"keyid": sig.KeyID, "sig": base64.StdEncoding.EncodeToString(sig.Sig)})
	}
	return json.Marshal(map[string]any{
		"payloadType": PayloadType,
		"payload":     base64.StdEncoding.EncodeToString(payload),
		"signatures":  sigs,
	})
}

// SignDSSEValue is SignDSSE over the JSON encoding of a value tree (sorted keys, no HTML
// escaping; not canonical JSON, whose raw control characters would not be valid JSON).
func SignDSSEValue(v map[string]any, signers ...*keys.Signer) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return SignDSSE(bytes.TrimSuffix(b.Bytes(), []byte("\n")), signers...)
}

// Statement returns the ITE-6 statement (Statement v1) carrying l with the given link predicate
// type (PredicateLinkV02 or PredicateLinkV03). For v0.3 the products become the subjects and
// the materials resource descriptors; for v0.2 the predicate is the link itself.
func (l *Link) Statement(predicateType string) (map[string]any, error) {
	subject := []any{}
	for _, name := range sortedNames(l.Products) {
		subject = append(subject, map[string]any{"name": name, "digest": artifactTree(rules.Artifacts{name: l.Products[name]})[name]})
	}
	var pred map[string]any
	switch predicateType {
	case PredicateLinkV02:
		pred = l.Signed()
		delete(pred, "_type")
	case PredicateLinkV03:
		mats := []any{}
		for _, name := range sortedNames(l.Materials) {
			mats = append(mats, map[string]any{"name": name, "digest": artifactTree(rules.Artifacts{name: l.Materials[name]})[name]})
		}
		pred = map[string]any{
			"name":        l.Name,
			"command":     strs(l.Command),
			"materials":   mats,
			"byproducts":  objOrEmpty(l.Byproducts),
			"environment": objOrEmpty(l.Environment),
		}
	default:
		return nil, fmt.Errorf("intoto: unknown link predicate type %q", predicateType)
	}
	return map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       subject,
		"predicateType": predicateType,
		"predicate":     pred,
	}, nil
}

func sortedNames(a rules.Artifacts) []string {
	out := make([]string, 0, len(a))
	for n := range a {
		out = append(out, n)
	}
	sortStrings(out)
	return out
}

// WriteFile writes data to dir/name, refusing to overwrite an existing file.
func WriteFile(dir, name string, data []byte) error {
	if err := checkName(name); err != nil {
		return err
	}
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// NewLayout returns a layout that expires after ttl from now, with the functionary keys of
// every signer registered under their keyids. Fill in Steps and Inspections.
func NewLayout(now time.Time, ttl time.Duration, functionaries ...*keys.Key) *Layout {
	exp := now.Add(ttl).UTC().Truncate(time.Second)
	l := &Layout{Expires: exp, ExpiresText: exp.Format(ExpiresFormat), Keys: map[string]*keys.Key{}}
	for _, k := range functionaries {
		l.Keys[k.KeyID] = k
	}
	return l
}

func sortStrings(s []string) { sort.Strings(s) }
