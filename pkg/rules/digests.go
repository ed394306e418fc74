package rules

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"

	"github.com/tintoproject/tinto/pkg/verr"
)

// Digests is the set of digests of one artifact: a hash algorithm ("sha256", ...) maps to a hex
// digest. It is an immutable value (copy it freely; it is safe for concurrent use) holding one
// string in a canonical encoding, so that == is exactly the equality of the two digest maps
// (python's dict comparison, as in-toto compares artifacts): the same algorithms with the same
// digest strings. Digests are compared as written: "AB" and "ab" differ.
//
// The zero value is the empty set (an artifact recorded with "{}"). Build a Digests with
// NewDigest, NewDigests or MustDigests, or read one from JSON; its JSON form is the object
// {"sha256": "…", …}.
//
// Every digest is a non-empty string of hex digits (upper or lower case); an algorithm name may
// be any string.
type Digests struct {
	// enc is "" (no digests), the hex digest itself for the single algorithm "sha256" (the
	// common case, stored without overhead), or else, for each algorithm in increasing byte
	// order: hex + '/' + uvarint(len(alg)) + alg. A hex digest holds no '/', so the first '/'
	// tells the two forms apart and ends each digest.
	enc string
}

// sha256Alg is the algorithm stored without overhead.
const sha256Alg = "sha256"

// NewDigest returns the digests of a single algorithm. The digest must be a non-empty hex string.
func NewDigest(alg, hex string) (Digests, error) {
	if !isHexString(hex) {
		return Digests{}, verr.Invalid("digest", "%s digest %q is not a hex string", alg, hex)
	}
	if alg == sha256Alg {
		return Digests{enc: hex}, nil
	}
	return Digests{enc: string(appendEntry(make([]byte, 0, len(hex)+len(alg)+2+binary.MaxVarintLen64), alg, hex))}, nil
}

// SHA256 returns the digests {"sha256": hex} without checking hex: for a caller that produced
// hex itself (hex.EncodeToString) or has checked it. hex must be a non-empty hex string.
func SHA256(hex string) Digests { return Digests{enc: hex} }

// NewDigests returns the digests of m. Every value must be a non-empty hex string; an empty (or
// nil) m is the zero Digests.
func NewDigests(m map[string]string) (Digests, error) {
	if len(m) == 1 {
		for alg, h := range m {
			return NewDigest(alg, h)
		}
	}
	algs := make([]string, 0, len(m))
	n := 0
	for alg, h := range m {
		if !isHexString(h) {
			return Digests{}, verr.Invalid("digest", "%s digest %q is not a hex string", alg, h)
		}
		algs = append(algs, alg)
		n += len(h) + len(alg) + 1 + binary.MaxVarintLen64
	}
	if len(algs) == 0 {
		return Digests{}, nil
	}
	slices.Sort(algs)
	b := make([]byte, 0, n)
	for _, alg := range algs {
		b = appendEntry(b, alg, m[alg])
	}
	return Digests{enc: string(b)}, nil
}

// MustDigests is NewDigests for digests known to be valid; it panics otherwise. For tests and
// examples.
func MustDigests(m map[string]string) Digests {
	d, err := NewDigests(m)
	if err != nil {
		panic(err)
	}
	return d
}

func appendEntry(b []byte, alg, hex string) []byte {
	b = append(b, hex...)
	b = append(b, '/')
	b = binary.AppendUvarint(b, uint64(len(alg)))
	return append(b, alg...)
}

// IsZero reports whether d holds no digest.
func (d Digests) IsZero() bool { return d.enc == "" }

// Len returns the number of algorithms.
func (d Digests) Len() int {
	if d.enc == "" {
		return 0
	}
	if !d.multi() {
		return 1
	}
	n := 0
	for range d.All() {
		n++
	}
	return n
}

// multi reports whether d uses the general encoding.
func (d Digests) multi() bool { return strings.IndexByte(d.enc, '/') >= 0 }

// Get returns the digest for alg, and whether d has one.
func (d Digests) Get(alg string) (string, bool) {
	if d.enc == "" {
		return "", false
	}
	if !d.multi() {
		if alg == sha256Alg {
			return d.enc, true
		}
		return "", false
	}
	for a, h := range d.All() {
		if a == alg {
			return h, true
		}
	}
	return "", false
}

// All yields every algorithm and its digest, in increasing byte order of the algorithms.
func (d Digests) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		s := d.enc
		if s == "" {
			return
		}
		if strings.IndexByte(s, '/') < 0 {
			yield(sha256Alg, s)
			return
		}
		for s != "" {
			i := strings.IndexByte(s, '/')
			if i < 0 {
				return // not produced by this package's constructors
			}
			h := s[:i]
			s = s[i+1:]
			n, k := uvarint(s)
			if k <= 0 || len(s)-k < n {
				return
			}
			alg := s[k : k+n]
			s = s[k+n:]
			if !yield(alg, h) {
				return
			}
		}
	}
}

// Map returns the digests as a new map (empty, not nil, for the zero Digests).
func (d Digests) Map() map[string]string {
	m := make(map[string]string, 1)
	for a, h := range d.All() {
		m[a] = h
	}
	return m
}

// String returns the digests as "alg:hex" pairs in algorithm order, separated by spaces.
func (d Digests) String() string {
	var b strings.Builder
	for a, h := range d.All() {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a)
		b.WriteByte(':')
		b.WriteString(h)
	}
	return b.String()
}

// MarshalJSON returns the JSON object {"alg": "hex", ...} with the algorithms sorted, as
// encoding/json writes a map[string]string.
func (d Digests) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for a, h := range d.All() {
		if len(b) > 1 {
			b = append(b, ',')
		}
		k, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		b = append(b, k...)
		b = append(b, ':', '"')
		b = append(b, h...) // hex digits need no escaping
		b = append(b, '"')
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads a JSON object of hex digest strings. It rejects anything else, a
// duplicate algorithm, and a digest that is empty or not hex, with a *verr.InputError; null is
// rejected too (an artifact without digests is "{}").
func (d *Digests) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return &verr.InputError{What: "digests", Offset: -1, Msg: "not a JSON object", Err: err}
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return verr.Invalid("digests", "not a JSON object")
	}
	m := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return &verr.InputError{What: "digests", Offset: -1, Msg: "bad JSON", Err: err}
		}
		alg := tok.(string) // object keys are strings
		tok, err = dec.Token()
		if err != nil {
			return &verr.InputError{What: "digests", Offset: -1, Msg: "bad JSON", Err: err}
		}
		h, ok := tok.(string)
		if !ok {
			return verr.Invalid("digests", "%s digest is not a string", alg)
		}
		if _, dup := m[alg]; dup {
			return verr.Invalid("digests", "duplicate algorithm %q", alg)
		}
		m[alg] = h
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return &verr.InputError{What: "digests", Offset: -1, Msg: "bad JSON", Err: err}
	}
	if _, err := dec.Token(); err != io.EOF {
		return verr.Invalid("digests", "data after the object")
	}
	nd, err := NewDigests(m)
	if err != nil {
		return err
	}
	*d = nd
	return nil
}

// uvarint decodes the length at the start of s: the length and the bytes it took (0 if bad).
func uvarint(s string) (int, int) {
	var x uint64
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if x > 1<<31 {
				return 0, 0
			}
			return int(x), i + 1
		}
	}
	return 0, 0
}

// isHexString reports whether s is a non-empty string of hex digits.
func isHexString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// GoString makes %#v print the digests readably.
func (d Digests) GoString() string { return fmt.Sprintf("rules.MustDigests(%#v)", d.Map()) }
