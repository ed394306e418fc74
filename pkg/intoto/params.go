package intoto

import (
	"fmt"
	"strings"

	"github.com/tintoproject/tinto/pkg/verr"
)

// substitute returns a copy of l with parameters substituted in every step's and inspection's
// artifact rules, every step's expected_command and every inspection's run, as python in-toto's
// substitute_parameters does with str.format. Supported: "{NAME}" (NAME in params), "{{" and
// "}}". Anything else str.format would interpret ("{0}", "{a.b}", "{a[0]}", "{a!r}", "{a:>4}",
// a lone brace) or an unknown NAME is a verr.LayoutInvalid error.
func substitute(l *Layout, params map[string]string) (*Layout, error) {
	c := *l
	c.Steps = make([]Step, len(l.Steps))
	c.Inspections = make([]Inspection, len(l.Inspections))
	var err error
	sub := func(item string, ss []string) []string {
		if ss == nil || err != nil {
			return ss
		}
		out := make([]string, len(ss))
		for i, s := range ss {
			if out[i], err = format(s, params); err != nil {
				err = &verr.VerificationError{Reason: verr.LayoutInvalid, Step: item, Msg: fmt.Sprintf("parameter substitution in %q", s), Err: err}
				return ss
			}
		}
		return out
	}
	subRules := func(item string, rs [][]string) [][]string {
		if rs == nil {
			return nil
		}
		out := make([][]string, len(rs))
		for i, r := range rs {
			out[i] = sub(item, r)
		}
		return out
	}
	for i, s := range l.Steps {
		s.ExpectedMaterials = subRules(s.Name, s.ExpectedMaterials)
		s.ExpectedProducts = subRules(s.Name, s.ExpectedProducts)
		s.ExpectedCommand = sub(s.Name, s.ExpectedCommand)
		c.Steps[i] = s
	}
	for i, in := range l.Inspections {
		in.ExpectedMaterials = subRules(in.Name, in.ExpectedMaterials)
		in.ExpectedProducts = subRules(in.Name, in.ExpectedProducts)
		in.Run = sub(in.Name, in.Run)
		c.Inspections[i] = in
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// format is the subset of python's str.format(**params) described at substitute.
func format(s string, params map[string]string) (string, error) {
	if !strings.ContainsAny(s, "{}") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			b.WriteByte('}')
			i++
		case c == '}':
			return "", fmt.Errorf("single '}' at offset %d", i)
		case c == '{':
			end := strings.IndexByte(s[i+1:], '}')
			if end < 0 {
				return "", fmt.Errorf("single '{' at offset %d", i)
			}
			name := s[i+1 : i+1+end]
			if name == "" || strings.ContainsAny(name, "{.[]!:") || isDigits(name) {
				return "", fmt.Errorf("unsupported replacement field {%s} (only {NAME} is supported)", name)
			}
			v, ok := params[name]
			if !ok {
				return "", fmt.Errorf("unknown parameter %q", name)
			}
			b.WriteString(v)
			i += end + 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
