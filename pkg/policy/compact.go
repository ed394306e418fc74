package policy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/verr"
)

// compact is the built-in engine's record of a decision: the trail as small pointer-free
// records (entries, evidence, lookups) that refer to the compiled policy's rules and to the
// Input by index. Decision.Trail and MarshalJSON build the TrailEntry values from it. It is not
// modified after Evaluate returns.
type compact struct {
	c  *compiled
	in *Input
	// entries has one record per trail entry, in trail order.
	entries []centry
	// evs holds the entries' evidence records; entry e's are evs[e.evOff:e.evOff+e.evLen].
	evs []cev
	// lks holds the revocation lookups, in the order they were made.
	lks []clk
	// texts holds the strings that are not derived from the policy or the input (failure
	// details, error texts, computed digests); records refer to them as index+1 (0: none).
	texts []string
	// statuses holds the answers of Input.Revocation (see clk.status).
	statuses []revocation.Status
}

// entRevocation and entLayouts are centry.rule for the implicit entries.
const (
	entRevocation = -1
	entLayouts    = -2
)

// centry is one trail entry.
type centry struct {
	// rule is the index in compiled.rules, or entRevocation or entLayouts.
	rule         int32
	evOff, evLen int32
	// a, b and c are the message's parameters (see the msg constants).
	a, b, c int32
	msg     uint8
	outcome uint8
	effect  uint8
	reason  uint8
	flags   uint8
}

// centry.flags.
const (
	flagNotApplicable = 1 << iota
	flagWarning
)

// centry.msg: how the message is made.
const (
	msgNone         = iota
	msgText         // texts[a-1]
	msgHeld         // rule.heldFor(a)
	msgSelectedNone // rule.selectedNone
	msgNoArtifact   // matched no artifact in a link(s) of b step(s)
	msgMatched      // a of b selected <subject> subject(s) matched
	msgNoneMatched  // none of a selected <subject> subject(s) matched
	msgLookups      // a lookup(s), nothing revoked
	msgLayouts      // a of b layout(s) satisfied, <mode> required (c)
	msgNoLayouts    // the policy does not require layouts
	msgRevDeny      // a revoked digest(s) in the evidence (REVOKE rule)
	msgRevKeys      // a revoked key(s) in the evidence, excluded from every threshold
	msgRevNone      // nothing it revokes is in the evidence
)

// The outcome codes (0: none).
func outcomeCode(o Outcome) uint8 {
	switch o {
	case OutcomeAllow:
		return 1
	case OutcomeDeny:
		return 2
	case OutcomeSatisfied:
		return 3
	case OutcomeNotApplicable:
		return 4
	case OutcomeIndeterminate:
		return 5
	}
	return 0
}

func outcomeOf(c uint8) Outcome {
	switch c {
	case 1:
		return OutcomeAllow
	case 2:
		return OutcomeDeny
	case 3:
		return OutcomeSatisfied
	case 4:
		return OutcomeNotApplicable
	case 5:
		return OutcomeIndeterminate
	}
	return ""
}

// centry.effect.
const (
	effNone uint8 = iota
	effAllow
	effDeny
)

func effectOf(c uint8) Effect {
	switch c {
	case effAllow:
		return Allow
	case effDeny:
		return Deny
	}
	return ""
}

// reasonCode encodes the reasons the built-in engine gives (and "" as 0). It reports false for
// any other reason.
func reasonCode(r verr.Reason) (uint8, bool) {
	for i := uint8(0); ; i++ {
		x, ok := reasonOf(i)
		if !ok {
			return 0, false
		}
		if x == r {
			return i, true
		}
	}
}

func reasonOf(c uint8) (verr.Reason, bool) {
	switch c {
	case 0:
		return "", true
	case 1:
		return verr.PolicyDenied, true
	case 2:
		return verr.Revoked, true
	case 3:
		return verr.Unknown, true
	case 4:
		return verr.LayoutInvalid, true
	case 5:
		return verr.Expired, true
	case 6:
		return verr.Threshold, true
	case 7:
		return verr.RuleFailed, true
	case 8:
		return verr.TargetUnbound, true
	}
	return "", false
}

func (e *centry) setReason(r verr.Reason) {
	c, ok := reasonCode(r)
	if !ok {
		c = 1 // not reached: every reason the engine gives has a code (TestReasonCodes)
	}
	e.reason = c
}

