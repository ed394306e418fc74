package verify

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/verr"
)

// DefaultPolicyID identifies the default policy in a Decision.
const DefaultPolicyID = "tinto:default-policy/v1"

// DefaultPolicy returns the policy a Verifier uses when Options.Policy is nil. It is strict:
//
//   - layouts: every root layout listed for the target must verify (rule "layouts");
//   - binding: the target must equal a product of the supply chain (rule "binding"; tinto's own
//     binding check enforces it before the policy runs, and the policy requires a bound target);
//   - revocation: every key whose signature counted (layout signers, link signers), every layout,
//     every link and every hash of the target is looked up with the revocation checker; Revoked
//     denies (reason verr.Revoked), and so does Unknown, including when no revocation checker
//     is configured at all (rule "revocation"), unless the thing is NotRevocable.
//
// Every rule is STRONG. The returned Policy is safe for concurrent use.
func DefaultPolicy() (Policy, error) { return strictPolicy{}, nil }

type strictPolicy struct{}

// ID implements policy.Policy.
func (strictPolicy) ID() string { return DefaultPolicyID }

func (strictPolicy) Evaluate(ctx context.Context, in *policy.Input) (*policy.Decision, error) {
	if in == nil || in.Time.IsZero() {
		return nil, errors.New("default policy: input without an evaluation time")
	}
	var denied []string

	// layouts
	lay := policy.TrailEntry{Rule: "layouts", Verb: policy.VerbLayouts, Subject: "layout", Strength: policy.Strong}
	var bad []string
	for _, l := range in.Layouts {
		r := "ok"
		if l.Failure != "" {
			f := l.Failure
			if len(f) > 160 {
				f = f[:160] + "…"
			}
			r, bad = "failed", append(bad, l.Name+" ("+f+")")
		}
		lay.Evidence = append(lay.Evidence, policy.Evidence{Kind: "layout", Ref: l.Name, Result: r, Detail: l.Failure})
	}
	switch {
	case len(in.Layouts) == 0:
		lay.Outcome, lay.Effect, lay.Message = policy.OutcomeDeny, policy.Deny, "no verified in-toto layout"
	case len(bad) > 0:
		lay.Outcome, lay.Effect, lay.Message = policy.OutcomeDeny, policy.Deny, "layout(s) failed to verify: "+strings.Join(bad, ", ")
	default:
		lay.Outcome, lay.Message = policy.OutcomeSatisfied, fmt.Sprintf("all %d layout(s) verified", len(in.Layouts))
	}
	if lay.Effect == policy.Deny {
		denied = append(denied, lay.Rule)
	}

	// binding
	bin := policy.TrailEntry{Rule: "binding", Verb: policy.VerbRequire, Subject: "target", Strength: policy.Strong}
	if in.Target == nil {
		bin.Outcome, bin.Effect, bin.Message = policy.OutcomeDeny, policy.Deny, "no TUF-verified target"
	} else if ref, ok := boundProduct(in); ok {
		bin.Outcome, bin.Message = policy.OutcomeSatisfied, "target equals product "+ref
		bin.Evidence = []policy.Evidence{{Kind: "target", Ref: in.Target.Name, Result: "matched", Detail: ref}}
	} else {
		bin.Outcome, bin.Effect, bin.Message = policy.OutcomeDeny, policy.Deny, "target is not a product of any verified layout"
	}
	if bin.Effect == policy.Deny {
		denied = append(denied, bin.Rule)
	}

	// revocation
	rev := policy.TrailEntry{Rule: "revocation", Verb: policy.VerbRevocation, Subject: "key", Strength: policy.Strong}
	refs := revocableRefs(in)
	var revoked, unknown []string
	for _, ref := range refs {
		lk := policy.Lookup{Ref: ref}
		if in.Revocation == nil {
			lk.Status = &revocation.Status{State: revocation.Unknown, Source: "none"}
			lk.Error = "no revocation source configured"
		} else {
			st, err := in.Revocation.Status(ctx, ref, in.Time)
			if err != nil {
				st = revocation.Status{State: revocation.Unknown, Source: st.Source}
				lk.Error = err.Error()
			}
			lk.Status = &st
		}
		switch lk.Status.State {
		case revocation.Revoked:
			revoked = append(revoked, describeRef(ref, *lk.Status))
		case revocation.Good, revocation.NotRevocable:
		default:
			unknown = append(unknown, describeRef(ref, *lk.Status))
		}
		rev.Revocations = append(rev.Revocations, lk)
	}
	switch {
	case len(revoked) > 0:
		rev.Outcome, rev.Effect, rev.Message = policy.OutcomeDeny, policy.Deny, "revoked: "+strings.Join(revoked, "; ")
		rev.Reason = verr.Revoked
	case len(unknown) > 0:
		rev.Outcome, rev.Effect, rev.Message = policy.OutcomeDeny, policy.Deny, "revocation status unknown: "+strings.Join(unknown, "; ")
	case len(refs) == 0:
		rev.Outcome, rev.NotApplicable, rev.Message = policy.OutcomeNotApplicable, true, "nothing to look up"
	default:
		rev.Outcome, rev.Message = policy.OutcomeSatisfied, fmt.Sprintf("%d lookup(s), none revoked", len(refs))
	}
	if rev.Effect == policy.Deny {
		denied = append(denied, rev.Rule)
	}

	trail := []policy.TrailEntry{lay, bin, rev}
	d := policy.NewDecision(DefaultPolicyID, in.Time, trail)
	if len(denied) > 0 {
		d.Effect, d.DecidedBy = policy.Deny, denied
		for _, e := range trail {
			if e.Effect == policy.Deny {
				d.Reason = e.Rule + ": " + e.Message
				break
			}
		}
	} else {
		d.Effect, d.Reason = policy.Allow, "every STRONG rule is satisfied"
	}
	return d, nil
}

