package rules

import (
	"strings"
	"unicode/utf8"

	"github.com/tintoproject/tinto/pkg/verr"
)

// MaxPatternLen is the longest pattern, in bytes, that CompileGlob (and so Parse and Compile)
// accepts. Longer patterns are an *verr.InputError. Real layouts use patterns of a few dozen
// bytes; the cap bounds the cost of matching a hostile pattern.
const MaxPatternLen = 4096

// Glob is a compiled fnmatch pattern with the semantics of python's fnmatch.fnmatchcase (which is
// what fnmatch.filter does on POSIX, and so what python in-toto 1.3.1 does):
//
//   - `*` matches any sequence of characters, including `/` and the empty sequence;
//   - `?` matches exactly one character (a Unicode code point), including `/`;
//   - `[seq]` matches one character in seq and `[!seq]` one character not in seq. A `]` right
//     after `[` or `[!` belongs to the set. `a-z` is a range of code points. Ranges and hyphens
//     are resolved exactly as python's fnmatch.translate resolves them (a reversed range such as
//     `z-a` is dropped, so `[z-a]` matches nothing and `[!z-a]` matches any character);
//   - a `[` without a closing `]` is a literal `[`;
//   - every other character, the backslash included, matches itself: there are no escapes;
//   - matching is case-sensitive and anchored at both ends.
//
// Matching runs in O(len(name)) for patterns made of literal runs and stars (the common case)
// and in O(len(name)·len(pattern)) at worst, with no backtracking beyond that.
//
// A Glob is immutable and safe for concurrent use.
type Glob struct {
	pattern string
	star    bool      // the pattern contains at least one '*'
	head    *segment  // anchored at the start (nil when the pattern starts with '*')
	tail    *segment  // anchored at the end (nil when the pattern ends with '*'); nil if !star
	mid     []segment // segments between stars, matched leftmost-first
	whole   *segment  // the single segment when !star
	shape   shape
	lit     string // literal text for shapeLiteral, shapePrefix (prefix), shapeSuffix (suffix)
	lit2    string // suffix for shapePrefixSuffix
}

type shape uint8

const (
	shapeGeneral      shape = iota
	shapeLiteral            // "abc"
	shapeAny                // "*"
	shapePrefix             // "abc*"
	shapeSuffix             // "*abc"
	shapePrefixSuffix       // "abc*xyz"
)

type tokKind uint8

const (
	tokLit tokKind = iota
	tokAny
	tokClass
	tokStar
)

type token struct {
	kind tokKind
	lit  string
	cls  *class
}

// segment is a star-free run of tokens. Every token but a literal matches exactly one character.
type segment struct {
	toks []token
	lit  string // the whole segment when pure
	pure bool   // the segment is one literal (or empty)
}

// class is a resolved bracket expression.
type class struct {
	neg    bool
	any    bool // matches any character (python's "[!z-a]")
	none   bool // matches nothing (python's "[z-a]")
	ascii  [2]uint64
	ranges []runeRange // non-ASCII members (and ASCII ones too, for simplicity of the reference)
}

type runeRange struct{ lo, hi rune }

func (c *class) has(r rune) bool {
	if c.any {
		return true
	}
	if c.none {
		return false
	}
	in := false
	if r >= 0 && r < 128 {
		in = c.ascii[r>>6]&(1<<(uint(r)&63)) != 0
	} else {
		for _, rr := range c.ranges {
			if rr.lo <= r && r <= rr.hi {
				in = true
				break
			}
		}
	}
	return in != c.neg
}

func (c *class) add(lo, hi rune) {
	for r := lo; r <= hi && r < 128; r++ {
		if r >= 0 {
			c.ascii[r>>6] |= 1 << (uint(r) & 63)
		}
	}
	if hi >= 128 {
		if lo < 128 {
			lo = 128
		}
		c.ranges = append(c.ranges, runeRange{lo, hi})
	}
}