func (e *centry) getReason() verr.Reason { r, _ := reasonOf(e.reason); return r }

// cev is one evidence record. What li, si and ki index depends on kind (see evKind).
type cev struct {
	li, si, ki int32
	// name is the artifact name (texts index+1), for evArtifact.
	name int32
	// detail is texts index+1, or 0 for none.
	detail int32
	kind   uint8
	result uint8
	side   uint8 // evArtifact: 0 materials, 1 products
}

// cev.kind: the subject and where it is in the Input.
const (
	evTarget      = iota // Input.Target
	evLayout             // Layouts[li]
	evStep               // Layouts[li].Steps[si]
	evLink               // Layouts[li].Steps[si].Links[ki]
	evAttestation        // Attestations[ki]
	evKeyAtt             // the signer of Attestations[ki]
	evKeySigner          // Layouts[li].Signers[ki]
	evKeyFunc            // the functionary of Layouts[li].Steps[si].Links[ki]
	evArtifact           // an artifact of Layouts[li].Steps[si].Links[ki]
	evMore               // the "truncated" record
)

// cev.result.
const (
	resMatched = iota
	resNotMatched
	resFailed
	resOK
	resError
	resTruncated
)

func resultText(r uint8) string {
	switch r {
	case resMatched:
		return "matched"
	case resNotMatched:
		return "not-matched"
	case resFailed:
		return "failed"
	case resOK:
		return "ok"
	case resError:
		return "error"
	}
	return "truncated"
}

// subj is a subject forSubjects visits: an evidence record without its result.
type subj struct {
	li, si, ki int32
	kind       uint8
	side       uint8
	name       string // the artifact name (evArtifact)
}

// ref returns the subject's kind and location as the trail writes them.
func (in *Input) subjRef(s *subj) (kind string, r subjRef) {
	switch s.kind {
	case evTarget:
		return "target", subjRef{name: in.Target.Name}
	case evAttestation:
		a := &in.Attestations[s.ki]
		return "attestation", subjRef{name: a.Digest, step: a.PredicateType}
	case evKeyAtt:
		return "key", subjRef{name: in.Attestations[s.ki].Signer}
	case evMore:
		return "more", subjRef{name: "..."}
	}
	l := &in.Layouts[s.li]
	switch s.kind {
	case evLayout:
		return "layout", subjRef{layout: l.Name, name: l.Digest}
	case evKeySigner:
		return "key", subjRef{layout: l.Name, name: l.Signers[s.ki]}
	}
	st := &l.Steps[s.si]
	switch s.kind {
	case evStep:
		return "step", subjRef{layout: l.Name, step: st.Name}
	case evLink:
		return "link", subjRef{layout: l.Name, step: st.Name, name: st.Links[s.ki].Digest}
	case evKeyFunc:
		return "key", subjRef{layout: l.Name, step: st.Name, name: st.Links[s.ki].KeyID}
	}
	side := "materials:"
	if s.side == 1 {
		side = "products:"
	}
	return "artifact", subjRef{layout: l.Name, step: st.Name, name: side + s.name}
}

// clk is one revocation lookup. What li, si and ki index depends on kind (see lk constants).
type clk struct {
	li, si, ki int32
	// status is the answer: >= 0 indexes compact.statuses; -1 is compiled.goodStatus; -2-i is
	// the revStatus of compiled.rules[i], the REVOKE rule that answered.
	status int32
	// err is the lookup's error text (texts index+1), or 0.
	err int32
	// str is, for lkTargetHash, the digest (texts index+1; 0: made from the ki-th of the
	// target's hash algorithms, sorted), and for lkArtifact the artifact's name (texts[str-1])
	// and digest (texts[str]).
	str  int32
	kind uint8
}

// by is 1 + the index of the REVOKE rule that answered l, or 0 (see rule.byIndex).
func (l *clk) by() int32 {
	if l.status <= -2 {
		return -1 - l.status
	}
	return 0
}

