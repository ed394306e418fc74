package intoto

import (
	"bytes"
	"iter"
	"reflect"
	"unicode/utf8"
	"unsafe"

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
	dig *digestIntern
	// The canonical bytes of the signed value. While they equal the input (a document written
	// in canonical form already), nothing is copied: mirror is true and they are
	// d[outStart:mpos]. At the first difference they are copied to out.
	out      []byte
	mirror   bool
	outStart int
	mpos     int
}

// emit appends b to the canonical output.
func (s *fastScanner) emit(b ...byte) {
	if s.mirror {
		if s.mpos+len(b) <= len(s.d) && bytes.Equal(s.d[s.mpos:s.mpos+len(b)], b) {
			s.mpos += len(b)
			return
		}
		s.mirror = false
		s.out = make([]byte, 0, len(s.d)-s.outStart)
		s.out = append(s.out, s.d[s.outStart:s.mpos]...)
	}
	s.out = append(s.out, b...)
}

// canonical returns the canonical bytes written.
func (s *fastScanner) canonical() []byte {
	if s.mirror {
		return s.d[s.outStart:s.mpos]
	}
	return s.out
}

// digestIntern shares names and Digests between the artifact sets of one verification. The
// products of one step are usually the materials of the next, and both are sorted in a
// canonical document, so each set is merge-joined with the set parsed just before it: an
// artifact with the same name and the same single digest reuses the earlier name string and
// Digests (and its name was already validated). This halves the memory of large chains
// without any hashing. Shared values are never modified.
type digestIntern struct {
	prev entryList // the previous set, sorted by name
	// cur is the set being parsed; while same is true it is not materialised: its n entries
	// are the first n of prev.
	cur entryList
	n   int
	pos int    // cursor into prev
	alg string // the last algorithm name seen, reused rather than allocated again
	// arena is the free part of the current block for names and digests (see text).
	arena []byte
	// prevMap is the map of the previous set, curMap the one being built; same stays true
	// while every entry of the current set equals the next entry of the previous one, in which
	// case the current set is the previous set and its map is reused.
	prevMap, curMap rules.Artifacts
	same            bool
	// orders records, for every artifact map the parser made, its entries in the order they
	// were parsed, which is the order of their bytes in memory (see queueOf).
	orders []setOrder
}

// setOrder is an artifact map and its entries in parse order.
type setOrder struct {
	m       rules.Artifacts
	entries entryList
}

// queueOf returns the entries of a, an artifact map this parser made, as a sequence in parse
// order, or nil for any other map. Rules visiting artifacts in this order read their names and
// digests front to back instead of at random places (map order).
func (t *digestIntern) queueOf(a rules.Artifacts) iter.Seq2[string, rules.Digests] {
	if a == nil {
		return nil
	}
	for i := range t.orders {
		o := &t.orders[i]
		if reflect.ValueOf(o.m).UnsafePointer() != reflect.ValueOf(a).UnsafePointer() {
			continue
		}
		l := o.entries
		return func(yield func(string, rules.Digests) bool) {
			for _, b := range l.blocks {
				for i := range b {
					if !yield(b[i].name, b[i].d) {
						return
					}
				}
			}
		}
	}
	return nil
}

// arenaBlock is the size of the blocks that artifact names and digests are copied into.
const arenaBlock = 64 << 10

// text returns a and b concatenated as one string. Short texts are copied into a shared block
// (one allocation for many artifacts instead of one each, without size-class rounding); the
// bytes of a block are never written again once a string refers to them.
func (t *digestIntern) text(a, b []byte) string {
	need := len(a) + len(b)
	if need == 0 {
		return ""
	}
	if need > arenaBlock/16 {
		return string(a) + string(b)
	}
	if cap(t.arena)-len(t.arena) < need {
		t.arena = make([]byte, 0, arenaBlock)
	}
	start := len(t.arena)
	t.arena = append(t.arena, a...)
	t.arena = append(t.arena, b...)
	return unsafe.String(&t.arena[start], need)
}

// algName returns alg as a string, reusing the previous one when it is the same.
func (t *digestIntern) algName(alg []byte) string {
	if t.alg != string(alg) {
		t.alg = string(alg)
	}
	return t.alg
}

type artEntry struct {
	name string
	d    rules.Digests
}

// begin starts a new set.
func (t *digestIntern) begin() {
	if t == nil {
		return
	}
	t.pos = 0
	t.cur, t.n = entryList{}, 0
	t.same = true
	t.curMap = nil
}

// push appends e to the current set; eq says e is prev[t.n], the same name and Digests.
func (t *digestIntern) push(e artEntry, eq bool) {
	if t.same && eq {
		t.n++
		return
	}
	if t.same {
		for i := range t.n {
			t.cur.push(*t.prev.at(i))
		}
		t.same = false
	}
	t.cur.push(e)
	t.n++
}

// entries returns the current set.
func (t *digestIntern) entries() entryList {
	if t.same {
		return t.prev.prefix(t.n)
	}
	return t.cur
}

