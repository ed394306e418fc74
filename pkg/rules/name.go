package rules

import (
	"strings"
	"unicode/utf8"

	"github.com/tintoproject/tinto/pkg/verr"
)

// ValidateName reports whether name may be used as an artifact name (or as a REQUIRE name). It
// returns nil or an *verr.InputError that says what is wrong. Names are opaque strings and are
// never rewritten; ValidateName only rejects names that two readers could resolve to different
// files, because such a name can slip past a rule written for its canonical spelling (this is how
// DISALLOW was bypassed in CVE-2021-41087). A name is rejected when:
//
//   - it is empty, is not valid UTF-8, or contains a NUL byte or a backslash (a path separator on
//     Windows; python in-toto itself records `\` as `/`);
//   - it is an ITE-4 URI (it starts with `scheme://`, scheme as in RFC 3986: a letter, then
//     letters, digits, `+`, `-` or `.`) and a `/`-separated segment after `scheme://` is `.` or
//     `..`, also when percent-encoded (`%2e`, `%2E`). Empty segments are fine in a URI;
//   - otherwise (a path): a `/`-separated segment is `.`, `..` or empty. A single leading `/`
//     (an absolute path) is allowed; `//`, a trailing `/` and a name that is only `/` are not.
func ValidateName(name string) error {
	if err := checkName(name); err != "" {
		return verr.Invalid("artifact name", "%q: %s", name, err)
	}
	return nil
}

// checkName returns "" or the reason name is rejected. It does not allocate.
func checkName(name string) string {
	if name == "" {
		return "empty name"
	}
	// Fast path for the common case: bytes that need no context ('a'-'z', digits, most ASCII
	// punctuation) are skipped with one table lookup; '.' and '/' are checked against their
	// neighbours; anything else (NUL, '\\', ':', non-ASCII) takes the slow path below.
	simple := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if plain[c] {
			continue
		}
		switch c {
		case '/':
			if i > 0 && name[i-1] == '/' {
				simple = false
			}
		case '.':
			if i == 0 || name[i-1] == '/' {
				simple = false
			}
		default:
			simple = false
		}
		if !simple {
			break
		}
	}
	if simple && name[len(name)-1] != '/' {
		return ""
	}
	if !utf8.ValidString(name) {
		return "not valid UTF-8"
	}
	if strings.IndexByte(name, 0) >= 0 {
		return "contains a NUL byte"
	}
	if strings.IndexByte(name, '\\') >= 0 {
		return "contains a backslash (use '/' to separate path segments)"
	}
	if rest, ok := uriRest(name); ok {
		for _, seg := range strings.Split(rest, "/") {
			if isDotSegment(seg) {
				return "a URI path segment is '.' or '..'"
			}
		}
		return ""
	}
	p := name
	if p == "/" {
		return "the name is only '/'"
	}
	if strings.HasPrefix(p, "/") {
		p = p[1:]
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "":
			return "an empty path segment ('//' or a trailing '/')"
		case ".", "..":
			return "a path segment is '" + seg + "'"
		}
	}
	return ""
}

// plain marks the bytes that checkName's fast path accepts without looking at their neighbours.
var plain = func() (t [256]bool) {
	for c := 0x01; c < 0x80; c++ {
		switch c {
		case '/', '.', '\\', ':':
		default:
			t[c] = true
		}
	}
	return t
}()

// uriRest reports whether name starts with "scheme://" and returns what follows it.
func uriRest(name string) (string, bool) {
	i := strings.Index(name, "://")
	if i <= 0 {
		return "", false
	}
	for k := 0; k < i; k++ {
		c := name[k]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case k > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return "", false
		}
	}
	return name[i+3:], true
}

func isDotSegment(seg string) bool {
	s := strings.ReplaceAll(strings.ReplaceAll(seg, "%2e", "."), "%2E", ".")
	return s == "." || s == ".."
}

// validatePattern rejects patterns that could only match rejected names because of a literal
// segment: an empty, `.` or `..` segment (checked as for names, with the glob characters taken
// as ordinary characters), a NUL byte or invalid UTF-8, and patterns over MaxPatternLen.
// Backslashes are allowed in patterns: they are literals, as in fnmatch, and so match no valid
// name.
func validatePattern(what, pattern string) string {
	if len(pattern) > MaxPatternLen {
		return "longer than the limit of 4096 bytes"
	}
	if pattern == "" {
		return "empty pattern (it matches no valid artifact name)"
	}
	if !utf8.ValidString(pattern) {
		return "not valid UTF-8"
	}
	if strings.IndexByte(pattern, 0) >= 0 {
		return "contains a NUL byte"
	}
	if rest, ok := uriRest(pattern); ok {
		for _, seg := range strings.Split(rest, "/") {
			if isDotSegment(seg) {
				return "a URI path segment is '.' or '..'"
			}
		}
		return ""
	}
	p := pattern
	if p == "/" {
		return "the " + what + " is only '/'"
	}
	if strings.HasPrefix(p, "/") {
		p = p[1:]
	}
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "":
			return "an empty path segment ('//' or a trailing '/')"
		case ".", "..":
			return "a path segment is '" + seg + "'"
		}
	}
	return ""
}

// validatePrefix checks a MATCH source or destination prefix: "" (none), or a valid name with
// at most one trailing '/'. Backslashes are rejected (python turns them into '/').
func validatePrefix(prefix string) string {
	if prefix == "" {
		return ""
	}
	if len(prefix) > MaxPatternLen {
		return "longer than the limit of 4096 bytes"
	}
	if strings.IndexByte(prefix, '\\') >= 0 {
		return "contains a backslash (use '/')"
	}
	p := strings.TrimSuffix(prefix, "/")
	if p == "" {
		return "the prefix is only '/'"
	}
	return checkName(p)
}
