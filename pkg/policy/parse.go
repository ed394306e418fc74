package policy

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/verr"
)

// APIVersion is the version of the policy language this package implements. Kind must be Kind.
const (
	APIVersion = "tinto.dev/policy/v1"
	Kind       = "Policy"
)

// Limits on a policy document.
const (
	MaxPolicyBytes = 1 << 20 // 1 MiB
	MaxRules       = 1024
	maxDepth       = 32
)

type pos struct{ line, col int }

type sval struct {
	v     string
	p     pos
	set   bool
	quote int // 1 when the value is a quoted scalar (positions inside it shift by one)
	// block is set for a literal or folded block scalar: its text starts on the line after p,
	// indented by indent columns.
	block  bool
	indent int
}

type ival struct {
	v   int
	p   pos
	set bool
}

// document is the parsed (not yet checked) form of a policy file.
type document struct {
	apiVersion, kind, name sval
	layoutsRequire         sval // "all", "any", "none" or a decimal k
	revocationUnknown      sval // "deny" (default) or "warn"
	indeterminate          sval // "deny" (default) or "warn"
	rules                  []ruleDoc
}

type ruleDoc struct {
	p                                               pos
	index                                           int
	id, verb, strength, subject, layout, step       sval
	where, when, productOf, artifacts, side, reason sval
	message                                         sval
	expect, keyids, digests                         []sval
	min                                             ival
	present                                         map[string]pos
}

var topFields = []string{"apiVersion", "kind", "name", "layouts", "revocation", "indeterminate", "rules"}
var ruleFields = []string{"id", "verb", "strength", "subject", "layout", "step", "where", "when", "expect", "min", "productOf", "artifacts", "side", "keyids", "digests", "reason", "message"}

// parseDocument parses YAML or JSON into a document, reporting every problem it can find.
// It never panics on any input.
func parseDocument(file string, data []byte, d *diags) *document {
	if len(data) > MaxPolicyBytes {
		d.add(SevError, 0, 0, CodeSyntax, "policy is %d bytes, over the limit of %d", len(data), MaxPolicyBytes)
		return nil
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		// JSON: check it strictly first (duplicate keys, trailing data, UTF-8), reporting the
		// position computed from the byte offset.
		if _, err := cjson.Decode(data, cjson.Limits{MaxBytes: MaxPolicyBytes, MaxDepth: maxDepth}); err != nil {
			line, col := 0, 0
			var ie *verr.InputError
			if errors.As(err, &ie) && ie.Offset >= 0 {
				line, col = lineCol(data, ie.Offset)
			}
			d.add(SevError, line, col, CodeSyntax, "%v", err)
			return nil
		}
	}
	d.data = data
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line := 0
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			// yaml errors read "yaml: line N: msg".
			s := err.Error()
			if i := strings.Index(s, "line "); i >= 0 {
				fmt.Sscanf(s[i:], "line %d", &line)
			}
		}
		d.add(SevError, line, 0, CodeSyntax, "%v", err)
		return nil
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		d.add(SevError, 1, 1, CodeSyntax, "empty policy")
		return nil
	}
	if !checkNodes(root.Content[0], d, 0) {
		return nil
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		d.add(SevError, top.Line, top.Column, CodeSyntax, "a policy is a mapping (object)")
		return nil
	}
	doc := &document{}
	forFields(top, topFields, d, func(key string, k, v *yaml.Node) {
		switch key {
		case "apiVersion":
			doc.apiVersion = str(v, d, key)
		case "kind":
			doc.kind = str(v, d, key)
		case "name":
			doc.name = str(v, d, key)
		case "layouts":
			if v.Kind != yaml.MappingNode {
				d.add(SevError, v.Line, v.Column, CodeBadValue, "layouts must be a mapping with the field require")
				return
			}
			forFields(v, []string{"require"}, d, func(key string, k, v *yaml.Node) {
				doc.layoutsRequire = str(v, d, "layouts.require")
			})
		case "revocation":
			if v.Kind != yaml.MappingNode {
				d.add(SevError, v.Line, v.Column, CodeBadValue, "revocation must be a mapping with the field unknown")
				return
			}
			forFields(v, []string{"unknown"}, d, func(key string, k, v *yaml.Node) {
				doc.revocationUnknown = str(v, d, "revocation.unknown")
			})
		case "indeterminate":
			doc.indeterminate = str(v, d, key)
		case "rules":
			if v.Kind != yaml.SequenceNode {
				d.add(SevError, v.Line, v.Column, CodeBadValue, "rules must be a list")
				return
			}
			if len(v.Content) > MaxRules {
				d.add(SevError, v.Line, v.Column, CodeBadValue, "%d rules, over the limit of %d", len(v.Content), MaxRules)
				return
			}
			for i, rn := range v.Content {
				doc.rules = append(doc.rules, parseRule(i, rn, d))
			}
		}
	})
	return doc
}

