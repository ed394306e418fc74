package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/verr"
)

// MediaType is the media type of a Decision's JSON form. Its schema only grows: fields are added,
// never renamed or removed, within v1.
const MediaType = "application/vnd.tinto.decision.v1+json"

// Effect is the effect of a decision.
type Effect string

// The effects. The zero Effect is not valid; a Decision always has Allow or Deny.
const (
	Allow Effect = "allow"
	Deny  Effect = "deny"
)

// Strength is a rule's priority (the "adverb"). Higher strengths win conflicts.
type Strength int

// The strengths, weakest first. The zero Strength is invalid.
const (
	Weak Strength = iota + 1
	Medium
	Preferred
	Strong
)

var strengthNames = [...]string{"", "WEAK", "MEDIUM", "PREFERRED", "STRONG"}

// String returns the strength's keyword.
func (s Strength) String() string {
	if s < Weak || s > Strong {
		return fmt.Sprintf("Strength(%d)", int(s))
	}
	return strengthNames[s]
}

// MarshalText implements encoding.TextMarshaler.
func (s Strength) MarshalText() ([]byte, error) {
	if s < Weak || s > Strong {
		return nil, fmt.Errorf("policy: invalid strength %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Strength) UnmarshalText(b []byte) error {
	v, ok := parseStrength(string(b))
	if !ok {
		return fmt.Errorf("policy: unknown strength %q", b)
	}
	*s = v
	return nil
}

func parseStrength(s string) (Strength, bool) {
	for i, n := range strengthNames {
		if i > 0 && n == s {
			return Strength(i), true
		}
	}
	return 0, false
}

// Verb is what a rule wants.
type Verb string

// The verbs of the built-in language.
const (
	VerbAllow    Verb = "ALLOW"
	VerbDeny     Verb = "DENY"
	VerbRequire  Verb = "REQUIRE"
	VerbRevoke   Verb = "REVOKE"
	VerbMatch    Verb = "MATCH"
	VerbCreate   Verb = "CREATE"
	VerbDelete   Verb = "DELETE"
	VerbModify   Verb = "MODIFY"
	VerbDisallow Verb = "DISALLOW"
	// VerbLayouts is the verb of the implicit rule that combines the layouts (all, any, k of n).
	VerbLayouts Verb = "LAYOUTS"
	// VerbRevocation is the verb of the implicit rule that looks up every revocable thing in the
	// evidence.
	VerbRevocation Verb = "REVOCATION"
	// VerbRego is the verb of entries produced by the Rego engine (pkg/policy/rego).
	VerbRego Verb = "REGO"
)

// Outcome is what one rule concluded.
type Outcome string

// The outcomes.
const (
	// OutcomeAllow: an ALLOW rule selected at least one subject (a vote for allow).
	OutcomeAllow Outcome = "allow"
	// OutcomeDeny: a DENY rule selected a subject, or a constraint (REQUIRE, an artifact verb,
	// LAYOUTS, REVOCATION, REVOKE) failed (a vote for deny).
	OutcomeDeny Outcome = "deny"
	// OutcomeSatisfied: a constraint held for every subject it selected. It is not a vote, but
	// it is positive evidence (see Decision).
	OutcomeSatisfied Outcome = "satisfied"
	// OutcomeNotApplicable: the rule selected nothing. It is never counted as passed.
	OutcomeNotApplicable Outcome = "not-applicable"
	// OutcomeIndeterminate: a condition could not be evaluated (a CEL runtime error, the cost
	// limit). It votes deny at the rule's strength unless the policy says otherwise.
	OutcomeIndeterminate Outcome = "indeterminate"
)

// Decision is the result of evaluating a policy. It is returned whole, with every rule's entry,
// whether it allows or denies.
//
// The trail is read with Trail (and written by MarshalJSON). A Decision of the built-in engine
// keeps it in a compact form (indices into the compiled policy and into the Input) and builds
// the TrailEntry values, their evidence and their lookups only when Trail or MarshalJSON is
// called; so a Decision keeps references to its Input, which must not be modified afterwards
// (nor while the evaluation runs). Other engines make a Decision from TrailEntry values with
// Decide or NewDecision.
//
// A Decision is safe for concurrent reads (Trail, MarshalJSON, Err, the fields); nothing in it
// changes after it is returned. Code that changes its exported fields must not share it.
type Decision struct {
	// MediaType is always MediaType.
	MediaType string
	Effect    Effect
	// Warnings are failed WEAK rules, Indeterminate rules the policy downgraded, and the like.
	Warnings []string
	// PolicyID is "sha256:<hex>" of the compiled policy's normalised form.
	PolicyID string
	// Time is the evaluation time (Input.Time).
	Time time.Time
	// DecidedBy lists the ids of the rules whose votes decided the effect (empty when the effect
	// follows from no vote at all). It may be shared with other decisions of the same policy:
	// read it, do not modify its elements.
	DecidedBy []string
	// Reason is why the effect is what it is, in one line.
	Reason string

	// trail is the trail of a decision made from TrailEntry values (NewDecision, Decide,
	// WithTrail, UnmarshalJSON); cp is the built-in engine's compact trail. At most one is set.
	trail []TrailEntry
	cp    *compact
}

// decisionDoc is the JSON form of a Decision (MediaType's schema); the field order is the
// schema's.
type decisionDoc struct {
	MediaType string       `json:"mediaType"`
	Effect    Effect       `json:"effect"`
	Warnings  []string     `json:"warnings,omitempty"`
	PolicyID  string       `json:"policyId"`
	Time      time.Time    `json:"time"`
	DecidedBy []string     `json:"decidedBy,omitempty"`
	Reason    string       `json:"reason"`
	Trail     []TrailEntry `json:"trail"`
}

// NewDecision returns a Decision with the given trail, for engines other than the built-in one
// that combine their entries themselves: the caller sets Effect, Reason, DecidedBy and Warnings.
// (Decide combines the entries with the built-in strength rules.) The Decision keeps trail:
// the caller must not modify it, or what its entries refer to, afterwards.
func NewDecision(policyID string, at time.Time, trail []TrailEntry) *Decision {
	return &Decision{MediaType: MediaType, PolicyID: policyID, Time: at, trail: trail}
}

// WithTrail returns a copy of d whose trail is trail (for example d.Trail() with entries
// added); the other fields are d's. The copy keeps trail, as NewDecision does.
func (d *Decision) WithTrail(trail []TrailEntry) *Decision {
	c := *d
	c.trail, c.cp = trail, nil
	return &c
}

// Trail returns one entry per rule, in policy order, the implicit rules first. Each call returns
// a new slice, which the caller may modify; the entries' Evidence, Revocations and OverriddenBy
// slices, and the Lookup statuses, may be shared with the Decision (and with other decisions of
// the same policy): read them, do not modify them.
func (d *Decision) Trail() []TrailEntry {
	if d == nil {
		return nil
	}
	if d.cp != nil {
		return d.cp.trail(d)
	}
	return slices.Clone(d.trail)
}

// Len returns the number of trail entries (len(d.Trail()) without building them).
func (d *Decision) Len() int {
	if d == nil {
		return 0
	}
	if d.cp != nil {
		return len(d.cp.entries)
	}
	return len(d.trail)
}

// TrailEntry records what one rule did.
type TrailEntry struct {
	// Rule is the rule id (the policy's "id" field, or "rules[i]" when it has none).
	Rule     string   `json:"rule"`
	Verb     Verb     `json:"verb"`
	Subject  string   `json:"subject,omitempty"`
	Strength Strength `json:"strength"`
	Outcome  Outcome  `json:"outcome"`
	// Effect is the rule's vote: Allow, Deny, or "" for none (satisfied, not applicable, or a
	// deny vote demoted to a warning).
	Effect Effect `json:"effect,omitempty"`
	// NotApplicable is true when the rule selected nothing.
	NotApplicable bool `json:"notApplicable,omitempty"`
	// Warning is set when the rule failed but only warns (WEAK, or downgraded by the policy).
	Warning bool `json:"warning,omitempty"`
	// Message explains the outcome.
	Message string `json:"message,omitempty"`
	// Evidence lists what the rule looked at and what it found.
	Evidence []Evidence `json:"evidence,omitempty"`
	// OverriddenBy names the rules whose votes overrode this rule's vote.
	OverriddenBy []string `json:"overriddenBy,omitempty"`
	// Revocations lists every revocation lookup the rule made.
	Revocations []Lookup `json:"revocations,omitempty"`
	// Reason classifies a deny vote (for example "revoked", "threshold", "target-unbound",
	// "policy-denied"); Decision.Err uses the deciding entry's reason.
	Reason verr.Reason `json:"reason,omitempty"`
	// Source is where the rule is written ("file:line:col"), when known.
	Source string `json:"source,omitempty"`
}

// Evidence is one subject a rule looked at.
type Evidence struct {
	// Kind is the subject kind: target, layout, step, link, attestation, key, artifact.
	Kind string `json:"kind"`
	// Layout and Step locate the subject, when it has them.
	Layout string `json:"layout,omitempty"`
	Step   string `json:"step,omitempty"`
	// Ref names the subject itself: a target or artifact name (artifacts as
	// "materials:<name>" or "products:<name>"), a keyid, or a layout, link or attestation digest.
	Ref string `json:"ref"`
	// Result is what the rule found for this subject: "selected", "matched", "failed", "ok",
	// "error", ...
	Result string `json:"result"`
	// Detail adds specifics (a failed expectation, a CEL error, consumed artifacts).
	Detail string `json:"detail,omitempty"`
}

// Lookup is one revocation lookup and its answer.
type Lookup struct {
	Ref revocation.Ref `json:"ref"`
	// Status is the answer; it is never nil in a Lookup this package makes. Read it, do not
	// modify it: the answers a policy gives itself (a REVOKE rule's, and "good" from "policy"
	// when Input.Revocation is nil) are shared by every decision of the compiled policy, and a
	// checker's answers by every Trail of the decision.
	Status *revocation.Status `json:"status"`
	// Error is the operational error of the lookup, if any (the state is then Unknown).
	Error string `json:"error,omitempty"`
}

// Allowed reports whether the effect is Allow.
func (d *Decision) Allowed() bool { return d != nil && d.Effect == Allow }

// Err returns nil when the decision allows, and otherwise a *verr.VerificationError whose Reason
// is verr.Revoked when a revocation decided the denial and verr.PolicyDenied otherwise, with the
// deciding rules in Rule.
func (d *Decision) Err() error {
	if d.Allowed() {
		return nil
	}
	if d == nil {
		return verr.New(verr.PolicyDenied, "no decision")
	}
	reason := verr.PolicyDenied
	if d.cp != nil {
		if r := d.cp.denyReason(d.DecidedBy); r != "" {
			reason = r
		}
	} else {
		for _, e := range d.trail {
			if e.Effect == Deny && e.Reason != "" && contains(d.DecidedBy, e.Rule) {
				reason = e.Reason
				break
			}
		}
	}
	return &verr.VerificationError{Reason: reason, Rule: strings.Join(d.DecidedBy, ","), Msg: d.Reason}
}

// MarshalJSON encodes the decision under MediaType.
func (d *Decision) MarshalJSON() ([]byte, error) {
	if d.cp != nil {
		cp := d.cp
		return cp.appendJSON(make([]byte, 0, 512+256*len(cp.entries)+192*len(cp.evs)+256*len(cp.lks)), d)
	}
	return json.Marshal(d.plain())
}

// plain is d's JSON form, with the trail materialised.
func (d *Decision) plain() *decisionDoc {
	return &decisionDoc{MediaType: MediaType, Effect: d.Effect, Warnings: d.Warnings, PolicyID: d.PolicyID,
		Time: d.Time, DecidedBy: d.DecidedBy, Reason: d.Reason, Trail: d.Trail()}
}

// UnmarshalJSON decodes a decision's JSON form (the trail as TrailEntry values).
func (d *Decision) UnmarshalJSON(b []byte) error {
	var x decisionDoc
	if err := json.Unmarshal(b, &x); err != nil {
		return err
	}
	*d = Decision{MediaType: x.MediaType, Effect: x.Effect, Warnings: x.Warnings, PolicyID: x.PolicyID,
		Time: x.Time, DecidedBy: x.DecidedBy, Reason: x.Reason, trail: x.Trail}
	return nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
