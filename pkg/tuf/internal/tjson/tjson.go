// Package tjson is a strict, allocation-light JSON scanner that produces the canonical JSON form
// (securesystemslib / OLPC canonical JSON, as signed by TUF) of the value it reads, directly from
// the received bytes, without building a value tree.
//
// Strictness: invalid UTF-8, lone surrogates, duplicate object keys, trailing data, nesting deeper
// than the limit and non-integer numbers are errors. Canonical form: object keys sorted by the
// byte order of their UTF-8 encoding (which equals code point order, as python sorts str keys),
// no insignificant whitespace, strings with only '\' and '"' escaped, integers as received
// ("-0" becomes "0").
//
// The package has no mutable package-level state; every function is safe for concurrent use.
package tjson

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting accepted.
const MaxDepth = 64

// SyntaxError reports malformed or non-canonicalisable JSON.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("json: %s at offset %d", e.Msg, e.Offset) }

// Envelope is a parsed TUF metadata file: {"signed": ..., "signatures": [...]}.
type Envelope struct {
	// Signed is the "signed" value: the raw bytes as received (ParseEnvelope) or its canonical
	// form (ParseEnvelopeInPlace).
	Signed []byte
	// Canonical is the canonical JSON form of the "signed" value: the bytes signatures cover.
	Canonical []byte
	// Signatures is the "signatures" value (raw, or canonical in place).
	Signatures []byte
	// Members maps each member of the "signed" object to the span of its value in Signed
	// (nil if "signed" is not an object).
	Members map[string][2]int
	// RawSigned is the span of the "signed" value in the data as received, and RawMembers the
	// spans of its members relative to RawSigned[0], in the data as received.
	RawSigned  [2]int
	RawMembers map[string][2]int
}

// ErrControl is returned by ParseEnvelopeInPlace when a string holds a control character: its
// canonical form (which keeps it raw) is not valid JSON, so the in-place form cannot be decoded.
// The data has been overwritten; parse a fresh copy with ParseEnvelope.
var ErrControl = errors.New("tjson: string with a control character")

// ParseEnvelope scans data strictly and returns the spans of its two members. Unknown top-level
// members are an error, as is a missing member.
func ParseEnvelope(data []byte) (*Envelope, error) { return parseEnvelope(data, false) }

// ParseEnvelopeInPlace is ParseEnvelope that writes the canonical forms over data instead of
// allocating a copy (a canonical form is never longer than its source, and the output never
// overtakes the input). Afterwards data holds garbage except where the Envelope's slices point;
// RawSigned and RawMembers still describe the data as it was received.
func ParseEnvelopeInPlace(data []byte) (*Envelope, error) { return parseEnvelope(data, true) }

func parseEnvelope(data []byte, inPlace bool) (*Envelope, error) {
	s := &scanner{data: data}
	if inPlace {
		s.out = data[:0:len(data)]
	} else {
		s.out = make([]byte, 0, len(data))
	}
	s.ws()
	if s.pos >= len(data) || data[s.pos] != '{' {
		return nil, s.errf("expected object")
	}
	s.pos++
	env := &Envelope{}
	var seenSigned, seenSigs bool
	first := true
	for {
		s.ws()
		if s.pos < len(data) && data[s.pos] == '}' {
			if !first {
				return nil, s.errf("unexpected '}'")
			}
			s.pos++
			break
		}
		s.ws()
		kstart := len(s.out)
		key, err := s.str()
		if err != nil {
			return nil, err
		}
		s.out = s.out[:kstart]
		s.ws()
		if s.pos >= len(data) || data[s.pos] != ':' {
			return nil, s.errf("expected ':'")
		}
		s.pos++
		s.ws()
		vstart := s.pos
		ostart := len(s.out)
		var members, rawMembers map[string][2]int
		var order []string
		if key == "signed" {
			members, rawMembers = map[string][2]int{}, map[string][2]int{}
			s.hookDepth = 2
			s.hook = func(k []byte, a, b, oa, ob int) {
				rawMembers[string(k)] = [2]int{a - vstart, b - vstart}
				members[string(k)] = [2]int{oa - ostart, ob - ostart}
				order = append(order, string(k))
			}
		}
		err = s.value(1)
		s.hook = nil
		if err != nil {
			return nil, err
		}
		switch key {
		case "signed":
			if seenSigned {
				return nil, s.errf("duplicate key %q", key)
			}
			seenSigned = true
			env.Canonical = s.out[ostart:len(s.out):len(s.out)]
			env.RawSigned = [2]int{vstart, s.pos}
			env.RawMembers = rawMembers
			if inPlace {
				env.Signed, env.Members = env.Canonical, members
				if !sort.StringsAreSorted(order) {
					// The object was reordered after its members were recorded: find them again
					// in the canonical form.
					if env.Members, err = memberSpans(env.Canonical); err != nil {
						return nil, err
					}
				}
			} else {
				env.Signed, env.Members = data[vstart:s.pos], rawMembers
			}
		case "signatures":
			if seenSigs {
				return nil, s.errf("duplicate key %q", key)
			}
			seenSigs = true
			if inPlace {
				env.Signatures = s.out[ostart:len(s.out):len(s.out)]
			} else {
				env.Signatures = data[vstart:s.pos]
				s.out = s.out[:ostart]
			}
		default:
			return nil, s.errf("unexpected top-level key %q", key)
		}
		first = false
		s.ws()
		if s.pos < len(data) && data[s.pos] == ',' {
			s.pos++
			continue
		}
		if s.pos < len(data) && data[s.pos] == '}' {
			s.pos++
			break
		}
		return nil, s.errf("expected ',' or '}'")
	}
	s.ws()
	if s.pos != len(data) {
		return nil, s.errf("trailing data")
	}
	if !seenSigned || !seenSigs {
		return nil, s.errf("missing \"signed\" or \"signatures\"")
	}
	if inPlace && s.ctrl {
		return nil, ErrControl
	}
	return env, nil
}

