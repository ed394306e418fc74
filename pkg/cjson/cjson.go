// Package cjson parses JSON strictly and encodes it in canonical form, so that signatures can be
// checked over exactly what was received.
//
// # Strict decoding
//
// Decode accepts RFC 8259 JSON text with these additional restrictions, each reported as a
// *verr.InputError carrying the byte offset of the problem:
//
//   - an object must not contain the same key twice (a signed document with duplicate keys means
//     different things to different parsers, so it is refused);
//   - strings must be valid UTF-8 and must not contain unpaired surrogate escapes;
//   - nesting must not exceed Limits.MaxDepth and the input must not exceed Limits.MaxBytes;
//   - nothing but white space may follow the value.
//
// Decode returns a value tree: map[string]any for objects, []any for arrays, string, bool, nil,
// and json.Number for numbers. A json.Number holds the number's text exactly as received, so an
// integer above 2^53 or an unfamiliar field survives a round trip unchanged.
//
// # Canonical form
//
// Canonical encodes a value tree in the canonical JSON of securesystemslib (the OLPC canonical
// JSON that TUF and in-toto sign): object keys sorted by byte order of their UTF-8 encoding (the
// same order as Python's code-point sort), no insignificant white space, strings with only `\` and
// `"` escaped and every other character written as raw UTF-8, and integers only. A number with a
// fraction or an exponent cannot be encoded (securesystemslib refuses it too), and "-0" is written
// as "0", as Python's integer parser reads it.
//
// To verify a signed document, Decode the bytes received, take the signed value out of the tree,
// and check the signature over Canonical of that value. Never re-encode a Go struct for that.
//
// # DSSE
//
// PAE returns the DSSE v1 pre-authentication encoding over which DSSE signatures are made.
//
// All functions are pure and safe for concurrent use.
package cjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tintoproject/tinto/pkg/verr"
)

// Default limits, used for zero fields of Limits.
const (
	DefaultMaxBytes = 16 << 20
	DefaultMaxDepth = 128
)

// Limits bound what Decode accepts. The zero value means the defaults: 16 MiB and a depth of 128.
// A negative MaxBytes means no size limit.
type Limits struct {
	MaxBytes int64
	MaxDepth int
}

func (l Limits) maxBytes() int64 {
	if l.MaxBytes == 0 {
		return DefaultMaxBytes
	}
	return l.MaxBytes
}

func (l Limits) maxDepth() int {
	if l.MaxDepth <= 0 {
		return DefaultMaxDepth
	}
	return l.MaxDepth
}

// Decode parses data strictly into a value tree (see the package doc).
func Decode(data []byte, lim Limits) (any, error) {
	if mb := lim.maxBytes(); mb > 0 && int64(len(data)) > mb {
		return nil, &verr.InputError{What: "JSON", Offset: -1, Msg: fmt.Sprintf("document is %d bytes, over the limit of %d", len(data), mb)}
	}
	p := parser{data: data, maxDepth: lim.maxDepth()}
	p.skipWS()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.pos != len(p.data) {
		return nil, p.errf("unexpected data after the JSON value")
	}
	return v, nil
}

// Check reports whether data passes Decode's checks, without keeping the tree.
func Check(data []byte, lim Limits) error {
	_, err := Decode(data, lim)
	return err
}

// Unmarshal checks data with Decode's rules and then unmarshals it into v with encoding/json.
// Every problem, including a type mismatch reported by encoding/json, is a *verr.InputError.
func Unmarshal(data []byte, v any, lim Limits) error {
	if err := Check(data, lim); err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		off := int64(-1)
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case asErr(err, &se):
			off = se.Offset
		case asErr(err, &te):
			off = te.Offset
		}
		return &verr.InputError{What: "JSON", Offset: off, Err: err}
	}
	return nil
}

func asErr[T error](err error, target *T) bool {
	t, ok := err.(T)
	if ok {
		*target = t
	}
	return ok
}

type parser struct {
	data     []byte
	pos      int
	maxDepth int
}

