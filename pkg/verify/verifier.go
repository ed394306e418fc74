package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/verr"
)

// Verifier verifies targets of one TUF repository against a trusted root, the in-toto supply
// chain that the repository distributes for them, and a policy.
//
// A Verifier is immutable after New and safe for concurrent use by any number of goroutines. It
// keeps an internal, bounded cache of evidence it has verified (metadata bytes by digest and
// in-toto results by the digests of everything they depend on); the cache never changes an
// outcome, only how fast it is reached.
type Verifier struct {
	opts    Options
	repo    Repository
	policy  Policy
	revPath string

	refresh refreshGate
	blobs   *lru[[]byte]
	chains  *lru[*chainResult]
	// lists holds parsed revocation lists by the digest of the list (and, for signed lists,
	// of the keys that verified it).
	lists *lru[revocation.Checker]
	// targets holds successful target lookups by generation of the trusted metadata (see
	// lookups).
	targets *lru[*Target]
}

// New returns a Verifier that trusts trustedRoot (the bytes of a TUF root.json) and reads the
// repository named by opts. It does not touch the network: the first Verify refreshes.
func New(trustedRoot []byte, opts Options) (*Verifier, error) {
	if opts.LayoutThreshold < 0 {
		return nil, fmt.Errorf("verify: negative LayoutThreshold %d", opts.LayoutThreshold)
	}
	if opts.RefreshInterval < 0 {
		return nil, fmt.Errorf("verify: negative RefreshInterval %v", opts.RefreshInterval)
	}
	if opts.Inspections != InspectionsRefuse && opts.Inspections != InspectionsRunUnsafe {
		return nil, fmt.Errorf("verify: unknown InspectionMode %d", opts.Inspections)
	}
	for i, c := range opts.Revocation {
		if c == nil {
			return nil, fmt.Errorf("verify: Options.Revocation[%d] is nil", i)
		}
	}
	if opts.MaxCacheAge < 0 {
		return nil, fmt.Errorf("verify: negative MaxCacheAge %v", opts.MaxCacheAge)
	}
	if opts.Offline {
		switch {
		case opts.Repository != nil:
			return nil, errors.New("verify: Options.Offline cannot be combined with Options.Repository (use the client's offline mode)")
		case opts.CacheDir == "":
			return nil, errors.New("verify: Options.Offline needs Options.CacheDir, the metadata cache of an earlier online refresh")
		case opts.Fetcher == nil && (strings.HasPrefix(opts.Remote, "http://") || strings.HasPrefix(opts.Remote, "https://")):
			return nil, errors.New("verify: Options.Offline reads targets from local storage: Remote must be a directory, not a URL")
		}
	}
	repo := opts.Repository
	if repo == nil {
		if opts.Remote == "" && opts.Fetcher == nil {
			return nil, errors.New("verify: Options.Remote, Options.Fetcher or Options.Repository is required")
		}
		var err error
		repo, err = newTUFRepository(trustedRoot, &opts)
		if err != nil {
			return nil, err
		}
	}
	p := opts.Policy
	if p == nil {
		var err error
		p, err = DefaultPolicy()
		if err != nil {
			return nil, fmt.Errorf("verify: default policy: %w", err)
		}
	}
	n := opts.Limits.cacheEntries()
	return &Verifier{
		opts:    opts,
		repo:    repo,
		policy:  p,
		revPath: opts.revocationTarget(),
		blobs:   newLRU[[]byte](4*n, opts.Limits.cacheBytes()),
		chains:  newLRU[*chainResult](n, opts.Limits.cacheArtifacts()),
		lists:   newLRU[revocation.Checker](8, 8),
		targets: newLRU[*Target](4*n, int64(4*n)),
	}, nil
}

// Verify verifies the target named targetName: it refreshes TUF metadata (see
// Options.RefreshInterval), downloads the target through TUF and discards its bytes after their
// length and hashes are checked, verifies its in-toto supply chain, binds the target to a product
// of that chain, applies the revocation list and evaluates the policy.
//
// Outcomes:
//   - allowed: (*Result, nil), Result.Decision allows (it may carry warnings);
//   - denied: (*Result, err), Result.Decision denies and its trail is whole; err is a
//     *verr.VerificationError whose Reason names the first failed check (for example Rollback,
//     Mismatch, Threshold, RuleFailed, TargetUnbound, Revoked) or PolicyDenied, and which wraps
//     every failure;
//   - operational failure (I/O, cancelled context, malformed input): (*Result, err) as well, with
//     a denying Decision; err is then not a *verr.VerificationError.
//
// In every case a non-nil error means: do not install.
func (v *Verifier) Verify(ctx context.Context, targetName string) (*Result, error) {
	return v.run(ctx, targetName, artifactSource{})
}

