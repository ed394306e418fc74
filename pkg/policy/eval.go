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

	lookups []Lookup
	// statuses holds the answers of Input.Revocation that lookups point to.
	statuses []revocation.Status
	// lookupBy[i] is 1 + the index in c.rules of the REVOKE rule that answered lookups[i], or
	// 0 (an index rather than a pointer, so that the slice is not scanned by the collector).
	lookupBy []int32
	// revs[li] holds the indices into lookups of layout li's lookups, aligned with the evidence.
	revs      []layoutRev
	warnings  []string
	layoutsOK []bool
	// scratch backs lookupBy and the indices of revs.
	scratch []int32

	// nlink is the number of links in the evidence; linkBase is the index among them of the
	// first link of the step forSubjects is visiting (-1 when unknown).
	nlink, linkBase int
	// disMemo[2*link+side] caches the DISALLOW rules that found nothing on that side of that
	// link (see disallowRun); nil until a DISALLOW rule runs.
	disMemo []uint64

	// evPool backs the evidence slices of the trail's entries (see evidenceSlice).
	evPool []Evidence
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
		return &evaluator{c: c, ctx: ctx, in: in}
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
	pool := len(in.Layouts)
	for _, r := range c.rules {
		if r.verb != VerbRevoke {
			pool += min(ev.estimateFor(r), maxEvidence+1)
		}
	}
	ev.evPool = make([]Evidence, pool)
	trail := make([]TrailEntry, len(c.rules)+2)
	ev.revocationEntry(&trail[0])
	ev.layoutsEntry(&trail[1])
	for i, r := range c.rules {
		ev.ruleEntry(r, &trail[2+i])
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := &Decision{MediaType: MediaType, PolicyID: c.id, Time: in.Time, Trail: trail}
	combine(d, ev.warnings)
	return d, nil
}

// combine applies the strength rules to the trail and fills in the effect.
func combine(d *Decision, warnings []string) {
	d.Warnings = warnings
	for i := range d.Trail {
		e := &d.Trail[i]
		if e.Effect == Deny && e.Strength == Weak {
			e.Effect, e.Warning = "", true
		}
		if e.Warning {
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s (%s %s): %s", e.Rule, e.Strength, e.Verb, e.Message))
		}
	}
	best := Strength(0)
	for _, e := range d.Trail {
		if e.Effect != "" && e.Strength > best {
			best = e.Strength
		}
	}
	if best == 0 {
		satisfied := 0
		for _, e := range d.Trail {
			if e.Outcome == OutcomeSatisfied {
				satisfied++
			}
		}
		if satisfied > 0 {
			d.Effect = Allow
			d.Reason = "allowed: no rule voted, " + itoa(satisfied) + " rule(s) satisfied"
		} else {
			d.Effect = Deny
			d.Reason = "denied: no rule applied"
		}
		return
	}
	d.Effect = Allow
	for _, e := range d.Trail {
		if e.Effect == Deny && e.Strength == best {
			d.Effect = Deny
			break
		}
	}
	for _, e := range d.Trail {
		if e.Effect == d.Effect && e.Strength == best {
			d.DecidedBy = append(d.DecidedBy, e.Rule)
		}
	}
	for i := range d.Trail {
		e := &d.Trail[i]
		if e.Effect != "" && e.Effect != d.Effect {
			e.OverriddenBy = d.DecidedBy
		}
	}
	verb := "allowed"
	if d.Effect == Deny {
		verb = "denied"
	}
	d.Reason = verb + " by " + best.String() + " rule(s) " + strings.Join(d.DecidedBy, ", ")
}

// setEntry sets the static fields of r's entry e.
func setEntry(e *TrailEntry, r *rule) {
	e.Rule, e.Verb, e.Subject, e.Strength, e.Source = r.id, r.verb, r.subjName, r.strength, r.src
}

