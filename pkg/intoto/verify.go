package intoto

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

// Verify verifies the in-toto supply chain described by the layout document layoutBytes
// (a Metablock or a DSSE envelope), with the links read from opts.Links. See the package
// documentation for the order of the checks. It returns a *Result and a nil error only when
// every check passed. Otherwise the error is a *verr.VerificationError (the evidence says no),
// a *verr.InputError (the layout document is malformed), or an operational error
// (ctx cancelled, I/O); the Result, when non-nil, describes what was checked.
//
// Verify is safe for concurrent use; it reads the clock at most once (when opts.Now is nil).
func Verify(ctx context.Context, layoutBytes []byte, opts Options) (*Result, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	v := &verifier{opts: opts, now: now().UTC()}
	res, err := v.verify(ctx, layoutBytes, opts.LayoutKeys, opts.LayoutThreshold, opts.Links, 0, "")
	if res != nil {
		res.Verified = err == nil
	}
	return res, err
}

type verifier struct {
	opts Options
	now  time.Time
	dig  digestIntern
	// linkBuf is a buffer that the first link of a step is read into (linkBufferReader): the
	// previous step's, which nothing refers to any more once its collect has returned.
	linkBuf []byte
}

func digestOf(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

func prefix8(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// LinkFileName is python in-toto's link file name: "<step>.<first 8 characters of keyid>.link".
func LinkFileName(step, keyid string) string { return step + "." + prefix8(keyid) + ".link" }

// SublayoutDir is python in-toto's directory for the links of a sublayout:
// "<step>.<first 8 characters of keyid>".
func SublayoutDir(step, keyid string) string { return step + "." + prefix8(keyid) }

func (v *verifier) verify(ctx context.Context, data []byte, layoutKeys []*keys.Key, threshold int, src LinkSource, depth int, stepName string) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{LayoutDigest: digestOf(data)}
	if len(data) > int64ToInt(v.maxBytes()) && v.maxBytes() >= 0 {
		return res, verr.Invalid("layout", "document is %d bytes, over the limit of %d", len(data), v.maxBytes())
	}
	layout, env, err := ParseLayout(data, v.opts.Limits)
	if err != nil {
		return res, err
	}
	res.Format = env.Format

	// 1. Layout signatures.
	signers, err := v.layoutSignatures(ctx, res, env, layoutKeys, threshold)
	if err != nil {
		return res, err
	}
	res.LayoutSigners = signers

	// 2. Validation, before anything is evaluated.
	if err := Validate(layout); err != nil {
		return res, err
	}
	res.Layout = layout

	// 3. Expiry against the injected clock.
	if v.now.After(layout.Expires) {
		return res, &verr.VerificationError{Reason: verr.Expired, Role: "layout",
			Msg: fmt.Sprintf("the layout expired at %s (verification time %s)", layout.ExpiresText, v.now.Format(time.RFC3339))}
	}

	// 4. Parameter substitution.
	if v.opts.Params != nil {
		if layout, err = substitute(layout, v.opts.Params); err != nil {
			return res, err
		}
		res.Layout = layout
	}

	// 5. Compile every item's rules once.
	progs, err := compileAll(layout)
	if err != nil {
		return res, err
	}

	signerKeys := make([]*keys.Key, 0, len(signers))
	for _, k := range layoutKeys {
		if slices.Contains(signers, k.KeyID) {
			signerKeys = append(signerKeys, k)
		}
	}

	// 6. Links: signatures, thresholds, sublayouts, agreement. Every step is checked and every
	// failure kept. A step's artifact rules depend only on the agreed links of the step and of
	// the steps its MATCH rules name, so they start (on another goroutine) as soon as those
	// links are in, while later links are still being read; their results are used only if
	// every step's links verify, so the order of the checks stays python in-toto's.
	var fails []error
	reduced := make(map[string]rules.StepArtifacts, len(layout.Steps)+len(layout.Inspections))
	jobs := map[string]*ruleJob{}
	defer func() {
		for _, j := range jobs {
			<-j.done // never leave a goroutine behind
		}
	}()
	deps := stepDeps(layout, progs)
	for _, s := range layout.Steps {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		sr := v.stepLinks(ctx, res, layout, s, src, depth)
		if sr.Err != nil {
			fails = append(fails, sr.Err)
		} else {
			reduced[s.Name] = rules.StepArtifacts{Materials: sr.Link.Materials, Products: sr.Link.Products}
			if len(s.ExpectedCommand) > 0 && !slices.Equal(sr.Link.Command, s.ExpectedCommand) {
				res.Warnings = append(res.Warnings, fmt.Sprintf("step %q: command %q differs from the expected command %q", s.Name, sr.Link.Command, s.ExpectedCommand))
			}
			if len(fails) == 0 {
				startReadyRules(layout, progs, deps, reduced, jobs, v.dig.queueOf)
			}
		}
		res.Steps = append(res.Steps, sr)
	}
	if len(fails) > 0 {
		return res, joinFailures(fails)
	}
	if depth == 0 {
		v.dig = digestIntern{} // the sharing index is not needed any more
	}

	// 7. Step artifact rules, materials then products, in layout order.
	lookup := func(name string) (rules.StepArtifacts, bool) {
		a, ok := reduced[name]
		return a, ok
	}
	for i := range res.Steps {
		sr := &res.Steps[i]
		var err error
		if j := jobs[sr.Name]; j != nil {
			<-j.done
			err = ruleOutcome(sr, j.mats, j.prods)
		} else {
			err = v.applyRules(sr, progs[sr.Name], reduced[sr.Name], lookup)
		}
		if err != nil {
			fails = append(fails, err)
		}
	}
	if len(fails) > 0 {
		return res, joinFailures(fails)
	}

	// 8. Inspections, then their rules (which may refer to steps and inspections).
	for _, in := range layout.Inspections {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		sr := v.inspection(ctx, res, layout, in, signerKeys, src, depth)
		if sr.Err != nil {
			fails = append(fails, sr.Err)
		} else {
			reduced[in.Name] = rules.StepArtifacts{Materials: sr.Link.Materials, Products: sr.Link.Products}
		}
		res.Inspections = append(res.Inspections, sr)
	}
	if len(fails) > 0 {
		return res, joinFailures(fails)
	}
	for i := range res.Inspections {
		sr := &res.Inspections[i]
		if err := v.applyRules(sr, progs[sr.Name], reduced[sr.Name], lookup); err != nil {
			fails = append(fails, err)
		}
	}
	if len(fails) > 0 {
		return res, joinFailures(fails)
	}

	// 9. The summary link (python's get_summary_link).
	sum := &Link{Name: stepName, Materials: rules.Artifacts{}, Products: rules.Artifacts{}}
	if n := len(res.Steps); n > 0 {
		first, last := res.Steps[0].Link, res.Steps[n-1].Link
		sum.Materials = first.Materials
		sum.Products = last.Products
		sum.Byproducts = last.Byproducts
		sum.Command = last.Command
	}
	res.Summary = sum
	return res, nil
}

func int64ToInt(n int64) int {
	if n > int64(^uint(0)>>1) {
		return int(^uint(0) >> 1)
	}
	return int(n)
}

func (v *verifier) maxBytes() int64 {
	if v.opts.Limits.MaxBytes == 0 {
		return DefaultMaxLinkBytes
	}
	return v.opts.Limits.MaxBytes
}

// joinFailures returns the single failure, or a *verr.VerificationError carrying the reason of
// the first failure and every failure joined.
func joinFailures(fails []error) error {
	if len(fails) == 1 {
		return fails[0]
	}
	reason, ok := verr.ReasonOf(fails[0])
	if !ok {
		return errors.Join(fails...)
	}
	var names []string
	for _, f := range fails {
		var ve *verr.VerificationError
		if errors.As(f, &ve) && ve.Step != "" {
			names = append(names, fmt.Sprintf("%q", ve.Step))
		}
	}
	return &verr.VerificationError{Reason: reason,
		Msg: fmt.Sprintf("%d checks failed (%s)", len(fails), strings.Join(names, ", ")),
		Err: errors.Join(fails...)}
}

// verifyBy reports whether a signature in env owned by k verifies at the verification time at
// (keys.Key.VerifyAt: an OpenPGP key or subkey that expired before at does not count). A DSSE
// signature without a keyid is tried with every key. When every signature that was tried is
// valid but made by an expired key, the failure's reason is verr.Expired.
func verifyBy(env *Envelope, k *keys.Key, at time.Time) error {
	var errs []error
	expired := 0
	for _, s := range env.Signatures {
		if s.KeyID != "" && !k.Owns(s.KeyID) {
			continue
		}
		if s.KeyID == "" && env.Format == FormatMetablock {
			continue
		}
		err := k.VerifyAt(env.Message, s.Signature, at)
		if err == nil {
			return nil
		}
		if r, ok := verr.ReasonOf(err); ok && r == verr.Expired {
			expired++
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return verr.New(verr.BadSignature, "no signature by key %s", k.KeyID)
	}
	if expired == len(errs) {
		return verr.Wrap(verr.Expired, errors.Join(errs...), "no signature by key %s made while it was valid", k.KeyID)
	}
	return verr.Wrap(verr.BadSignature, errors.Join(errs...), "no valid signature by key %s", k.KeyID)
}

func (v *verifier) layoutSignatures(ctx context.Context, res *Result, env *Envelope, layoutKeys []*keys.Key, threshold int) ([]string, error) {
	if len(layoutKeys) == 0 {
		return nil, &verr.VerificationError{Reason: verr.BadSignature, Role: "layout", Msg: "no layout keys were given: at least one trusted key must have signed the layout"}
	}
	seen := map[string]bool{}
	var signers []string
	var errs []error
	distinct := 0
	for _, k := range layoutKeys {
		if k == nil || seen[k.KeyID] {
			continue
		}
		seen[k.KeyID] = true
		distinct++
		if err := verifyBy(env, k, v.now); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := v.checkRevoked(ctx, res, revocation.Ref{Kind: revocation.KindKey, KeyID: k.KeyID}); err != nil {
			errs = append(errs, err)
			continue
		}
		signers = append(signers, k.KeyID)
	}
	sort.Strings(signers)
	need := threshold
	if need <= 0 {
		need = distinct
	}
	if len(signers) < need {
		reason := verr.BadSignature
		if threshold > 0 {
			reason = verr.Threshold
		}
		msg := fmt.Sprintf("the layout must be signed by every given layout key (%d), %d valid signature(s) found", distinct, len(signers))
		if threshold > 0 {
			msg = fmt.Sprintf("the layout must be signed by %d of the %d given layout keys, %d valid signature(s) found", need, distinct, len(signers))
		}
		return signers, &verr.VerificationError{Reason: reason, Role: "layout", Msg: msg, Err: errors.Join(errs...)}
	}
	return signers, nil
}

// checkRevoked asks the revocation checker about refs. Anything but Good or NotRevocable is a
// *verr.VerificationError (Revoked, or Unknown), recorded in res.
func (v *verifier) checkRevoked(ctx context.Context, res *Result, refs ...revocation.Ref) error {
	if v.opts.Revocation == nil {
		return nil
	}
	for _, ref := range refs {
		st, err := v.opts.Revocation.Status(ctx, ref, v.now)
		switch {
		case err != nil:
			res.Revocations = append(res.Revocations, RevocationRecord{Ref: ref, Status: st, Err: err})
			return &verr.VerificationError{Reason: verr.Unknown, Step: ref.Step, Msg: fmt.Sprintf("revocation status of %s %s could not be determined", ref.Kind, ref.KeyID), Err: err}
		case st.State == revocation.Revoked:
			res.Revocations = append(res.Revocations, RevocationRecord{Ref: ref, Status: st})
			return &verr.VerificationError{Reason: verr.Revoked, Step: ref.Step, Msg: fmt.Sprintf("%s %s is revoked (source %s)", ref.Kind, ref.KeyID, st.Source)}
		case st.State == revocation.Good || st.State == revocation.NotRevocable:
		default:
			res.Revocations = append(res.Revocations, RevocationRecord{Ref: ref, Status: st})
			return &verr.VerificationError{Reason: verr.Unknown, Step: ref.Step, Msg: fmt.Sprintf("revocation status of %s %s is %q: not counted", ref.Kind, ref.KeyID, st.State)}
		}
	}
	return nil
}

// functionary is one authorised signer of an item.
type functionary struct {
	id     string // the keyid as listed (pubkeys entry or subkey id): names the file
	mainID string // the main key's id (counted once)
	key    *keys.Key
}

func (v *verifier) stepLinks(ctx context.Context, res *Result, layout *Layout, s Step, src LinkSource, depth int) StepResult {
	var fns []functionary
	for _, id := range s.PubKeys {
		if k, ok := layout.Keys[id]; ok {
			fns = append(fns, functionary{id: id, mainID: id, key: k})
			// Subkeys of an authorised key are authorised too (python in-toto).
			for sid, main := range layout.Subkeys {
				if main == id {
					fns = append(fns, functionary{id: sid, mainID: id, key: k})
				}
			}
		} else if main, ok := layout.Subkeys[id]; ok {
			fns = append(fns, functionary{id: id, mainID: main, key: layout.Keys[main]})
		}
	}
	sr := v.collect(ctx, res, layout, s.Name, false, s.Threshold, fns, s.CertConstraints, src, depth)
	return sr
}

type counted struct {
	mainID string
	link   *Link
	rec    LinkRecord
}

// collect loads, verifies and counts the links of one item (step or prerecorded inspection).
func (v *verifier) collect(ctx context.Context, res *Result, layout *Layout, name string, inspection bool, threshold int, fns []functionary, ccs []CertConstraint, src LinkSource, depth int) StepResult {
	sr := StepResult{Name: name, Inspection: inspection, Threshold: threshold}
	sort.SliceStable(fns, func(i, j int) bool { return fns[i].id < fns[j].id })
	fns = slices.CompactFunc(fns, func(a, b functionary) bool { return a.id == b.id })
	type loaded struct {
		data   []byte // kept only for sublayouts
		digest string
		env    *Envelope
		err    error
	}
	cache := map[string]*loaded{}
	// The first link file of this item is read into v.linkBuf. Nothing read from a link refers
	// to its bytes once it is parsed and its signatures are checked (names, digests and every
	// decoded value are copies), except the envelope's message and a sublayout's data, which
	// live in cache until collect returns; so the buffer is handed back to v only then, and
	// never when it holds a layout.
	var owned []byte
	bufTaken := false
	defer func() {
		if owned != nil {
			v.linkBuf = owned
		}
	}()
	load := func(file string) *loaded {
		if l, ok := cache[file]; ok {
			return l
		}
		l := &loaded{}
		cache[file] = l
		if src == nil {
			l.err = &fs.PathError{Op: "open", Path: file, Err: fs.ErrNotExist}
			return l
		}
		mine := false
		if br, ok := src.(linkBufferReader); ok && !bufTaken {
			bufTaken, mine = true, true
			buf := v.linkBuf
			v.linkBuf = nil
			l.data, l.err = br.readLinkInto(file, buf)
		} else {
			l.data, l.err = src.ReadLink(file)
		}
		if l.err == nil {
			if mb := v.maxBytes(); mb >= 0 && int64(len(l.data)) > mb {
				l.err = verr.Invalid("link "+file, "document is %d bytes, over the limit of %d", len(l.data), mb)
			} else {
				// Hash the file on another goroutine while it is parsed.
				done := make(chan string, 1)
				go func(b []byte) { done <- digestOf(b) }(l.data)
				l.env, l.err = v.parseLinkDoc(file, l.data)
				l.digest = <-done
				if l.env == nil || l.env.Type != "layout" {
					if mine {
						owned = l.data[:0]
					}
					l.data = nil // let a large link's bytes go as soon as it is parsed
				}
			}
		}
		return l
	}
	byMain := map[string]*counted{}
	found := 0
	reject := func(file, id string, err error) {
		sr.Rejected = append(sr.Rejected, Rejection{File: file, KeyID: id, Err: err})
	}
	kind := revocation.KindFunctionary
	for _, fn := range fns {
		file := LinkFileName(name, fn.id)
		l := load(file)
		if l.err != nil {
			if !errors.Is(l.err, fs.ErrNotExist) {
				found++
				reject(file, fn.id, l.err)
			}
			continue
		}
		found++
		if _, dup := byMain[fn.mainID]; dup {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%q: several links signed by subkeys of key %s; only one counts", name, fn.mainID))
			continue
		}
		if err := verifyBy(l.env, fn.key, v.now); err != nil {
			reject(file, fn.id, err)
			continue
		}
		if err := v.checkRevoked(ctx, res,
			revocation.Ref{Kind: revocation.KindKey, KeyID: fn.mainID},
			revocation.Ref{Kind: kind, KeyID: fn.mainID, Step: name}); err != nil {
			reject(file, fn.id, err)
			continue
		}
		rec := LinkRecord{File: file, KeyID: fn.mainID, Digest: l.digest, Format: l.env.Format}
		var link *Link
		var err error
		if l.env.Type == "layout" {
			if inspection {
				reject(file, fn.id, verr.Invalid("link "+file, "an inspection link cannot be a layout"))
				continue
			}
			link, rec.Sublayout, err = v.sublayout(ctx, l.data, fn, name, src, depth)
		} else {
			link, err = l.env.link()
			if err == nil && link.Name != name {
				err = &verr.VerificationError{Reason: verr.LinkMismatch, Step: name,
					Msg: fmt.Sprintf("link %s is signed for step %q, not %q", file, link.Name, name)}
			}
		}
		if err != nil {
			reject(file, fn.id, err)
			continue
		}
		byMain[fn.mainID] = &counted{mainID: fn.mainID, link: link, rec: rec}
	}
	if len(ccs) > 0 {
		found += v.certLinks(ctx, res, layout, name, ccs, src, byMain, &sr)
	}

	var cs []*counted
	for _, c := range byMain {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].mainID < cs[j].mainID })
	for _, c := range cs {
		sr.Signers = append(sr.Signers, c.mainID)
		sr.Links = append(sr.Links, c.rec)
	}
	var rejErrs []error
	for _, r := range sr.Rejected {
		rejErrs = append(rejErrs, fmt.Errorf("%s: %w", r.File, r.Err))
	}
	what := "step"
	if inspection {
		what = "inspection"
	}
	if len(cs) < threshold {
		e := &verr.VerificationError{Step: name, Err: errors.Join(rejErrs...)}
		switch {
		case found == 0:
			e.Reason = verr.MissingLink
			var want []string
			for _, fn := range fns {
				want = append(want, LinkFileName(name, fn.id))
			}
			e.Msg = fmt.Sprintf("the %s needs %d link(s) by distinct functionaries and none was found (looked for %s)", what, threshold, strings.Join(want, ", "))
		case found < threshold:
			e.Reason = verr.MissingLink
			e.Msg = fmt.Sprintf("the %s needs %d link(s) by distinct functionaries, %d file(s) found, %d valid", what, threshold, found, len(cs))
		default:
			e.Reason = verr.Threshold
			e.Msg = fmt.Sprintf("the %s needs %d link(s) validly signed by distinct authorised functionaries, found %d", what, threshold, len(cs))
			// When every candidate failed for the same reason other than a bad signature (a
			// revoked key, a failed sublayout, a certificate), that reason is the clearer one.
			if r, ok := commonReason(sr.Rejected); ok && r != verr.BadSignature {
				e.Reason = r
			}
		}
		if inspection && found == 0 {
			e.Reason = verr.Inspection
		}
		sr.Err = e
		return sr
	}
	// The links that counted must agree on materials and products.
	ref := cs[0]
	for _, c := range cs[1:] {
		if !equalArtifacts(ref.link.Materials, c.link.Materials) || !equalArtifacts(ref.link.Products, c.link.Products) {
			sr.Err = &verr.VerificationError{Reason: verr.LinkMismatch, Step: name,
				Msg: fmt.Sprintf("links %s and %s report different materials or products", ref.rec.File, c.rec.File)}
			return sr
		}
	}
	sr.Link = ref.link
	return sr
}