func describeRef(ref revocation.Ref, st revocation.Status) string {
	s := string(ref.Kind) + " " + ref.KeyID + ref.Digest
	if ref.Name != "" {
		s += " (" + ref.Name + ")"
	}
	if st.Source != "" {
		s += " per " + st.Source
	}
	if st.Reason != "" {
		s += ": " + st.Reason
	}
	return s
}

// boundProduct reports the product of a verified layout whose digests equal the target's: in
// the first layout that has one, the latest step's (the final product), the first name. A
// product named like the target (its path or base name) is found by lookup; only without one
// is every product compared.
func boundProduct(in *policy.Input) (string, bool) {
	algs := targetAlgs(in.Target.Hashes)
	names := []string{in.Target.Name, path.Base(in.Target.Name)}
	for _, byName := range []bool{true, false} {
		for _, l := range in.Layouts {
			if l.Failure != "" {
				continue
			}
			for i := len(l.Steps) - 1; i >= 0; i-- {
				s := l.Steps[i]
				best := ""
				for _, k := range s.Links {
					if byName {
						for _, n := range names {
							if d, ok := k.Products[n]; ok && matches(algs, in.Target.Hashes, d) && (best == "" || n < best) {
								best = n
							}
						}
						continue
					}
					for n, d := range k.Products {
						if matches(algs, in.Target.Hashes, d) && (best == "" || n < best) {
							best = n
						}
					}
				}
				if best != "" {
					return l.Name + " / " + s.Name + " / " + best, true
				}
			}
		}
	}
	return "", false
}

// revocableRefs lists, without duplicates and in a stable order, everything the default policy
// looks up: the keys whose signatures counted, the layouts, the links and every hash of the
// target.
func revocableRefs(in *policy.Input) []revocation.Ref {
	var refs []revocation.Ref
	seen := map[revocation.Ref]bool{}
	add := func(r revocation.Ref) {
		if !seen[r] {
			seen[r] = true
			refs = append(refs, r)
		}
	}
	for _, l := range in.Layouts {
		if l.Failure != "" {
			continue
		}
		for _, k := range l.Signers {
			add(revocation.Ref{Kind: revocation.KindKey, KeyID: k})
		}
		add(revocation.Ref{Kind: revocation.KindLayout, Digest: l.Digest, Name: l.Name, Version: l.Version})
		for _, s := range l.Steps {
			for _, k := range s.Links {
				add(revocation.Ref{Kind: revocation.KindFunctionary, KeyID: k.KeyID, Step: s.Name})
				add(revocation.Ref{Kind: revocation.KindLink, Digest: k.Digest, Name: s.Name})
			}
		}
	}
	if in.Target != nil {
		// Every hash TUF signed for the target: a list may revoke it by any of them.
		algs := make([]string, 0, len(in.Target.Hashes))
		for alg, h := range in.Target.Hashes {
			if h != "" {
				algs = append(algs, alg)
			}
		}
		sort.Strings(algs)
		for _, alg := range algs {
			add(revocation.Ref{Kind: revocation.KindArtifact, Digest: alg + ":" + strings.ToLower(in.Target.Hashes[alg]), Name: in.Target.Name})
		}
	}
	return refs
}
