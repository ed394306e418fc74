package rego

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

var evalTime = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

const (
	keyOwner = "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11"
	keyBob   = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
	appHash  = "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592"
)

func fixture() *policy.Input {
	return &policy.Input{
		Target: &policy.Target{Name: "app.tar.gz", Length: 1234, Hashes: map[string]string{"sha256": appHash},
			Custom: map[string]any{"team": "core"}},
		Layouts: []policy.Layout{{
			Name: "app.layout", Digest: "sha256:" + strings.Repeat("1", 64), Expires: evalTime.Add(24 * time.Hour),
			Signers: []string{keyOwner},
			Steps: []policy.Step{{Name: "build", Functionaries: []string{keyBob}, Threshold: 1,
				Links: []policy.Link{{KeyID: keyBob, Digest: "sha256:" + strings.Repeat("4", 64),
					Products: map[string]policy.Digests{"app.tar.gz": rules.SHA256(appHash)}}}}},
		}},
		Params: map[string]string{"env": "prod"},
		Time:   evalTime,
	}
}

const module = `package tinto

deny contains {"msg": "the target is not a product of the build step", "code": "unbound"} if {
	not bound
}

bound if {
	some l in input.layouts
	some s in l.steps
	s.name == "build"
	some k in s.links
	some name, d in k.products
	d.sha256 == input.target.hashes.sha256
}

deny contains {"msg": "not for production", "code": "env", "strength": "MEDIUM"} if {
	input.params.env != "prod"
}

warn contains {"msg": "no team in the target's custom metadata", "code": "team"} if {
	not input.target.custom.team
}
`

func load(t testing.TB, src string, opts Options) *Policy {
	t.Helper()
	p, err := New(context.Background(), map[string]string{"tinto.rego": src}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRego(t *testing.T) {
	p := load(t, module, Options{})
	tests := []struct {
		name      string
		mutate    func(*policy.Input)
		effect    policy.Effect
		decidedBy string
		warnings  int
		reason    verr.Reason
	}{
		{"allowed", nil, policy.Allow, "", 0, ""},
		{"unbound", func(in *policy.Input) { in.Target.Hashes["sha256"] = "00" }, policy.Deny, "rego:unbound", 0, verr.PolicyDenied},
		{"medium deny", func(in *policy.Input) { in.Params["env"] = "dev" }, policy.Deny, "rego:env", 0, verr.PolicyDenied},
		{"warn", func(in *policy.Input) { in.Target.Custom = map[string]any{} }, policy.Allow, "", 1, ""},
		{"expired layout (implicit rule)", func(in *policy.Input) { in.Time = evalTime.Add(48 * time.Hour) }, policy.Deny, "layouts", 0, verr.Expired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixture()
			if tt.mutate != nil {
				tt.mutate(in)
			}
			d, err := p.Evaluate(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Effect != tt.effect || strings.Join(d.DecidedBy, ",") != tt.decidedBy || len(d.Warnings) != tt.warnings {
				t.Fatalf("got %s by %v, warnings %q; want %s by %s, %d warnings", d.Effect, d.DecidedBy, d.Warnings, tt.effect, tt.decidedBy, tt.warnings)
			}
			if tt.reason != "" && !errors.Is(d.Err(), tt.reason) {
				t.Errorf("Err() = %v", d.Err())
			}
			if d.PolicyID != p.ID() || !strings.HasPrefix(d.PolicyID, "sha256:") {
				t.Errorf("PolicyID %q", d.PolicyID)
			}
		})
	}
}

func TestRegoRevocationIsBuiltIn(t *testing.T) {
	p := load(t, "package tinto\n", Options{})
	in := fixture()
	in.Revocation = checker{}
	d, err := p.Evaluate(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed() || !errors.Is(d.Err(), verr.Revoked) {
		t.Fatalf("a revoked functionary was allowed by an empty Rego policy: %s", d.Reason)
	}
}

type checker struct{}

func (checker) Status(_ context.Context, ref revocationRef, _ time.Time) (revocationStatus, error) {
	if ref.KeyID == keyBob {
		return revocationStatus{State: "revoked", Source: "static:test"}, nil
	}
	return revocationStatus{State: "good", Source: "static:test"}, nil
}

func TestRegoErrors(t *testing.T) {
	if _, err := New(context.Background(), map[string]string{"x.rego": "package tinto\ndeny contains x if {"}, Options{}); !errors.Is(err, verr.ErrInvalidInput) {
		t.Errorf("syntax error: %v", err)
	}
	if _, err := New(context.Background(), nil, Options{}); !errors.Is(err, verr.ErrInvalidInput) {
		t.Errorf("no modules: %v", err)
	}
	// A runtime error (strict builtin errors) is Indeterminate and denies.
	p := load(t, "package tinto\ndeny contains {\"msg\": \"x\", \"code\": \"c\"} if { to_number(\"nope\") > 1 }\n", Options{})
	d, err := p.Evaluate(context.Background(), fixture())
	if err != nil {
		t.Fatal(err)
	}
	if d.Allowed() {
		t.Errorf("a Rego error allowed: %s", d.Reason)
	}
}

// TestNoOPAInPolicy checks that importing pkg/policy does not link OPA.
func TestNoOPAInPolicy(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/tintoproject/tinto/pkg/policy").CombinedOutput()
	if err != nil {
		t.Skipf("go list: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "open-policy-agent") {
		t.Error("pkg/policy depends on OPA")
	}
}
