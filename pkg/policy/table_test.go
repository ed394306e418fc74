package policy

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

type checkerFunc func(ctx context.Context, ref revocation.Ref, at time.Time) (revocation.Status, error)

func (f checkerFunc) Status(ctx context.Context, ref revocation.Ref, at time.Time) (revocation.Status, error) {
	return f(ctx, ref, at)
}

func goodChecker() revocation.Checker {
	return checkerFunc(func(context.Context, revocation.Ref, time.Time) (revocation.Status, error) {
		return revocation.Status{State: revocation.Good, Source: "test"}, nil
	})
}

// decisionTests is the decision table: a policy, a change to the fixture, and the expected
// effect, deciding rules, reason and warnings.
var decisionTests = []struct {
	name      string
	policy    string // rules and top-level fields after the header
	mutate    func(*Input)
	effect    Effect
	decidedBy string // comma-separated, "" for none
	reason    verr.Reason
	warnings  int
	outcome   map[string]Outcome // rule id -> expected outcome
}{
	{name: "no rules, layout verified", policy: "rules: []", effect: Allow,
		outcome: map[string]Outcome{"layouts": OutcomeSatisfied, "revocation": OutcomeSatisfied}},
	{name: "layouts not required and no rule", policy: "layouts: {require: none}\nrules: []",
		mutate: func(in *Input) { in.Layouts = nil; in.Target = nil }, effect: Deny, reason: verr.PolicyDenied},
	{name: "no layout but all required", policy: "rules: []", mutate: func(in *Input) { in.Layouts = nil },
		effect: Deny, decidedBy: "layouts", reason: verr.LayoutInvalid},
	{name: "expired layout", policy: "rules: []", mutate: func(in *Input) { in.Time = in.Layouts[0].Expires.Add(time.Second) },
		effect: Deny, decidedBy: "layouts", reason: verr.Expired},
	{name: "layout failed verification", policy: "rules: []", mutate: func(in *Input) { in.Layouts[0].Failure = "bad signature" },
		effect: Deny, decidedBy: "layouts", reason: verr.LayoutInvalid},
	{name: "layout artifact rule failed", policy: "rules: []",
		mutate: func(in *Input) { in.Layouts[0].Rules[0].OK = false; in.Layouts[0].Rules[0].Failure = "x" },
		effect: Deny, decidedBy: "layouts", reason: verr.RuleFailed},
	{name: "link by a non-functionary", policy: "rules: []",
		mutate: func(in *Input) { in.Layouts[0].Steps[1].Links[0].KeyID = keyAlice },
		effect: Deny, decidedBy: "layouts", reason: verr.Threshold},
	{name: "step threshold 2 with one link", policy: "rules: []",
		mutate: func(in *Input) { in.Layouts[0].Steps[1].Threshold = 2 },
		effect: Deny, decidedBy: "layouts", reason: verr.Threshold},
	{name: "target bound", policy: "rules:\n- {id: bind, verb: REQUIRE, subject: target, productOf: build}", effect: Allow,
		outcome: map[string]Outcome{"bind": OutcomeSatisfied}},
	{name: "target not a product", policy: "rules:\n- {id: bind, verb: REQUIRE, subject: target, productOf: build}",
		mutate: func(in *Input) { in.Target.Hashes["sha256"] = strings.Repeat("0", 64) },
		effect: Deny, decidedBy: "bind", reason: verr.TargetUnbound},
	{name: "target bound to the wrong step", policy: "rules:\n- {id: bind, verb: REQUIRE, subject: target, productOf: clone}",
		effect: Deny, decidedBy: "bind", reason: verr.TargetUnbound},
	{name: "no target to bind", policy: "rules:\n- {id: bind, verb: REQUIRE, subject: target, productOf: build}",
		mutate: func(in *Input) { in.Target = nil }, effect: Deny, decidedBy: "bind", reason: verr.TargetUnbound},
	{name: "strong deny fires", policy: "rules:\n- {id: d, verb: DENY, subject: target, when: 'target.length > 1000'}",
		effect: Deny, decidedBy: "d", reason: verr.PolicyDenied},
	{name: "strong deny does not fire", policy: "rules:\n- {id: d, verb: DENY, subject: target, when: 'target.length > 5000'}",
		effect: Allow, outcome: map[string]Outcome{"d": OutcomeSatisfied}},
	{name: "strong allow beats preferred deny",
		policy: "rules:\n- {id: d, verb: DENY, strength: PREFERRED, subject: target}\n- {id: a, verb: ALLOW, subject: target, when: 'params.env == \"prod\"'}",
		effect: Allow, decidedBy: "a"},
	{name: "equal strength: deny beats allow",
		policy: "rules:\n- {id: a, verb: ALLOW, strength: MEDIUM, subject: target}\n- {id: d, verb: DENY, strength: MEDIUM, subject: layout}",
		effect: Deny, decidedBy: "d"},
	{name: "strong deny is never overridden",
		policy: "rules:\n- {id: a, verb: ALLOW, subject: target}\n- {id: d, verb: DENY, subject: step, where: 'step.name == \"build\"'}",
		effect: Deny, decidedBy: "d"},
	{name: "weak deny only warns", policy: "rules:\n- {id: w, verb: DENY, strength: WEAK, subject: target}",
		effect: Allow, warnings: 1},
	{name: "weak require only warns",
		policy: "rules:\n- {id: w, verb: REQUIRE, strength: WEAK, subject: step, expect: ['step.threshold > 1']}",
		effect: Allow, warnings: 1, outcome: map[string]Outcome{"w": OutcomeDeny}},
	{name: "rule that selects nothing is not applicable",
		policy: "rules:\n- {id: na, verb: REQUIRE, subject: attestation, expect: ['attestation.signer != \"\"']}",
		effect: Allow, outcome: map[string]Outcome{"na": OutcomeNotApplicable}},
	{name: "require min attestations",
		policy: "rules:\n- {id: prov, verb: REQUIRE, subject: attestation, min: 1, expect: ['true']}",
		effect: Deny, decidedBy: "prov"},
	{name: "attestation expectations hold",
		policy: "rules:\n- {id: prov, verb: REQUIRE, subject: attestation, min: 1, expect: ['attestation.predicate.builder == \"ci\"']}",
		mutate: func(in *Input) {
			in.Attestations = []Attestation{{PredicateType: "x", Predicate: map[string]any{"builder": "ci"}, Signer: keyBob}}
		},
		effect: Allow, outcome: map[string]Outcome{"prov": OutcomeSatisfied}},
	{name: "evaluation error is indeterminate and denies",
		policy: "rules:\n- {id: e, verb: REQUIRE, strength: MEDIUM, subject: target, expect: ['target.custom.missing == \"x\"']}",
		effect: Deny, decidedBy: "e", outcome: map[string]Outcome{"e": OutcomeIndeterminate}},
	{name: "indeterminate downgraded by the policy",
		policy: "indeterminate: warn\nrules:\n- {id: e, verb: REQUIRE, subject: target, expect: ['target.custom.missing == \"x\"']}",
		effect: Allow, warnings: 1},
	{name: "cost limit is indeterminate",
		policy: "rules:\n- {id: c, verb: REQUIRE, subject: target, expect: ['[0,1,2,3,4,5,6,7,8,9].all(a, [0,1,2,3,4,5,6,7,8,9].all(b, [0,1,2,3,4,5,6,7,8,9].all(c, [0,1,2,3,4,5,6,7,8,9].all(d, [0,1,2,3,4,5,6,7,8,9].all(e, a+b+c+d+e >= 0)))))']}",
		effect: Deny, decidedBy: "c", outcome: map[string]Outcome{"c": OutcomeIndeterminate}},
	{name: "revoked layout digest", policy: "rules:\n- {id: r, verb: REVOKE, subject: layout, digests: ['sha256:" + strings.Repeat("1", 64) + "']}",
		effect: Deny, decidedBy: "layouts,r", reason: verr.Revoked},
	{name: "revoked link digest", policy: "rules:\n- {id: r, verb: REVOKE, subject: link, digests: ['sha256:" + strings.Repeat("2", 64) + "']}",
		effect: Deny, decidedBy: "layouts,r", reason: verr.Revoked},
	{name: "revoked functionary key", policy: "rules:\n- {id: r, verb: REVOKE, subject: functionary, step: build, keyids: ['" + keyBob + "']}",
		effect: Deny, decidedBy: "layouts", reason: verr.Revoked, outcome: map[string]Outcome{"r": OutcomeSatisfied}},
	{name: "revoked key scoped to another step", policy: "rules:\n- {id: r, verb: REVOKE, subject: functionary, step: clone, keyids: ['" + keyBob + "']}",
		effect: Allow, outcome: map[string]Outcome{"r": OutcomeNotApplicable}},
	{name: "revoked key that is not needed for the threshold",
		policy: "rules:\n- {id: r, verb: REVOKE, subject: key, keyids: ['" + keyAlice + "']}",
		mutate: func(in *Input) {
			s := &in.Layouts[0].Steps[0]
			s.Functionaries = append(s.Functionaries, keyBob)
			s.Links = append(s.Links, Link{KeyID: keyBob, Digest: "sha256:" + strings.Repeat("5", 64)})
		},
		effect: Allow},
	{name: "revoked layout signer", policy: "rules:\n- {id: r, verb: REVOKE, subject: key, keyids: ['" + keyOwner + "']}",
		effect: Deny, decidedBy: "layouts", reason: verr.Revoked},
	{name: "checker revokes the artifact", policy: "rules: []",
		mutate: func(in *Input) {
			in.Revocation = checkerFunc(func(_ context.Context, ref revocation.Ref, _ time.Time) (revocation.Status, error) {
				if ref.Kind == revocation.KindArtifact {
					return revocation.Status{State: revocation.Revoked, Source: "list:test@v1"}, nil
				}
				return revocation.Status{State: revocation.Good, Source: "list:test@v1"}, nil
			})
		},
		effect: Deny, decidedBy: "revocation", reason: verr.Revoked},
	{name: "checker unknown denies", policy: "rules: []",
		mutate: func(in *Input) {
			in.Revocation = checkerFunc(func(context.Context, revocation.Ref, time.Time) (revocation.Status, error) {
				return revocation.Status{State: revocation.Unknown, Source: "list:stale"}, nil
			})
		},
		effect: Deny, decidedBy: "revocation", reason: verr.Unknown},
	{name: "checker error denies", policy: "rules: []",
		mutate: func(in *Input) {
			in.Revocation = checkerFunc(func(context.Context, revocation.Ref, time.Time) (revocation.Status, error) {
				return revocation.Status{}, errors.New("offline")
			})
		},
		effect: Deny, decidedBy: "revocation", reason: verr.Unknown},
	{name: "unknown downgraded by the policy", policy: "revocation: {unknown: warn}\nrules: []",
		mutate: func(in *Input) {
			in.Revocation = checkerFunc(func(context.Context, revocation.Ref, time.Time) (revocation.Status, error) {
				return revocation.Status{State: revocation.Unknown, Source: "list:stale"}, nil
			})
		},
		effect: Allow, warnings: 1},
	{name: "checker good", policy: "rules: []", mutate: func(in *Input) { in.Revocation = goodChecker() }, effect: Allow},
	{name: "any of two layouts", policy: "layouts: {require: any}\nrules: []", mutate: twoLayoutsOneExpired, effect: Allow},
	{name: "all of two layouts", policy: "layouts: {require: all}\nrules: []", mutate: twoLayoutsOneExpired,
		effect: Deny, decidedBy: "layouts", reason: verr.Expired},
	{name: "2 of two layouts", policy: "layouts: {require: 2}\nrules: []", mutate: twoLayoutsOneExpired,
		effect: Deny, decidedBy: "layouts"},
	{name: "1 of two layouts", policy: "layouts: {require: 1}\nrules: []", mutate: twoLayoutsOneExpired, effect: Allow},
	{name: "disallow pem finds one",
		policy: "rules:\n- {id: pem, verb: DISALLOW, subject: step, artifacts: '*.pem'}",
		mutate: func(in *Input) { in.Layouts[0].Steps[1].Links[0].Products["signing.pem"] = rules.SHA256("ab") },
		effect: Deny, decidedBy: "pem", reason: verr.RuleFailed},
	{name: "disallow pem finds none", policy: "rules:\n- {id: pem, verb: DISALLOW, subject: step, artifacts: '*.pem'}",
		effect: Allow, outcome: map[string]Outcome{"pem": OutcomeNotApplicable}},
	{name: "org-wide match with products of another step",
		policy: "rules:\n- {id: m, verb: MATCH, subject: step, step: build, side: materials, artifacts: 'src/* WITH PRODUCTS FROM clone'}",
		effect: Allow, outcome: map[string]Outcome{"m": OutcomeSatisfied}},
	{name: "deny artifact by CEL",
		policy: "rules:\n- {id: d, verb: DENY, subject: artifact, when: 'artifact.side == \"products\" && artifact.name.endsWith(\".tar.gz\")'}",
		effect: Deny, decidedBy: "d"},
	{name: "key type requirement",
		policy: "rules:\n- {id: k, verb: REQUIRE, strength: MEDIUM, subject: key, where: 'key.role == \"functionary\"', expect: ['key.keytype == \"ed25519\"']}",
		effect: Deny, decidedBy: "k"},
	{name: "target without layouts", policy: "layouts: {require: none}\nrules:\n- {id: t, verb: ALLOW, subject: target, when: 'target.custom.team == \"core\"'}",
		mutate: func(in *Input) { in.Layouts = nil }, effect: Allow, decidedBy: "t"},
}

