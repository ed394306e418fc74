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