// MemberKeys returns the keys of a JSON object, in order.
func MemberKeys(obj []byte) ([]string, error) {
	s := &scanner{data: obj, keepRaw: true}
	var keys []string
	err := s.membersBytes(func(key []byte, start, end int) error {
		keys = append(keys, string(key))
		return nil
	})
	return keys, err
}

// memberSpans returns the spans of the members of a JSON object.
func memberSpans(obj []byte) (map[string][2]int, error) {
	s := &scanner{data: obj, keepRaw: true}
	m := map[string][2]int{}
	err := s.membersBytes(func(key []byte, start, end int) error {
		m[string(key)] = [2]int{start, end}
		return nil
	})
	return m, err
}

// Canonicalize validates data strictly (one JSON value, nothing after it) and returns its
// canonical form.
func Canonicalize(data []byte) ([]byte, error) {
	s := &scanner{data: data, out: make([]byte, 0, len(data))}
	s.ws()
	if err := s.value(0); err != nil {
		return nil, err
	}
	s.ws()
	if s.pos != len(data) {
		return nil, s.errf("trailing data")
	}
	return s.out, nil
}

// Valid reports whether data is strict JSON that has a canonical form.
func Valid(data []byte) error {
	_, err := Canonicalize(data)
	return err
}

type scanner struct {
	data  []byte
	pos   int
	out   []byte
	tmp   []byte
	stack []member
	// hook, when set, is called for every member of objects at depth hookDepth with the raw
	// span of its value.
	hook      func(key []byte, start, end, outStart, outEnd int)
	hookDepth int
	ctrl      bool // a control character was written raw into a string
	// keepRaw makes strBytes return unescaped strings as slices of the input (which must then
	// not be overwritten), for callers that reset the output.
	keepRaw bool
	// keyHook, when set, is called by membersBytes with the offset of each key.
	keyHook func(start int)
}

