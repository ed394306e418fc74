package tjson

// IndexObject scans a JSON object and returns, for each member, the span [start, end) of its
// value in data. Duplicate keys are an error.
func IndexObject(data []byte) (map[string][2]int, error) {
	s := &scanner{data: data}
	idx := map[string][2]int{}
	err := s.members(func(key string, start, end int) error {
		if _, dup := idx[key]; dup {
			return s.errf("duplicate key %q", key)
		}
		idx[key] = [2]int{start, end}
		return nil
	})
	return idx, err
}

// StringPairs returns the members of a JSON object whose values are all strings, in order.
func StringPairs(data []byte) ([][2]string, error) {
	s := &scanner{data: data}
	var out [][2]string
	seen := map[string]bool{}
	err := s.members(func(key string, start, end int) error {
		if seen[key] {
			return s.errf("duplicate key %q", key)
		}
		seen[key] = true
		sub := &scanner{data: data[start:end]}
		v, err := sub.str()
		if err != nil || sub.pos != end-start {
			return s.errf("value of %q is not a string", key)
		}
		out = append(out, [2]string{key, v})
		return nil
	})
	return out, err
}

func (s *scanner) members(f func(key string, start, end int) error) error {
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
		key, err := s.str()
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
		s.out = s.out[:0]
		if err := s.value(1); err != nil {
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

func (s *scanner) trailing() error {
	s.ws()
	if s.pos != len(s.data) {
		return s.errf("trailing data")
	}
	return nil
}

// Index is a sorted index of a JSON object's members: lookups by binary search, no per-member
// allocation (keys are subslices of the data unless they contain escapes).
type Index struct {
	data    []byte
	entries []entry
}

type entry struct {
	key        []byte
	start, end int32
}

// NewIndex scans a JSON object (at most 2 GiB) and indexes its members. Duplicate keys are an
// error.
func NewIndex(data []byte) (*Index, error) {
	if len(data) > 1<<31-1 {
		return nil, &SyntaxError{Msg: "object too large to index"}
	}
	s := &scanner{data: data, keepRaw: true}
	ix := &Index{data: data}
	sorted := true
	err := s.membersBytes(func(key []byte, start, end int) error {
		if n := len(ix.entries); n > 0 {
			if c := bytesCompare(ix.entries[n-1].key, key); c == 0 {
				return s.errf("duplicate key %q", key)
			} else if c > 0 {
				sorted = false
			}
		}
		ix.entries = append(ix.entries, entry{key, int32(start), int32(end)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !sorted {
		sortEntries(ix.entries)
		for i := 1; i < len(ix.entries); i++ {
			if bytesEqual(ix.entries[i-1].key, ix.entries[i].key) {
				return nil, &SyntaxError{Msg: "duplicate key " + string(ix.entries[i].key)}
			}
		}
	}
	return ix, nil
}

// Len returns the number of members.
func (ix *Index) Len() int { return len(ix.entries) }

// Get returns the raw value of member key.
func (ix *Index) Get(key string) ([]byte, bool) {
	lo, hi := 0, len(ix.entries)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if string(ix.entries[m].key) < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(ix.entries) && string(ix.entries[lo].key) == key {
		e := ix.entries[lo]
		return ix.data[e.start:e.end], true
	}
	return nil, false
}

// Keys calls f for every key in order.
func (ix *Index) Keys(f func(key string) bool) {
	for _, e := range ix.entries {
		if !f(string(e.key)) {
			return
		}
	}
}
