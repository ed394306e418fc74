package policy

import (
	"sort"
	"strings"

	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

// artifactProgram is one organisation-wide artifact rule, compiled once with pkg/rules and run
// over each link of each step the rule selects, with in-toto's queue semantics.
type artifactProgram struct {
	prog *rules.Program
	text string
	// disallow is set for a DISALLOW rule: it fails when its pattern matches any artifact of
	// the side, which needs no queue, so it is run directly with the rule's compiled glob.
	disallow *rules.Glob
	// pattern is the DISALLOW rule's pattern.
	pattern string
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
	ap := &artifactProgram{prog: p, text: strings.Join(fields, " ")}
	if r.Verb == rules.Verb("DISALLOW") {
		g, err := rules.CompileGlob(r.Pattern)
		if err != nil {
			return nil, err
		}
		ap.disallow, ap.pattern = g, r.Pattern
	}
	return ap, nil
}

func toArtifacts(m map[string]Digests) rules.Artifacts { return rules.Artifacts(m) }

// run applies the rule to one link. It returns the artifacts consumed, whether the rule was
// not applicable (matched nothing and did not fail), and the failure.
// namesOK says that every artifact name of the link is known to be valid (Input.Prepare).
func (a *artifactProgram) run(side string, l *Link, step *Step, lay *Layout, namesOK bool) ([]string, bool, error) {
	s := rules.Products
	if side == "materials" {
		s = rules.Materials
	}
	self := rules.StepArtifacts{Materials: toArtifacts(l.Materials), Products: toArtifacts(l.Products)}
	if a.disallow != nil {
		return a.runDisallow(self, s, namesOK)
	}
	steps := func(name string) (rules.StepArtifacts, bool) {
		for i := range lay.Steps {
			if lay.Steps[i].Name == name && len(lay.Steps[i].Links) > 0 {
				k := &lay.Steps[i].Links[0]
				return rules.StepArtifacts{Materials: toArtifacts(k.Materials), Products: toArtifacts(k.Products)}, true
			}
		}
		return rules.StepArtifacts{}, false
	}
	res := a.prog.RunWith(s, self, steps, rules.RunOptions{NamesValidated: namesOK})
	consumed := make([]string, 0, len(res.ConsumedBy))
	for name := range res.ConsumedBy {
		consumed = append(consumed, name)
	}
	sort.Strings(consumed)
	na := len(res.Outcomes) > 0 && res.Outcomes[0].NotApplicable
	return consumed, na && res.Err == nil, res.Err
}

// runDisallow is Program.Run for a lone DISALLOW rule: the queue is the whole side, and the rule
// fails on the lexicographically first name that matches (or that ValidateName rejects).
// namesOK skips ValidateName (every name is known to be valid).
func (a *artifactProgram) runDisallow(self rules.StepArtifacts, s rules.Side, namesOK bool) ([]string, bool, error) {
	queue := self.Products
	if s == rules.Materials {
		queue = self.Materials
	}
	bad, badErr := "", error(nil)
	for name := range queue {
		if namesOK {
			// checked by Input.Prepare
		} else if err := rules.ValidateName(name); err != nil {
			if bad == "" || name < bad || badErr == nil {
				bad, badErr = name, err
			}
			continue
		}
		if badErr == nil && a.disallow.Match(name) && (bad == "" || name < bad) {
			bad = name
		}
	}
	switch {
	case badErr != nil:
		return nil, false, &verr.VerificationError{Reason: verr.RuleFailed, Artifact: bad, Msg: "invalid artifact name", Err: badErr}
	case bad != "":
		return nil, false, &verr.VerificationError{Reason: verr.RuleFailed, Rule: a.text, Artifact: bad,
			Msg: "artifact matched by DISALLOW"}
	}
	return nil, true, nil
}

// literalLast returns the last byte of glob pattern when it is a literal that every name the
// pattern matches ends with, and -1 when it is not (a metacharacter, a bracket expression, a
// backslash, or a pattern that is not plain ASCII at its end). TestLiteralLast checks it
// against rules.Glob.
func literalLast(pattern string) int {
	if pattern == "" {
		return -1
	}
	c := pattern[len(pattern)-1]
	if c >= 0x80 || strings.IndexByte(`*?[]\`, c) >= 0 {
		return -1
	}
	if len(pattern) >= 2 && pattern[len(pattern)-2] == '\\' {
		return -1 // an escaped byte: left to the glob
	}
	return int(c)
}