func (s *scanner) errf(format string, args ...any) error {
	return &SyntaxError{Offset: s.pos, Msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) error {
	if depth > MaxDepth {
		return s.errf("nesting deeper than %d", MaxDepth)
	}
	if s.pos >= len(s.data) {
		return s.errf("unexpected end of input")
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(depth + 1)
	case c == '[':
		return s.array(depth + 1)
	case c == '"':
		_, err := s.strBytes()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	}
	return s.errf("unexpected character %q", s.data[s.pos])
}

func (s *scanner) lit(w string) error {
	if !bytes.HasPrefix(s.data[s.pos:], []byte(w)) {
		return s.errf("invalid literal")
	}
	s.pos += len(w)
	s.out = append(s.out, w...)
	return nil
}

func (s *scanner) number() error {
	start := s.pos
	d := s.data
	if d[s.pos] == '-' {
		s.pos++
	}
	if s.pos >= len(d) {
		return s.errf("invalid number")
	}
	if d[s.pos] == '0' {
		s.pos++
	} else if d[s.pos] >= '1' && d[s.pos] <= '9' {
		for s.pos < len(d) && d[s.pos] >= '0' && d[s.pos] <= '9' {
			s.pos++
		}
	} else {
		return s.errf("invalid number")
	}
	if s.pos < len(d) && (d[s.pos] == '.' || d[s.pos] == 'e' || d[s.pos] == 'E') {
		return s.errf("non-integer number has no canonical form")
	}
	num := d[start:s.pos]
	if string(num) == "-0" {
		num = num[1:]
	}
	s.out = append(s.out, num...)
	return nil
}

// str scans a string at s.pos, appends its canonical encoding to out, and returns its value.
func (s *scanner) str() (string, error) {
	b, err := s.strBytes()
	return string(b), err
}

// strBytes is str returning the value as bytes: a subslice of the input when the string has no
// escapes (no allocation), a new slice otherwise.
func (s *scanner) strBytes() ([]byte, error) {
	d := s.data
	if s.pos >= len(d) || d[s.pos] != '"' {
		return nil, s.errf("expected string")
	}
	s.pos++
	start := s.pos
	// Fast path: no escapes, no control characters, ASCII or valid UTF-8.
	for s.pos < len(d) {
		c := d[s.pos]
		if c == '"' {
			raw := d[start:s.pos]
			s.pos++
			if s.keepRaw {
				s.out = append(s.out, '"')
				s.out = append(s.out, raw...)
				s.out = append(s.out, '"')
				return raw[:len(raw):len(raw)], nil
			}
			// The value is returned from the output (the input may be overwritten in place).
			s.out = append(s.out, '"')
			s.out = append(s.out, raw...)
			v := s.out[len(s.out)-len(raw) : len(s.out) : len(s.out)]
			s.out = append(s.out, '"')
			return v, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		if c < utf8.RuneSelf {
			s.pos++
			continue
		}
		r, n := utf8.DecodeRune(d[s.pos:])
		if r == utf8.RuneError && n <= 1 {
			return nil, s.errf("invalid UTF-8")
		}
		s.pos += n
	}
	// Slow path: decode into tmp.
	s.tmp = append(s.tmp[:0], d[start:s.pos]...)
	for {
		if s.pos >= len(d) {
			return nil, s.errf("unterminated string")
		}
		c := d[s.pos]
		switch {
		case c == '"':
			s.pos++
			v := append([]byte(nil), s.tmp...)
			for _, c := range v {
				if c < 0x20 {
					s.ctrl = true
					break
				}
			}
			s.out = appendCanonicalBytes(s.out, v)
			return v, nil
		case c < 0x20:
			return nil, s.errf("control character in string")
		case c == '\\':
			if s.pos+1 >= len(d) {
				return nil, s.errf("unterminated escape")
			}
			e := d[s.pos+1]
			s.pos += 2
			switch e {
			case '"', '\\', '/':
				s.tmp = append(s.tmp, e)
			case 'b':
				s.tmp = append(s.tmp, '\b')
			case 'f':
				s.tmp = append(s.tmp, '\f')
			case 'n':
				s.tmp = append(s.tmp, '\n')
			case 'r':
				s.tmp = append(s.tmp, '\r')
			case 't':
				s.tmp = append(s.tmp, '\t')
			case 'u':
				r, err := s.hex4()
				if err != nil {
					return nil, err
				}
				if utf16.IsSurrogate(r) {
					if r >= 0xDC00 || s.pos+1 >= len(d) || d[s.pos] != '\\' || d[s.pos+1] != 'u' {
						return nil, s.errf("lone surrogate")
					}
					s.pos += 2
					r2, err := s.hex4()
					if err != nil {
						return nil, err
					}
					r = utf16.DecodeRune(r, r2)
					if r == utf8.RuneError {
						return nil, s.errf("invalid surrogate pair")
					}
				}
				s.tmp = utf8.AppendRune(s.tmp, r)
			default:
				return nil, s.errf("invalid escape")
			}
		case c < utf8.RuneSelf:
			s.tmp = append(s.tmp, c)
			s.pos++
		default:
			r, n := utf8.DecodeRune(d[s.pos:])
			if r == utf8.RuneError && n <= 1 {
				return nil, s.errf("invalid UTF-8")
			}
			s.tmp = append(s.tmp, d[s.pos:s.pos+n]...)
			s.pos += n
		}
	}
}

func (s *scanner) hex4() (rune, error) {
	if s.pos+4 > len(s.data) {
		return 0, s.errf("short \\u escape")
	}
	v, err := strconv.ParseUint(string(s.data[s.pos:s.pos+4]), 16, 32)
	if err != nil {
		return 0, s.errf("invalid \\u escape")
	}
	s.pos += 4
	return rune(v), nil
}

func (s *scanner) array(depth int) error {
	s.pos++ // [
	s.out = append(s.out, '[')
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		s.out = append(s.out, ']')
		return nil
	}
	for {
		s.ws()
		if err := s.value(depth); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.data) {
			return s.errf("unterminated array")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.out = append(s.out, ',')
		case ']':
			s.pos++
			s.out = append(s.out, ']')
			return nil
		default:
			return s.errf("expected ',' or ']'")
		}
	}
}