// CompileGlob compiles an fnmatch pattern. It fails, with an *verr.InputError, only when the
// pattern is longer than MaxPatternLen or is not valid UTF-8.
func CompileGlob(pattern string) (*Glob, error) {
	if len(pattern) > MaxPatternLen {
		return nil, verr.Invalid("pattern", "pattern is %d bytes long, more than the limit of %d", len(pattern), MaxPatternLen)
	}
	if !utf8.ValidString(pattern) {
		return nil, verr.Invalid("pattern", "pattern %q is not valid UTF-8", pattern)
	}
	toks, err := tokenize(pattern)
	if err != nil {
		return nil, err
	}
	g := &Glob{pattern: pattern}
	var segs []segment
	cur := segment{}
	for _, t := range toks {
		if t.kind == tokStar {
			g.star = true
			segs = append(segs, finishSegment(cur))
			cur = segment{}
			continue
		}
		cur.toks = append(cur.toks, t)
	}
	segs = append(segs, finishSegment(cur))
	if !g.star {
		g.whole = &segs[0]
		if g.whole.pure {
			g.shape, g.lit = shapeLiteral, g.whole.lit
		}
		return g, nil
	}
	first, last := segs[0], segs[len(segs)-1]
	if len(first.toks) > 0 {
		g.head = &first
	}
	if len(last.toks) > 0 {
		g.tail = &last
	}
	g.mid = segs[1 : len(segs)-1]
	if len(g.mid) == 0 {
		switch {
		case g.head == nil && g.tail == nil:
			g.shape = shapeAny
		case g.tail == nil && g.head.pure:
			g.shape, g.lit = shapePrefix, g.head.lit
		case g.head == nil && g.tail.pure:
			g.shape, g.lit = shapeSuffix, g.tail.lit
		case g.head != nil && g.tail != nil && g.head.pure && g.tail.pure:
			g.shape, g.lit, g.lit2 = shapePrefixSuffix, g.head.lit, g.tail.lit
		}
	}
	return g, nil
}

// MustCompileGlob is CompileGlob for patterns known to be valid; it panics otherwise.
// It is meant for tests and package-level constants.
func MustCompileGlob(pattern string) *Glob {
	g, err := CompileGlob(pattern)
	if err != nil {
		panic(err)
	}
	return g
}

// MatchGlob reports whether name matches pattern (see Glob). It compiles the pattern each time;
// use CompileGlob to match many names.
func MatchGlob(pattern, name string) (bool, error) {
	g, err := CompileGlob(pattern)
	if err != nil {
		return false, err
	}
	return g.Match(name), nil
}

// String returns the pattern as written.
func (g *Glob) String() string { return g.pattern }

func finishSegment(s segment) segment {
	switch {
	case len(s.toks) == 0:
		s.pure = true
	case len(s.toks) == 1 && s.toks[0].kind == tokLit:
		s.pure, s.lit = true, s.toks[0].lit
	}
	return s
}

// literalPrefix returns the literal text every match starts with.
func (g *Glob) literalPrefix() string {
	s := g.head
	if !g.star {
		s = g.whole
	}
	if s == nil || len(s.toks) == 0 || s.toks[0].kind != tokLit {
		return ""
	}
	return s.toks[0].lit
}

// literalSuffix returns the literal text every match ends with.
func (g *Glob) literalSuffix() string {
	s := g.tail
	if !g.star {
		s = g.whole
	}
	if s == nil || len(s.toks) == 0 || s.toks[len(s.toks)-1].kind != tokLit {
		return ""
	}
	return s.toks[len(s.toks)-1].lit
}

