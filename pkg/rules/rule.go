package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tintoproject/tinto/pkg/verr"
)

// Verb is an artifact rule's keyword, in upper case.
type Verb string

// The artifact rule verbs.
const (
	Match    Verb = "MATCH"
	Create   Verb = "CREATE"
	Delete   Verb = "DELETE"
	Modify   Verb = "MODIFY"
	Allow    Verb = "ALLOW"
	Disallow Verb = "DISALLOW"
	Require  Verb = "REQUIRE"
)

// The destination types of a MATCH rule (Rule.DstType).
const (
	DstMaterials = "MATERIALS"
	DstProducts  = "PRODUCTS"
)

// Rule is one parsed artifact rule. Parse fills every field; a Rule built by hand is checked
// again by Compile. A Rule is a plain value and is safe for concurrent use once built.
type Rule struct {
	Verb Verb
	// Pattern is the fnmatch pattern, or for REQUIRE the literal artifact name.
	Pattern string
	// SrcPrefix, DstType, DstPrefix and DstStep are set for MATCH only. The prefixes are ""
	// when absent. DstType is DstMaterials or DstProducts.
	SrcPrefix, DstType, DstPrefix, DstStep string
	// Text is the rule as written in the layout (the fields, keywords in their original case).
	Text []string
}

// String returns the rule as written (its fields joined by spaces), or, for a Rule built by
// hand without Text, its canonical spelling.
func (r Rule) String() string {
	if len(r.Text) > 0 {
		return strings.Join(r.Text, " ")
	}
	return strings.Join(r.Fields(), " ")
}

// Fields returns the canonical fields of the rule, with upper-case keywords, as in-toto's
// pack_rule writes them.
func (r Rule) Fields() []string {
	if r.Verb != Match {
		return []string{string(r.Verb), r.Pattern}
	}
	f := []string{string(Match), r.Pattern}
	if r.SrcPrefix != "" {
		f = append(f, "IN", r.SrcPrefix)
	}
	f = append(f, "WITH", r.DstType)
	if r.DstPrefix != "" {
		f = append(f, "IN", r.DstPrefix)
	}
	return append(f, "FROM", r.DstStep)
}

// lowerASCII lower-cases A-Z only. Python's str.lower() also maps some non-ASCII characters,
// but none of them to a character of a keyword, so for keyword comparison the two agree
// (strings.EqualFold would not: it folds 'ſ' to 's').
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

const (
	genericForms = "CREATE <pattern>, DELETE <pattern>, MODIFY <pattern>, ALLOW <pattern>, DISALLOW <pattern> or REQUIRE <name>"
	matchForm    = "MATCH <pattern> [IN <source-prefix>] WITH (MATERIALS|PRODUCTS) [IN <destination-prefix>] FROM <step>"
)

