package policy

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/verr"
)

// maxEvidence bounds the evidence entries recorded per rule; the rest are counted.
const maxEvidence = 64

type evaluator struct {
	c   *compiled
	ctx context.Context
	in  *Input
	act activation

	// cp is the decision being recorded.
	cp *compact

	// revs[li] holds the indices into cp.lks of layout li's lookups, aligned with the evidence.
	revs      []layoutRev
	warnings  []string
	layoutsOK []bool
	// scratch backs the indices of revs.
	scratch []int32

	// nlink is the number of links in the evidence; linkBase is the index among them of the
	// first link of the step forSubjects is visiting (-1 when unknown).
	nlink, linkBase int
	// disMemo[2*link+side] caches the DISALLOW rules that found nothing on that side of that
	// link (see disallowRun); nil until a DISALLOW rule runs.
	disMemo []uint64
	// curLayout is the index of the layout forSubjects is visiting.
	curLayout int

	// estimated caches estimate(k)+1 per subject kind (0: not computed yet).
	estimated [numSubjects]int

	// spare holds the scratch of an earlier evaluation (see compiled.evaluator): nothing the
	// Decision keeps is in it.
	spare scratch
}

// scratch is an evaluation's working memory that no Decision refers to, kept between
// evaluations of a policy.
type scratch struct {
	revs      []layoutRev
	idx       []int32
	disMemo   []uint64
	layoutsOK []bool
}

// evaluator returns an evaluator for one evaluation, reusing the scratch of an earlier one
// when c.evals has one.
func (c *compiled) evaluator(ctx context.Context, in *Input) *evaluator {
	ev, _ := c.evals.Get().(*evaluator)
	if ev == nil {
		ev = &evaluator{}
	}
	sp := ev.spare
	*ev = evaluator{c: c, ctx: ctx, in: in, spare: sp}
	return ev
}

// release returns ev's scratch to c.evals. Everything that refers to the input or to what the
// Decision holds is dropped first.
func (c *compiled) release(ev *evaluator) {
	clear(ev.revs) // certs name keyids of the input
	sp := scratch{revs: ev.revs[:0], idx: ev.scratch[:0], disMemo: ev.disMemo[:0], layoutsOK: ev.layoutsOK[:0]}
	*ev = evaluator{spare: sp}
	c.evals.Put(ev)
}

// reuse returns buf[:n] cleared when buf has the capacity, or a new slice.
func reuse[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	buf = buf[:n]
	clear(buf)
	return buf
}