// clk.kind.
const (
	lkTargetHash  = iota // an artifact lookup of the target (digest in texts)
	lkLayout             // Layouts[li]
	lkSigner             // Layouts[li].Signers[ki]
	lkCert               // the certificate of Layouts[li].Keys[ki]
	lkLink               // Layouts[li].Steps[si].Links[ki]
	lkFunctionary        // the key of Layouts[li].Steps[si].Links[ki]
	lkArtifact           // an artifact of a link of Layouts[li].Steps[si] matched by a REVOKE rule
	lkAttestation        // Attestations[ki] by digest
	lkAttKey             // the signer of Attestations[ki]
)

func (cp *compact) text(i int32) string {
	if i <= 0 {
		return ""
	}
	return cp.texts[i-1]
}

// addText stores s and returns its reference (index+1).
func (cp *compact) addText(s string) int32 {
	cp.texts = append(cp.texts, s)
	return int32(len(cp.texts))
}

// ref returns the lookup's revocation.Ref.
func (cp *compact) ref(l *clk) revocation.Ref {
	in := cp.in
	switch l.kind {
	case lkTargetHash:
		d := cp.text(l.str)
		if l.str == 0 {
			var buf [1]string
			alg := sortedHashAlgs(in.Target.Hashes, &buf)[l.ki]
			d = alg + ":" + strings.ToLower(in.Target.Hashes[alg])
		}
		return revocation.Ref{Kind: revocation.KindArtifact, Digest: d, Name: in.Target.Name}
	case lkAttestation:
		a := &in.Attestations[l.ki]
		return revocation.Ref{Kind: revocation.KindLink, Digest: a.Digest, Name: a.PredicateType}
	case lkAttKey:
		return revocation.Ref{Kind: revocation.KindKey, KeyID: in.Attestations[l.ki].Signer}
	}
	ly := &in.Layouts[l.li]
	switch l.kind {
	case lkLayout:
		return revocation.Ref{Kind: revocation.KindLayout, Digest: ly.Digest, Name: ly.Name, Version: ly.Version}
	case lkSigner:
		return revocation.Ref{Kind: revocation.KindKey, KeyID: ly.Signers[l.ki], Name: ly.Name}
	case lkCert:
		k := &ly.Keys[l.ki]
		return revocation.Ref{Kind: revocation.KindCertificate, KeyID: k.KeyID, Issuer: k.Issuer, Serial: k.Serial}
	}
	s := &ly.Steps[l.si]
	switch l.kind {
	case lkLink:
		return revocation.Ref{Kind: revocation.KindLink, Digest: s.Links[l.ki].Digest, Name: ly.Name, Step: s.Name}
	case lkFunctionary:
		return revocation.Ref{Kind: revocation.KindFunctionary, KeyID: s.Links[l.ki].KeyID, Name: ly.Name, Step: s.Name}
	}
	return revocation.Ref{Kind: revocation.KindArtifact, Digest: cp.text(l.str + 1), Name: cp.text(l.str), Step: s.Name}
}

// status returns the lookup's answer (shared: read it, do not modify it).
func (cp *compact) status(l *clk) *revocation.Status {
	switch {
	case l.status >= 0:
		return &cp.statuses[l.status]
	case l.status == -1:
		return cp.c.goodStatus
	}
	return cp.c.rules[-2-l.status].revStatus
}

func (cp *compact) lookup(l *clk) Lookup {
	return Lookup{Ref: cp.ref(l), Status: cp.status(l), Error: cp.text(l.err)}
}

// ruleID returns the id of entry e's rule.
func (cp *compact) ruleID(e *centry) string {
	switch e.rule {
	case entRevocation:
		return "revocation"
	case entLayouts:
		return "layouts"
	}
	return cp.c.rules[e.rule].id
}

// strength returns entry e's strength.
func (cp *compact) strength(e *centry) Strength {
	if e.rule < 0 {
		return Strong
	}
	return cp.c.rules[e.rule].strength
}

