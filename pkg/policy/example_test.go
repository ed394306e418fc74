package policy_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/rules"
)

func evidence() *policy.Input {
	at := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	return &policy.Input{
		Target: &policy.Target{Name: "app.tar.gz", Length: 1234, Hashes: map[string]string{"sha256": "5d41402a"}},
		Layouts: []policy.Layout{{
			Name: "app.layout", Digest: "sha256:1111", Expires: at.Add(24 * time.Hour), Signers: []string{"0wner"},
			Steps: []policy.Step{{Name: "build", Functionaries: []string{"b0b"}, Threshold: 1,
				Links: []policy.Link{{KeyID: "b0b", Digest: "sha256:4444",
					Products: map[string]policy.Digests{"app.tar.gz": rules.SHA256("5d41402a")}}}}},
		}},
		Time: at,
	}
}

func Example() {
	p, _, err := policy.Load([]byte(`
apiVersion: tinto.dev/policy/v1
kind: Policy
rules:
  - id: bound
    verb: REQUIRE
    subject: target
    productOf: build
  - id: small
    verb: DENY
    strength: PREFERRED
    subject: target
    when: target.length > 1000000
`), policy.Options{File: "policy.yaml"})
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := p.Evaluate(context.Background(), evidence())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Effect, "-", d.Reason)
	for _, e := range d.Trail() {
		fmt.Printf("%s %s %s: %s\n", e.Strength, e.Verb, e.Rule, e.Outcome)
	}
	// Output:
	// allow - allowed: no rule voted, 4 rule(s) satisfied
	// STRONG REVOCATION revocation: satisfied
	// STRONG LAYOUTS layouts: satisfied
	// STRONG REQUIRE bound: satisfied
	// PREFERRED DENY small: satisfied
}

func ExampleDecision_Err() {
	p, _, _ := policy.Load([]byte(`
apiVersion: tinto.dev/policy/v1
kind: Policy
rules:
  - id: revoke-bob
    verb: REVOKE
    subject: functionary
    keyids: ["b0b0b0b0"]
    reason: laptop stolen
`), policy.Options{})
	in := evidence()
	in.Layouts[0].Steps[0].Functionaries = []string{"b0b0b0b0"}
	in.Layouts[0].Steps[0].Links[0].KeyID = "b0b0b0b0"
	d, _ := p.Evaluate(context.Background(), in)
	fmt.Println(d.Err())
	// Output:
	// revoked (rule "layouts"): denied by STRONG rule(s) layouts
}

func ExampleCheck() {
	ds := policy.Check([]byte(`apiVersion: tinto.dev/policy/v1
kind: Policy
rules:
  - id: no-pem
    verb: DISALLOW
    subject: target
    artifacts: "*.pem"
`), policy.Options{File: "p.yaml"})
	for _, d := range ds {
		fmt.Println(d)
	}
	// Output:
	// p.yaml:6:14: error: rule no-pem: verb DISALLOW does not apply to subject target (it applies to step) [verb-subject]
}