// Evaluate implements Policy.
func (c *compiled) Evaluate(ctx context.Context, in *Input) (*Decision, error) {
	if in == nil {
		return nil, verr.Invalid("policy input", "nil input")
	}
	if in.Time.IsZero() {
		return nil, verr.Invalid("policy input", "no evaluation time")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ev := c.evaluator(ctx, in)
	defer c.release(ev)
	ev.act = activation{target: in.Target, params: in.Params, now: in.Time}
	if ev.act.params == nil {
		ev.act.params = map[string]string{}
	}
	pool := min(len(in.Layouts), maxEvidence+1)
	for _, r := range c.rules {
		if r.verb != VerbRevoke {
			pool += min(ev.estimateFor(r), maxEvidence+1)
		}
	}
	// The Decision and its compact trail in one allocation.
	box := &struct {
		d  Decision
		cp compact
	}{}
	d, cp := &box.d, &box.cp
	d.MediaType, d.PolicyID, d.Time = MediaType, c.id, in.Time
	*cp = compact{c: c, in: in, entries: make([]centry, len(c.rules)+2), evs: make([]cev, 0, pool)}
	ev.cp = cp
	ev.revocationEntry(&cp.entries[0])
	ev.layoutsEntry(&cp.entries[1])
	for i, r := range c.rules {
		ev.ruleEntry(r, &cp.entries[2+i])
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cp.combine(d, ev.warnings)
	d.cp = cp
	return d, nil
}

// combine applies the strength rules to a trail of TrailEntry values (Decide) and fills in the
// effect; compact.combine does the same over the built-in engine's records.
func combine(d *Decision, warnings []string) {
	d.Warnings = warnings
	for i := range d.trail {
		e := &d.trail[i]
		if e.Effect == Deny && e.Strength == Weak {
			e.Effect, e.Warning = "", true
		}
		if e.Warning {
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s (%s %s): %s", e.Rule, e.Strength, e.Verb, e.Message))
		}
	}
	best := Strength(0)
	for _, e := range d.trail {
		if e.Effect != "" && e.Strength > best {
			best = e.Strength
		}
	}
	if best == 0 {
		satisfied := 0
		for _, e := range d.trail {
			if e.Outcome == OutcomeSatisfied {
				satisfied++
			}
		}
		d.noVote(satisfied)
		return
	}
	d.Effect = Allow
	for _, e := range d.trail {
		if e.Effect == Deny && e.Strength == best {
			d.Effect = Deny
			break
		}
	}
	for _, e := range d.trail {
		if e.Effect == d.Effect && e.Strength == best {
			d.DecidedBy = append(d.DecidedBy, e.Rule)
		}
	}
	for i := range d.trail {
		e := &d.trail[i]
		if e.Effect != "" && e.Effect != d.Effect {
			e.OverriddenBy = d.DecidedBy
		}
	}
	d.Reason = decidedReason(d.Effect, best, d.DecidedBy)
}

// setEntry sets the static fields of r's entry e.
func setEntry(e *TrailEntry, r *rule) {
	e.Rule, e.Verb, e.Subject, e.Strength, e.Source = r.id, r.verb, r.subjName, r.strength, r.src
}

// vote sets the entry's effect from its outcome, applying the policy's Indeterminate setting.
func (ev *evaluator) vote(e *centry) {
	switch outcomeOf(e.outcome) {
	case OutcomeAllow:
		e.effect = effAllow
	case OutcomeDeny:
		e.effect = effDeny
	case OutcomeIndeterminate:
		if ev.c.indeterminateWarn {
			e.flags |= flagWarning
		} else {
			e.effect = effDeny
		}
	case OutcomeNotApplicable:
		e.flags |= flagNotApplicable
	}
	if e.effect == effDeny && e.reason == 0 {
		e.setReason(verr.PolicyDenied)
	}
}

// setOutcome sets e's outcome.
func (e *centry) setOutcome(o Outcome) { e.outcome = outcomeCode(o) }

// setText sets e's message to s.
func (ev *evaluator) setText(e *centry, s string) { e.msg, e.a = msgText, ev.cp.addText(s) }

// beginEvidence starts e's evidence records (they are the next ones in cp.evs).
func (ev *evaluator) beginEvidence(e *centry) { e.evOff, e.evLen = int32(len(ev.cp.evs)), 0 }

// addEvidence records subject s in e's evidence (up to maxEvidence of them, then a "truncated"
// record); n counts the subjects. Entry e's records must be the last ones in cp.evs.
func (ev *evaluator) addEvidence(e *centry, n *int, s *subj, result uint8, detail string) {
	*n++
	cp := ev.cp
	switch {
	case e.evLen < maxEvidence:
		x := cev{li: s.li, si: s.si, ki: s.ki, kind: s.kind, side: s.side, result: result}
		if detail != "" {
			x.detail = cp.addText(detail)
		}
		if s.kind == evArtifact {
			x.name = cp.addText(s.name)
		}
		cp.evs = append(cp.evs, x)
		e.evLen++
	case *n == maxEvidence+1:
		cp.evs = append(cp.evs, cev{kind: evMore, result: resTruncated})
		e.evLen++
	}
}

// selector is a compiled layout or step glob ("" selects everything).
type selector struct {
	pattern string
	// glob is set when the pattern has metacharacters; without them it matches only itself,
	// as path.Match does, and is compared as a string.
	glob bool
}

func newSelector(pattern string) selector {
	return selector{pattern: pattern, glob: strings.ContainsAny(pattern, `*?[\`)}
}

func (s selector) match(name string) bool {
	if s.pattern == "" {
		return true
	}
	if !s.glob {
		return s.pattern == name
	}
	m, err := path.Match(s.pattern, name)
	return err == nil && m
}

// ---------------------------------------------------------------------------------------------
// Revocation

// layoutRev locates one layout's revocation lookups in compact.lks.
type layoutRev struct {
	layout  int
	signers []int32
	// links[2i] and links[2i+1] are the link lookup and the functionary lookup of the i-th
	// link in step order.
	links []int32
	// linkBase is the index among all links of the evidence of the layout's first link.
	linkBase int
	// certs are the certificate lookups of the layout's X.509 functionaries.
	certs []certRev
}

type certRev struct {
	keyid string
	idx   int
}

// certRevoked returns the answer of the revoked certificate lookup of keyid, if any.
func (ev *evaluator) certRevoked(lr *layoutRev, keyid string) *revocation.Status {
	for _, c := range lr.certs {
		if c.keyid == keyid || strings.EqualFold(c.keyid, keyid) {
			if st := ev.revokedAt(c.idx); st != nil {
				return st
			}
		}
	}
	return nil
}

// lookup records lookup l (its kind and indices set), answers it with ref (l's Ref), and
// returns its index in cp.lks.
func (ev *evaluator) lookup(l clk, ref *revocation.Ref) int {
	ev.answer(&l, ref)
	ev.cp.lks = append(ev.cp.lks, l)
	return len(ev.cp.lks) - 1
}

// lookupOf is lookup for the Ref with these fields: without a checker, the policy's own answer
// needs no Ref.
func (ev *evaluator) lookupOf(l clk, kind revocation.Kind, keyID, digest, name, step string, version int64) int {
	if ev.in.Revocation != nil {
		ref := revocation.Ref{Kind: kind, KeyID: keyID, Digest: digest, Name: name, Step: step, Version: version}
		return ev.lookup(l, &ref)
	}
	l.status = -1
	if r := ev.c.revokedParts(kind, keyID, digest, name, step); r != nil {
		l.status = int32(-2 - r.index)
	}
	ev.cp.lks = append(ev.cp.lks, l)
	return len(ev.cp.lks) - 1
}

// answer answers the lookup l of ref. Answers the policy gives itself refer to its shared,
// read-only statuses; a checker's answers are kept in cp.statuses.
func (ev *evaluator) answer(l *clk, ref *revocation.Ref) {
	r := ev.c.revokedBy(ref)
	switch {
	case r != nil:
		l.status = int32(-2 - r.index)
	case ev.in.Revocation != nil:
		st, err := ev.in.Revocation.Status(ev.ctx, *ref, ev.in.Time)
		if err != nil {
			st = revocation.Status{State: revocation.Unknown, Source: st.Source}
			l.err = ev.cp.addText(err.Error())
		}
		switch st.State {
		case revocation.Good, revocation.Revoked, revocation.Unknown, revocation.NotRevocable:
		default:
			st.State = revocation.Unknown
		}
		cp := ev.cp
		if cp.statuses == nil {
			cp.statuses = make([]revocation.Status, 0, cap(cp.lks)-len(cp.lks)+1)
		}
		cp.statuses = append(cp.statuses, st)
		l.status = int32(len(cp.statuses) - 1)
	default:
		// No source configured: the policy's own REVOKE rules are authoritative.
		l.status = -1
	}
}

// revokedBy returns the first REVOKE rule that lists ref.
func (c *compiled) revokedBy(ref *revocation.Ref) *rule {
	return c.revokedParts(ref.Kind, ref.KeyID, ref.Digest, ref.Name, ref.Step)
}

// revokedParts is revokedBy for the Ref with these fields (the others do not matter to it).
func (c *compiled) revokedParts(kind revocation.Kind, keyID, digest, name, step string) *rule {
	if !c.hasRevoke {
		return nil
	}
	switch kind {
	case revocation.KindKey, revocation.KindFunctionary:
		if len(c.revokeKeys) == 0 || !c.revokeFilter[4].may(keyID) {
			return nil
		}
		rs, ok := c.revokeKeys[keyID]
		if !ok && hasUpper(keyID) {
			rs = c.revokeKeys[strings.ToLower(keyID)]
		}
		for _, r := range rs {
			if r.step != "" && (kind != revocation.KindFunctionary || !r.stepSel.match(step)) {
				continue
			}
			if r.layout != "" && !r.layoutSel.match(name) {
				continue
			}
			return r
		}
	case revocation.KindLayout, revocation.KindLink, revocation.KindArtifact:
		return c.revokedDigest(kind, digest)
	}
	return nil
}

// revokedDigest returns the first REVOKE rule that lists digest ("alg:hex", hex in any case)
// for things of kind k.
func (c *compiled) revokedDigest(k revocation.Kind, digest string) *rule {
	m := c.revokeDigests[digestKind(k)]
	if len(m) == 0 || !c.revokeFilter[digestKind(k)].may(digest) {
		return nil
	}
	r, ok := m[digest]
	if !ok && hasUpper(digest) {
		r = m[strings.ToLower(digest)]
	}
	return r
}

// digestKind indexes compiled.revokeDigests.
func digestKind(k revocation.Kind) int {
	switch k {
	case revocation.KindLayout:
		return 0
	case revocation.KindLink:
		return 1
	}
	return 2
}

// idFilter is a case-insensitive filter over the last two bytes of the ids a REVOKE rule lists:
// an id it rejects is in none of them, which spares the map lookup (and the lower-casing) for
// the many ids that are not revoked.
type idFilter [4096 / 64]uint64

func idFilterBit(s string) uint {
	if len(s) < 2 {
		return uint(len(s))
	}
	a, b := s[len(s)-1], s[len(s)-2]
	if 'A' <= a && a <= 'Z' {
		a += 'a' - 'A'
	}
	if 'A' <= b && b <= 'Z' {
		b += 'a' - 'A'
	}
	return uint(a&63)<<6 | uint(b&63)
}

func (f *idFilter) add(s string) { i := idFilterBit(s); f[i/64] |= 1 << (i % 64) }

// may reports whether s may be one of the ids added (false means it certainly is not).
func (f *idFilter) may(s string) bool {
	if len(s) > 0 && s[len(s)-1] >= 0x80 || len(s) > 1 && s[len(s)-2] >= 0x80 {
		return true // non-ASCII: strings.ToLower may change more than ASCII letters
	}
	i := idFilterBit(s)
	return f[i/64]&(1<<(i%64)) != 0
}

// hasUpper reports whether s has an upper-case ASCII letter or any non-ASCII byte (so that
// strings.ToLower(s) may differ from s).
func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

// prepare precomputes what does not depend on the input: the REVOKE lookup tables (first rule
// in policy order wins), their filters, and each rule's static trail text.
func (c *compiled) prepare() {
	c.goodStatus = newGoodStatus()
	c.revokeKeys = map[string][]*rule{}
	for i := range c.revokeDigests {
		c.revokeDigests[i] = map[string]*rule{}
	}
	for i, r := range c.rules {
		r.index = i
		r.disBit, r.disLast = -1, -1
		if r.art != nil && r.art.disallow != nil && len(c.disallow) < 63 {
			r.disBit = len(c.disallow)
			c.disallow = append(c.disallow, r)
			r.disLast = literalLast(r.art.pattern)
		}
		r.layoutSel, r.stepSel = newSelector(r.layout), newSelector(r.step)
		if i == len(c.rules)-1 && len(c.disallow) == 1 {
			// A lone DISALLOW rule has nothing to share a scan with.
			c.disallow[0].disBit, c.disallow = -1, nil
		}
		r.subjName = r.subject.String()
		r.selectedNone = "selected no " + r.subjName
		r.idList = []string{r.id}
		r.allowedBy = decidedReason(Allow, r.strength, r.idList)
		r.deniedBy = decidedReason(Deny, r.strength, r.idList)
		r.heldMsgs = make([]string, 16)
		for n := range r.heldMsgs {
			r.heldMsgs[n] = "held for " + itoa(n) + " " + r.subjName + " subject(s)"
		}
		if r.verb != VerbRevoke {
			continue
		}
		r.revSource = "policy:" + r.id
		r.revStatus = &revocation.Status{State: revocation.Revoked, Source: r.revSource, Reason: r.reason}
		for _, k := range sortedKeys(r.keyids) {
			c.revokeKeys[k] = append(c.revokeKeys[k], r)
			c.revokeFilter[4].add(k)
		}
		var kinds []revocation.Kind
		switch r.subject {
		case subjLayout:
			kinds = []revocation.Kind{revocation.KindLayout}
		case subjLink, subjAttestation:
			kinds = []revocation.Kind{revocation.KindLink}
		case subjArtifact:
			kinds = []revocation.Kind{revocation.KindArtifact}
			c.artifactRevoke = c.artifactRevoke || len(r.digests) > 0
		}
		for _, d := range sortedKeys(r.digests) {
			for _, k := range kinds {
				m := c.revokeDigests[digestKind(k)]
				if _, ok := m[d]; !ok {
					m[d] = r
				}
				c.revokeFilter[digestKind(k)].add(d)
			}
		}
	}
}

// newGoodStatus is the answer of every lookup that no REVOKE rule answers when no revocation
// source is configured.
func newGoodStatus() *revocation.Status {
	return &revocation.Status{State: revocation.Good, Source: "policy"}
}

// revocationEntry looks up every revocable thing in the evidence and builds the REVOCATION
// entry: a revoked layout, link, attestation or artifact denies (STRONG), a revoked key is
// excluded from every threshold (see the layouts entry), and an Unknown answer denies unless the
// policy says revocation.unknown: warn.
func (ev *evaluator) revocationEntry(e *centry) {
	in, cp := ev.in, ev.cp
	e.rule = entRevocation
	n := 0
	nsig, nlink := 0, 0
	for li := range in.Layouts {
		l := &in.Layouts[li]
		nsig += len(l.Signers)
		for si := range l.Steps {
			nlink += len(l.Steps[si].Links)
		}
	}
	n = len(in.Layouts) + nsig + 2*nlink + len(in.Attestations)*2
	if in.Target != nil {
		n += len(in.Target.Hashes)
	}
	cp.lks = make([]clk, 0, n)
	ev.revs = reuse(ev.spare.revs, len(in.Layouts))
	ev.nlink = nlink
	// One pointer-free backing array for every layout's signer and link indices.
	scratch := reuse(ev.spare.idx, nsig+2*nlink)
	ev.scratch = scratch
	sigIdx := scratch[:nsig:nsig]
	linkIdx := scratch[nsig:nsig:len(scratch)]
	if t := in.Target; t != nil {
		var buf [1]string
		for i, alg := range sortedHashAlgs(t.Hashes, &buf) {
			if in.Revocation == nil && len(ev.c.revokeDigests[digestKind(revocation.KindArtifact)]) == 0 {
				// Nothing can revoke it: the digest is made when the trail is read.
				cp.lks = append(cp.lks, clk{kind: lkTargetHash, ki: int32(i), status: -1})
				continue
			}
			d := alg + ":" + strings.ToLower(t.Hashes[alg])
			ref := revocation.Ref{Kind: revocation.KindArtifact, Digest: d, Name: t.Name}
			ev.lookup(clk{kind: lkTargetHash, ki: int32(i), str: cp.addText(d)}, &ref)
		}
	}
	for li := range in.Layouts {
		l := &in.Layouts[li]
		lr := &ev.revs[li]
		lr.layout = ev.lookupOf(clk{kind: lkLayout, li: int32(li)}, revocation.KindLayout, "", l.Digest, l.Name, "", l.Version)
		lr.signers, sigIdx = sigIdx[:len(l.Signers):len(l.Signers)], sigIdx[len(l.Signers):]
		lr.links = linkIdx[len(linkIdx):len(linkIdx)]
		lr.linkBase = len(linkIdx) / 2
		for i, s := range l.Signers {
			lr.signers[i] = int32(ev.lookupOf(clk{kind: lkSigner, li: int32(li), ki: int32(i)}, revocation.KindKey, s, "", l.Name, "", 0))
		}
		for ki, k := range l.Keys {
			if k.Issuer != "" && k.Serial != "" {
				ref := revocation.Ref{Kind: revocation.KindCertificate, KeyID: k.KeyID, Issuer: k.Issuer, Serial: k.Serial}
				i := ev.lookup(clk{kind: lkCert, li: int32(li), ki: int32(ki)}, &ref)
				lr.certs = append(lr.certs, certRev{k.KeyID, i})
			}
		}
		for si := range l.Steps {
			s := &l.Steps[si]
			for ki := range s.Links {
				k := &s.Links[ki]
				x := clk{li: int32(li), si: int32(si), ki: int32(ki)}
				x.kind = lkLink
				a := ev.lookupOf(x, revocation.KindLink, "", k.Digest, l.Name, s.Name, 0)
				x.kind = lkFunctionary
				b := ev.lookupOf(x, revocation.KindFunctionary, k.KeyID, "", l.Name, s.Name, 0)
				lr.links = append(lr.links, int32(a), int32(b))
			}
		}
		linkIdx = linkIdx[:len(linkIdx)+len(lr.links)]
		lr.links = lr.links[:len(lr.links):len(lr.links)]
	}
	if ev.c.artifactRevoke {
		ev.matchRevokedArtifacts()
	}
	for ai := range in.Attestations {
		a := &in.Attestations[ai]
		if a.Digest != "" {
			ev.lookupOf(clk{kind: lkAttestation, ki: int32(ai)}, revocation.KindLink, "", a.Digest, a.PredicateType, "", 0)
		}
		ev.lookupOf(clk{kind: lkAttKey, ki: int32(ai)}, revocation.KindKey, a.Signer, "", "", "", 0)
	}

	var revoked, unknown, keys []string
	for i := range cp.lks {
		l := &cp.lks[i]
		st := cp.status(l)
		switch st.State {
		case revocation.Revoked:
			ref := cp.ref(l)
			desc := describeRef(ref) + " revoked by " + st.Source
			if ref.Kind == revocation.KindKey || ref.Kind == revocation.KindFunctionary || ref.Kind == revocation.KindCertificate {
				keys = append(keys, desc)
			} else if l.by() == 0 {
				// Revocations by the policy's own REVOKE rules are voted by those rules.
				revoked = append(revoked, desc)
			}
		case revocation.Unknown:
			msg := describeRef(cp.ref(l)) + " unknown"
			if st.Source != "" {
				msg += " to " + st.Source
			}
			if l.err != 0 {
				msg += ": " + cp.text(l.err)
			}
			unknown = append(unknown, msg)
		}
	}
	var msgs []string
	switch {
	case len(revoked) > 0:
		e.setOutcome(OutcomeDeny)
		e.setReason(verr.Revoked)
		msgs = append(msgs, strings.Join(revoked, "; "))
	case len(unknown) > 0 && !ev.c.unknownWarn:
		e.setOutcome(OutcomeDeny)
		e.setReason(verr.Unknown)
	case len(cp.lks) == 0:
		e.setOutcome(OutcomeNotApplicable)
	default:
		e.setOutcome(OutcomeSatisfied)
	}
	if len(unknown) > 0 {
		msgs = append(msgs, "unknown: "+strings.Join(unknown, "; "))
		if ev.c.unknownWarn && e.outcome != outcomeCode(OutcomeDeny) {
			e.flags |= flagWarning
		}
	}
	if len(keys) > 0 {
		msgs = append(msgs, "excluded from thresholds: "+strings.Join(keys, "; "))
	}
	if len(msgs) == 0 {
		e.msg, e.a = msgLookups, int32(len(cp.lks))
	} else {
		ev.setText(e, strings.Join(msgs, "; "))
	}
	ev.vote(e)
}

func describeRef(r revocation.Ref) string {
	switch r.Kind {
	case revocation.KindKey:
		return "key " + r.KeyID
	case revocation.KindFunctionary:
		return fmt.Sprintf("functionary %s (layout %s, step %s)", r.KeyID, r.Name, r.Step)
	case revocation.KindCertificate:
		return fmt.Sprintf("certificate %s serial %s", r.Issuer, r.Serial)
	}
	s := string(r.Kind) + " " + r.Digest
	if r.Name != "" {
		s += " (" + r.Name + ")"
	}
	return s
}

// matchRevokedArtifacts matches every material and product of every link against the artifact
// digests the policy's REVOKE rules list, and records a lookup for each match. (The external
// checker is asked about the target only: asking it about every artifact would cost a lookup per
// artifact.)
func (ev *evaluator) matchRevokedArtifacts() {
	cp := ev.cp
	for li := range ev.in.Layouts {
		l := &ev.in.Layouts[li]
		for si := range l.Steps {
			s := &l.Steps[si]
			for ki := range s.Links {
				k := &s.Links[ki]
				for _, m := range [2]map[string]Digests{k.Materials, k.Products} {
					for _, name := range sortedKeys(m) {
						for alg, h := range m[name].All() {
							d := alg + ":" + strings.ToLower(h)
							r := ev.c.revokedDigest(revocation.KindArtifact, d)
							if r == nil {
								continue
							}
							str := cp.addText(name)
							cp.addText(d)
							cp.lks = append(cp.lks, clk{kind: lkArtifact, li: int32(li), si: int32(si), ki: int32(ki),
								status: int32(-2 - r.index), str: str})
						}
					}
				}
			}
		}
	}
}

// revokedAt returns the answer of the lookup at index i when it says Revoked.
func (ev *evaluator) revokedAt(i int) *revocation.Status {
	if i < 0 || i >= len(ev.cp.lks) {
		return nil
	}
	if st := ev.cp.status(&ev.cp.lks[i]); st.State == revocation.Revoked {
		return st
	}
	return nil
}

// ---------------------------------------------------------------------------------------------
// Layouts

// layoutsEntry checks each layout (verified, not expired, not revoked, thresholds met by keys
// that are not revoked, every artifact rule passed) and combines them: all, any or k of n.
func (ev *evaluator) layoutsEntry(e *centry) {
	c, in := ev.c, ev.in
	e.rule = entLayouts
	ev.layoutsOK = reuse(ev.spare.layoutsOK, len(in.Layouts))
	ev.beginEvidence(e)
	ok := 0
	var reason verr.Reason
	n := 0
	for li := range in.Layouts {
		l := &in.Layouts[li]
		probs, rsn := ev.checkLayout(l, &ev.revs[li])
		res := uint8(resOK)
		if len(probs) > 0 {
			res = resFailed
			if reason == "" {
				reason = rsn
			}
		} else {
			ok++
			ev.layoutsOK[li] = true
		}
		ev.addEvidence(e, &n, &subj{kind: evLayout, li: int32(li)}, res, strings.Join(probs, "; "))
	}
	total := len(in.Layouts)
	var want int
	switch c.mode {
	case layoutsNone:
		e.setOutcome(OutcomeNotApplicable)
		e.msg = msgNoLayouts
		ev.vote(e)
		return
	case layoutsAll:
		want = total
		if want == 0 {
			want = 1
		}
	case layoutsAny:
		want = 1
	case layoutsK:
		want = c.k
	}
	e.msg, e.a, e.b, e.c = msgLayouts, int32(ok), int32(total), int32(want)
	if ok >= want {
		e.setOutcome(OutcomeSatisfied)
	} else {
		e.setOutcome(OutcomeDeny)
		if total == 0 {
			ev.setText(e, "no layout in the evidence; the policy requires "+c.modeText())
			reason = verr.LayoutInvalid
		}
		if reason == "" {
			reason = verr.LayoutInvalid
		}
		e.setReason(reason)
	}
	ev.vote(e)
}

func (ev *evaluator) checkLayout(l *Layout, lr *layoutRev) ([]string, verr.Reason) {
	var probs []string
	var reason verr.Reason
	fail := func(r verr.Reason, format string, args ...any) {
		if reason == "" {
			reason = r
		}
		probs = append(probs, fmt.Sprintf(format, args...))
	}
	if l.Failure != "" {
		fail(verr.LayoutInvalid, "did not verify: %s", l.Failure)
	}
	if !l.Expires.IsZero() && ev.in.Time.After(l.Expires) {
		fail(verr.Expired, "expired at %s", l.Expires.UTC().Format("2006-01-02T15:04:05Z"))
	} else if l.Expires.IsZero() {
		fail(verr.LayoutInvalid, "no expiry date")
	}
	if st := ev.revokedAt(lr.layout); st != nil {
		fail(verr.Revoked, "layout revoked by %s", st.Source)
	}
	need := max(l.Threshold, 1)
	var counted [8]string
	signers := counted[:0]
	var excluded []string
	for i, s := range l.Signers {
		if st := ev.revokedAt(int(lr.signers[i])); st != nil {
			excluded = append(excluded, "key "+s+" revoked by "+st.Source)
			continue
		}
		if st := ev.certRevoked(lr, s); st != nil {
			excluded = append(excluded, "certificate of key "+s+" revoked by "+st.Source)
			continue
		}
		signers = addDistinct(signers, s)
	}
	if len(signers) < need {
		fail(thresholdReason(excluded), "%d of %d required layout signature(s) by keys that are not revoked%s", len(signers), need, suffix(excluded))
	}
	li := 0
	for si := range l.Steps {
		s := &l.Steps[si]
		need := max(s.Threshold, 1)
		keys := counted[:0]
		var excluded []string
		for ki := range s.Links {
			k := &s.Links[ki]
			idx := [2]int{-1, -1}
			if 2*li+1 < len(lr.links) {
				idx = [2]int{int(lr.links[2*li]), int(lr.links[2*li+1])}
			}
			li++
			if !containsFold(s.Functionaries, k.KeyID) {
				excluded = append(excluded, "key "+k.KeyID+" is not a functionary of the step")
				continue
			}
			if st := ev.revokedAt(idx[0]); st != nil {
				excluded = append(excluded, "link "+k.Digest+" revoked by "+st.Source)
				continue
			}
			if st := ev.revokedAt(idx[1]); st != nil {
				excluded = append(excluded, "functionary key "+k.KeyID+" revoked by "+st.Source)
				continue
			}
			if st := ev.certRevoked(lr, k.KeyID); st != nil {
				excluded = append(excluded, "certificate of functionary "+k.KeyID+" revoked by "+st.Source)
				continue
			}
			keys = addDistinct(keys, k.KeyID)
		}
		if len(keys) < need {
			fail(thresholdReason(excluded), "step %s: %d of %d required functionary link(s)%s", s.Name, len(keys), need, suffix(excluded))
		}
	}
	for _, rr := range l.Rules {
		if !rr.OK {
			fail(verr.RuleFailed, "step %s %s rule %q failed: %s", rr.Step, rr.Side, rr.Rule, rr.Failure)
		}
	}
	return probs, reason
}

// addDistinct appends keyid unless it is already there (case-insensitively).
func addDistinct(set []string, keyid string) []string {
	for _, k := range set {
		if k == keyid || strings.EqualFold(k, keyid) {
			return set
		}
	}
	return append(set, keyid)
}

func thresholdReason(excluded []string) verr.Reason {
	for _, x := range excluded {
		if strings.Contains(x, "revoked") {
			return verr.Revoked
		}
	}
	return verr.Threshold
}

func suffix(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return " (" + strings.Join(xs, "; ") + ")"
}

func containsFold(xs []string, s string) bool {
	for _, x := range xs {
		if x == s || strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
