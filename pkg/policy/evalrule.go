package policy

import (
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

// subjectVisit is called once per subject a rule's layout/step filters admit; s locates it.
type subjectVisit func(s subj) (stop bool)

// subjRef locates a subject: its layout and step (when it has them) and its own name.
type subjRef struct{ layout, step, name string }

func (r subjRef) String() string {
	s := r.name
	if r.step != "" {
		s = r.step + " " + s
	}
	if r.layout != "" {
		s = r.layout + "/" + s
	}
	return s
}

// forSubjects binds each subject of kind r.subject into ev.act in turn and calls f.
func (ev *evaluator) forSubjects(r *rule, f subjectVisit) {
	in, a := ev.in, &ev.act
	defer func() { a.layout, a.step, a.link, a.att, a.key, a.artifact = nil, nil, nil, nil, nil, nil }()
	switch r.subject {
	case subjTarget:
		if in.Target != nil {
			f(subj{kind: evTarget})
		}
		return
	case subjAttestation:
		for i := range in.Attestations {
			a.att = &in.Attestations[i]
			if f(subj{kind: evAttestation, ki: int32(i)}) {
				return
			}
		}
		return
	}
	if r.subject == subjKey && !r.functionaries {
		for i := range in.Attestations {
			at := &in.Attestations[i]
			if r.layout != "" || r.step != "" {
				break
			}
			a.key = &KeySubject{KeyID: at.Signer, Role: "attestation"}
			if f(subj{kind: evKeyAtt, ki: int32(i)}) {
				return
			}
		}
	}
	for li := range in.Layouts {
		l := &in.Layouts[li]
		if !r.layoutSel.match(l.Name) {
			continue
		}
		a.layout = l
		ev.curLayout = li
		switch r.subject {
		case subjLayout:
			if f(subj{kind: evLayout, li: int32(li)}) {
				return
			}
			continue
		case subjKey:
			if r.step == "" && !r.functionaries {
				for i, s := range l.Signers {
					a.key = keySubject(l, "", s, "layout")
					if f(subj{kind: evKeySigner, li: int32(li), ki: int32(i)}) {
						return
					}
				}
			}
		}
		base := -1 // the index among all links of the evidence of the step's first link
		if li < len(ev.revs) {
			base = ev.revs[li].linkBase
		}
		for si := range l.Steps {
			s := &l.Steps[si]
			ev.linkBase = base
			if base >= 0 {
				base += len(s.Links)
			}
			if !r.stepSel.match(s.Name) {
				continue
			}
			a.step = s
			switch r.subject {
			case subjStep:
				if f(subj{kind: evStep, li: int32(li), si: int32(si)}) {
					return
				}
				continue
			case subjKey:
				for ki := range s.Links {
					k := s.Links[ki].KeyID
					if slices.ContainsFunc(s.Links[:ki], func(x Link) bool { return x.KeyID == k }) {
						continue
					}
					a.key = keySubject(l, s.Name, k, "functionary")
					if f(subj{kind: evKeyFunc, li: int32(li), si: int32(si), ki: int32(ki)}) {
						return
					}
				}
				continue
			}
			for ki := range s.Links {
				k := &s.Links[ki]
				a.link = k
				if r.subject == subjLink {
					if f(subj{kind: evLink, li: int32(li), si: int32(si), ki: int32(ki)}) {
						return
					}
					continue
				}
				// artifacts
				for side := uint8(0); side < 2; side++ {
					m, sideName := k.Materials, "materials"
					if side == 1 {
						m, sideName = k.Products, "products"
					}
					for _, name := range sortedKeys(m) {
						a.artifact = &ArtifactSubject{Name: name, Digests: m[name].Map(), Side: sideName, Step: s.Name, Layout: l.Name, Signer: k.KeyID}
						if f(subj{kind: evArtifact, li: int32(li), si: int32(si), ki: int32(ki), side: side, name: name}) {
							return
						}
					}
				}
			}
			a.link = nil
		}
		a.step = nil
	}
}

func keySubject(l *Layout, step, keyid, role string) *KeySubject {
	ks := &KeySubject{KeyID: keyid, Role: role, Layout: l.Name, Step: step}
	for _, k := range l.Keys {
		if k.KeyID == keyid || strings.EqualFold(k.KeyID, keyid) {
			ks.KeyType, ks.Scheme, ks.Issuer, ks.Serial = k.KeyType, k.Scheme, k.Issuer, k.Serial
			break
		}
	}
	return ks
}

// ruleEntry evaluates one rule of the policy into e, a zero entry.
func (ev *evaluator) ruleEntry(r *rule, e *centry) {
	e.rule = int32(r.index)
	if r.verb == VerbRevoke {
		ev.revokeEntry(r, e)
		ev.vote(e)
		return
	}
	var selected, hits, failed, errs, n, runs, naRuns int
	ev.beginEvidence(e)
	var firstFail string
	ev.forSubjects(r, func(sv subj) bool {
		s := &sv
		if ev.ctx.Err() != nil {
			errs++
			ev.addEvidence(e, &n, s, resError, ev.ctx.Err().Error())
			return true
		}
		if r.where != nil {
			ok, err := r.where.evalBool(ev.ctx, &ev.act)
			if err != nil {
				errs++
				ev.addEvidence(e, &n, s, resError, "where: "+err.Error())
				return false
			}
			if !ok {
				return false
			}
		}
		selected++
		switch {
		case r.verb == VerbAllow || r.verb == VerbDeny:
			ok := true
			if r.when != nil {
				var err error
				ok, err = r.when.evalBool(ev.ctx, &ev.act)
				if err != nil {
					errs++
					ev.addEvidence(e, &n, s, resError, "when: "+err.Error())
					return false
				}
			}
			if ok {
				hits++
				ev.addEvidence(e, &n, s, resMatched, "")
			} else {
				ev.addEvidence(e, &n, s, resNotMatched, "")
			}
		case r.verb == VerbRequire:
			var why []string
			for i, c := range r.expect {
				ok, err := c.evalBool(ev.ctx, &ev.act)
				if err != nil {
					errs++
					ev.addEvidence(e, &n, s, resError, fmt.Sprintf("expect[%d] %s: %v", i, c.text, err))
					return false
				}
				if !ok {
					why = append(why, fmt.Sprintf("expect[%d] %s is false", i, c.text))
				}
			}
			if r.productOf != "" {
				if msg := ev.bound(r); msg != "" {
					why = append(why, msg)
					e.setReason(verr.TargetUnbound)
				}
			}
			if len(why) > 0 {
				failed++
				if firstFail == "" {
					_, ref := ev.in.subjRef(s)
					firstFail = ref.String() + ": " + strings.Join(why, "; ")
				}
				ev.addEvidence(e, &n, s, resFailed, strings.Join(why, "; "))
			} else {
				ev.addEvidence(e, &n, s, resOK, "")
			}
		case isArtifactVerb(r.verb):
			st, l := ev.act.step, ev.act.layout
			for ki := range st.Links {
				k := &st.Links[ki]
				ls := subj{kind: evLink, li: s.li, si: s.si, ki: int32(ki)}
				var consumed []string
				var na bool
				var err error
				if r.disBit >= 0 && ev.linkBase >= 0 {
					consumed, na, err = ev.disallowRun(r, k, ev.linkBase+ki)
				} else {
					consumed, na, err = r.art.run(r.side, k, st, l, l.namesValidated())
				}
				runs++
				if na {
					naRuns++
				}
				switch {
				case err != nil:
					failed++
					e.setReason(verr.RuleFailed)
					if firstFail == "" {
						_, lref := ev.in.subjRef(&ls)
						firstFail = lref.String() + ": " + err.Error()
					}
					ev.addEvidence(e, &n, &ls, resFailed, err.Error())
				default:
					detail := ""
					if len(consumed) > 0 {
						detail = "consumed " + strings.Join(consumed, ", ")
					}
					ev.addEvidence(e, &n, &ls, resOK, detail)
				}
			}
		}
		return false
	})
	switch {
	case errs > 0:
		e.setOutcome(OutcomeIndeterminate)
		ev.setText(e, fmt.Sprintf("%d evaluation error(s)", errs))
	case r.verb == VerbRequire && selected < r.min:
		e.setOutcome(OutcomeDeny)
		ev.setText(e, fmt.Sprintf("%d %s subject(s) selected, at least %d required", selected, r.subject, r.min))
	case selected == 0 || isArtifactVerb(r.verb) && naRuns == runs:
		e.setOutcome(OutcomeNotApplicable)
		e.msg = msgSelectedNone
		if selected > 0 {
			e.msg, e.a, e.b = msgNoArtifact, int32(runs), int32(selected)
		}
		if r.verb == VerbRequire && r.productOf != "" {
			e.setOutcome(OutcomeDeny)
			e.setReason(verr.TargetUnbound)
			ev.setText(e, "no target to bind")
		}
	case r.verb == VerbAllow && hits > 0:
		e.setOutcome(OutcomeAllow)
		e.msg, e.a, e.b = msgMatched, int32(hits), int32(selected)
	case r.verb == VerbDeny && hits > 0:
		e.setOutcome(OutcomeDeny)
		e.msg, e.a, e.b = msgMatched, int32(hits), int32(selected)
	case r.verb == VerbAllow:
		e.setOutcome(OutcomeNotApplicable)
		e.msg, e.a = msgNoneMatched, int32(selected)
	case r.verb == VerbDeny:
		e.setOutcome(OutcomeSatisfied)
		e.msg, e.a = msgNoneMatched, int32(selected)
	case failed > 0:
		e.setOutcome(OutcomeDeny)
		ev.setText(e, fmt.Sprintf("%d of %d failed; first: %s", failed, selected, firstFail))
	default:
		e.setOutcome(OutcomeSatisfied)
		e.msg, e.a = msgHeld, int32(selected)
	}
	ev.vote(e)
}

// disScanned marks a slot of evaluator.disMemo whose link side has been scanned.
const disScanned = 1 << 63

// disallowRun is r.art.run for a DISALLOW rule r over link k, number gi (its index among all links of the
// evidence, see layoutRev.linkBase) of the current step, when the policy has several DISALLOW
// rules: the first of them to look at a link's side scans it once for all the DISALLOW rules
// that select the link, and records in ev.disMemo which of them found nothing (no invalid name,
// no match: not applicable). A rule that did find something is run on its own, which makes its
// failure exactly the one r.art.run reports.
func (ev *evaluator) disallowRun(r *rule, k *Link, gi int) ([]string, bool, error) {
	s, l := ev.act.step, ev.act.layout
	side := 0
	if r.side == "materials" {
		side = 1
	}
	if ev.disMemo == nil {
		ev.disMemo = reuse(ev.spare.disMemo, 2*ev.nlink)
	}
	if 2*gi+side >= len(ev.disMemo) {
		return r.art.run(r.side, k, s, l, l.namesValidated())
	}
	slot := &ev.disMemo[2*gi+side]
	if *slot&disScanned == 0 {
		*slot = ev.scanDisallow(k.Products, k.Materials, side, gi, l, s.Name) | disScanned
	}
	if *slot&(1<<r.disBit) != 0 {
		return nil, true, nil
	}
	return r.art.run(r.side, k, s, l, l.namesValidated())
}

// scanDisallow returns the set (bit rule.disBit) of the policy's DISALLOW rules on side side
// (0 products, 1 materials) that select step stepName of layout layoutName and that match no
// artifact of that side of the link. An invalid artifact name fails them all (empty set).
//
// gi is the link's index among all links of the evidence: when Layout.Prepare listed that side's
// names (already validated), the list is scanned instead of the map.
func (ev *evaluator) scanDisallow(products, materials map[string]Digests, side, gi int, l *Layout, stepName string) uint64 {
	queue := products
	if side == 1 {
		queue = materials
	}
	var clean uint64
	for _, d := range ev.c.disallow {
		if (d.side == "materials") == (side == 1) && d.layoutSel.match(l.Name) && d.stepSel.match(stepName) {
			clean |= 1 << d.disBit
		}
	}
	namesOK := l.namesValidated()
	if namesOK && ev.curLayout < len(ev.revs) {
		if names, ok := l.preparedNames(gi-ev.revs[ev.curLayout].linkBase, side, len(queue)); ok {
			for _, name := range names {
				if clean = ev.disallowMatch(clean, name); clean == 0 {
					return 0
				}
			}
			return clean
		}
	}
	for name := range queue {
		if !namesOK && rules.ValidateName(name) != nil {
			return 0
		}
		if clean = ev.disallowMatch(clean, name); clean == 0 {
			return 0
		}
	}
	return clean
}

// disallowMatch returns clean without the DISALLOW rules (bits rule.disBit) that match name.
func (ev *evaluator) disallowMatch(clean uint64, name string) uint64 {
	last := -1
	if name != "" {
		last = int(name[len(name)-1])
	}
	for m := clean; m != 0; m &= m - 1 {
		j := bits.TrailingZeros64(m)
		d := ev.c.disallow[j]
		if d.disLast >= 0 && d.disLast != last {
			continue // the pattern ends with a literal byte that name does not end with
		}
		if d.art.disallow.Match(name) {
			clean &^= 1 << j
		}
	}
	return clean
}

// bound checks the target binding of a REQUIRE productOf rule: in every layout the rule
// selects, some link of step r.productOf has a product whose digests equal the target's hashes
// for every algorithm the two share (and they share at least one). It returns "" when bound.
func (ev *evaluator) bound(r *rule) string {
	t := ev.in.Target
	if t == nil || len(t.Hashes) == 0 {
		return "the target has no hashes"
	}
	var missing []string
	layouts := 0
	for li := range ev.in.Layouts {
		l := &ev.in.Layouts[li]
		if !r.layoutSel.match(l.Name) {
			continue
		}
		layouts++
		found, hasStep := false, false
		for si := range l.Steps {
			s := &l.Steps[si]
			if s.Name != r.productOf {
				continue
			}
			hasStep = true
			for ki := range s.Links {
				// Binding is by hash, whatever the product's name; the product named like the
				// target is the usual one, so it is tried before the scan.
				if d, ok := s.Links[ki].Products[t.Name]; ok && productIs(t.Hashes, d) {
					found = true
					break
				}
				for _, d := range s.Links[ki].Products {
					if d.Len() == 1 && len(t.Hashes) == 1 {
						// The common case: one algorithm on each side.
						for alg, h := range d.All() {
							if th, ok := t.Hashes[alg]; ok && (th == h || strings.EqualFold(th, h)) {
								found = true
							}
						}
					} else if digestsEqual(t.Hashes, d.Map()) {
						found = true
					}
					if found {
						break
					}
				}
				if found {
					break
				}
			}
		}
		switch {
		case !hasStep:
			missing = append(missing, fmt.Sprintf("layout %s has no step %s", l.Name, r.productOf))
		case !found:
			missing = append(missing, fmt.Sprintf("the target is not a product of step %s in layout %s", r.productOf, l.Name))
		}
	}
	if layouts == 0 {
		return "no layout to bind the target to"
	}
	return strings.Join(missing, "; ")
}

// productIs reports whether a product with digests d is the target with hashes th.
func productIs(th map[string]string, d Digests) bool {
	if d.Len() == 1 && len(th) == 1 {
		for alg, h := range d.All() {
			if x, ok := th[alg]; ok && (x == h || strings.EqualFold(x, h)) {
				return true
			}
		}
		return false
	}
	return digestsEqual(th, d.Map())
}

func digestsEqual(a, b map[string]string) bool {
	common := 0
	for alg, h := range a {
		if g, ok := b[alg]; ok {
			if g != h && !strings.EqualFold(g, h) {
				return false
			}
			common++
		}
	}
	return common > 0
}

// revokeEntry reports what a REVOKE rule revoked among the evidence. A revoked layout, link,
// attestation or artifact digest denies; a revoked key is excluded from thresholds (the layouts
// entry says what that did). The entry's lookups and evidence are the lookups the rule answered
// (compact.revokeRecords).
func (ev *evaluator) revokeEntry(r *rule, e *centry) {
	var deny, keys int
	me := r.byIndex()
	for i := range ev.cp.lks {
		l := &ev.cp.lks[i]
		if l.by() != me {
			continue
		}
		switch l.kind {
		case lkSigner, lkFunctionary, lkAttKey:
			keys++
		default:
			deny++
		}
	}
	switch {
	case deny > 0:
		e.setOutcome(OutcomeDeny)
		e.setReason(verr.Revoked)
		e.msg, e.a = msgRevDeny, int32(deny)
	case keys > 0:
		e.setOutcome(OutcomeSatisfied)
		e.msg, e.a = msgRevKeys, int32(keys)
	default:
		e.setOutcome(OutcomeNotApplicable)
		e.msg = msgRevNone
	}
}

// byIndex is what evaluator.lookupBy records for a lookup that r answered (0 for none).
func (r *rule) byIndex() int32 {
	if r == nil {
		return 0
	}
	return int32(r.index + 1)
}

// heldFor is the message of a constraint that held for n subjects; the texts for small n are
// made at compile time.
func (r *rule) heldFor(n int) string {
	if n < len(r.heldMsgs) {
		return r.heldMsgs[n]
	}
	return "held for " + itoa(n) + " " + r.subject.String() + " subject(s)"
}

// estimate returns an upper bound of the evidence entries a rule on subject kind k records, to
// size the slice once. It is computed once per kind and evaluation.
func (ev *evaluator) estimate(k subjectKind) int {
	if ev.estimated[k] == 0 {
		ev.estimated[k] = ev.estimate1(k) + 1
	}
	return ev.estimated[k] - 1
}

// estimateFor is estimate for the subjects rule r can select: its layout and step selectors
// are applied (forSubjects applies the same ones).
func (ev *evaluator) estimateFor(r *rule) int {
	k := r.subject
	if r.layout == "" && r.step == "" || k == subjTarget || k == subjAttestation {
		return ev.estimate(k)
	}
	return ev.count(k, r.layoutSel, r.stepSel)
}

func (ev *evaluator) estimate1(k subjectKind) int {
	switch k {
	case subjTarget:
		return 1
	case subjAttestation:
		return len(ev.in.Attestations)
	}
	n := ev.count(k, selector{}, selector{})
	if k == subjKey {
		n += len(ev.in.Attestations) // attestation signers have no layout
	}
	return n
}

// count is the number of subjects of kind k (not the target or an attestation) in the layouts
// and steps the selectors match (an empty selector matches all).
func (ev *evaluator) count(k subjectKind, layoutSel, stepSel selector) int {
	n := 0
	for li := range ev.in.Layouts {
		l := &ev.in.Layouts[li]
		if !layoutSel.match(l.Name) {
			continue
		}
		switch k {
		case subjLayout:
			n++
			continue
		case subjKey:
			n += len(l.Signers)
		}
		for si := range l.Steps {
			s := &l.Steps[si]
			if !stepSel.match(s.Name) {
				continue
			}
			switch k {
			case subjStep:
				n += max(1, len(s.Links))
			case subjArtifact:
				for ki := range s.Links {
					n += len(s.Links[ki].Materials) + len(s.Links[ki].Products)
				}
			default:
				n += len(s.Links)
			}
		}
	}
	return n
}

func itoa(n int) string { return strconv.Itoa(n) }