// vote sets the entry's effect from its outcome, applying the policy's Indeterminate setting.
func (ev *evaluator) vote(e *TrailEntry) {
	switch e.Outcome {
	case OutcomeAllow:
		e.Effect = Allow
	case OutcomeDeny:
		e.Effect = Deny
	case OutcomeIndeterminate:
		if ev.c.indeterminateWarn {
			e.Warning = true
		} else {
			e.Effect = Deny
		}
	case OutcomeNotApplicable:
		e.NotApplicable = true
	}
	if e.Effect == Deny && e.Reason == "" {
		e.Reason = verr.PolicyDenied
	}
}

// addEvidence records one subject in e.Evidence (up to maxEvidence of them, then a
// "truncated" entry). The record is written in place rather than copied in, which spares the
// collector's bulk write barrier on a 96-byte struct.
func addEvidence(e *TrailEntry, n *int, kind string, ref subjRef, result, detail string) {
	*n++
	if e.Evidence == nil {
		e.Evidence = make([]Evidence, 0, 8)
	}
	if len(e.Evidence) < maxEvidence {
		x := e.newEvidence()
		x.Kind, x.Layout, x.Step, x.Ref, x.Result, x.Detail = kind, ref.layout, ref.step, ref.name, result, detail
	} else if *n == maxEvidence+1 {
		x := e.newEvidence()
		x.Kind, x.Ref, x.Result = "more", "...", "truncated"
	}
}