// tokenize follows python's fnmatch.translate character by character.
func tokenize(pattern string) ([]token, error) {
	pat := []rune(pattern)
	n := len(pat)
	var toks []token
	var lit []rune
	flush := func() {
		if len(lit) > 0 {
			toks = append(toks, token{kind: tokLit, lit: string(lit)})
			lit = lit[:0]
		}
	}
	for i := 0; i < n; {
		c := pat[i]
		i++
		switch c {
		case '*':
			flush()
			if len(toks) == 0 || toks[len(toks)-1].kind != tokStar {
				toks = append(toks, token{kind: tokStar})
			}
		case '?':
			flush()
			toks = append(toks, token{kind: tokAny})
		case '[':
			j := i
			if j < n && pat[j] == '!' {
				j++
			}
			if j < n && pat[j] == ']' {
				j++
			}
			for j < n && pat[j] != ']' {
				j++
			}
			if j >= n {
				lit = append(lit, '[')
				continue
			}
			cls, err := bracket(pat, i, j)
			if err != nil {
				return nil, err
			}
			flush()
			toks = append(toks, token{kind: tokClass, cls: cls})
			i = j + 1
		default:
			lit = append(lit, c)
		}
	}
	flush()
	return toks, nil
}

// bracket resolves pat[i:j], the text between '[' and ']', exactly as fnmatch.translate does.
func bracket(pat []rune, i, j int) (*class, error) {
	stuff := pat[i:j]
	var chunks [][]rune
	if !containsRune(stuff, '-') {
		chunks = [][]rune{append([]rune(nil), stuff...)}
	} else {
		k := i + 1
		if pat[i] == '!' {
			k = i + 2
		}
		for {
			k = indexRune(pat, '-', k, j)
			if k < 0 {
				break
			}
			chunks = append(chunks, append([]rune(nil), pat[i:k]...))
			i = k + 1
			k = k + 3
		}
		chunk := append([]rune(nil), pat[i:j]...)
		if len(chunk) > 0 {
			chunks = append(chunks, chunk)
		} else {
			if len(chunks) == 0 {
				return nil, verr.Invalid("pattern", "unsupported bracket expression %q", "["+string(stuff)+"]")
			}
			chunks[len(chunks)-1] = append(chunks[len(chunks)-1], '-')
		}
		// Remove empty ranges, from the end, as python does.
		for k := len(chunks) - 1; k > 0; k-- {
			a, b := chunks[k-1], chunks[k]
			if len(a) == 0 || len(b) == 0 { // python would raise IndexError here
				return nil, verr.Invalid("pattern", "unsupported bracket expression %q", "["+string(stuff)+"]")
			}
			if a[len(a)-1] > b[0] {
				merged := append(append([]rune(nil), a[:len(a)-1]...), b[1:]...)
				chunks[k-1] = merged
				chunks = append(chunks[:k], chunks[k+1:]...)
			}
		}
	}
	// python joins the chunks with '-' (a range operator), escaping '\\' and '-' (and '&', '~',
	// '|') inside them, and hands "[" + that + "]" to the re module. Rebuild those tokens and
	// read them the way re's parser reads a set.
	type ctok struct {
		r   rune
		esc bool
	}
	var toks []ctok
	for k, ch := range chunks {
		if k > 0 {
			toks = append(toks, ctok{'-', false})
		}
		for _, r := range ch {
			toks = append(toks, ctok{r, r == '\\' || r == '-' || r == '&' || r == '~' || r == '|'})
		}
	}
	c := &class{}
	switch {
	case len(toks) == 0: // python: '(?!)'
		c.none = true
		return c, nil
	case len(toks) == 1 && toks[0] == ctok{'!', false}: // python: '.'
		c.any = true
		return c, nil
	case toks[0] == ctok{'!', false}:
		c.neg = true
		toks = toks[1:]
	}
	unsupported := func() (*class, error) {
		return nil, verr.Invalid("pattern", "unsupported bracket expression %q", "["+string(stuff)+"]")
	}
	items := 0
	for i := 0; i < len(toks); {
		t := toks[i]
		i++
		if t == (ctok{']', false}) && items > 0 {
			return unsupported() // would end the set early; fnmatch never produces this
		}
		if i < len(toks) && toks[i] == (ctok{'-', false}) {
			if i+1 == len(toks) { // "x-" then the closing ']': both literal
				c.add(t.r, t.r)
				c.add('-', '-')
				items += 2
				break
			}
			hi := toks[i+1]
			if hi == (ctok{']', false}) {
				return unsupported()
			}
			i += 2
			if hi.r < t.r { // re raises "bad character range"
				return unsupported()
			}
			c.add(t.r, hi.r)
			items++
			continue
		}
		c.add(t.r, t.r)
		items++
	}
	return c, nil
}

