package intoto

import (
	"bytes"
	"unicode/utf8"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/rules"
)

// This file is the fast path for Metablock links, which can carry millions of artifacts. It
// parses the document once, producing the Link's artifacts and the canonical JSON of the
// received "signed" value in the same pass, without building a generic value tree.
//
// The fast path only ever accepts; it never reports an error. Whenever the document is not of
// the plain shape it handles (object keys in strictly increasing order, which rules out
// duplicates; strings without escapes; only the two Metablock fields at the top; digests that
// are non-empty hex strings), it gives up and the strict general path (cjson.Decode, then
// cjson.Canonical) decides, with its precise errors. For the documents it accepts, both paths
// produce the same canonical bytes and the same Link: the equivalence is checked by
// FuzzFastLink.

type fastScanner struct {
	d   []byte
	i   int
	out []byte
	dig *digestIntern
}

// digestIntern shares the Digests of single-algorithm digests among the links of one
// verification (the products of one step are usually the materials of the next), which halves
// the memory of large chains. Shared Digests are never modified.
type digestIntern struct {
	m map[string]map[string]rules.Digests // alg -> hex -> digests
}

func (t *digestIntern) get(alg, hex []byte) rules.Digests {
	if t == nil {
		return rules.Digests{string(alg): string(hex)}
	}
	if t.m == nil {
		t.m = map[string]map[string]rules.Digests{}
	}
	byHex, ok := t.m[string(alg)]
	if !ok {
		byHex = map[string]rules.Digests{}
		t.m[string(alg)] = byHex
	}
	if d, ok := byHex[string(hex)]; ok {
		return d
	}
	h := string(hex)
	d := rules.Digests{string(alg): h}
	byHex[h] = d
	return d
}

