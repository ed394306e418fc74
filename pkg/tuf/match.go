package tuf

import (
	"strings"
	"unicode/utf8"
)

// matchPathPattern reports whether target matches a delegation path pattern: both are split on
// "/", must have the same number of segments, and each segment must match the pattern's
// segment with python's fnmatch semantics ("*" any run, "?" one character, "[seq]" and
// "[!seq]" sets; no escapes). This is what the specification and python-tuf do.
//
// Invalid UTF-8 (which strict JSON parsing never lets through) never matches.
func matchPathPattern(target, pattern string) bool {
	if !utf8.ValidString(target) || !utf8.ValidString(pattern) {
		return false
	}
	if strings.Count(target, "/") != strings.Count(pattern, "/") {
		return false
	}
	for {
		ti := strings.IndexByte(target, '/')
		pi := strings.IndexByte(pattern, '/')
		if ti < 0 {
			return fnmatch([]rune(target), tokenize(pattern))
		}
		if !fnmatch([]rune(target[:ti]), tokenize(pattern[:pi])) {
			return false
		}
		target, pattern = target[ti+1:], pattern[pi+1:]
	}
}

type tokKind int

const (
	tokLit tokKind = iota
	tokAny
	tokStar
	tokSet
)

type token struct {
	kind   tokKind
	r      rune
	neg    bool
	ranges [][2]rune
}

func tokenize(p string) []token {
	rs := []rune(p)
	var out []token
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '*':
			if len(out) == 0 || out[len(out)-1].kind != tokStar {
				out = append(out, token{kind: tokStar})
			}
		case '?':
			out = append(out, token{kind: tokAny})
		case '[':
			j := i + 1
			if j < len(rs) && rs[j] == '!' {
				j++
			}
			if j < len(rs) && rs[j] == ']' {
				j++
			}
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if j >= len(rs) {
				out = append(out, token{kind: tokLit, r: '['})
				continue
			}
			body := rs[i+1 : j]
			t := token{kind: tokSet}
			if len(body) > 0 && body[0] == '!' {
				t.neg = true
				body = body[1:]
			}
			for k := 0; k < len(body); k++ {
				if k+2 < len(body) && body[k+1] == '-' {
					if body[k] <= body[k+2] {
						t.ranges = append(t.ranges, [2]rune{body[k], body[k+2]})
					}
					k += 2
					continue
				}
				t.ranges = append(t.ranges, [2]rune{body[k], body[k]})
			}
			out = append(out, t)
			i = j
		default:
			out = append(out, token{kind: tokLit, r: rs[i]})
		}
	}
	return out
}

func (t token) matches(r rune) bool {
	switch t.kind {
	case tokLit:
		return t.r == r
	case tokAny:
		return true
	case tokSet:
		in := false
		for _, rg := range t.ranges {
			if r >= rg[0] && r <= rg[1] {
				in = true
				break
			}
		}
		return in != t.neg
	}
	return false
}

// fnmatch is the linear-time wildcard match with one backtracking point per star.
func fnmatch(s []rune, p []token) bool {
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) && p[pi].kind == tokStar {
			starP, starS = pi, si
			pi++
			continue
		}
		if pi < len(p) && p[pi].matches(s[si]) {
			si++
			pi++
			continue
		}
		if starP >= 0 {
			starS++
			si = starS
			pi = starP + 1
			continue
		}
		return false
	}
	for pi < len(p) && p[pi].kind == tokStar {
		pi++
	}
	return pi == len(p)
}
