// Package policybench holds the evidence and the policy that pkg/policy's and pkg/policy/rego's
// benchmarks share, so that both measure the same decisions (pkg/policy's without linking OPA).
package policybench

import (
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/rules"
)

// evalTime is the evaluation time of the evidence.
func evalTime() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) }

const (
	owner   = "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11"
	AppHash = "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592"
)

// Input is the typical evidence: 3 layouts, each with steps clone, build and package (one
// link each, n artifacts per side), the target a product of package.
func Input(nArt int) *policy.Input {
	in := &policy.Input{
		Target: &policy.Target{Name: "app.tar.gz", Length: 1 << 20, Hashes: map[string]string{"sha256": AppHash},
			Custom: map[string]any{"team": "core", "tier": "1"}},
		Params: map[string]string{"env": "prod"},
		Time:   evalTime(),
	}
	for li := 0; li < 3; li++ {
		l := policy.Layout{Name: fmt.Sprintf("rebuild-%d.layout", li), Digest: fmt.Sprintf("sha256:%064d", li+1),
			Version: 3, Expires: evalTime().Add(90 * 24 * time.Hour), Signers: []string{owner}}
		prev := map[string]policy.Digests{}
		for si, name := range []string{"clone", "build", "package"} {
			kid := fmt.Sprintf("%02d", li*3+si) + strings.Repeat("ab", 31)
			l.Keys = append(l.Keys, policy.Key{KeyID: kid, KeyType: "ed25519", Scheme: "ed25519"})
			prods := map[string]policy.Digests{}
			for a := 0; a < nArt; a++ {
				prods[fmt.Sprintf("%s/file%d.go", name, a)] = rules.SHA256(fmt.Sprintf("%064x", li*100+si*10+a))
			}
			if name == "package" {
				prods["app.tar.gz"] = rules.SHA256(AppHash)
			}
			l.Steps = append(l.Steps, policy.Step{Name: name, Functionaries: []string{kid}, Threshold: 1,
				Command: []string{"make", name},
				Links: []policy.Link{{KeyID: kid, Digest: fmt.Sprintf("sha256:%064x", 1000+li*10+si),
					Materials: prev, Products: prods, Command: []string{"make", name}}}})
			l.Rules = append(l.Rules, policy.RuleResult{Step: name, Side: "products", Rule: "ALLOW *", Verb: "ALLOW", OK: true})
			prev = prods
		}
		in.Layouts = append(in.Layouts, l)
	}
	return in
}

// Policy is the typical policy: 10 rules, 5 of them with a CEL condition (cel=5), or the
// same rules with the conditions removed (cel=0).
func Policy(cel bool) string {
	c := func(s string) string {
		if !cel {
			return ""
		}
		return s
	}
	pick := func(with, without string) string {
		if cel {
			return with
		}
		return without
	}
	return `apiVersion: tinto.dev/policy/v1
kind: Policy
layouts:
  require: all
rules:
  - {id: bound, verb: REQUIRE, subject: target, productOf: package}
  - {id: no-pem, verb: DISALLOW, subject: step, artifacts: "*.pem"}
  - {id: no-keys, verb: DISALLOW, subject: step, step: package, artifacts: "*.key"}
  - {id: revoke-old, verb: REVOKE, subject: functionary, keyids: ["` + strings.Repeat("ef", 32) + `"]}
  - {id: revoke-bad-layout, verb: REVOKE, subject: layout, digests: ["sha256:` + strings.Repeat("e", 64) + `"]}
  - {id: prod, verb: DENY, strength: PREFERRED, ` + pick(`subject: target, when: 'params.env != "prod"'`, `subject: attestation`) + `}
  - {id: team, verb: ALLOW, strength: MEDIUM, subject: target` + c(`, when: 'target.custom.team == "core"'`) + `}
  - {id: lifetime, verb: REQUIRE, strength: WEAK, subject: layout, ` + func() string {
		if cel {
			return `expect: ['layout.expires - now < duration("8760h")']}`
		}
		return `min: 1}`
	}() + `
  - {id: versioned, verb: REQUIRE, strength: MEDIUM, subject: layout, ` + func() string {
		if cel {
			return `expect: ['layout.version > 0']}`
		}
		return `min: 3}`
	}() + `
  - {id: small, verb: DENY, strength: PREFERRED, ` + pick(`subject: target, when: 'target.length > 1073741824'`, `subject: attestation`) + `}
`
}

// CPUTime is the process's user + system CPU time, for the cpu-ns/op metric.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
