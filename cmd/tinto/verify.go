package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tintoproject/tinto/pkg/verify"
	"github.com/tintoproject/tinto/pkg/verr"
)

const verifyUsage = `usage: tinto verify --root ROOT.json --repo URL|DIR [flags] TARGET...

Verifies each TARGET of the TUF repository at --repo: TUF metadata from the trusted root,
the target's in-toto supply chain (fetched through TUF), the binding of the target to a product
of that chain, the repository's revocation list, and the policy. Prints the decision and its
reasons; exits 0 when every target is allowed, 1 when any is denied, 2 on a usage or
operational error.

flags:
`

// vfyFlags are the parsed flags of tinto verify.
type vfyFlags struct {
	root, repo, policy, out, file, cache  string
	rootLayout, revocations, at           string
	jsonOut, noRevList, runInspections, v bool
	offline                               bool
	maxCacheAge                           time.Duration
	layoutThreshold, parallel             int
	params                                vfyParams
	revocationKeys                        vfyFiles
}

func runVerify(e *env, args []string) int {
	fs := flag.NewFlagSet("tinto verify", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var f vfyFlags
	fs.StringVar(&f.root, "root", "", "trusted TUF root `FILE` (required)")
	fs.StringVar(&f.repo, "repo", "", "repository `URL` (http://, https://) or local DIR (required)")
	fs.StringVar(&f.policy, "policy", "", "policy `FILE` (YAML or JSON); default: the strict built-in policy")
	fs.StringVar(&f.out, "out", "", "download each allowed target into `DIR` (nothing is written for a denied one)")
	fs.StringVar(&f.file, "file", "", "check the local `FILE` instead of downloading (one TARGET only)")
	fs.StringVar(&f.cache, "cache", "", "TUF metadata cache `DIR` (default: none)")
	fs.BoolVar(&f.offline, "offline", false, "use only the TUF metadata in --cache, fetching none (stale metadata denies); --repo must be a local DIR")
	fs.DurationVar(&f.maxCacheAge, "max-age", 0, "with --offline, the last online refresh must be at most `DURATION` ago")
	fs.StringVar(&f.rootLayout, "root-layout", "", "fixed root layout target `PATH` for packages that list only links (ITE-3)")
	fs.StringVar(&f.revocations, "revocations", "", "revocation list target `PATH` (default revocations.json)")
	fs.Var(&f.revocationKeys, "revocation-key", "a `FILE` with a public key trusted to sign a signed (DSSE) revocation list (repeatable); default: the keys the list's target names")
	fs.BoolVar(&f.noRevList, "no-revocation-list-unsafe", false, "accept a repository without a revocation list")
	fs.BoolVar(&f.runInspections, "run-inspections-unsafe", false, "run the layout's inspection commands on this machine")
	fs.IntVar(&f.layoutThreshold, "layout-threshold", 0, "`K` distinct layout keys must sign (default: all of them)")
	fs.StringVar(&f.at, "at", "", "verify as of `TIME` (RFC 3339) instead of now")
	fs.Var(&f.params, "param", "substitute {`K`} with V in the layouts (K=V, repeatable); without any, a layout that uses a parameter fails")
	fs.BoolVar(&f.jsonOut, "json", false, "print one JSON object per target (JSON Lines) instead of text")
	fs.IntVar(&f.parallel, "parallel", 4, "verify up to `N` targets at once")
	fs.BoolVar(&f.v, "v", false, "log each phase to stderr")
	fs.Usage = func() {
		fmt.Fprint(e.stderr, verifyUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	targets := fs.Args()
	switch {
	case f.root == "" || f.repo == "":
		fmt.Fprintln(e.stderr, "tinto verify: --root and --repo are required")
		fs.Usage()
		return exitError
	case len(targets) == 0:
		fmt.Fprintln(e.stderr, "tinto verify: no TARGET given")
		fs.Usage()
		return exitError
	case f.file != "" && len(targets) != 1:
		fmt.Fprintln(e.stderr, "tinto verify: --file takes exactly one TARGET")
		return exitError
	case f.file != "" && f.out != "":
		fmt.Fprintln(e.stderr, "tinto verify: --file and --out cannot be combined")
		return exitError
	case f.parallel < 1:
		fmt.Fprintln(e.stderr, "tinto verify: --parallel must be at least 1")
		return exitError
	case f.offline && f.cache == "":
		fmt.Fprintln(e.stderr, "tinto verify: --offline needs --cache DIR, filled by an earlier online verify")
		return exitError
	case f.maxCacheAge != 0 && !f.offline:
		fmt.Fprintln(e.stderr, "tinto verify: --max-age applies to --offline only")
		return exitError
	case f.layoutThreshold < 0:
		fmt.Fprintln(e.stderr, "tinto verify: --layout-threshold must not be negative")
		return exitError
	}
	v, err := vfyNewVerifier(e, &f)
	if err != nil {
		fmt.Fprintf(e.stderr, "tinto verify: %v\n", err)
		return exitError
	}
	return vfyTargets(e, v, &f, targets)
}

// vfyNewVerifier builds the Verifier for the flags.
func vfyNewVerifier(e *env, f *vfyFlags) (*verify.Verifier, error) {
	root, err := os.ReadFile(f.root)
	if err != nil {
		return nil, err
	}
	opts := verify.Options{
		Remote:                 f.repo,
		CacheDir:               f.cache,
		RootLayout:             f.rootLayout,
		RevocationTarget:       f.revocations,
		NoRevocationListUnsafe: f.noRevList,
		Offline:                f.offline,
		MaxCacheAge:            f.maxCacheAge,
		LayoutThreshold:        f.layoutThreshold,
		// One refresh serves every target of this invocation.
		RefreshInterval: time.Hour,
	}
	if f.runInspections {
		opts.Inspections = verify.InspectionsRunUnsafe
	}
	for _, p := range f.revocationKeys {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		k, err := verify.ParseKey(data)
		if err != nil {
			return nil, fmt.Errorf("--revocation-key %s: %w", p, err)
		}
		opts.RevocationKeys = append(opts.RevocationKeys, k)
	}
	if len(f.params) > 0 {
		params := map[string]string(f.params)
		opts.Params = func(string) map[string]string { return params }
	}
	if f.at != "" {
		t, err := time.Parse(time.RFC3339, f.at)
		if err != nil {
			return nil, fmt.Errorf("--at: %v", err)
		}
		opts.Now = func() time.Time { return t }
	}
	if f.policy != "" {
		p, err := vfyLoadPolicy(f.policy)
		if err != nil {
			return nil, err
		}
		opts.Policy = p
	}
	if f.v {
		opts.Logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if e.isTTY && !f.jsonOut {
		opts.Progress = vfyNewProgress(e.stderr).update
	}
	return verify.New(root, opts)
}

// vfyOutcome is what one target's verification produced.
type vfyOutcome struct {
	target string
	res    *verify.Result
	err    error
}

func (o *vfyOutcome) exit() int {
	switch {
	case o.err == nil && o.res.Allowed():
		return exitOK
	case o.err != nil && !vfyIsEvidence(o.err) && !errors.Is(o.err, verr.ErrInvalidInput):
		return exitError
	default:
		return exitDenied
	}
}

// vfyIsEvidence reports whether err is "the evidence says no".
func vfyIsEvidence(err error) bool {
	_, ok := verr.ReasonOf(err)
	return ok
}

func vfyTargets(e *env, v *verify.Verifier, f *vfyFlags, targets []string) int {
	ctx := context.Background()
	outs := make([]vfyOutcome, len(targets))
	sem := make(chan struct{}, f.parallel)
	var wg sync.WaitGroup
	for i, name := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			o := vfyOutcome{target: name}
			switch {
			case f.file != "":
				o.res, o.err = v.VerifyFile(ctx, name, f.file)
			case f.out != "":
				dst, err := vfyOutPath(f.out, name)
				if err != nil {
					o.err = err
					break
				}
				o.res, o.err = v.Download(ctx, name, dst)
			default:
				o.res, o.err = v.Verify(ctx, name)
			}
			outs[i] = o
		}()
	}
	wg.Wait()
	code := exitOK
	for i := range outs {
		o := &outs[i]
		if f.jsonOut {
			vfyWriteJSON(e.stdout, o)
		} else {
			vfyWriteHuman(e.stdout, o)
		}
		c := o.exit()
		if c == exitError || (c == exitDenied && code == exitOK) {
			code = c
		}
	}
	return code
}

// vfyOutPath maps a target name to a file under dir, refusing names that could escape it.
func vfyOutPath(dir, name string) (string, error) {
	if err := verify.CheckTargetPath(name); err != nil {
		return "", verr.Invalid("target name "+name, "cannot be written under --out: %v", err)
	}
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	return p, nil
}

// vfyJSONOutcome is one line of --json output.
type vfyJSONOutcome struct {
	Target  string         `json:"target"`
	Allowed bool           `json:"allowed"`
	Exit    int            `json:"exit"`
	Reason  string         `json:"reason,omitempty"`
	Error   string         `json:"error,omitempty"`
	Result  *verify.Result `json:"result,omitempty"`
}

func vfyWriteJSON(w io.Writer, o *vfyOutcome) {
	j := vfyJSONOutcome{Target: o.target, Allowed: o.exit() == exitOK, Exit: o.exit(), Result: o.res}
	if o.err != nil {
		j.Error = o.err.Error()
		if r, ok := verr.ReasonOf(o.err); ok {
			j.Reason = string(r)
		}
	}
	b, err := json.Marshal(j)
	if err != nil {
		fmt.Fprintf(w, `{"target":%q,"allowed":false,"exit":2,"error":%q}`+"\n", o.target, err.Error())
		return
	}
	w.Write(append(b, '\n'))
}

// vfyWriteHuman prints the decision, then the reasons as a vfyShort tree.
func vfyWriteHuman(w io.Writer, o *vfyOutcome) {
	verdict := "ALLOWED"
	if o.exit() != exitOK {
		verdict = "DENIED"
	}
	head := fmt.Sprintf("%s: %s", o.target, verdict)
	if o.err != nil {
		if r, ok := verr.ReasonOf(o.err); ok {
			head += " (" + string(r) + ")"
		} else {
			head += " (error)"
		}
	}
	fmt.Fprintln(w, head)
	if o.res == nil {
		fmt.Fprintf(w, "  error: %v\n", o.err)
		return
	}
	vfyWriteTree(w, o.res, o.err)
}

// vfyWriteTree renders a Result's checks and decision trail.
func vfyWriteTree(w io.Writer, res *verify.Result, err error) {
	d := res.Decision
	if d != nil && d.Reason != "" {
		fmt.Fprintf(w, "  reason: %s\n", d.Reason)
	}
	if err != nil && (d == nil || !strings.Contains(err.Error(), d.Reason)) {
		fmt.Fprintf(w, "  error: %s\n", vfyOneLine(err.Error(), 300))
	}
	fmt.Fprintln(w, "  checks:")
	for i, c := range res.Checks {
		branch := "├─"
		if i == len(res.Checks)-1 {
			branch = "└─"
		}
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		extra := ""
		if c.Cached {
			extra = " (cached)"
		}
		if c.Advisory {
			extra = " (the policy weighs this)"
		}
		fmt.Fprintf(w, "  %s %s %s: %s%s\n", branch, mark, c.Name, vfyOneLine(c.Message, 200), extra)
	}
	if d == nil {
		return
	}
	id := d.PolicyID
	if id == "" {
		id = "(none)"
	}
	fmt.Fprintf(w, "  policy %s: %s\n", id, strings.ToUpper(string(d.Effect)))
	trail := d.Trail()
	for i, t := range trail {
		branch := "├─"
		if i == len(trail)-1 {
			branch = "└─"
		}
		vfyOutcome := string(t.Outcome)
		if t.Warning {
			vfyOutcome += ", warning"
		}
		fmt.Fprintf(w, "  %s %s %s %s: %s\n", branch, t.Rule, t.Strength, vfyOutcome, vfyOneLine(t.Message, 200))
		for _, lk := range t.Revocations {
			if lk.Status.State == "good" || lk.Status.State == "not-revocable" {
				continue
			}
			name := lk.Ref.KeyID + lk.Ref.Digest
			fmt.Fprintf(w, "  │    %s %s: %s (%s)\n", lk.Ref.Kind, vfyShort(name), lk.Status.State, lk.Status.Source)
		}
	}
	for _, warn := range d.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", vfyOneLine(warn, 200))
	}
}

func vfyShort(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

func vfyOneLine(s string, max int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// vfyProgress draws one status line per download on a terminal.
type vfyProgress struct {
	mu   sync.Mutex
	w    io.Writer
	last map[string]int
}

func vfyNewProgress(w io.Writer) *vfyProgress { return &vfyProgress{w: w, last: map[string]int{}} }

func (p *vfyProgress) update(name string, done, total int64) {
	pct := 100
	if total > 0 {
		pct = int(done * 100 / total)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last[name] == pct+1 {
		return
	}
	p.last[name] = pct + 1
	const width = 30
	fill := pct * width / 100
	fmt.Fprintf(p.w, "\r%-40s [%s%s] %3d%%", vfyShort(name), strings.Repeat("#", fill), strings.Repeat(".", width-fill), pct)
	if done >= total {
		fmt.Fprintln(p.w)
	}
}

// vfyParams collects --param K=V flags.
type vfyParams map[string]string

func (p *vfyParams) String() string { return "" }

func (p *vfyParams) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want K=V, got %q", s)
	}
	if *p == nil {
		*p = vfyParams{}
	}
	if _, dup := (*p)[k]; dup {
		return fmt.Errorf("parameter %q given twice", k)
	}
	(*p)[k] = v
	return nil
}

// vfyFiles collects a repeatable file flag.
type vfyFiles []string

func (p *vfyFiles) String() string { return strings.Join(*p, ",") }

func (p *vfyFiles) Set(s string) error {
	*p = append(*p, s)
	return nil
}