func equalArtifacts(a, b rules.Artifacts) bool {
	if len(a) != len(b) {
		return false
	}
	for name, da := range a {
		db, ok := b[name]
		if !ok || da != db {
			return false
		}
	}
	return true
}

func (v *verifier) sublayout(ctx context.Context, data []byte, fn functionary, step string, src LinkSource, depth int) (*Link, *Result, error) {
	if depth+1 > MaxSublayoutDepth {
		return nil, nil, &verr.VerificationError{Reason: verr.LayoutInvalid, Step: step, Msg: fmt.Sprintf("sublayouts nested deeper than %d", MaxSublayoutDepth)}
	}
	var sub LinkSource
	if src != nil {
		sub = subSource{parent: src, dir: SublayoutDir(step, fn.id)}
	}
	r, err := v.verify(ctx, data, []*keys.Key{fn.key}, 0, sub, depth+1, step)
	if r != nil {
		r.Verified = err == nil
	}
	if err != nil {
		reason, ok := verr.ReasonOf(err)
		if !ok {
			reason = verr.LayoutInvalid
		}
		return nil, r, &verr.VerificationError{Reason: reason, Step: step, Msg: "sublayout " + SublayoutDir(step, fn.id) + " failed", Err: err}
	}
	return r.Summary, r, nil
}

