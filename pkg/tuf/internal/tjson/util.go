package tjson

import (
	"bytes"
	"sort"
)

func bytesCompare(a, b []byte) int { return bytes.Compare(a, b) }
func bytesEqual(a, b []byte) bool  { return bytes.Equal(a, b) }

func sortOffsets(ix *Index) {
	sort.Slice(ix.offs, func(i, j int) bool { return bytes.Compare(ix.key(i), ix.key(j)) < 0 })
}

// membersBytes is members with keys as bytes (no allocation for unescaped keys) and a light
// skip of values (no canonical output).
func (s *scanner) membersBytes(f func(key []byte, start, end int) error) error {
	s.ws()
	if s.pos >= len(s.data) || s.data[s.pos] != '{' {
		return s.errf("expected object")
	}
	s.pos++
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return s.trailing()
	}
	for {
		s.ws()
		s.out = s.out[:0]
		if s.keyHook != nil {
			s.keyHook(s.pos)
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
		s.ws()
		start := s.pos
		if err := s.skip(0); err != nil {
			return err
		}
		if err := f(key, start, s.pos); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.data) {
			return s.errf("unterminated object")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return s.trailing()
		default:
			return s.errf("expected ',' or '}'")
		}
	}
}

// skip passes over one value checking only its structure (strings, nesting, literals); it is
// used on data that was already validated strictly.
func (s *scanner) skip(depth int) error {
	if depth > MaxDepth {
		return s.errf("nesting deeper than %d", MaxDepth)
	}
	d := s.data
	if s.pos >= len(d) {
		return s.errf("unexpected end of input")
	}
	switch c := d[s.pos]; {
	case c == '"':
		s.pos++
		for s.pos < len(d) {
			switch d[s.pos] {
			case '\\':
				s.pos += 2
				continue
			case '"':
				s.pos++
				return nil
			}
			s.pos++
		}
		return s.errf("unterminated string")
	case c == '{' || c == '[':
		closeC := byte('}')
		if c == '[' {
			closeC = ']'
		}
		s.pos++
		for {
			s.ws()
			if s.pos >= len(d) {
				return s.errf("unterminated")
			}
			switch d[s.pos] {
			case closeC:
				s.pos++
				return nil
			case ',', ':':
				s.pos++
				continue
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
		}
	default:
		for s.pos < len(d) {
			switch d[s.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r', ':':
				return nil
			}
			s.pos++
		}
		return nil
	}
}