func (p *parser) errf(format string, args ...any) error {
	return &verr.InputError{What: "JSON", Offset: int64(p.pos), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipWS() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (any, error) {
	if p.pos >= len(p.data) {
		return nil, p.errf("unexpected end of input")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		if depth >= p.maxDepth {
			return nil, p.errf("nesting deeper than %d", p.maxDepth)
		}
		return p.object(depth + 1)
	case c == '[':
		if depth >= p.maxDepth {
			return nil, p.errf("nesting deeper than %d", p.maxDepth)
		}
		return p.array(depth + 1)
	case c == '"':
		return p.str()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return nil, p.errf("unexpected character %q", c)
	}
}

func (p *parser) literal(s string) error {
	if !bytes.HasPrefix(p.data[p.pos:], []byte(s)) {
		return p.errf("invalid literal")
	}
	p.pos += len(s)
	return nil
}

func (p *parser) object(depth int) (any, error) {
	p.pos++ // '{'
	m := make(map[string]any)
	p.skipWS()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return m, nil
	}
	for {
		p.skipWS()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.errf("expected an object key")
		}
		keyPos := p.pos
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			p.pos = keyPos
			return nil, p.errf("duplicate object key %q", k)
		}
		p.skipWS()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.errf("expected ':' after an object key")
		}
		p.pos++
		p.skipWS()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		m[k] = v
		p.skipWS()
		if p.pos >= len(p.data) {
			return nil, p.errf("unexpected end of input in an object")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return m, nil
		default:
			return nil, p.errf("expected ',' or '}' in an object")
		}
	}
}

func (p *parser) array(depth int) (any, error) {
	p.pos++ // '['
	a := []any{}
	p.skipWS()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return a, nil
	}
	for {
		p.skipWS()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		p.skipWS()
		if p.pos >= len(p.data) {
			return nil, p.errf("unexpected end of input in an array")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return a, nil
		default:
			return nil, p.errf("expected ',' or ']' in an array")
		}
	}
}

func (p *parser) number() (any, error) {
	start := p.pos
	d := p.data
	i := p.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		p.pos = i
		return nil, p.errf("invalid number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			p.pos = i
			return nil, p.errf("invalid number: no digits after '.'")
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == j {
			p.pos = i
			return nil, p.errf("invalid number: no digits in the exponent")
		}
	}
	p.pos = i
	return json.Number(d[start:i]), nil
}

func (p *parser) str() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	d := p.data
	// Fast path: no escapes, ASCII or valid UTF-8.
	for i := start; i < len(d); i++ {
		c := d[i]
		if c == '"' {
			s := d[start:i]
			if !utf8.Valid(s) {
				p.pos = start
				return "", p.errf("string is not valid UTF-8")
			}
			p.pos = i + 1
			return string(s), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			p.pos = i
			return "", p.errf("control character in a string")
		}
	}
	var b []byte
	i := start
	for {
		if i >= len(d) {
			p.pos = i
			return "", p.errf("unterminated string")
		}
		c := d[i]
		switch {
		case c == '"':
			if !utf8.Valid(b) {
				p.pos = start
				return "", p.errf("string is not valid UTF-8")
			}
			p.pos = i + 1
			return string(b), nil
		case c < 0x20:
			p.pos = i
			return "", p.errf("control character in a string")
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		// Escape.
		if i+1 >= len(d) {
			p.pos = i
			return "", p.errf("unterminated escape")
		}
		e := d[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(d, i)
			if !ok {
				p.pos = i
				return "", p.errf("invalid \\u escape")
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r >= 0xDC00 || i+6 > len(d) || d[i] != '\\' || d[i+1] != 'u' {
					p.pos = i
					return "", p.errf("unpaired surrogate in a \\u escape")
				}
				r2, ok := hex4(d, i+2)
				if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
					p.pos = i
					return "", p.errf("unpaired surrogate in a \\u escape")
				}
				i += 6
				r = utf16.DecodeRune(r, r2)
			}
			b = utf8.AppendRune(b, r)
		default:
			p.pos = i - 1
			return "", p.errf("invalid escape '\\%c'", e)
		}
	}
}