func (v *verifier) applyRules(sr *StepResult, p *itemPrograms, self rules.StepArtifacts, lookup func(string) (rules.StepArtifacts, bool)) error {
	return ruleOutcome(sr, p.materials.Run(rules.Materials, self, lookup), p.products.Run(rules.Products, self, lookup))
}

// ruleOutcome records the rule results of an item and returns its failures.
func ruleOutcome(sr *StepResult, mats, prods *rules.Result) error {
	var errs []error
	sr.Materials, sr.Products = mats, prods
	if mats.Err != nil {
		errs = append(errs, stepErr(sr.Name, mats.Err))
	}
	if prods.Err != nil {
		errs = append(errs, stepErr(sr.Name, prods.Err))
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		sr.Err = errs[0]
	default:
		sr.Err = errors.Join(errs...)
	}
	return sr.Err
}

// ruleJob is a step's artifact rules running on their own goroutine.
type ruleJob struct {
	done        chan struct{}
	mats, prods *rules.Result
}

// stepDeps maps each step to the steps whose links its rules read: itself and the steps its
// MATCH rules name.
func stepDeps(l *Layout, progs map[string]*itemPrograms) map[string][]string {
	isStep := map[string]bool{}
	for _, s := range l.Steps {
		isStep[s.Name] = true
	}
	out := map[string][]string{}
	for _, s := range l.Steps {
		d := []string{s.Name}
		p := progs[s.Name]
		for _, prog := range []*rules.Program{p.materials, p.products} {
			for _, r := range prog.Rules() {
				if r.Verb == rules.Match && isStep[r.DstStep] && !slices.Contains(d, r.DstStep) {
					d = append(d, r.DstStep)
				}
			}
		}
		out[s.Name] = d
	}
	return out
}