func twoLayoutsOneExpired(in *Input) {
	l := in.Layouts[0]
	l.Name, l.Digest = "old.layout", "sha256:"+strings.Repeat("9", 64)
	l.Expires = in.Time.Add(-time.Hour)
	in.Layouts = append(in.Layouts, l)
}

func TestDecisionTable(t *testing.T) {
	for _, tt := range decisionTests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustLoad(t, header+tt.policy)
			in := fixture()
			if tt.mutate != nil {
				tt.mutate(in)
			}
			d := mustEval(t, p, in)
			if d.Effect != tt.effect {
				t.Fatalf("effect = %s (%s), want %s\n%s", d.Effect, d.Reason, tt.effect, dump(d))
			}
			if tt.decidedBy != "" && strings.Join(d.DecidedBy, ",") != tt.decidedBy {
				t.Errorf("decided by %v, want %s\n%s", d.DecidedBy, tt.decidedBy, dump(d))
			}
			if tt.reason != "" && !errors.Is(d.Err(), tt.reason) {
				t.Errorf("Err() = %v, want reason %s", d.Err(), tt.reason)
			}
			if (d.Err() == nil) != (tt.effect == Allow) {
				t.Errorf("Err() = %v for effect %s", d.Err(), d.Effect)
			}
			if len(d.Warnings) != tt.warnings {
				t.Errorf("warnings = %q, want %d", d.Warnings, tt.warnings)
			}
			for id, want := range tt.outcome {
				found := false
				for _, e := range d.Trail() {
					if e.Rule == id {
						found = true
						if e.Outcome != want {
							t.Errorf("rule %s outcome = %s, want %s (%s)", id, e.Outcome, want, e.Message)
						}
						if want == OutcomeNotApplicable && !e.NotApplicable {
							t.Errorf("rule %s: NotApplicable not set", id)
						}
					}
				}
				if !found {
					t.Errorf("rule %s not in the trail", id)
				}
			}
			if len(d.Trail()) != 2+strings.Count(tt.policy, "verb:") {
				t.Errorf("trail has %d entries, want one per rule plus 2", len(d.Trail()))
			}
			for _, e := range d.Trail() {
				if e.Effect != "" && e.Effect != d.Effect && len(e.OverriddenBy) == 0 {
					t.Errorf("rule %s voted %s but names nothing that overrode it", e.Rule, e.Effect)
				}
			}
		})
	}
}