// newEvidence appends a zero Evidence to e.Evidence and returns it.
func (e *TrailEntry) newEvidence() *Evidence {
	i := len(e.Evidence)
	if i < cap(e.Evidence) {
		e.Evidence = e.Evidence[:i+1]
	} else {
		e.Evidence = append(e.Evidence, Evidence{})
	}
	return &e.Evidence[i]
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

// layoutRev locates one layout's revocation lookups in evaluator.lookups.
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

// certRevoked returns the revoked certificate lookup of keyid, if any.
func (ev *evaluator) certRevoked(lr *layoutRev, keyid string) *Lookup {
	for _, c := range lr.certs {
		if c.keyid == keyid || strings.EqualFold(c.keyid, keyid) {
			if lk := ev.revokedAt(c.idx); lk != nil {
				return lk
			}
		}
	}
	return nil
}

// newLookup appends a zero record to ev.lookups and returns it with its index. Callers set the
// Ref's fields in place (a Ref is 120 bytes; copying it in showed in profiles) and call answer.
func (ev *evaluator) newLookup() (*Lookup, int) {
	i := len(ev.lookups)
	if i < cap(ev.lookups) {
		ev.lookups = ev.lookups[:i+1]
	} else {
		ev.lookups = append(ev.lookups, Lookup{})
	}
	return &ev.lookups[i], i
}

// lookupKey looks up a layout signer (step "") or a functionary's key.
func (ev *evaluator) lookupKey(layout, step, keyid string) int {
	l, i := ev.newLookup()
	l.Ref.Kind = revocation.KindKey
	if step != "" {
		l.Ref.Kind, l.Ref.Step = revocation.KindFunctionary, step
	}
	l.Ref.KeyID, l.Ref.Name = keyid, layout
	ev.answer(l)
	return i
}

// lookupDigest looks up a layout, link, attestation or artifact by digest.
func (ev *evaluator) lookupDigest(kind revocation.Kind, digest, name, step string, version int64) int {
	l, i := ev.newLookup()
	l.Ref.Kind, l.Ref.Digest, l.Ref.Name, l.Ref.Step, l.Ref.Version = kind, digest, name, step, version
	ev.answer(l)
	return i
}

// answer answers the lookup l. Answers the policy gives itself point to its shared, read-only
// statuses; a checker's answers are kept in ev.statuses.
func (ev *evaluator) answer(l *Lookup) {
	r := ev.c.revokedBy(&l.Ref)
	switch {
	case r != nil:
		l.Status = r.revStatus
	case ev.in.Revocation != nil:
		st, err := ev.in.Revocation.Status(ev.ctx, l.Ref, ev.in.Time)
		if err != nil {
			st = revocation.Status{State: revocation.Unknown, Source: st.Source}
			l.Error = err.Error()
		}
		switch st.State {
		case revocation.Good, revocation.Revoked, revocation.Unknown, revocation.NotRevocable:
		default:
			st.State = revocation.Unknown
		}
		if ev.statuses == nil {
			ev.statuses = make([]revocation.Status, 0, cap(ev.lookups)-len(ev.lookups)+1)
		}
		ev.statuses = append(ev.statuses, st)
		l.Status = &ev.statuses[len(ev.statuses)-1]
	default:
		// No source configured: the policy's own REVOKE rules are authoritative.
		l.Status = ev.c.goodStatus
	}
	ev.lookupBy = append(ev.lookupBy, r.byIndex())
}

func (ev *evaluator) state(i int) revocation.State { return ev.lookups[i].Status.State }

// revokedBy returns the first REVOKE rule that lists ref.
func (c *compiled) revokedBy(ref *revocation.Ref) *rule {
	if !c.hasRevoke {
		return nil
	}
	switch ref.Kind {
	case revocation.KindKey, revocation.KindFunctionary:
		if len(c.revokeKeys) == 0 || !c.revokeFilter[4].may(ref.KeyID) {
			return nil
		}
		rs, ok := c.revokeKeys[ref.KeyID]
		if !ok && hasUpper(ref.KeyID) {
			rs = c.revokeKeys[strings.ToLower(ref.KeyID)]
		}
		for _, r := range rs {
			if r.step != "" && (ref.Kind != revocation.KindFunctionary || !r.stepSel.match(ref.Step)) {
				continue
			}
			if r.layout != "" && !r.layoutSel.match(ref.Name) {
				continue
			}
			return r
		}
	case revocation.KindLayout, revocation.KindLink, revocation.KindArtifact:
		return c.revokedDigest(ref.Kind, ref.Digest)
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
		r.disBit = -1
		if r.art != nil && r.art.disallow != nil && len(c.disallow) < 63 {
			r.disBit = len(c.disallow)
			c.disallow = append(c.disallow, r)
		}
		r.layoutSel, r.stepSel = newSelector(r.layout), newSelector(r.step)
		if i == len(c.rules)-1 && len(c.disallow) == 1 {
			// A lone DISALLOW rule has nothing to share a scan with.
			c.disallow[0].disBit, c.disallow = -1, nil
		}
		r.subjName = r.subject.String()
		r.selectedNone = "selected no " + r.subjName
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
func (ev *evaluator) revocationEntry(e *TrailEntry) {
	in := ev.in
	n := 0
	for li := range in.Layouts {
		l := &in.Layouts[li]
		n += 1 + len(l.Signers)
		for si := range l.Steps {
			n += 2 * len(l.Steps[si].Links)
		}
	}
	if in.Target != nil {
		n += len(in.Target.Hashes)
	}
	ev.lookups = make([]Lookup, 0, n+len(in.Attestations)*2)
	ev.revs = reuse(ev.spare.revs, len(in.Layouts))
	// One pointer-free backing array for lookupBy and every layout's signer and link indices.
	nsig, nlink := 0, 0
	for li := range in.Layouts {
		l := &in.Layouts[li]
		nsig += len(l.Signers)
		for si := range l.Steps {
			nlink += len(l.Steps[si].Links)
		}
	}
	ev.nlink = nlink
	scratch := reuse(ev.spare.idx, cap(ev.lookups)+nsig+2*nlink)
	ev.scratch = scratch
	ev.lookupBy = scratch[:0:cap(ev.lookups)]
	sigIdx := scratch[cap(ev.lookups) : cap(ev.lookups)+nsig : cap(ev.lookups)+nsig]
	linkIdx := scratch[cap(ev.lookups)+nsig : cap(ev.lookups)+nsig : len(scratch)]
	if t := in.Target; t != nil {
		for _, alg := range sortedKeys(t.Hashes) {
			ev.lookupDigest(revocation.KindArtifact, alg+":"+strings.ToLower(t.Hashes[alg]), t.Name, "", 0)
		}
	}
	for li := range in.Layouts {
		l := &in.Layouts[li]
		lr := &ev.revs[li]
		lr.layout = ev.lookupDigest(revocation.KindLayout, l.Digest, l.Name, "", l.Version)
		lr.signers, sigIdx = sigIdx[:len(l.Signers):len(l.Signers)], sigIdx[len(l.Signers):]
		lr.links = linkIdx[len(linkIdx):len(linkIdx)]
		lr.linkBase = len(linkIdx) / 2
		for i, s := range l.Signers {
			lr.signers[i] = int32(ev.lookupKey(l.Name, "", s))
		}
		for _, k := range l.Keys {
			if k.Issuer != "" && k.Serial != "" {
				c, i := ev.newLookup()
				c.Ref.Kind, c.Ref.KeyID, c.Ref.Issuer, c.Ref.Serial = revocation.KindCertificate, k.KeyID, k.Issuer, k.Serial
				ev.answer(c)
				lr.certs = append(lr.certs, certRev{k.KeyID, i})
			}
		}
		for si := range l.Steps {
			s := &l.Steps[si]
			for ki := range s.Links {
				k := &s.Links[ki]
				a := ev.lookupDigest(revocation.KindLink, k.Digest, l.Name, s.Name, 0)
				b := ev.lookupKey(l.Name, s.Name, k.KeyID)
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
			ev.lookupDigest(revocation.KindLink, a.Digest, a.PredicateType, "", 0)
		}
		ev.lookupKey("", "", a.Signer)
	}

	e.Rule, e.Verb, e.Subject, e.Strength, e.Revocations = "revocation", VerbRevocation, "all", Strong, ev.lookups
	var revoked, unknown, keys []string
	for i, l := range ev.lookups {
		switch l.Status.State {
		case revocation.Revoked:
			desc := describeRef(l.Ref) + " revoked by " + l.Status.Source
			if l.Ref.Kind == revocation.KindKey || l.Ref.Kind == revocation.KindFunctionary || l.Ref.Kind == revocation.KindCertificate {
				keys = append(keys, desc)
			} else if ev.lookupBy[i] == 0 {
				// Revocations by the policy's own REVOKE rules are voted by those rules.
				revoked = append(revoked, desc)
			}
		case revocation.Unknown:
			msg := describeRef(l.Ref) + " unknown"
			if l.Status.Source != "" {
				msg += " to " + l.Status.Source
			}
			if l.Error != "" {
				msg += ": " + l.Error
			}
			unknown = append(unknown, msg)
		}
	}
	var msgs []string
	switch {
	case len(revoked) > 0:
		e.Outcome, e.Reason = OutcomeDeny, verr.Revoked
		msgs = append(msgs, strings.Join(revoked, "; "))
	case len(unknown) > 0 && !ev.c.unknownWarn:
		e.Outcome, e.Reason = OutcomeDeny, verr.Unknown
	case len(ev.lookups) == 0:
		e.Outcome = OutcomeNotApplicable
	default:
		e.Outcome = OutcomeSatisfied
	}
	if len(unknown) > 0 {
		msgs = append(msgs, "unknown: "+strings.Join(unknown, "; "))
		if ev.c.unknownWarn && e.Outcome != OutcomeDeny {
			e.Warning = true
		}
	}
	if len(keys) > 0 {
		msgs = append(msgs, "excluded from thresholds: "+strings.Join(keys, "; "))
	}
	if len(msgs) == 0 {
		e.Message = itoa(len(ev.lookups)) + " lookup(s), nothing revoked"
	} else {
		e.Message = strings.Join(msgs, "; ")
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
							ev.lookups = append(ev.lookups, Lookup{
								Ref:    revocation.Ref{Kind: revocation.KindArtifact, Digest: d, Name: name, Step: s.Name},
								Status: r.revStatus,
							})
							ev.lookupBy = append(ev.lookupBy, r.byIndex())
						}
					}
				}
			}
		}
	}
}