// startReadyRules starts the rules of every step whose dependencies are all in reduced. Each
// job gets its own snapshot of the links it reads; the links themselves are never modified.
// queueOf gives, for an artifact map, its artifacts in the order to visit them (or nil).
func startReadyRules(l *Layout, progs map[string]*itemPrograms, deps map[string][]string, reduced map[string]rules.StepArtifacts, jobs map[string]*ruleJob,
	queueOf func(rules.Artifacts) iter.Seq2[string, rules.Digests]) {
	for _, s := range l.Steps {
		if jobs[s.Name] != nil {
			continue
		}
		snap := make(map[string]rules.StepArtifacts, len(deps[s.Name]))
		ready := true
		for _, d := range deps[s.Name] {
			a, ok := reduced[d]
			if !ok {
				ready = false
				break
			}
			snap[d] = a
		}
		if !ready {
			continue
		}
		j := &ruleJob{done: make(chan struct{})}
		jobs[s.Name] = j
		p, self := progs[s.Name], snap[s.Name]
		matsQueue, prodsQueue := queueOf(self.Materials), queueOf(self.Products)
		go func() {
			defer close(j.done)
			lookup := func(name string) (rules.StepArtifacts, bool) {
				a, ok := snap[name]
				return a, ok
			}
			// Every name in a link was checked with rules.ValidateName when the link was
			// parsed (parse.go, fastlink.go), and a sublayout's summary is made of its links.
			o := rules.RunOptions{NamesValidated: true, CompactConsumers: true, Queue: matsQueue}
			j.mats = p.materials.RunWith(rules.Materials, self, lookup, o)
			o.Queue = prodsQueue
			j.prods = p.products.RunWith(rules.Products, self, lookup, o)
		}()
	}
}