func parseRule(i int, n *yaml.Node, d *diags) ruleDoc {
	r := ruleDoc{p: pos{n.Line, n.Column}, index: i, present: map[string]pos{}}
	if n.Kind != yaml.MappingNode {
		d.add(SevError, n.Line, n.Column, CodeBadValue, "rules[%d] must be a mapping", i)
		return r
	}
	forFields(n, ruleFields, d, func(key string, k, v *yaml.Node) {
		r.present[key] = pos{k.Line, k.Column}
		switch key {
		case "id":
			r.id = str(v, d, key)
		case "verb":
			r.verb = str(v, d, key)
		case "strength":
			r.strength = str(v, d, key)
		case "subject":
			r.subject = str(v, d, key)
		case "layout":
			r.layout = str(v, d, key)
		case "step":
			r.step = str(v, d, key)
		case "where":
			r.where = str(v, d, key)
		case "when":
			r.when = str(v, d, key)
		case "productOf":
			r.productOf = str(v, d, key)
		case "artifacts":
			r.artifacts = str(v, d, key)
		case "side":
			r.side = str(v, d, key)
		case "reason":
			r.reason = str(v, d, key)
		case "message":
			r.message = str(v, d, key)
		case "expect":
			r.expect = strList(v, d, key)
		case "keyids":
			r.keyids = strList(v, d, key)
		case "digests":
			r.digests = strList(v, d, key)
		case "min":
			s := str(v, d, key)
			if !s.set {
				return
			}
			m, err := strconv.Atoi(s.v)
			if err != nil || m < 0 || m > 1<<20 || v.Tag != "!!int" {
				d.add(SevError, v.Line, v.Column, CodeBadValue, "min must be a non-negative integer, not %q", s.v)
				return
			}
			r.min = ival{v: m, p: s.p, set: true}
		}
	})
	return r
}

// checkNodes rejects anchors, aliases, explicit tags and excessive depth: a policy is plain data.
func checkNodes(n *yaml.Node, d *diags, depth int) bool {
	if depth > maxDepth {
		d.add(SevError, n.Line, n.Column, CodeSyntax, "nesting deeper than %d", maxDepth)
		return false
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		d.add(SevError, n.Line, n.Column, CodeSyntax, "anchors and aliases are not allowed in a policy")
		return false
	}
	if n.Style&yaml.TaggedStyle != 0 {
		d.add(SevError, n.Line, n.Column, CodeSyntax, "explicit tags are not allowed in a policy")
		return false
	}
	for _, c := range n.Content {
		if !checkNodes(c, d, depth+1) {
			return false
		}
	}
	return true
}

// forFields calls f for each known key of mapping m, and reports unknown and duplicate keys.
func forFields(m *yaml.Node, known []string, d *diags, f func(key string, k, v *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
			d.add(SevError, k.Line, k.Column, CodeSyntax, "keys must be strings")
			continue
		}
		if seen[k.Value] {
			d.add(SevError, k.Line, k.Column, CodeDuplicate, "duplicate field %q", k.Value)
			continue
		}
		seen[k.Value] = true
		ok := false
		for _, kn := range known {
			if kn == k.Value {
				ok = true
				break
			}
		}
		if !ok {
			hint := ""
			if s := suggest(k.Value, known); s != "" {
				hint = fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.add(SevError, k.Line, k.Column, CodeUnknownField, "unknown field %q%s", k.Value, hint)
			continue
		}
		f(k.Value, k, v)
	}
}

func suggest(s string, known []string) string {
	ls := strings.ToLower(s)
	for _, k := range known {
		if strings.ToLower(k) == ls || strings.HasPrefix(strings.ToLower(k), ls) || strings.HasPrefix(ls, strings.ToLower(k)) {
			return k
		}
	}
	return ""
}

func str(v *yaml.Node, d *diags, field string) sval {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		d.add(SevError, v.Line, v.Column, CodeBadValue, "%s must be a scalar value", field)
		return sval{}
	}
	q := 0
	if v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		q = 1
	}
	sv := sval{v: v.Value, p: pos{v.Line, v.Column}, set: true, quote: q}
	if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		sv.block = true
		sv.indent = lineIndent(d.data, v.Line+1)
	}
	return sv
}

func strList(v *yaml.Node, d *diags, field string) []sval {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
		return []sval{str(v, d, field)}
	}
	if v.Kind != yaml.SequenceNode {
		d.add(SevError, v.Line, v.Column, CodeBadValue, "%s must be a list of strings", field)
		return nil
	}
	var out []sval
	for _, c := range v.Content {
		s := str(c, d, field)
		if s.set {
			out = append(out, s)
		}
	}
	return out
}

// lineCol converts a byte offset into a 1-based line and column (in bytes).
func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// lineIndent returns the number of leading spaces of 1-based line n of data (0 if absent).
func lineIndent(data []byte, n int) int {
	line := 1
	for i := 0; i < len(data); i++ {
		if line == n {
			k := 0
			for i+k < len(data) && data[i+k] == ' ' {
				k++
			}
			return k
		}
		if data[i] == '\n' {
			line++
		}
	}
	return 0
}
