package verify_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/verify"
	"github.com/tintoproject/tinto/pkg/verify/verifytest"
	"github.com/tintoproject/tinto/pkg/verr"
)

// TestPolicyFiles drives policies of the built-in language through Verifier.Verify: the
// example policy allows the generated package, and a policy that revokes the build step's
// functionary turns that allowed verification into a denial whose trail names the key, the
// rule and the revocation source.
func TestPolicyFiles(t *testing.T) {
	r, s := newRepo(t, verifytest.Options{})
	bob := r.Functionaries["bob"].Key.KeyID
	example, err := os.ReadFile("../../examples/policies/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		doc     string
		allowed bool
		reason  verr.Reason
		trail   []string
	}{
		{name: "example default policy", doc: string(example), allowed: true},
		{name: "revoke the build functionary", doc: fmt.Sprintf(`apiVersion: tinto.dev/policy/v1
kind: Policy
name: revoke-bob
rules:
  - id: revoke-stolen-laptop
    verb: REVOKE
    subject: functionary
    keyids: [%s]
    reason: laptop stolen
`, bob), reason: verr.Revoked, trail: []string{"revoke-stolen-laptop", bob[:16]}},
		{name: "deny tarballs", doc: `apiVersion: tinto.dev/policy/v1
kind: Policy
name: no-tarballs
rules:
  - id: no-tarballs
    verb: DENY
    subject: artifact
    when: artifact.name.endsWith(".tar.gz")
    message: tarballs are not allowed here
`, reason: verr.PolicyDenied, trail: []string{"no-tarballs"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, diags, err := policy.Load([]byte(tc.doc), policy.Options{File: tc.name})
			if err != nil {
				t.Fatalf("load: %v\n%v", err, diags)
			}
			v := newVerifier(t, r, s.URL, func(o *verify.Options) { o.Policy = p })
			res, err := v.Verify(context.Background(), verifytest.DefaultPackage)
			if res == nil || res.Decision == nil {
				t.Fatalf("no decision: %v", err)
			}
			var trail strings.Builder
			fmt.Fprintln(&trail, res.Decision.Reason)
			for _, e := range res.Decision.Trail() {
				fmt.Fprintf(&trail, "%s %s %s: %s\n", e.Rule, e.Outcome, e.Effect, e.Message)
				for _, lk := range e.Revocations {
					fmt.Fprintf(&trail, "  %s %s %s %s\n", lk.Ref.Kind, lk.Ref.KeyID, lk.Status.State, lk.Status.Source)
				}
			}
			if tc.allowed {
				if err != nil {
					t.Fatalf("denied: %v\n%s", err, trail.String())
				}
				return
			}
			if err == nil || !errors.Is(err, tc.reason) {
				t.Fatalf("want %s, got %v\n%s", tc.reason, err, trail.String())
			}
			for _, want := range tc.trail {
				if !strings.Contains(trail.String(), want) {
					t.Errorf("trail lacks %q:\n%s", want, trail.String())
				}
			}
		})
	}
}

// TestMultipleLayouts: a package with two root layouts. The default policy requires both; a
// policy with "layouts: require: any" accepts one.
func TestMultipleLayouts(t *testing.T) {
	anyPolicy, _, err := policy.Load([]byte(`apiVersion: tinto.dev/policy/v1
kind: Policy
name: any-layout
layouts:
  require: any
`), policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		expired bool
		policy  policy.Policy
		allowed bool
	}{
		{name: "both verify, default policy", allowed: true},
		{name: "one expired, default policy", expired: true},
		{name: "one expired, any layout", expired: true, policy: anyPolicy, allowed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, s := newRepo(t, verifytest.Options{})
			exp := t0.Add(365 * 24 * time.Hour)
			if tc.expired {
				exp = t0.Add(time.Minute)
			}
			if _, err := r.AddLayout(verifytest.DefaultPackage, "in-toto-metadata/second.layout", "in-toto-metadata/keys/second.pub", exp); err != nil {
				t.Fatal(err)
			}
			v := newVerifier(t, r, s.URL, func(o *verify.Options) {
				if tc.policy != nil {
					o.Policy = tc.policy
				}
			})
			res, err := v.Verify(context.Background(), verifytest.DefaultPackage)
			if res == nil || len(res.Layouts) != 2 {
				t.Fatalf("want two layouts in the result: %v", err)
			}
			if tc.allowed != (err == nil) {
				t.Fatalf("allowed=%v, err %v\n%s", tc.allowed, err, res.Decision.Reason)
			}
		})
	}
}