type member struct {
	key        []byte
	start, end int // span in out, from the key's opening quote to the end of the value
}

func (s *scanner) object(depth int) error {
	s.pos++ // {
	s.out = append(s.out, '{')
	base := len(s.out)
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		s.out = append(s.out, '}')
		return nil
	}
	// While the members arrive sorted (the common case) only the previous key is kept; on the
	// first member out of order the members so far are recovered from the output and the object
	// is sorted at its end.
	mbase := len(s.stack)
	defer func() { s.stack = s.stack[:mbase] }()
	stackMode := false
	var prevKey []byte
	n := 0
	for {
		s.ws()
		ms := len(s.out)
		if n > 0 {
			s.out = append(s.out, ',')
			ms++
		}
		key, err := s.strBytes()
		if err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.errf("expected ':'")
		}
		s.pos++
		s.out = append(s.out, ':')
		s.ws()
		vstart, ovstart := s.pos, len(s.out)
		if err := s.value(depth); err != nil {
			return err
		}
		if n > 0 {
			last := prevKey
			if stackMode {
				last = s.stack[len(s.stack)-1].key
			}
			if c := bytes.Compare(last, key); c == 0 {
				return s.errf("duplicate key %q", key)
			} else if c > 0 && !stackMode {
				if err := s.recoverMembers(base, ms-1); err != nil {
					return err
				}
				stackMode = true
			}
		}
		if s.hook != nil && depth == s.hookDepth {
			s.hook(key, vstart, s.pos, ovstart, len(s.out))
		}
		if stackMode {
			s.stack = append(s.stack, member{key: key, start: ms, end: len(s.out)})
		} else {
			prevKey = key
		}
		n++
		s.ws()
		if s.pos >= len(s.data) {
			return s.errf("unterminated object")
		}
		if s.data[s.pos] == ',' {
			s.pos++
			continue
		}
		if s.data[s.pos] == '}' {
			s.pos++
			break
		}
		return s.errf("expected ',' or '}'")
	}
	if stackMode {
		members := s.stack[mbase:]
		sort.Slice(members, func(i, j int) bool { return bytes.Compare(members[i].key, members[j].key) < 0 })
		for i := 1; i < len(members); i++ {
			if bytes.Equal(members[i-1].key, members[i].key) {
				return s.errf("duplicate key %q", members[i].key)
			}
		}
		region := append([]byte(nil), s.out[base:]...)
		s.out = s.out[:base]
		for i, m := range members {
			if i > 0 {
				s.out = append(s.out, ',')
			}
			s.out = append(s.out, region[m.start-base:m.end-base]...)
		}
	}
	s.out = append(s.out, '}')
	return nil
}

// recoverMembers pushes onto the stack the members already written, in canonical form, to
// out[base:end] (comma-separated "key":value pairs).
func (s *scanner) recoverMembers(base, end int) error {
	p := base
	for p < end {
		if s.out[p] == ',' {
			p++
		}
		kstart := p
		if p >= end || s.out[p] != '"' {
			return s.errf("internal: bad canonical member")
		}
		i, esc := p+1, false
		for i < end && s.out[i] != '"' {
			if s.out[i] == '\\' {
				esc = true
				i++
			}
			i++
		}
		key := s.out[p+1 : i : i]
		if esc {
			dec := make([]byte, 0, len(key))
			for j := 0; j < len(key); j++ {
				if key[j] == '\\' && j+1 < len(key) {
					j++
				}
				dec = append(dec, key[j])
			}
			key = dec
		}
		sub := &scanner{data: s.out[:end], pos: i + 2} // past the closing quote and ':'
		if err := sub.skip(0); err != nil {
			return s.errf("internal: bad canonical member")
		}
		s.stack = append(s.stack, member{key: key, start: kstart, end: sub.pos})
		p = sub.pos
	}
	return nil
}

// compareKeys orders keys by the byte order of their UTF-8 encoding.
func compareKeys(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func appendCanonicalBytes(dst []byte, v []byte) []byte {
	dst = append(dst, '"')
	for _, c := range v {
		if c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

func appendCanonicalString(dst []byte, v string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

// ErrNotCanonicalisable is returned by Encode for values that have no canonical form.
var ErrNotCanonicalisable = errors.New("tjson: value has no canonical form")