// message returns entry e's message.
func (cp *compact) message(e *centry) string {
	var r *rule
	if e.rule >= 0 {
		r = cp.c.rules[e.rule]
	}
	var m string
	switch e.msg {
	case msgText:
		m = cp.text(e.a)
	case msgHeld:
		m = r.heldFor(int(e.a))
	case msgSelectedNone:
		m = r.selectedNone
	case msgNoArtifact:
		m = "matched no artifact in " + itoa(int(e.a)) + " link(s) of " + itoa(int(e.b)) + " step(s)"
	case msgMatched:
		m = itoa(int(e.a)) + " of " + itoa(int(e.b)) + " selected " + r.subjName + " subject(s) matched"
	case msgNoneMatched:
		m = "none of " + itoa(int(e.a)) + " selected " + r.subjName + " subject(s) matched"
	case msgLookups:
		m = itoa(int(e.a)) + " lookup(s), nothing revoked"
	case msgLayouts:
		m = itoa(int(e.a)) + " of " + itoa(int(e.b)) + " layout(s) satisfied, " + cp.c.modeText() + " required (" + itoa(int(e.c)) + ")"
	case msgNoLayouts:
		m = "the policy does not require layouts"
	case msgRevDeny:
		m = fmt.Sprintf("%d revoked digest(s) in the evidence", e.a)
	case msgRevKeys:
		m = fmt.Sprintf("%d revoked key(s) in the evidence, excluded from every threshold", e.a)
	case msgRevNone:
		m = "nothing it revokes is in the evidence"
	}
	if r == nil {
		return m
	}
	if r.verb == VerbRevoke {
		if r.reason != "" {
			m += " (" + r.reason + ")"
		}
		return m
	}
	if r.message != "" && (e.outcome == outcomeCode(OutcomeDeny) || e.outcome == outcomeCode(OutcomeAllow)) {
		m = r.message + ": " + m
	}
	return m
}

// modeText is how the layouts entry names the policy's layouts requirement.
func (c *compiled) modeText() string {
	switch c.mode {
	case layoutsAny:
		return "any"
	case layoutsK:
		return fmt.Sprintf("%d of n", c.k)
	}
	return "all"
}

// denyReason is the reason of the first entry that voted deny and is in decidedBy ("" if none).
func (cp *compact) denyReason(decidedBy []string) verr.Reason {
	for i := range cp.entries {
		e := &cp.entries[i]
		if e.effect == effDeny && e.reason != 0 && contains(decidedBy, cp.ruleID(e)) {
			return e.getReason()
		}
	}
	return ""
}

// trail materialises the trail of d (whose compact form is cp).
func (cp *compact) trail(d *Decision) []TrailEntry {
	out := make([]TrailEntry, len(cp.entries))
	for i := range cp.entries {
		cp.entry(d, &cp.entries[i], &out[i])
	}
	return out
}

// entry materialises e into out (a zero TrailEntry). d gives the decision's effect and deciding
// rules (for OverriddenBy); nil for entries outside a decision (BaseEntries).
func (cp *compact) entry(d *Decision, e *centry, out *TrailEntry) {
	switch e.rule {
	case entRevocation:
		out.Rule, out.Verb, out.Subject, out.Strength = "revocation", VerbRevocation, "all", Strong
		out.Revocations = make([]Lookup, len(cp.lks))
		for i := range cp.lks {
			out.Revocations[i] = cp.lookup(&cp.lks[i])
		}
	case entLayouts:
		out.Rule, out.Verb, out.Subject, out.Strength = "layouts", VerbLayouts, "layout", Strong
	default:
		r := cp.c.rules[e.rule]
		setEntry(out, r)
		if r.verb == VerbRevoke {
			cp.revokeRecords(r, out)
		}
	}
	out.Outcome, out.Effect, out.Reason = outcomeOf(e.outcome), effectOf(e.effect), e.getReason()
	out.NotApplicable, out.Warning = e.flags&flagNotApplicable != 0, e.flags&flagWarning != 0
	out.Message = cp.message(e)
	if e.evLen > 0 {
		out.Evidence = make([]Evidence, e.evLen)
		for i, x := range cp.evs[e.evOff : e.evOff+e.evLen] {
			kind, ref := cp.in.subjRef(&subj{li: x.li, si: x.si, ki: x.ki, kind: x.kind, side: x.side, name: cp.text(x.name)})
			out.Evidence[i] = Evidence{Kind: kind, Layout: ref.layout, Step: ref.step, Ref: ref.name,
				Result: resultText(x.result), Detail: cp.text(x.detail)}
		}
	}
	if d != nil && out.Effect != "" && out.Effect != d.Effect {
		out.OverriddenBy = d.DecidedBy
	}
}