func (s *fastScanner) ws() {
	for s.i < len(s.d) {
		switch s.d[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *fastScanner) lit(c byte) bool {
	s.ws()
	if s.i < len(s.d) && s.d[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *fastScanner) peek() byte {
	s.ws()
	if s.i < len(s.d) {
		return s.d[s.i]
	}
	return 0
}

// str reads a string without escapes and returns its raw (== decoded) bytes.
func (s *fastScanner) str() ([]byte, bool) {
	s.ws()
	if s.i >= len(s.d) || s.d[s.i] != '"' {
		return nil, false
	}
	start := s.i + 1
	j := bytes.IndexByte(s.d[start:], '"')
	if j < 0 {
		return nil, false
	}
	raw := s.d[start : start+j]
	ascii := true
	for _, c := range raw {
		if c < 0x20 || c == '\\' {
			return nil, false
		}
		if c >= 0x80 {
			ascii = false
		}
	}
	if !ascii && !utf8.Valid(raw) {
		return nil, false
	}
	s.i = start + j + 1
	return raw, true
}

// skip finds the end of the value at s.i (structure only; the value is decoded strictly
// afterwards).
func (s *fastScanner) skip() (int, int, bool) {
	s.ws()
	start := s.i
	depth := 0
	for s.i < len(s.d) {
		c := s.d[s.i]
		switch c {
		case '"':
			s.i++
			for s.i < len(s.d) && s.d[s.i] != '"' {
				if s.d[s.i] == '\\' {
					s.i++
				}
				s.i++
			}
			if s.i >= len(s.d) {
				return 0, 0, false
			}
			s.i++
		case '{', '[':
			depth++
			s.i++
		case '}', ']':
			if depth == 0 {
				return start, s.i, s.i > start
			}
			depth--
			s.i++
			if depth == 0 {
				return start, s.i, true
			}
		case ',', ':':
			if depth == 0 {
				return start, s.i, s.i > start
			}
			s.i++
		default:
			s.i++
		}
	}
	return start, s.i, depth == 0 && s.i > start
}

func (s *fastScanner) writeStr(raw []byte) {
	s.out = append(s.out, '"')
	s.out = append(s.out, raw...)
	s.out = append(s.out, '"')
}

// artifacts parses {"name": {"alg": "hex", ...}, ...} with names and algorithms in strictly
// increasing order, writing its canonical form.
func (s *fastScanner) artifacts() (rules.Artifacts, bool) {
	if !s.lit('{') {
		return nil, false
	}
	out := rules.Artifacts{}
	s.out = append(s.out, '{')
	var prev []byte
	if s.lit('}') {
		s.out = append(s.out, '}')
		return out, true
	}
	for first := true; ; first = false {
		name, ok := s.str()
		if !ok || (!first && bytes.Compare(prev, name) >= 0) {
			return nil, false
		}
		prev = name
		if !first {
			s.out = append(s.out, ',')
		}
		s.writeStr(name)
		s.out = append(s.out, ':', '{')
		if !s.lit(':') || !s.lit('{') {
			return nil, false
		}
		var d rules.Digests
		var prevAlg, alg0, hex0 []byte
		n := 0
		if !s.lit('}') {
			for {
				alg, ok := s.str()
				if !ok || (n > 0 && bytes.Compare(prevAlg, alg) >= 0) || !s.lit(':') {
					return nil, false
				}
				hex, ok := s.str()
				if !ok || !isHexBytes(hex) {
					return nil, false
				}
				if n > 0 {
					s.out = append(s.out, ',')
				}
				s.writeStr(alg)
				s.out = append(s.out, ':')
				s.writeStr(hex)
				switch n {
				case 0:
					alg0, hex0 = alg, hex
				case 1:
					d = rules.Digests{string(alg0): string(hex0)}
					fallthrough
				default:
					d[string(alg)] = string(hex)
				}
				n++
				prevAlg = alg
				if s.lit('}') {
					break
				}
				if !s.lit(',') {
					return nil, false
				}
			}
		}
		switch n {
		case 0:
			d = rules.Digests{}
		case 1:
			d = s.dig.get(alg0, hex0)
		}
		s.out = append(s.out, '}')
		out[string(name)] = d
		if s.lit('}') {
			break
		}
		if !s.lit(',') {
			return nil, false
		}
	}
	s.out = append(s.out, '}')
	return out, true
}

func isHexBytes(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// fastMetablockLink tries the fast path. ok is false when the general path must decide.
func fastMetablockLink(data []byte, lim cjson.Limits, dig *digestIntern) (*Envelope, *Link, bool) {
	if lim.MaxDepth > 0 && lim.MaxDepth < 8 {
		return nil, nil, false
	}
	sub := lim
	if sub.MaxDepth > 0 {
		sub.MaxDepth -= 2
	}
	s := &fastScanner{d: data, dig: dig}
	if !s.lit('{') {
		return nil, nil, false
	}
	var sigSpan []byte
	var signed map[string]any
	var link *Link
	seen := map[string]bool{}
	for {
		key, ok := s.str()
		if !ok || !s.lit(':') || seen[string(key)] {
			return nil, nil, false
		}
		seen[string(key)] = true
		switch string(key) {
		case "signatures":
			a, b, ok := s.skip()
			if !ok {
				return nil, nil, false
			}
			sigSpan = data[a:b]
		case "signed":
			s.out = make([]byte, 0, len(data)-s.i)
			if link, signed, ok = s.signed(sub); !ok {
				return nil, nil, false
			}
		default:
			return nil, nil, false
		}
		if s.lit('}') {
			break
		}
		if !s.lit(',') {
			return nil, nil, false
		}
	}
	s.ws()
	if s.i != len(data) || sigSpan == nil || link == nil {
		return nil, nil, false
	}
	sigTree, err := cjson.Decode(sigSpan, sub)
	if err != nil {
		return nil, nil, false
	}
	env, err := parseMetablock("link", map[string]any{"signed": signed, "signatures": sigTree}, s.out)
	if err != nil || env.Type != "link" {
		return nil, nil, false
	}
	env.parsed = link
	return env, link, true
}

// signed parses the signed link object. It returns the link, and the signed value as a tree in
// which materials and products are left out (the Envelope keeps it for its type only).
func (s *fastScanner) signed(lim cjson.Limits) (*Link, map[string]any, bool) {
	if !s.lit('{') {
		return nil, nil, false
	}
	s.out = append(s.out, '{')
	tree := map[string]any{}
	var prev []byte
	var mats, prods rules.Artifacts
	for first := true; ; first = false {
		key, ok := s.str()
		if !ok || (!first && bytes.Compare(prev, key) >= 0) || !s.lit(':') {
			return nil, nil, false
		}
		prev = key
		if !first {
			s.out = append(s.out, ',')
		}
		s.writeStr(key)
		s.out = append(s.out, ':')
		switch string(key) {
		case "materials":
			if mats, ok = s.artifacts(); !ok {
				return nil, nil, false
			}
			tree["materials"] = map[string]any{}
		case "products":
			if prods, ok = s.artifacts(); !ok {
				return nil, nil, false
			}
			tree["products"] = map[string]any{}
		default:
			a, b, ok := s.skip()
			if !ok {
				return nil, nil, false
			}
			v, err := cjson.Decode(s.d[a:b], lim)
			if err != nil {
				return nil, nil, false
			}
			c, err := cjson.Canonical(v)
			if err != nil {
				return nil, nil, false
			}
			s.out = append(s.out, c...)
			tree[string(key)] = v
		}
		if s.lit('}') {
			break
		}
		if !s.lit(',') {
			return nil, nil, false
		}
	}
	s.out = append(s.out, '}')
	l, err := linkFromTree(tree)
	if err != nil {
		return nil, nil, false
	}
	if mats != nil {
		if err := validateNames(mats); err != nil {
			return nil, nil, false
		}
		l.Materials = mats
	}
	if prods != nil {
		if err := validateNames(prods); err != nil {
			return nil, nil, false
		}
		l.Products = prods
	}
	return l, tree, true
}

func validateNames(a rules.Artifacts) error {
	for name := range a {
		if err := rules.ValidateName(name); err != nil {
			return err
		}
	}
	return nil
}