// stepErr makes sure a rule failure names its step.
func stepErr(step string, err error) error {
	var ve *verr.VerificationError
	if errors.As(err, &ve) {
		if ve.Step == "" {
			c := *ve
			c.Step = step
			return &c
		}
		return err
	}
	return &verr.VerificationError{Reason: verr.RuleFailed, Step: step, Err: err}
}

type itemPrograms struct {
	materials, products *rules.Program
}

func compileAll(l *Layout) (map[string]*itemPrograms, error) {
	out := make(map[string]*itemPrograms, len(l.Steps)+len(l.Inspections))
	add := func(name string, mats, prods [][]string) error {
		m, err := compileRules(name, "expected_materials", mats)
		if err != nil {
			return err
		}
		p, err := compileRules(name, "expected_products", prods)
		if err != nil {
			return err
		}
		out[name] = &itemPrograms{materials: m, products: p}
		return nil
	}
	for _, s := range l.Steps {
		if err := add(s.Name, s.ExpectedMaterials, s.ExpectedProducts); err != nil {
			return nil, err
		}
	}
	for _, in := range l.Inspections {
		if err := add(in.Name, in.ExpectedMaterials, in.ExpectedProducts); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func compileRules(item, field string, rs [][]string) (*rules.Program, error) {
	parsed := make([]rules.Rule, 0, len(rs))
	for _, r := range rs {
		pr, err := rules.Parse(r)
		if err != nil {
			return nil, &verr.VerificationError{Reason: verr.LayoutInvalid, Step: item, Rule: strings.Join(r, " "), Msg: field, Err: err}
		}
		parsed = append(parsed, pr)
	}
	p, err := rules.Compile(parsed)
	if err != nil {
		return nil, &verr.VerificationError{Reason: verr.LayoutInvalid, Step: item, Msg: field, Err: err}
	}
	return p, nil
}

// parseLinkDoc parses a candidate link document: the fast path for Metablock links first, the
// strict general path when the fast path declines.
func (v *verifier) parseLinkDoc(file string, data []byte) (*Envelope, error) {
	if env, _, ok := fastMetablockLink(data, v.opts.Limits, &v.dig); ok {
		return env, nil
	}
	return parseEnvelope("link "+file, data, v.opts.Limits)
}

// commonReason returns the reason shared by every rejection, if there is one.
func commonReason(rs []Rejection) (verr.Reason, bool) {
	var common verr.Reason
	for i, r := range rs {
		reason, ok := verr.ReasonOf(r.Err)
		if !ok || (i > 0 && reason != common) {
			return "", false
		}
		common = reason
	}
	return common, len(rs) > 0
}
