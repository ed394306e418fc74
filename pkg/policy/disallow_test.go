package policy

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/tintoproject/tinto/pkg/rules"
)

// TestDisallowSharedScan checks the shared DISALLOW scan (evaluator.disallowRun, used when a
// policy has several DISALLOW rules) against each rule evaluated alone (a policy with one
// DISALLOW rule runs it directly): every rule's trail entry must be the same, on random
// evidence with matching, non-matching and invalid artifact names on both sides.
func TestDisallowSharedScan(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	names := []string{"src/main.go", "key.pem", "secret.key", "lib/a.pem", "README", "app.tar.gz",
		"../escape", "a//b", "dir/", "zz.pem", "b.key"}
	patterns := []string{"*.pem", "*.key", "*", "src/*", "lib/*.pem", "README", "*.go", "nothing"}
	steps := []string{"", "build", "pack*", "clone", "*"}
	layouts := []string{"", "l0", "l*", "l1"}
	artifacts := func() map[string]Digests {
		m := map[string]Digests{}
		for i, n := 0, r.Intn(5); i < n; i++ {
			name := names[r.Intn(len(names))]
			if strings.Contains(name, "..") || strings.Contains(name, "//") || strings.HasSuffix(name, "/") {
				if r.Intn(3) != 0 { // invalid names are rarer
					continue
				}
			}
			m[name] = rules.SHA256(strings.Repeat(fmt.Sprint(i), 64))
		}
		return m
	}
	for iter := 0; iter < 50; iter++ {
		in := fixture()
		in.Layouts = nil
		for li, nl := 0, 1+r.Intn(3); li < nl; li++ {
			l := Layout{Name: fmt.Sprintf("l%d", li), Digest: "sha256:" + strings.Repeat("1", 64), Expires: evalTime.AddDate(1, 0, 0), Signers: []string{keyOwner}}
			for _, sn := range []string{"clone", "build", "package"} {
				if r.Intn(4) == 0 {
					continue
				}
				s := Step{Name: sn, Functionaries: []string{keyAlice}, Threshold: 1}
				for ki, nk := 0, r.Intn(3); ki < nk; ki++ {
					s.Links = append(s.Links, Link{KeyID: keyAlice, Digest: fmt.Sprintf("sha256:%064d", ki), Materials: artifacts(), Products: artifacts()})
				}
				l.Steps = append(l.Steps, s)
			}
			in.Layouts = append(in.Layouts, l)
		}
		var rules []string
		for i, n := 0, 2+r.Intn(4); i < n; i++ {
			rule := fmt.Sprintf("- {id: d%d, verb: DISALLOW, subject: step, artifacts: %q", i, patterns[r.Intn(len(patterns))])
			if s := steps[r.Intn(len(steps))]; s != "" {
				rule += fmt.Sprintf(", step: %q", s)
			}
			if l := layouts[r.Intn(len(layouts))]; l != "" {
				rule += fmt.Sprintf(", layout: %q", l)
			}
			if r.Intn(3) == 0 {
				rule += ", side: materials"
			}
			rules = append(rules, rule+"}\n")
		}
		together := mustEval(t, mustLoad(t, header+"layouts: {require: any}\nrules:\n"+strings.Join(rules, "")), in)
		for i, rule := range rules {
			alone := mustEval(t, mustLoad(t, header+"layouts: {require: any}\nrules:\n"+rule), in)
			got, want := entryJSON(t, together.Trail()[2+i]), entryJSON(t, alone.Trail()[2])
			if got != want {
				t.Fatalf("iteration %d, rule %s with the other DISALLOW rules:\n%s\nalone:\n%s\nrules:\n%s", iter, rule, got, want, strings.Join(rules, ""))
			}
		}
	}
}

// entryJSON is a trail entry's JSON without what depends on the rest of the policy.
func entryJSON(t *testing.T, e TrailEntry) string {
	t.Helper()
	e.Source, e.OverriddenBy = "", nil
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