// revokeRecords fills in the lookups REVOKE rule r answered and their evidence.
func (cp *compact) revokeRecords(r *rule, out *TrailEntry) {
	me := r.byIndex()
	for i := range cp.lks {
		l := &cp.lks[i]
		if l.by() != me {
			continue
		}
		lk := cp.lookup(l)
		out.Revocations = append(out.Revocations, lk)
		res := "revoked"
		if lk.Ref.Kind == revocation.KindKey || lk.Ref.Kind == revocation.KindFunctionary {
			res = "revoked; excluded from thresholds"
		}
		out.Evidence = append(out.Evidence, Evidence{Kind: string(lk.Ref.Kind), Layout: lk.Ref.Name, Step: lk.Ref.Step,
			Ref: lk.Ref.KeyID + lk.Ref.Digest, Result: res, Detail: "source " + lk.Status.Source})
	}
}

// combine is the package-level combine over the compact entries: the same rules, the same texts.
func (cp *compact) combine(d *Decision, warnings []string) {
	d.Warnings = warnings
	for i := range cp.entries {
		e := &cp.entries[i]
		if e.effect == effDeny && cp.strength(e) == Weak {
			e.effect, e.flags = effNone, e.flags|flagWarning
		}
		if e.flags&flagWarning != 0 {
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s (%s %s): %s", cp.ruleID(e), cp.strength(e), cp.verb(e), cp.message(e)))
		}
	}
	best := Strength(0)
	for i := range cp.entries {
		e := &cp.entries[i]
		if s := cp.strength(e); e.effect != effNone && s > best {
			best = s
		}
	}
	if best == 0 {
		satisfied := 0
		for i := range cp.entries {
			if cp.entries[i].outcome == outcomeCode(OutcomeSatisfied) {
				satisfied++
			}
		}
		d.noVote(satisfied)
		return
	}
	eff := effAllow
	for i := range cp.entries {
		e := &cp.entries[i]
		if e.effect == effDeny && cp.strength(e) == best {
			eff = effDeny
			break
		}
	}
	d.Effect = effectOf(eff)
	n, last := 0, -1
	for i := range cp.entries {
		e := &cp.entries[i]
		if e.effect == eff && cp.strength(e) == best {
			n, last = n+1, i
		}
	}
	if n == 1 && cp.entries[last].rule >= 0 {
		// One rule decided: its id and the reason are made at compile time.
		r := cp.c.rules[cp.entries[last].rule]
		d.DecidedBy = r.idList
		if eff == effDeny {
			d.Reason = r.deniedBy
		} else {
			d.Reason = r.allowedBy
		}
		return
	}
	d.DecidedBy = make([]string, 0, n)
	for i := range cp.entries {
		e := &cp.entries[i]
		if e.effect == eff && cp.strength(e) == best {
			d.DecidedBy = append(d.DecidedBy, cp.ruleID(e))
		}
	}
	d.Reason = decidedReason(d.Effect, best, d.DecidedBy)
}

// noVote sets the effect when no rule voted: allow if some rule was satisfied (both combine
// functions share it).
func (d *Decision) noVote(satisfied int) {
	if satisfied > 0 {
		d.Effect = Allow
		d.Reason = "allowed: no rule voted, " + itoa(satisfied) + " rule(s) satisfied"
	} else {
		d.Effect = Deny
		d.Reason = "denied: no rule applied"
	}
}

// decidedReason is Decision.Reason when rules of strength best decided the effect.
func decidedReason(eff Effect, best Strength, by []string) string {
	verb := "allowed"
	if eff == Deny {
		verb = "denied"
	}
	return verb + " by " + best.String() + " rule(s) " + strings.Join(by, ", ")
}

func (cp *compact) verb(e *centry) Verb {
	switch e.rule {
	case entRevocation:
		return VerbRevocation
	case entLayouts:
		return VerbLayouts
	}
	return cp.c.rules[e.rule].verb
}

// sortedHashAlgs returns the algorithms of a target's hashes, sorted, without allocating for
// the usual single hash.
func sortedHashAlgs(h map[string]string, buf *[1]string) []string {
	if len(h) == 1 {
		for alg := range h {
			buf[0] = alg
		}
		return buf[:]
	}
	ks := make([]string, 0, len(h))
	for k := range h {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