func containsRune(rs []rune, r rune) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// indexRune is python's str.find(r, from, to).
func indexRune(rs []rune, r rune, from, to int) int {
	if to > len(rs) {
		to = len(rs)
	}
	for k := from; k < to; k++ {
		if rs[k] == r {
			return k
		}
	}
	return -1
}

// Match reports whether name matches the pattern.
func (g *Glob) Match(name string) bool {
	switch g.shape {
	case shapeLiteral:
		return name == g.lit
	case shapeAny:
		return true
	case shapePrefix:
		return strings.HasPrefix(name, g.lit)
	case shapeSuffix:
		return strings.HasSuffix(name, g.lit)
	case shapePrefixSuffix:
		return len(name) >= len(g.lit)+len(g.lit2) && strings.HasPrefix(name, g.lit) && strings.HasSuffix(name, g.lit2)
	}
	if !g.star {
		end, ok := g.whole.matchAt(name, 0)
		return ok && end == len(name)
	}
	pos, end := 0, len(name)
	if g.head != nil {
		e, ok := g.head.matchAt(name, 0)
		if !ok {
			return false
		}
		pos = e
	}
	if g.tail != nil {
		s, ok := g.tail.matchBack(name, end)
		if !ok || s < pos {
			return false
		}
		end = s
	}
	for i := range g.mid {
		e, ok := g.mid[i].find(name[:end], pos)
		if !ok {
			return false
		}
		pos = e
	}
	return true
}

// matchAt matches s at name[p:] and returns the end of the match.
func (s *segment) matchAt(name string, p int) (int, bool) {
	for _, t := range s.toks {
		switch t.kind {
		case tokLit:
			if !strings.HasPrefix(name[p:], t.lit) {
				return 0, false
			}
			p += len(t.lit)
		case tokAny:
			if p >= len(name) {
				return 0, false
			}
			_, sz := utf8.DecodeRuneInString(name[p:])
			p += sz
		case tokClass:
			if p >= len(name) {
				return 0, false
			}
			r, sz := utf8.DecodeRuneInString(name[p:])
			if !t.cls.has(r) {
				return 0, false
			}
			p += sz
		}
	}
	return p, true
}

// matchBack matches s so that it ends at name[:end] and returns the start of the match.
func (s *segment) matchBack(name string, end int) (int, bool) {
	for i := len(s.toks) - 1; i >= 0; i-- {
		t := s.toks[i]
		switch t.kind {
		case tokLit:
			if !strings.HasSuffix(name[:end], t.lit) {
				return 0, false
			}
			end -= len(t.lit)
		case tokAny:
			if end <= 0 {
				return 0, false
			}
			_, sz := utf8.DecodeLastRuneInString(name[:end])
			end -= sz
		case tokClass:
			if end <= 0 {
				return 0, false
			}
			r, sz := utf8.DecodeLastRuneInString(name[:end])
			if !t.cls.has(r) {
				return 0, false
			}
			end -= sz
		}
	}
	return end, true
}

// find returns the end of the leftmost match of s in name[pos:].
func (s *segment) find(name string, pos int) (int, bool) {
	if s.pure {
		i := strings.Index(name[pos:], s.lit)
		if i < 0 {
			return 0, false
		}
		return pos + i + len(s.lit), true
	}
	var lead string
	if s.toks[0].kind == tokLit {
		lead = s.toks[0].lit
	}
	for p := pos; p <= len(name); {
		if lead != "" {
			i := strings.Index(name[p:], lead)
			if i < 0 {
				return 0, false
			}
			p += i
		}
		if e, ok := s.matchAt(name, p); ok {
			return e, true
		}
		if p >= len(name) {
			break
		}
		_, sz := utf8.DecodeRuneInString(name[p:])
		p += sz
	}
	return 0, false
}