func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// Canonical encodes v in canonical JSON (see the package doc). v is a value tree from Decode, or
// any tree of map[string]any, map[string]string, []any, []string, string, bool, nil, json.Number,
// json.RawMessage and Go integer types. Any other Go value (a struct, say) is first marshalled
// with encoding/json and decoded with Decode: that is right for documents we create and sign
// ourselves, and never how a received document is verified.
func Canonical(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := encode(&b, v, 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// CanonicalBytes decodes data strictly and returns its canonical form.
func CanonicalBytes(data []byte, lim Limits) ([]byte, error) {
	v, err := Decode(data, lim)
	if err != nil {
		return nil, err
	}
	return Canonical(v)
}

func encodeErr(format string, args ...any) error {
	return &verr.InputError{What: "canonical JSON", Offset: -1, Msg: fmt.Sprintf(format, args...)}
}

func encode(b *bytes.Buffer, v any, depth int) error {
	if depth > DefaultMaxDepth*4 {
		return encodeErr("value nested too deeply")
	}
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		writeString(b, t)
	case json.Number:
		return writeNumber(b, string(t))
	case int:
		b.WriteString(strconv.FormatInt(int64(t), 10))
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(t), 10))
	case uint64:
		b.WriteString(strconv.FormatUint(t, 10))
	case uint32:
		b.WriteString(strconv.FormatUint(uint64(t), 10))
	case uint:
		b.WriteString(strconv.FormatUint(uint64(t), 10))
	case float64:
		if t != math.Trunc(t) || math.IsInf(t, 0) || math.Abs(t) > 1<<53 {
			return encodeErr("number %v is not an integer; canonical JSON has integers only", t)
		}
		b.WriteString(strconv.FormatInt(int64(t), 10))
	case map[string]any:
		return writeObject(b, t, func(v any) error { return encode(b, v, depth+1) })
	case map[string]string:
		return writeObject(b, t, func(v string) error { writeString(b, v); return nil })
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := encode(b, e, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, e)
		}
		b.WriteByte(']')
	case json.RawMessage:
		tree, err := Decode(t, Limits{MaxBytes: -1})
		if err != nil {
			return err
		}
		return encode(b, tree, depth)
	default:
		rv := reflect.ValueOf(v)
		if (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Map || rv.Kind() == reflect.Slice) && rv.IsNil() {
			b.WriteString("null")
			return nil
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return encodeErr("cannot encode %T: %v", v, err)
		}
		tree, err := Decode(raw, Limits{MaxBytes: -1})
		if err != nil {
			return err
		}
		return encode(b, tree, depth)
	}
	return nil
}

// writeObject writes m with its keys in byte order, each value written by enc.
func writeObject[V any](b *bytes.Buffer, m map[string]V, enc func(V) error) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, k)
		b.WriteByte(':')
		if err := enc(m[k]); err != nil {
			return err
		}
	}
	b.WriteByte('}')
	return nil
}

// WriteString writes s to b as a canonical JSON string: quoted, with only '"' and '\' escaped
// (the bytes of s as they are otherwise), as Canonical writes every string.
func WriteString(b *bytes.Buffer, s string) { writeString(b, s) }

func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	last := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			b.WriteString(s[last:i])
			b.WriteByte('\\')
			b.WriteByte(c)
			last = i + 1
		}
	}
	b.WriteString(s[last:])
	b.WriteByte('"')
}

// writeNumber writes an integer number's canonical text.
func writeNumber(b *bytes.Buffer, s string) error {
	if s == "" {
		return encodeErr("empty number")
	}
	digits := s
	neg := false
	if digits[0] == '-' {
		neg = true
		digits = digits[1:]
	}
	if digits == "" {
		return encodeErr("invalid number %q", s)
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return encodeErr("number %s is not an integer; canonical JSON has integers only", s)
		}
	}
	if len(digits) > 1 && digits[0] == '0' {
		return encodeErr("invalid number %q", s)
	}
	if digits == "0" {
		neg = false
	}
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(digits)
	return nil
}

// PAE returns the DSSE v1 pre-authentication encoding of payloadType and payload:
//
//	"DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload
//
// with lengths in ASCII decimal.
func PAE(payloadType string, payload []byte) []byte {
	b := make([]byte, 0, 32+len(payloadType)+len(payload))
	b = append(b, "DSSEv1 "...)
	b = strconv.AppendInt(b, int64(len(payloadType)), 10)
	b = append(b, ' ')
	b = append(b, payloadType...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(payload)), 10)
	b = append(b, ' ')
	b = append(b, payload...)
	return b
}