// VerifyFile is Verify for an artifact that was fetched some other way: localFile's length and
// hashes are checked against the target's TUF metadata instead of downloading it.
func (v *Verifier) VerifyFile(ctx context.Context, targetName, localFile string) (*Result, error) {
	return v.run(ctx, targetName, artifactSource{localFile: localFile})
}

// Download is Verify that also writes the target's bytes to dst, and only when the decision
// allows: the bytes go to a temporary file in dst's directory, which is renamed to dst after the
// decision allows and removed otherwise. An existing dst is replaced only on success.
func (v *Verifier) Download(ctx context.Context, targetName, dst string) (*Result, error) {
	dir := filepath.Dir(dst)
	f, err := os.CreateTemp(dir, ".tinto-download-*")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after a successful rename
	res, err := v.run(ctx, targetName, artifactSource{sink: f})
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return res, err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return res, err
	}
	return res, nil
}

type artifactSource struct {
	localFile string
	sink      io.Writer
}

// inspectionDir makes a temporary directory holding the verified artifact under its base name,
// the working directory of inspections (ITE-3's unzip inspection reads the wheel there). Only
// used with InspectionsRunUnsafe. The caller removes the directory.
func inspectionDir(target string, data io.Reader) (string, error) {
	dir, err := os.MkdirTemp("", "tinto-inspect-")
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(filepath.Join(dir, path.Base(target)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err == nil {
		_, err = io.Copy(f, data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// run is the one verification path behind Verify, VerifyFile and Download.
func (v *Verifier) run(ctx context.Context, name string, src artifactSource) (*Result, error) {
	start := time.Now()
	now := v.opts.now()
	log := v.opts.logger()
	if v.opts.Logger != nil {
		log = log.With(slog.String("target", name))
	}
	res := &Result{MediaType: MediaType}
	var failures []error
	fail := func(check string, err error) {
		c := Check{Name: check, Message: err.Error()}
		if r, ok := verr.ReasonOf(err); ok {
			c.Reason = string(r)
		}
		res.Checks = append(res.Checks, c)
		failures = append(failures, err)
		log.Info("check failed", slog.String("check", check), slog.Any("err", err))
	}
	ok := func(check, msg string, cached bool) {
		res.Checks = append(res.Checks, Check{Name: check, OK: true, Message: msg, Cached: cached})
		if v.opts.Logger != nil {
			log.Debug("check passed", slog.String("check", check), slog.String("msg", msg), slog.Bool("cached", cached))
		}
	}
	var checker revocation.Checker
	finish := func() (*Result, error) {
		return v.decide(ctx, name, res, failures, now, checker, start)
	}

	// Phase 1: TUF.
	t0 := time.Now()
	gen, err := v.refresh.do(ctx, now, v.opts.RefreshInterval, v.repo.Refresh)
	if err != nil {
		res.Timings.TUF = time.Since(t0)
		fail("tuf", err)
		return finish()
	}
	lk := &lookups{v: v, gen: gen}
	target, err := lk.target(ctx, name, false)
	res.Timings.TUF = time.Since(t0)
	if err != nil {
		fail("tuf", err)
		return finish()
	}
	res.Target = target
	ok("tuf", fmt.Sprintf("target %q: %d bytes, %s", target.Name, target.Length, hashList(target.Hashes)), false)

	// Phase 2: the revocation list (before anything else is judged, so that every denial
	// below can still look things up, and before in-toto, which uses it as its revocation hook).
	t0 = time.Now()
	var rl *RevocationList
	checker, rl, err = v.revocation(ctx, lk, now)
	res.Timings.Revocation = time.Since(t0)
	if err != nil {
		fail("revocation-list", err)
		return finish()
	}
	res.Revocation = rl
	if rl != nil {
		ok("revocation-list", fmt.Sprintf("%s (%s)", rl.Target, rl.Digest), false)
	} else {
		ok("revocation-list", "no revocation list (NoRevocationListUnsafe)", false)
	}

	// Phase 3: the artifact itself. With inspections opted in, the verified bytes are also kept
	// for the inspections' working directory.
	var kept *bytes.Buffer
	if v.opts.Inspections == InspectionsRunUnsafe && src.localFile == "" {
		kept = new(bytes.Buffer)
		if src.sink != nil {
			src.sink = io.MultiWriter(src.sink, kept)
		} else {
			src.sink = kept
		}
	}
	t0 = time.Now()
	err = v.checkArtifact(ctx, target, src)
	res.Timings.Artifact = time.Since(t0)
	if err != nil {
		fail("artifact", err)
		return finish()
	}
	if src.localFile != "" {
		ok("artifact", "local file matches the signed length and hashes", false)
	} else {
		ok("artifact", "downloaded; length and hashes match", false)
	}

	// Phase 4: the in-toto metadata, each piece fetched through TUF.
	t0 = time.Now()
	md, err := v.collect(ctx, lk, target)
	res.Timings.Metadata = time.Since(t0)
	if err != nil {
		fail("in-toto-metadata", err)
		return finish()
	}
	ok("in-toto-metadata", fmt.Sprintf("%d layout(s), %d link(s), %d bundle(s)", len(md.layouts), len(md.links), len(md.bundles)), false)

	// Phase 5: in-toto, one verification per root layout.
	t0 = time.Now()
	var params map[string]string
	if v.opts.Params != nil {
		params = v.opts.Params(name)
	}
	cacheable := len(v.opts.Revocation) == 0 && v.opts.Inspections == InspectionsRefuse
	var inspectFS fs.FS
	if v.opts.Inspections == InspectionsRunUnsafe {
		var r io.Reader
		if kept != nil {
			r = kept
		} else {
			f, err := os.Open(src.localFile)
			if err != nil {
				fail("inspection-files", err)
				return finish()
			}
			defer f.Close()
			r = f
		}
		dir, err := inspectionDir(name, r)
		if err != nil {
			fail("inspection-files", err)
			return finish()
		}
		defer os.RemoveAll(dir)
		inspectFS = os.DirFS(dir)
	}
	var chains []*chainResult
	for _, l := range md.layouts {
		in := chainInput{
			layout:      l,
			keys:        md.keys[l.path],
			links:       md.links,
			bundles:     md.bundles,
			threshold:   v.opts.LayoutThreshold,
			params:      params,
			now:         now,
			inspections: v.opts.Inspections,
			inspectFS:   inspectFS,
			revocation:  checker,
			limits:      v.opts.Limits,
		}
		key := ""
		if cacheable {
			key = in.cacheKey(rl)
		}
		cr, cached := v.chains.get(key)
		if cached && !cr.validAt(now) {
			cached = false
		}
		if !cached {
			cr, err = verifyChain(ctx, in)
			if err != nil {
				if ctx.Err() != nil {
					// Cancelled: operational, and decisive.
					fail("in-toto:"+l.path, err)
					continue
				}
				// One layout failing is evidence for the policy, which combines the layouts
				// (the default policy requires all of them; a policy may accept any, or k of n).
				res.Layouts = append(res.Layouts, policy.Layout{Name: l.path, Digest: l.digest, Failure: err.Error()})
				c := Check{Name: "in-toto:" + l.path, Message: err.Error(), Advisory: true}
				if r, ok := verr.ReasonOf(err); ok {
					c.Reason = string(r)
				}
				res.Checks = append(res.Checks, c)
				res.layoutFailures = append(res.layoutFailures, err)
				log.Info("layout failed", slog.String("layout", l.path), slog.Any("err", err))
				continue
			}
			if key != "" && cr.validAt(now) {
				v.chains.put(key, cr, cr.weight())
			}
		}
		chains = append(chains, cr)
		res.Layouts = append(res.Layouts, cr.policyLayout(cached))
		res.warnings = append(res.warnings, cr.warnings...)
		ok("in-toto:"+l.path, fmt.Sprintf("%d step(s) verified, layout signed by %d key(s)", len(cr.layout.Steps), len(cr.layout.Signers)), cached)
	}
	res.Timings.InToto = time.Since(t0)

	// Phase 6: target binding.
	t0 = time.Now()
	if len(chains) > 0 {
		b, err := bind(target, chains)
		if err != nil {
			fail("binding", err)
		} else {
			res.Binding = b
			ok("binding", fmt.Sprintf("target equals product %q of step %q (%v)", b.Artifact, b.Step, b.Algorithms), false)
		}
	}
	res.Timings.Binding = time.Since(t0)

	// Phase 7: the policy (in decide).
	in := &policy.Input{
		Target:     policyTarget(target),
		Layouts:    res.Layouts,
		Params:     params,
		Time:       now,
		Revocation: checker,
	}
	return v.decideWith(ctx, name, res, failures, in, start)
}

// decide finishes a verification that failed before the policy could see any evidence.
func (v *Verifier) decide(ctx context.Context, name string, res *Result, failures []error, now time.Time, checker revocation.Checker, start time.Time) (*Result, error) {
	in := &policy.Input{Time: now, Revocation: checker}
	if res.Target != nil {
		in.Target = policyTarget(res.Target)
	}
	return v.decideWith(ctx, name, res, failures, in, start)
}

func (v *Verifier) decideWith(ctx context.Context, name string, res *Result, failures []error, in *policy.Input, start time.Time) (*Result, error) {
	t0 := time.Now()
	d, perr := v.policy.Evaluate(ctx, in)
	res.Timings.Policy = time.Since(t0)
	if perr != nil {
		failures = append(failures, fmt.Errorf("policy evaluation: %w", perr))
		res.Checks = append(res.Checks, Check{Name: "policy", Message: perr.Error()})
		d = &policy.Decision{Effect: policy.Deny, Time: in.Time, Reason: "policy evaluation failed: " + perr.Error()}
	}
	d = mergeChecks(d, res.Checks)
	if len(res.warnings) > 0 {
		c := *d
		c.Warnings = append(append([]string(nil), res.warnings...), d.Warnings...)
		d = &c
	}
	res.Decision = d
	res.Timings.Total = time.Since(start)
	if v.opts.Logger != nil {
		v.opts.Logger.Info("decision", slog.String("target", name), slog.String("effect", string(d.Effect)),
			slog.String("reason", d.Reason), slog.Duration("total", res.Timings.Total))
	}
	if len(failures) == 0 && d.Allowed() {
		for _, err := range res.layoutFailures {
			d.Warnings = append(d.Warnings, "a layout did not verify and the policy allowed without it: "+err.Error())
		}
		return res, nil
	}
	return res, denial(name, res, append(failures, res.layoutFailures...))
}

// denial builds the error returned with a denying Result.
func denial(name string, res *Result, failures []error) error {
	if len(failures) == 0 {
		err := res.Decision.Err()
		var ve *verr.VerificationError
		if errors.As(err, &ve) {
			c := *ve
			c.Artifact = name
			return &c
		}
		return err
	}
	// The first failure names the reason; every failure is kept.
	first := failures[0]
	joined := errors.Join(failures...)
	if len(failures) == 1 {
		joined = first
	}
	r, isEvidence := verr.ReasonOf(first)
	if !isEvidence {
		// Operational: keep it operational, but say what it was about.
		return fmt.Errorf("verify %q: %w", name, joined)
	}
	msg := "denied"
	for _, c := range res.Checks {
		if !c.OK {
			msg = "check " + c.Name + " failed"
			if c.Advisory && res.Decision != nil {
				msg += "; " + res.Decision.Reason
			}
			break
		}
	}
	return &verr.VerificationError{Reason: r, Artifact: name, Msg: msg, Err: joined}
}

// mergeChecks prepends a STRONG deny trail entry for every failed check and makes the decision
// deny when any check failed.
func mergeChecks(d *policy.Decision, checks []Check) *policy.Decision {
	var failed []policy.TrailEntry
	var ids []string
	for _, c := range checks {
		if c.OK || c.Advisory {
			continue
		}
		id := "tinto:" + c.Name
		ids = append(ids, id)
		msg := c.Message
		failed = append(failed, policy.TrailEntry{
			Rule: id, Verb: policy.VerbRequire, Subject: c.Name, Strength: policy.Strong,
			Outcome: policy.OutcomeDeny, Effect: policy.Deny, Message: msg,
		})
	}
	if len(failed) == 0 {
		return d
	}
	c := d.WithTrail(append(failed, d.Trail()...))
	if c.Effect == policy.Allow || len(c.DecidedBy) == 0 {
		c.DecidedBy = ids
	} else {
		c.DecidedBy = append(ids, c.DecidedBy...)
	}
	c.Effect = policy.Deny
	c.Reason = fmt.Sprintf("check %s failed: %s", checksName(ids[0]), failed[0].Message)
	return c
}

func checksName(id string) string { return id[len("tinto:"):] }

func policyTarget(t *Target) *policy.Target {
	pt := &policy.Target{Name: t.Name, Length: t.Length, Hashes: t.Hashes}
	if len(t.Custom) > 0 {
		var c any
		if err := decodeJSON(t.Custom, &c); err == nil {
			pt.Custom = c
		}
	}
	return pt
}

// checkArtifact verifies the artifact's bytes against the target's signed length and hashes.
func (v *Verifier) checkArtifact(ctx context.Context, t *Target, src artifactSource) error {
	if t.Length > v.opts.Limits.maxArtifactBytes() {
		return verr.New(verr.EndlessData, "target is %d bytes, over the limit of %d", t.Length, v.opts.Limits.maxArtifactBytes())
	}
	if src.localFile != "" {
		return checkLocalFile(src.localFile, t)
	}
	var w io.Writer = io.Discard
	if src.sink != nil {
		w = src.sink
	}
	if v.opts.Progress != nil {
		w = &progressWriter{w: w, name: t.Name, total: t.Length, fn: v.opts.Progress}
	}
	return v.repo.Fetch(ctx, t, w)
}

type progressWriter struct {
	w     io.Writer
	name  string
	done  int64
	total int64
	fn    func(string, int64, int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	p.fn(p.name, p.done, p.total)
	return n, err
}

// fetchMeta fetches an in-toto metadata target through TUF, with a size limit, reusing bytes
// already verified against the same signed sha256.
func (v *Verifier) fetchMeta(ctx context.Context, lk *lookups, path string, topLevel bool) (*Target, []byte, error) {
	t, err := lk.target(ctx, path, topLevel)
	if err != nil {
		return nil, nil, err
	}
	if t.Length > v.opts.Limits.maxMetadataBytes() {
		return nil, nil, verr.Wrap(verr.EndlessData, nil, "in-toto metadata %q is %d bytes, over the limit of %d", path, t.Length, v.opts.Limits.maxMetadataBytes())
	}
	key := ""
	if h := t.Hashes["sha256"]; h != "" {
		key = "sha256:" + h
		if b, ok := v.blobs.get(key); ok {
			return t, b, nil
		}
	}
	var buf bytes.Buffer
	buf.Grow(int(t.Length))
	if err := v.repo.Fetch(ctx, t, &buf); err != nil {
		return nil, nil, err
	}
	b := buf.Bytes()
	if key != "" {
		v.blobs.put(key, b, int64(len(b)))
	}
	return t, b, nil
}

func hashList(h map[string]string) string {
	algs := make([]string, 0, len(h))
	for a, x := range h {
		if len(x) > 12 {
			x = x[:12] + "…"
		}
		algs = append(algs, a+":"+x)
	}
	sort.Strings(algs)
	return strings.Join(algs, " ")
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// refreshGate runs TUF refreshes one at a time and lets concurrent callers share one.
type refreshGate struct {
	mu      sync.Mutex
	started uint64 // refreshes started
	done    uint64 // number of the last refresh that finished
	at      time.Time
	err     error
}

// do refreshes unless a refresh that started after this call began has finished, or the last
// successful refresh is younger than interval at the injected time now. It returns the number
// of the refresh whose state the caller may use (the generation of the trusted metadata).
func (g *refreshGate) do(ctx context.Context, now time.Time, interval time.Duration, refresh func(context.Context) error) (uint64, error) {
	g.mu.Lock()
	entered := g.started
	g.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done > entered {
		return g.done, g.err
	}
	if interval > 0 && g.err == nil && g.done > 0 && !now.Before(g.at) && now.Sub(g.at) < interval {
		return g.done, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	g.started++
	n := g.started
	err := refresh(ctx)
	g.done, g.err, g.at = n, err, now
	return n, err
}

// revocation fetches the revocation list through TUF and builds the checker in-toto and the
// policy use: the list first, then Options.Revocation in order.
func (v *Verifier) revocation(ctx context.Context, lk *lookups, now time.Time) (revocation.Checker, *RevocationList, error) {
	var chain []revocation.Checker
	var rl *RevocationList
	t, data, err := v.fetchMeta(ctx, lk, v.revPath, true)
	switch {
	case err == nil:
		digest := blobDigest(t, data)
		c, ok := v.lists.get(digest)
		if !ok {
			if revocation.IsSignedList(data) {
				c, err = v.signedRevocationList(ctx, lk, t, data, digest, now)
			} else {
				c, err = parseRevocationList(v.revPath, data, t)
				// Only the unsigned list's outcome depends on nothing but its bytes; a signed
				// list also depends on the keys, which may change without the list changing.
				if err == nil {
					v.lists.put(digest, c, 1)
				}
			}
			if err != nil {
				return nil, nil, err
			}
		}
		chain = append(chain, c)
		rl = &RevocationList{Target: v.revPath, Digest: blobDigest(t, data)}
	case errors.Is(err, verr.NotFound) && v.opts.NoRevocationListUnsafe:
	default:
		return nil, nil, fmt.Errorf("revocation list %q: %w", v.revPath, err)
	}
	chain = append(chain, v.opts.Revocation...)
	if len(chain) == 0 {
		return nil, nil, nil
	}
	return firstKnown(chain), rl, nil
}

// signedRevocationList verifies a DSSE revocation list (pkg/revocation's signed list) with
// Options.RevocationKeys, or else with the keys its target lists (top-level ".pub" targets).
func (v *Verifier) signedRevocationList(ctx context.Context, lk *lookups, t *Target, data []byte, digest string, now time.Time) (revocation.Checker, error) {
	ks := v.opts.RevocationKeys
	// The outcome depends on the list and on the keys: cache it under both.
	id := []string{digest}
	for _, k := range ks {
		id = append(id, "key:"+k.KeyID)
	}
	if len(ks) == 0 {
		refs, err := ParseCustom(fmt.Sprintf("revocation list target %q", t.Name), t.Custom, true)
		if err != nil {
			return nil, err
		}
		_, _, _, paths := split(refs)
		if len(paths) == 0 {
			return nil, verr.New(verr.UnknownKey, "revocation list %q is signed, but no RevocationKeys are configured and its target lists no keys", t.Name)
		}
		for _, p := range paths {
			kt, kd, err := v.fetchMeta(ctx, lk, p, true)
			if err != nil {
				return nil, fmt.Errorf("revocation list key %q: %w", p, err)
			}
			k, err := parseLayoutKey(blob{path: p, digest: blobDigest(kt, kd), data: kd})
			if err != nil {
				return nil, err
			}
			ks = append(ks, k)
			id = append(id, "target:"+p+"="+blobDigest(kt, kd))
		}
	}
	key := strings.Join(id, "|")
	if c, ok := v.lists.get(key); ok {
		return c, nil
	}
	l, err := revocation.ParseList(data, revocation.ListOptions{Keys: ks, Name: t.Name, FetchedAt: now})
	if err != nil {
		return nil, err
	}
	v.lists.put(key, l, 1)
	return l, nil
}

// lookups looks targets up in the trusted metadata of one refresh generation. The TUF client's
// answer for a name does not change until the next refresh, so successful answers are reused
// within a generation (a new refresh starts a new one); failures are never reused.
type lookups struct {
	v   *Verifier
	gen uint64
}

func (l *lookups) target(ctx context.Context, name string, topLevel bool) (*Target, error) {
	key := fmt.Sprintf("%d|%t|%s", l.gen, topLevel, name)
	if t, ok := l.v.targets.get(key); ok {
		return t, nil
	}
	var t *Target
	var err error
	if topLevel {
		t, err = l.v.repo.TopLevelTarget(ctx, name)
	} else {
		t, err = l.v.repo.Target(ctx, name)
	}
	if err != nil {
		return nil, err
	}
	l.v.targets.put(key, t, 1)
	return t, nil
}
