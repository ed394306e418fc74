package tjson

// StringPairs returns the members of a JSON object whose values are all strings, in order.
func StringPairs(data []byte) ([][2]string, error) {
	s := &scanner{data: data}
	var out [][2]string
	seen := map[string]bool{}
	err := s.membersBytes(func(kb []byte, start, end int) error {
		key := string(kb)
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

func (s *scanner) trailing() error {
	s.ws()
	if s.pos != len(s.data) {
		return s.errf("trailing data")
	}
	return nil
}

// Index is a sorted index of a JSON object's members: lookups by binary search. It stores one
// 4-byte offset per member (the key's opening quote); keys are read back from the data when
// compared, so an index costs about 4 bytes per member.
type Index struct {
	data []byte
	offs []int32
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
	var prev []byte
	var keyStart int
	s.keyHook = func(start int) { keyStart = start }
	err := s.membersBytes(func(key []byte, start, end int) error {
		if prev != nil || len(ix.offs) > 0 {
			if c := bytesCompare(prev, key); c == 0 {
				return s.errf("duplicate key %q", key)
			} else if c > 0 {
				sorted = false
			}
		}
		prev = key
		ix.offs = append(ix.offs, int32(keyStart))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !sorted {
		sortOffsets(ix)
		for i := 1; i < len(ix.offs); i++ {
			if bytesEqual(ix.key(i-1), ix.key(i)) {
				return nil, &SyntaxError{Msg: "duplicate key " + string(ix.key(i))}
			}
		}
	}
	return ix, nil
}

// key returns the decoded key of member i.
func (ix *Index) key(i int) []byte {
	s := &scanner{data: ix.data, pos: int(ix.offs[i]), keepRaw: true}
	k, err := s.strBytes()
	if err != nil {
		return nil
	}
	return k
}

// Len returns the number of members.
func (ix *Index) Len() int { return len(ix.offs) }

// Get returns the raw value of member key.
func (ix *Index) Get(key string) ([]byte, bool) {
	lo, hi := 0, len(ix.offs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if string(ix.key(m)) < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo >= len(ix.offs) || string(ix.key(lo)) != key {
		return nil, false
	}
	s := &scanner{data: ix.data, pos: int(ix.offs[lo]), keepRaw: true}
	if _, err := s.strBytes(); err != nil {
		return nil, false
	}
	s.ws()
	s.pos++ // ':'
	s.ws()
	start := s.pos
	if err := s.skip(0); err != nil {
		return nil, false
	}
	return ix.data[start:s.pos], true
}

// Keys calls f for every key in order.
func (ix *Index) Keys(f func(key string) bool) {
	for i := range ix.offs {
		if !f(string(ix.key(i))) {
			return
		}
	}
}
