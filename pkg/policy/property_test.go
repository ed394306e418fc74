package policy

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
)

// ruleGen makes random rules from a small vocabulary whose conditions are sometimes true and
// sometimes false over the fixture.
type ruleGen struct{ r *rand.Rand }

var (
	genStrengths = []string{"STRONG", "PREFERRED", "MEDIUM", "WEAK"}
	genConds     = []string{"true", "false", `params.env == "prod"`, `target.length > 5000`, `target.custom.team == "core"`}
	genSubjects  = []struct{ subject, cond string }{
		{"target", "target.length > 0"}, {"layout", `layout.name != ""`}, {"step", `step.name == "build"`},
		{"key", `key.role == "functionary"`}, {"artifact", `artifact.name.startsWith("src/")`},
	}
)

func (g ruleGen) rule(id int, strength string) string {
	s := genSubjects[g.r.Intn(len(genSubjects))]
	cond := genConds[g.r.Intn(len(genConds))]
	if strength == "" {
		strength = genStrengths[g.r.Intn(len(genStrengths))]
	}
	switch g.r.Intn(3) {
	case 0:
		return fmt.Sprintf("- {id: r%d, verb: ALLOW, strength: %s, subject: %s, where: '%s', when: '%s'}\n", id, strength, s.subject, s.cond, cond)
	case 1:
		return fmt.Sprintf("- {id: r%d, verb: DENY, strength: %s, subject: %s, where: '%s', when: '%s'}\n", id, strength, s.subject, s.cond, cond)
	default:
		return fmt.Sprintf("- {id: r%d, verb: REQUIRE, strength: %s, subject: %s, where: '%s', expect: ['%s']}\n", id, strength, s.subject, s.cond, cond)
	}
}

func (g ruleGen) rules(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = g.rule(i, "")
	}
	return out
}

func evalRules(t *testing.T, rules []string, mutate func(*Input)) *Decision {
	t.Helper()
	src := header + "rules:\n" + strings.Join(rules, "")
	if len(rules) == 0 {
		src = header + "rules: []\n"
	}
	p, _, err := Load([]byte(src), Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(rules, ""))
	}
	in := fixture()
	if mutate != nil {
		mutate(in)
	}
	return mustEval(t, p, in)
}

// mutations vary the evidence so that the base decision is sometimes deny.
var mutations = []func(*Input){nil, func(in *Input) { in.Params["env"] = "dev" }, func(in *Input) { in.Target.Length = 9999 }}

const propertyIterations = 60

func TestPropertyStrongDenyNeverAllows(t *testing.T) {
	g := ruleGen{rand.New(rand.NewSource(1))}
	for i := 0; i < propertyIterations; i++ {
		rs := g.rules(1 + g.r.Intn(6))
		m := mutations[g.r.Intn(len(mutations))]
		before := evalRules(t, rs, m)
		s := genSubjects[g.r.Intn(len(genSubjects))]
		added := append(append([]string(nil), rs...), fmt.Sprintf("- {id: added, verb: DENY, strength: STRONG, subject: %s, when: '%s'}\n", s.subject, genConds[g.r.Intn(len(genConds))]))
		g.r.Shuffle(len(added), func(a, b int) { added[a], added[b] = added[b], added[a] })
		after := evalRules(t, added, m)
		if before.Effect == Deny && after.Effect == Allow {
			t.Fatalf("adding a STRONG DENY turned deny into allow:\n%s", strings.Join(added, ""))
		}
	}
}

func TestPropertyWeakNeverDenies(t *testing.T) {
	g := ruleGen{rand.New(rand.NewSource(2))}
	for i := 0; i < propertyIterations; i++ {
		rs := g.rules(g.r.Intn(5))
		m := mutations[g.r.Intn(len(mutations))]
		before := evalRules(t, rs, m)
		added := append(append([]string(nil), rs...), g.rule(100, "WEAK"))
		after := evalRules(t, added, m)
		if before.Effect == Allow && after.Effect == Deny {
			t.Fatalf("adding a WEAK rule turned allow into deny:\n%s", strings.Join(added, ""))
		}
		// A policy of WEAK rules alone never denies evidence that verified.
		weak := []string{g.rule(0, "WEAK"), g.rule(1, "WEAK"), g.rule(2, "WEAK")}
		if d := evalRules(t, weak, m); d.Effect == Deny {
			t.Fatalf("WEAK rules denied: %s\n%s", d.Reason, strings.Join(weak, ""))
		}
	}
}

func TestPropertyOrderDoesNotMatter(t *testing.T) {
	g := ruleGen{rand.New(rand.NewSource(3))}
	for i := 0; i < propertyIterations; i++ {
		rs := g.rules(2 + g.r.Intn(6))
		m := mutations[g.r.Intn(len(mutations))]
		before := evalRules(t, rs, m)
		shuffled := append([]string(nil), rs...)
		g.r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		after := evalRules(t, shuffled, m)
		if before.Effect != after.Effect {
			t.Fatalf("reordering changed %s to %s:\n%s\nvs\n%s", before.Effect, after.Effect, strings.Join(rs, ""), strings.Join(shuffled, ""))
		}
	}
}