func TestEvaluateInvalidInput(t *testing.T) {
	p := mustLoad(t, header+"rules: []")
	if _, err := p.Evaluate(context.Background(), nil); !errors.Is(err, verr.ErrInvalidInput) {
		t.Errorf("nil input: %v", err)
	}
	in := fixture()
	in.Time = time.Time{}
	if _, err := p.Evaluate(context.Background(), in); !errors.Is(err, verr.ErrInvalidInput) {
		t.Errorf("zero time: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Evaluate(ctx, fixture()); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestRevokedCertificateFunctionary(t *testing.T) {
	p := mustLoad(t, header+"rules: []")
	in := fixture()
	in.Layouts[0].Keys[1].Issuer, in.Layouts[0].Keys[1].Serial = "CN=tinto test CA", "42"
	in.Revocation = checkerFunc(func(_ context.Context, ref revocation.Ref, _ time.Time) (revocation.Status, error) {
		if ref.Kind == revocation.KindCertificate && ref.Serial == "42" {
			return revocation.Status{State: revocation.Revoked, Source: "crl:CN=tinto test CA#5", Reason: "keyCompromise"}, nil
		}
		return revocation.Status{State: revocation.Good, Source: "crl:CN=tinto test CA#5"}, nil
	})
	d := mustEval(t, p, in)
	if d.Allowed() || !errors.Is(d.Err(), verr.Revoked) || !strings.Contains(dump(d), "certificate of functionary "+keyBob+" revoked by crl:CN=tinto test CA#5") {
		t.Fatalf("revoked certificate functionary: %s\n%s", d.Reason, dump(d))
	}
}

func TestFunctionarySubject(t *testing.T) {
	count := func(subject string) int {
		p := mustLoad(t, header+"rules:\n- {id: k, verb: ALLOW, subject: "+subject+"}\n")
		d := mustEval(t, p, fixture())
		for _, e := range d.Trail() {
			if e.Rule == "k" {
				return len(e.Evidence)
			}
		}
		return -1
	}
	// The fixture has one layout signer and two functionaries.
	if k, f := count("key"), count("functionary"); k != 3 || f != 2 {
		t.Errorf("key selects %d, functionary selects %d; want 3 and 2", k, f)
	}
}

func TestRevokedMaterialDigest(t *testing.T) {
	p := mustLoad(t, header+"rules:\n- {id: bad-dep, verb: REVOKE, subject: artifact, digests: ['sha256:"+strings.Repeat("3", 64)+"'], reason: compromised dependency}\n")
	d := mustEval(t, p, fixture())
	if d.Allowed() || !errors.Is(d.Err(), verr.Revoked) || !strings.Contains(dump(d), `"name": "src/main.go"`) {
		t.Fatalf("a revoked material digest was not denied: %s\n%s", d.Reason, dump(d))
	}
}