// entryList is a list of artEntry kept in blocks, so that a growing list of a million entries
// is never copied to a larger array (append's growth would allocate about five times its size).
type entryList struct {
	blocks [][]artEntry
	n      int
}

const (
	entryShift = 12 // entries per block: 4096 (the first block grows up to that)
	entryBlock = 1 << entryShift
)

func (l *entryList) len() int { return l.n }

func (l *entryList) at(i int) *artEntry { return &l.blocks[i>>entryShift][i&(entryBlock-1)] }

func (l *entryList) push(e artEntry) {
	b := l.n >> entryShift
	if b == len(l.blocks) {
		c := entryBlock
		if b == 0 {
			c = 8
		}
		l.blocks = append(l.blocks, make([]artEntry, 0, c))
	}
	l.blocks[b] = append(l.blocks[b], e)
	l.n++
}

// prefix returns the list of the first n entries. It shares the blocks, which are never
// modified once written (a list is only appended to while its set is parsed), with capacities
// cut so that nothing can append into them.
func (l entryList) prefix(n int) entryList {
	if n == l.n {
		return l
	}
	k := (n + entryBlock - 1) >> entryShift
	p := entryList{blocks: make([][]artEntry, k), n: n}
	copy(p.blocks, l.blocks[:k])
	if k > 0 {
		m := n - (k-1)<<entryShift
		p.blocks[k-1] = p.blocks[k-1][:m:m]
	}
	return p
}

// each calls f for every entry in order.
func (l *entryList) each(f func(e *artEntry)) {
	for _, b := range l.blocks {
		for i := range b {
			f(&b[i])
		}
	}
}

// add records an entry that is not shared.
func (t *digestIntern) add(name string, d rules.Digests) {
	if t != nil {
		t.push(artEntry{name, d}, false)
	}
}

// end finishes the set: it becomes the one the next set is joined with.
func (t *digestIntern) end() {
	if t == nil {
		return
	}
	t.prev, t.cur = t.entries(), entryList{}
	t.prevMap, t.curMap = t.curMap, nil
}

// entry returns the name string, the Digests for a single-algorithm digest, and whether the
// name is shared with (and so was validated in) the previous set.
func (t *digestIntern) entry(name, alg, hex []byte) (string, rules.Digests, bool) {
	if t == nil {
		return string(name), oneDigest(string(alg), string(hex)), false
	}
	for t.pos < t.prev.len() && t.prev.at(t.pos).name < string(name) {
		t.pos++
	}
	if t.pos < t.prev.len() {
		if p := t.prev.at(t.pos); p.name == string(name) {
			if h, ok := p.d.Get(t.algName(alg)); ok && h == string(hex) && p.d.Len() == 1 {
				// Equal to the next entry of the previous set (none was skipped)?
				t.push(*p, t.pos == t.n)
				return p.name, p.d, true
			}
			e := artEntry{name: p.name, d: oneDigest(t.algName(alg), string(hex))}
			t.push(e, false)
			return e.name, e.d, true
		}
	}
	both := t.text(name, hex)
	e := artEntry{name: both[:len(name)], d: oneDigest(t.algName(alg), both[len(name):])}
	t.push(e, false)
	return e.name, e.d, false
}

