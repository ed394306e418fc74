package policy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/revocation"
)

// TestWorkedTable runs the worked decision table of docs/policy.md.
func TestWorkedTable(t *testing.T) {
	p := mustLoad(t, header+`rules:
  - {id: bound,  verb: REQUIRE, subject: target, productOf: build}
  - {id: prod,   verb: DENY,  strength: PREFERRED, subject: target, when: 'params.env != "prod"'}
  - {id: core,   verb: ALLOW, strength: MEDIUM,    subject: target, when: 'target.custom.team == "core"'}
  - {id: legacy, verb: DENY,  strength: MEDIUM,    subject: key,    when: 'key.keytype == "rsa"'}
  - {id: review, verb: REQUIRE, strength: WEAK,    subject: step,   expect: ['step.threshold >= 2']}
`)
	pw := mustLoad(t, header+"revocation: {unknown: warn}\n"+`rules:
  - {id: bound,  verb: REQUIRE, subject: target, productOf: build}
  - {id: prod,   verb: DENY,  strength: PREFERRED, subject: target, when: 'params.env != "prod"'}
  - {id: core,   verb: ALLOW, strength: MEDIUM,    subject: target, when: 'target.custom.team == "core"'}
  - {id: legacy, verb: DENY,  strength: MEDIUM,    subject: key,    when: 'key.keytype == "rsa"'}
  - {id: review, verb: REQUIRE, strength: WEAK,    subject: step,   expect: ['step.threshold >= 2']}
`)
	stale := checkerFunc(func(context.Context, revocation.Ref, time.Time) (revocation.Status, error) {
		return revocation.Status{State: revocation.Unknown, Source: "list:stale"}, nil
	})
	for _, tt := range []struct {
		name      string
		p         Policy
		mutate    func(*Input)
		effect    Effect
		decidedBy string
		warnings  int
	}{
		{"baseline", p, nil, Allow, "core", 1},
		{"rsa functionary", p, func(in *Input) { in.Layouts[0].Keys[1].KeyType = "rsa" }, Deny, "legacy", 1},
		{"dev", p, func(in *Input) { in.Params["env"] = "dev" }, Deny, "prod", 1},
		{"team web", p, func(in *Input) { in.Target.Custom = map[string]any{"team": "web"} }, Allow, "", 1},
		{"unbound", p, func(in *Input) { in.Target.Hashes["sha256"] = strings.Repeat("0", 64) }, Deny, "bound", 1},
		{"revoked functionary", mustLoad(t, header+`rules:
  - {id: bound,  verb: REQUIRE, subject: target, productOf: build}
  - {id: revoke-bob, verb: REVOKE, subject: functionary, keyids: ['`+keyBob+`']}`), nil, Deny, "layouts", 0},
		{"stale revocation list", p, func(in *Input) { in.Revocation = stale }, Deny, "revocation", 1},
		{"stale, unknown: warn", pw, func(in *Input) { in.Revocation = stale }, Allow, "core", 2},
		{"cel error", p, func(in *Input) { in.Target.Custom = map[string]any{} }, Deny, "core", 1},
	} {
		in := fixture()
		if tt.mutate != nil {
			tt.mutate(in)
		}
		d := mustEval(t, tt.p, in)
		if d.Effect != tt.effect || strings.Join(d.DecidedBy, ",") != tt.decidedBy || len(d.Warnings) != tt.warnings {
			t.Errorf("%s: %s by %v with %d warnings (%s); want %s by %q with %d", tt.name, d.Effect, d.DecidedBy, len(d.Warnings), d.Reason, tt.effect, tt.decidedBy, tt.warnings)
		}
	}
}
