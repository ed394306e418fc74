package policy

import (
	"sort"
	"strings"

	"github.com/tintoproject/tinto/pkg/rules"
)

// artifactProgram is one organisation-wide artifact rule, compiled once with pkg/rules and run
// over each link of each step the rule selects, with in-toto's queue semantics.
type artifactProgram struct {
	prog *rules.Program
	text string
}

func compileArtifactRule(verb Verb, rest string) (*artifactProgram, error) {
	fields := append([]string{string(verb)}, strings.Fields(rest)...)
	r, err := rules.Parse(fields)
	if err != nil {
		return nil, err
	}
	p, err := rules.Compile([]rules.Rule{r})
	if err != nil {
		return nil, err
	}
	return &artifactProgram{prog: p, text: strings.Join(fields, " ")}, nil
}

func toArtifacts(m map[string]Digests) rules.Artifacts {
	out := make(rules.Artifacts, len(m))
	for k, v := range m {
		out[k] = rules.Digests(v)
	}
	return out
}

// run applies the rule to one link. It returns the artifacts consumed, whether the rule was
// not applicable (matched nothing and did not fail), and the failure.
func (a *artifactProgram) run(side string, l *Link, step *Step, lay *Layout) ([]string, bool, error) {
	s := rules.Products
	if side == "materials" {
		s = rules.Materials
	}
	self := rules.StepArtifacts{Materials: toArtifacts(l.Materials), Products: toArtifacts(l.Products)}
	steps := func(name string) (rules.StepArtifacts, bool) {
		for i := range lay.Steps {
			if lay.Steps[i].Name == name && len(lay.Steps[i].Links) > 0 {
				k := &lay.Steps[i].Links[0]
				return rules.StepArtifacts{Materials: toArtifacts(k.Materials), Products: toArtifacts(k.Products)}, true
			}
		}
		return rules.StepArtifacts{}, false
	}
	res := a.prog.Run(s, self, steps)
	consumed := make([]string, 0, len(res.ConsumedBy))
	for name := range res.ConsumedBy {
		consumed = append(consumed, name)
	}
	sort.Strings(consumed)
	na := len(res.Outcomes) > 0 && res.Outcomes[0].NotApplicable
	return consumed, na && res.Err == nil, res.Err
}