// Parse parses one artifact rule, given as the list of strings a layout holds, the way python
// in-toto 1.3.1's rulelib.unpack_rule does: keywords (the verb, IN, WITH, FROM, MATERIALS,
// PRODUCTS) are case-insensitive, everything else keeps its case. The forms are
//
//	MATCH <pattern> [IN <source-prefix>] WITH (MATERIALS|PRODUCTS) [IN <destination-prefix>] FROM <step>
//	CREATE <pattern> | DELETE <pattern> | MODIFY <pattern> | ALLOW <pattern> | DISALLOW <pattern>
//	REQUIRE <name>
//
// Beyond unpack_rule, Parse also rejects (see docs/rules.md): patterns with an empty, `.` or `..`
// literal path segment, an empty pattern, patterns longer than MaxPatternLen, invalid prefixes,
// a REQUIRE name that ValidateName rejects, and fields that are not valid UTF-8.
// Every failure is an *verr.InputError naming the rule; Parse never panics.
func Parse(fields []string) (Rule, error) {
	bad := func(format string, args ...any) (Rule, error) {
		return Rule{}, &verr.InputError{What: "artifact rule " + strconv.Quote(strings.Join(fields, " ")), Offset: -1, Msg: fmt.Sprintf(format, args...)}
	}
	if len(fields) == 0 {
		return bad("empty rule")
	}
	for _, f := range fields {
		if !utf8.ValidString(f) {
			return bad("a field is not valid UTF-8")
		}
	}
	low := make([]string, len(fields))
	for i, f := range fields {
		low[i] = lowerASCII(f)
	}
	r := Rule{Text: append([]string(nil), fields...)}
	switch low[0] {
	case "create", "delete", "modify", "allow", "disallow", "require":
		r.Verb = Verb(strings.ToUpper(low[0]))
		if len(fields) != 2 {
			return bad("%s takes exactly one argument; rules have the form %s", r.Verb, genericForms)
		}
		r.Pattern = fields[1]
	case "match":
		r.Verb = Match
		if len(fields) < 2 {
			return bad("MATCH rules have the form %s", matchForm)
		}
		r.Pattern = fields[1]
		n := len(fields)
		switch {
		case n == 10 && low[2] == "in" && low[4] == "with" && low[6] == "in" && low[8] == "from":
			r.SrcPrefix, r.DstType, r.DstPrefix, r.DstStep = fields[3], low[5], fields[7], fields[9]
		case n == 8 && low[2] == "in" && low[4] == "with" && low[6] == "from":
			r.SrcPrefix, r.DstType, r.DstStep = fields[3], low[5], fields[7]
		case n == 8 && low[2] == "with" && low[4] == "in" && low[6] == "from":
			r.DstType, r.DstPrefix, r.DstStep = low[3], fields[5], fields[7]
		case n == 6 && low[2] == "with" && low[4] == "from":
			r.DstType, r.DstStep = low[3], fields[5]
		default:
			return bad("MATCH rules have the form %s", matchForm)
		}
		switch r.DstType {
		case "materials":
			r.DstType = DstMaterials
		case "products":
			r.DstType = DstProducts
		default:
			return bad("the destination of a MATCH rule must be MATERIALS or PRODUCTS (any case), not %q", r.DstType)
		}
	default:
		if len(fields) < 2 {
			return bad("a rule needs a keyword and a pattern; rules have the form %s, or %s", genericForms, matchForm)
		}
		return bad("unknown keyword %q; rules have the form %s, or %s", fields[0], genericForms, matchForm)
	}
	if msg := r.check(); msg != "" {
		return bad("%s", msg)
	}
	return r, nil
}

// check validates the fields of a rule (built by Parse or by hand) and returns "" or a message.
func (r *Rule) check() string {
	switch r.Verb {
	case Match:
		if r.DstType != DstMaterials && r.DstType != DstProducts {
			return fmt.Sprintf("the destination type must be %s or %s, not %q", DstMaterials, DstProducts, r.DstType)
		}
		if msg := validatePrefix(r.SrcPrefix); msg != "" {
			return "source prefix " + strconv.Quote(r.SrcPrefix) + ": " + msg
		}
		if msg := validatePrefix(r.DstPrefix); msg != "" {
			return "destination prefix " + strconv.Quote(r.DstPrefix) + ": " + msg
		}
	case Create, Delete, Modify, Allow, Disallow:
		if r.SrcPrefix != "" || r.DstType != "" || r.DstPrefix != "" || r.DstStep != "" {
			return fmt.Sprintf("%s takes no IN, WITH or FROM", r.Verb)
		}
	case Require:
		if r.SrcPrefix != "" || r.DstType != "" || r.DstPrefix != "" || r.DstStep != "" {
			return "REQUIRE takes no IN, WITH or FROM"
		}
		if msg := checkName(r.Pattern); msg != "" {
			return "REQUIRE name " + strconv.Quote(r.Pattern) + ": " + msg
		}
		return ""
	default:
		return fmt.Sprintf("unknown verb %q", r.Verb)
	}
	if msg := validatePattern("pattern", r.Pattern); msg != "" {
		return "pattern " + strconv.Quote(r.Pattern) + ": " + msg
	}
	return ""
}

// ParseList parses a list of rules (a step's expected_materials or expected_products). It
// returns every bad rule's error, joined, each naming the rule's index.
func ParseList(list [][]string) ([]Rule, error) {
	out := make([]Rule, 0, len(list))
	var errs []error
	for i, f := range list {
		r, err := Parse(f)
		if err != nil {
			var ie *verr.InputError
			if errors.As(err, &ie) {
				ie.What = fmt.Sprintf("%s (rule %d)", ie.What, i)
			}
			errs = append(errs, err)
			continue
		}
		out = append(out, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