// revokedAt returns the lookup at index i when it says Revoked.
func (ev *evaluator) revokedAt(i int) *Lookup {
	if i < 0 || i >= len(ev.lookups) || ev.lookups[i].Status.State != revocation.Revoked {
		return nil
	}
	return &ev.lookups[i]
}

// ---------------------------------------------------------------------------------------------
// Layouts

// layoutsEntry checks each layout (verified, not expired, not revoked, thresholds met by keys
// that are not revoked, every artifact rule passed) and combines them: all, any or k of n.
func (ev *evaluator) layoutsEntry(e *TrailEntry) {
	c, in := ev.c, ev.in
	e.Rule, e.Verb, e.Subject, e.Strength = "layouts", VerbLayouts, "layout", Strong
	ev.layoutsOK = reuse(ev.spare.layoutsOK, len(in.Layouts))
	e.Evidence = ev.evidenceSlice(min(len(in.Layouts), maxEvidence+1))
	ok := 0
	var reason verr.Reason
	n := 0
	for li := range in.Layouts {
		l := &in.Layouts[li]
		probs, rsn := ev.checkLayout(l, &ev.revs[li])
		res := "ok"
		if len(probs) > 0 {
			res = "failed"
			if reason == "" {
				reason = rsn
			}
		} else {
			ok++
			ev.layoutsOK[li] = true
		}
		addEvidence(e, &n, "layout", subjRef{layout: l.Name, name: l.Digest}, res, strings.Join(probs, "; "))
	}
	total := len(in.Layouts)
	var want int
	var mode string
	switch c.mode {
	case layoutsNone:
		e.Outcome = OutcomeNotApplicable
		e.Message = "the policy does not require layouts"
		ev.vote(e)
		return
	case layoutsAll:
		want, mode = total, "all"
		if want == 0 {
			want = 1
		}
	case layoutsAny:
		want, mode = 1, "any"
	case layoutsK:
		want, mode = c.k, fmt.Sprintf("%d of n", c.k)
	}
	e.Message = itoa(ok) + " of " + itoa(total) + " layout(s) satisfied, " + mode + " required (" + itoa(want) + ")"
	if ok >= want {
		e.Outcome = OutcomeSatisfied
	} else {
		e.Outcome = OutcomeDeny
		e.Reason = reason
		if total == 0 {
			e.Message = "no layout in the evidence; the policy requires " + mode
			e.Reason = verr.LayoutInvalid
		}
		if e.Reason == "" {
			e.Reason = verr.LayoutInvalid
		}
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
	if lk := ev.revokedAt(lr.layout); lk != nil {
		fail(verr.Revoked, "layout revoked by %s", lk.Status.Source)
	}
	need := max(l.Threshold, 1)
	var counted [8]string
	signers := counted[:0]
	var excluded []string
	for i, s := range l.Signers {
		if lk := ev.revokedAt(int(lr.signers[i])); lk != nil {
			excluded = append(excluded, "key "+s+" revoked by "+lk.Status.Source)
			continue
		}
		if lk := ev.certRevoked(lr, s); lk != nil {
			excluded = append(excluded, "certificate of key "+s+" revoked by "+lk.Status.Source)
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
			if lk := ev.revokedAt(idx[0]); lk != nil {
				excluded = append(excluded, "link "+k.Digest+" revoked by "+lk.Status.Source)
				continue
			}
			if lk := ev.revokedAt(idx[1]); lk != nil {
				excluded = append(excluded, "functionary key "+k.KeyID+" revoked by "+lk.Status.Source)
				continue
			}
			if lk := ev.certRevoked(lr, k.KeyID); lk != nil {
				excluded = append(excluded, "certificate of functionary "+k.KeyID+" revoked by "+lk.Status.Source)
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