// oneDigest returns the Digests {alg: hex} for a hex string the scanner has checked.
func oneDigest(alg, hex string) rules.Digests {
	if alg == "sha256" {
		return rules.SHA256(hex)
	}
	d, err := rules.NewDigest(alg, hex)
	if err != nil {
		panic("intoto: a checked hex digest was rejected: " + err.Error())
	}
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

// plainByte marks the bytes that a JSON string holds as themselves and that need no UTF-8
// check: printable ASCII other than '"' and '\\' (read-only).
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str reads a string without escapes and returns its raw (== decoded) bytes.
func (s *fastScanner) str() ([]byte, bool) {
	s.ws()
	if s.i >= len(s.d) || s.d[s.i] != '"' {
		return nil, false
	}
	start := s.i + 1
	// One pass for the usual string of plain ASCII; anything else takes the general loop.
	k := start
	for k < len(s.d) && plainByte[s.d[k]] {
		k++
	}
	if k < len(s.d) && s.d[k] == '"' {
		s.i = k + 1
		return s.d[start:k], true
	}
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

// hexStr reads a string of one or more hex digits (the only digest the fast path accepts; any
// other string is left to the general path) and returns its bytes: what str returns when it
// is a non-empty string of hex digits, in one pass.
func (s *fastScanner) hexStr() ([]byte, bool) {
	s.ws()
	if s.i >= len(s.d) || s.d[s.i] != '"' {
		return nil, false
	}
	start := s.i + 1
	k := start
	for k < len(s.d) && hexDigit[s.d[k]] {
		k++
	}
	if k == start || k >= len(s.d) || s.d[k] != '"' {
		return nil, false
	}
	s.i = k + 1
	return s.d[start:k], true
}

func (s *fastScanner) writeStr(raw []byte) {
	// raw is always a part of the input; in mirror mode, when it is the very text at the
	// output position, the quoted string is the same bytes without comparing them.
	if s.mirror && len(raw) > 0 && s.mpos+len(raw)+2 <= len(s.d) && s.d[s.mpos] == '"' &&
		&s.d[s.mpos+1] == &raw[0] && s.d[s.mpos+1+len(raw)] == '"' {
		s.mpos += len(raw) + 2
		return
	}
	s.emit('"')
	s.emit(raw...)
	s.emit('"')
}

// artifacts parses {"name": {"alg": "hex", ...}, ...} with names and algorithms in strictly
// increasing order, writing its canonical form. Names not shared with the previous set are
// validated (rules.ValidateName).
func (s *fastScanner) artifacts() (rules.Artifacts, bool) {
	if !s.lit('{') {
		return nil, false
	}
	var entries entryList // used when there is no digestIntern
	s.dig.begin()
	defer s.dig.end()
	s.emit('{')
	var prev []byte
	if !s.lit('}') {
		for first := true; ; first = false {
			name, ok := s.str()
			if !ok || (!first && bytes.Compare(prev, name) >= 0) {
				return nil, false
			}
			prev = name
			if !first {
				s.emit(',')
			}
			s.writeStr(name)
			s.emit(':', '{')
			if !s.lit(':') || !s.lit('{') {
				return nil, false
			}
			var d rules.Digests
			var more map[string]string // the digests of an artifact with several algorithms
			var prevAlg, alg0, hex0 []byte
			n := 0
			if !s.lit('}') {
				for {
					alg, ok := s.str()
					if !ok || (n > 0 && bytes.Compare(prevAlg, alg) >= 0) || !s.lit(':') {
						return nil, false
					}
					hex, ok := s.hexStr()
					if !ok {
						return nil, false
					}
					if n > 0 {
						s.emit(',')
					}
					s.writeStr(alg)
					s.emit(':')
					s.writeStr(hex)
					switch n {
					case 0:
						alg0, hex0 = alg, hex
					case 1:
						more = map[string]string{string(alg0): string(hex0)}
						fallthrough
					default:
						more[string(alg)] = string(hex)
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
			var nameStr string
			shared := false
			switch n {
			case 0:
				nameStr = string(name)
				s.dig.add(nameStr, d)
			case 1:
				nameStr, d, shared = s.dig.entry(name, alg0, hex0)
			default:
				nameStr = string(name)
				var err error
				if d, err = rules.NewDigests(more); err != nil {
					return nil, false
				}
				s.dig.add(nameStr, d)
			}
			if !shared && rules.ValidateName(nameStr) != nil {
				return nil, false
			}
			s.emit('}')
			if s.dig == nil {
				entries.push(artEntry{nameStr, d})
			}
			if s.lit('}') {
				break
			}
			if !s.lit(',') {
				return nil, false
			}
		}
	}
	s.emit('}')
	if s.dig != nil {
		entries = s.dig.entries()
		if s.dig.same && s.dig.prevMap != nil && entries.len() == s.dig.prev.len() {
			// The same artifacts as the previous set (typically: a step's materials are the
			// previous step's products): share the map.
			s.dig.curMap = s.dig.prevMap
			return s.dig.prevMap, true
		}
	}
	out := make(rules.Artifacts, entries.len())
	entries.each(func(e *artEntry) {
		out[e.name] = e.d
	})
	if s.dig != nil {
		s.dig.curMap = out
		if len(out) == entries.len() { // always: names are strictly increasing
			s.dig.orders = append(s.dig.orders, setOrder{out, entries})
		}
	}
	return out, true
}

// hexDigit is a lookup table of the hexadecimal digits (read-only).
var hexDigit = [256]bool{
	'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true,
	'a': true, 'b': true, 'c': true, 'd': true, 'e': true, 'f': true,
	'A': true, 'B': true, 'C': true, 'D': true, 'E': true, 'F': true,
}

// fastMetablockLink tries the fast path. ok is false when the general path must decide.
func fastMetablockLink(data []byte, lim cjson.Limits, dig *digestIntern) (*Envelope, *Link, bool) {
	if lim.MaxDepth > 0 && lim.MaxDepth < 8 {
		return nil, nil, false
	}
	// Values inside "signed" are two levels down in the document: decode them with two levels
	// less, so that the fast path is never more lenient than the strict one.
	sub := lim
	if sub.MaxDepth <= 0 {
		sub.MaxDepth = cjson.DefaultMaxDepth
	}
	sub.MaxDepth -= 2
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
			s.ws()
			s.mirror, s.outStart, s.mpos = true, s.i, s.i
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
	env, err := parseMetablock("link", map[string]any{"signed": signed, "signatures": sigTree}, s.canonical())
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
	s.emit('{')
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
			s.emit(',')
		}
		s.writeStr(key)
		s.emit(':')
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
			s.emit(c...)
			tree[string(key)] = v
		}
		if s.lit('}') {
			break
		}
		if !s.lit(',') {
			return nil, nil, false
		}
	}
	s.emit('}')
	l, err := linkFromTree(tree)
	if err != nil {
		return nil, nil, false
	}
	if mats != nil {
		l.Materials = mats
	}
	if prods != nil {
		l.Products = prods
	}
	return l, tree, true
}
