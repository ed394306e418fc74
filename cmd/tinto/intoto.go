package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tintoproject/tinto/pkg/intoto"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

const intotoUsage = `usage: tinto intoto verify -l LAYOUT (-k KEY... | -g KEYID...) [flags]

Verifies an in-toto supply chain like python in-toto's in-toto-verify, with the same flags:
  -l, --layout PATH          the root layout (Metablock or DSSE envelope)
  -k, --layout-keys PATH...  public keys that must have signed the layout
  -t, --key-types TYPE...    rsa (PEM, default), ed25519 or ecdsa (securesystemslib JSON or PEM), by index
  -g, --gpg KEYID...         OpenPGP keys (exported from the gpg keyring) that must have signed the layout
      --gpg-home DIR         gpg home directory for --gpg
      --link-dir DIR         where the link files are (default ".")
  -v, --verbose / -q, --quiet
tinto's additions:
      --at TIME              verify as of TIME (RFC 3339) instead of now
      --param K=V            substitute {K} in the layout (repeatable)
      --layout-threshold K   K of the given layout keys must sign (default: all)
      --run-inspections      UNSAFE: run the layout's inspection commands on this machine (each in
                             a temporary copy of the current directory, no shell, 60 s timeout);
                             by default inspections need prerecorded, signed inspection links
      --json                 print the result as JSON
      --max-bytes N          size limit of the layout and of each link file (default 16 MiB)

Exit codes: 0 verified, 1 verification failed (including a malformed layout or link),
2 usage or operational error (unreadable key file, gpg failure).
`

func runIntoto(e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stderr, intotoUsage)
		if len(args) == 0 {
			return exitError
		}
		return exitOK
	}
	switch args[0] {
	case "verify":
		return runIntotoVerify(e, args[1:])
	case "gen-fixture": // hidden: fixtures for tests and demos
		return runIntotoGenFixture(e, args[1:])
	}
	fmt.Fprintf(e.stderr, "tinto intoto: unknown subcommand %q\n\n%s", args[0], intotoUsage)
	return exitError
}

// multiFlag collects repeated flag values.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// expandNargs rewrites argparse's nargs="+" style ("-k a b c") into repeated flags
// ("-k a -k b -k c") for the flags that take several values.
func expandNargs(args []string, multi map[string]bool) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		out = append(out, a)
		if a == "--" {
			out = append(out, args[i+1:]...)
			break
		}
		if !multi[a] {
			continue
		}
		if i+1 < len(args) {
			out = append(out, args[i+1])
			i++
		}
		for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			out = append(out, a, args[i+1])
			i++
		}
	}
	return out
}

type intotoVerifyFlags struct {
	layout, gpgHome, linkDir, at string
	layoutKeys, keyTypes, gpg    multiFlag
	params                       multiFlag
	verbose, quiet, jsonOut      bool
	runInspections               bool
	layoutThreshold              int
	maxBytes                     int64
}

func runIntotoVerify(e *env, args []string) int {
	fs := flag.NewFlagSet("tinto intoto verify", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, intotoUsage) }
	var f intotoVerifyFlags
	fs.StringVar(&f.layout, "l", "", "layout")
	fs.StringVar(&f.layout, "layout", "", "layout")
	fs.Var(&f.layoutKeys, "k", "layout key")
	fs.Var(&f.layoutKeys, "layout-keys", "layout key")
	fs.Var(&f.keyTypes, "t", "key type")
	fs.Var(&f.keyTypes, "key-types", "key type")
	fs.Var(&f.gpg, "g", "gpg keyid")
	fs.Var(&f.gpg, "gpg", "gpg keyid")
	fs.StringVar(&f.gpgHome, "gpg-home", "", "gpg home")
	fs.StringVar(&f.linkDir, "link-dir", ".", "link directory")
	fs.BoolVar(&f.verbose, "v", false, "verbose")
	fs.BoolVar(&f.verbose, "verbose", false, "verbose")
	fs.BoolVar(&f.quiet, "q", false, "quiet")
	fs.BoolVar(&f.quiet, "quiet", false, "quiet")
	fs.StringVar(&f.at, "at", "", "verification time")
	fs.Var(&f.params, "param", "parameter")
	fs.IntVar(&f.layoutThreshold, "layout-threshold", 0, "layout threshold")
	fs.BoolVar(&f.runInspections, "run-inspections", false, "run inspections (unsafe)")
	fs.BoolVar(&f.jsonOut, "json", false, "json output")
	fs.Int64Var(&f.maxBytes, "max-bytes", intoto.DefaultMaxLinkBytes, "size limit per document")
	multi := map[string]bool{"-k": true, "--layout-keys": true, "-t": true, "--key-types": true, "-g": true, "--gpg": true}
	if err := fs.Parse(expandNargs(args, multi)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(e.stderr, "tinto intoto verify: "+format+"\n", a...)
		return exitError
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	if f.layout == "" {
		return usageErr("the layout is required (-l/--layout)")
	}
	if len(f.layoutKeys) == 0 && len(f.gpg) == 0 {
		return usageErr("specify at least one of --layout-keys PATH... or --gpg KEYID...")
	}
	if len(f.keyTypes) > 0 && len(f.keyTypes) != len(f.layoutKeys) {
		return usageErr("%d key types for %d layout keys: pass one --key-types value per --layout-keys path", len(f.keyTypes), len(f.layoutKeys))
	}
	if f.verbose && f.quiet {
		return usageErr("-v and -q are mutually exclusive")
	}
	if f.layoutThreshold < 0 {
		return usageErr("--layout-threshold must be at least 1")
	}
	if f.maxBytes < 1 {
		return usageErr("--max-bytes must be positive")
	}
	opts := intoto.Options{LayoutThreshold: f.layoutThreshold}
	opts.Limits.MaxBytes = f.maxBytes
	if f.at != "" {
		t, err := time.Parse(time.RFC3339, f.at)
		if err != nil {
			return usageErr("--at %q is not an RFC 3339 time: %v", f.at, err)
		}
		opts.Now = func() time.Time { return t }
	}
	if len(f.params) > 0 {
		opts.Params = map[string]string{}
		for _, p := range f.params {
			k, v, ok := strings.Cut(p, "=")
			if !ok || k == "" {
				return usageErr("--param %q is not of the form NAME=VALUE", p)
			}
			opts.Params[k] = v
		}
	}
	if f.runInspections {
		opts.Inspections = intoto.InspectionsRunUnsafe
		if wd, err := os.Getwd(); err == nil {
			opts.InspectionFiles = os.DirFS(wd)
		}
	}
	for i, p := range f.layoutKeys {
		kt := "rsa"
		if len(f.keyTypes) > 0 {
			kt = f.keyTypes[i]
		}
		if kt != "rsa" && kt != "ed25519" && kt != "ecdsa" {
			return usageErr("unknown key type %q (rsa, ed25519 or ecdsa)", kt)
		}
		k, err := keys.Load(p, kt)
		if err != nil {
			return usageErr("cannot load layout key %s: %v", p, err)
		}
		opts.LayoutKeys = append(opts.LayoutKeys, k)
	}
	for _, id := range f.gpg {
		k, err := gpgExport(id, f.gpgHome)
		if err != nil {
			return usageErr("cannot export gpg key %s: %v", id, err)
		}
		opts.LayoutKeys = append(opts.LayoutKeys, k)
	}
	layoutBytes, err := readFileLimited(f.layout, f.maxBytes)
	if err != nil {
		return usageErr("cannot read the layout: %v", err)
	}
	opts.Links = &intoto.DirSource{Dir: f.linkDir, MaxBytes: f.maxBytes}

	res, err := intoto.Verify(context.Background(), layoutBytes, opts)
	if f.jsonOut {
		writeIntotoJSON(e.stdout, res, err)
	}
	if err != nil {
		var ie *verr.InputError
		_, isVE := verr.ReasonOf(err)
		if !isVE && !errors.As(err, &ie) {
			fmt.Fprintf(e.stderr, "tinto intoto verify: error: %v\n", err)
			return exitError
		}
		if !f.quiet {
			explain(e.stderr, err)
			if f.verbose && res != nil {
				describe(e.stderr, res)
			}
		}
		return exitDenied
	}
	if !f.jsonOut && !f.quiet {
		if f.verbose {
			describe(e.stderr, res)
		}
		fmt.Fprintf(e.stdout, "verified: layout %s signed by %d key(s), %d step(s), %d inspection(s)\n",
			f.layout, len(res.LayoutSigners), len(res.Steps), len(res.Inspections))
		for _, w := range res.Warnings {
			fmt.Fprintf(e.stderr, "warning: %s\n", w)
		}
	}
	return exitOK
}

// gpgExport exports an OpenPGP public key from the gpg keyring (as python in-toto does).
func gpgExport(keyid, home string) (*keys.Key, error) {
	return keys.LoadGPG(context.Background(), keyid, keys.GPGOptions{Home: home})
}

// explain prints a short human explanation of a failure: the reason, then each failure.
func explain(w io.Writer, err error) {
	reason, ok := verr.ReasonOf(err)
	if !ok {
		reason = "invalid-input"
	}
	fmt.Fprintf(w, "tinto intoto verify: FAILED (%s)\n", reason)
	for _, line := range failureLines(err, 0) {
		fmt.Fprintln(w, line)
	}
}

func failureLines(err error, depth int) []string {
	if depth > 6 {
		return nil
	}
	ind := strings.Repeat("  ", depth+1)
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, failureLines(e, depth)...)
		}
		return out
	}
	var ve *verr.VerificationError
	if errors.As(err, &ve) && ve == err {
		head := *ve
		head.Err = nil
		out := []string{ind + head.Error()}
		if ve.Err != nil {
			out = append(out, failureLines(ve.Err, depth+1)...)
		}
		return out
	}
	return []string{indent(ind, err.Error())}
}

// indent prefixes ind to s and to every further line of s (a joined error, such as the
// failures of a sublayout, spans several lines).
func indent(ind, s string) string {
	return ind + strings.ReplaceAll(s, "\n", "\n"+ind)
}

func describe(w io.Writer, res *intoto.Result) {
	fmt.Fprintf(w, "layout %s (%s), signers %v\n", res.LayoutDigest, res.Format, res.LayoutSigners)
	for _, group := range [][]intoto.StepResult{res.Steps, res.Inspections} {
		for _, s := range group {
			kind := "step"
			if s.Inspection {
				kind = "inspection"
			}
			status := "ok"
			if s.Err != nil {
				status = "FAILED"
			}
			fmt.Fprintf(w, "  %s %q: %s, threshold %d, signers %v\n", kind, s.Name, status, s.Threshold, s.Signers)
			for _, l := range s.Links {
				fmt.Fprintf(w, "    link %s (%s, key %s)\n", l.File, l.Format, l.KeyID)
			}
			for _, r := range s.Rejected {
				fmt.Fprintln(w, indent("    ", fmt.Sprintf("rejected %s: %v", r.File, r.Err)))
			}
		}
	}
}

// intotoJSON is the versioned JSON output of tinto intoto verify --json.
type intotoJSON struct {
	Version       int         `json:"version"`
	Verified      bool        `json:"verified"`
	Reason        string      `json:"reason,omitempty"`
	Error         string      `json:"error,omitempty"`
	LayoutDigest  string      `json:"layout_digest,omitempty"`
	Format        string      `json:"format,omitempty"`
	LayoutSigners []string    `json:"layout_signers,omitempty"`
	Steps         []stepJSON  `json:"steps,omitempty"`
	Inspections   []stepJSON  `json:"inspections,omitempty"`
	Warnings      []string    `json:"warnings,omitempty"`
	Revocations   []revocJSON `json:"revocations,omitempty"`
	Failures      []string    `json:"failures,omitempty"`
}

type stepJSON struct {
	Name      string       `json:"name"`
	Threshold int          `json:"threshold"`
	Signers   []string     `json:"signers"`
	Links     []linkJSONv1 `json:"links,omitempty"`
	Rejected  []rejectJSON `json:"rejected,omitempty"`
	Ran       bool         `json:"ran,omitempty"`
	Rules     []ruleJSON   `json:"rules,omitempty"`
	Error     string       `json:"error,omitempty"`
}

type ruleJSON struct {
	Side          string `json:"side"`
	Rule          string `json:"rule"`
	Matched       int    `json:"matched"`
	Consumed      int    `json:"consumed"`
	NotApplicable bool   `json:"not_applicable,omitempty"`
	Failed        bool   `json:"failed,omitempty"`
	Msg           string `json:"msg,omitempty"`
	Artifact      string `json:"artifact,omitempty"`
}

type linkJSONv1 struct {
	File      string `json:"file"`
	KeyID     string `json:"keyid"`
	Digest    string `json:"digest"`
	Format    string `json:"format"`
	Sublayout bool   `json:"sublayout,omitempty"`
}

type rejectJSON struct {
	File  string `json:"file"`
	KeyID string `json:"keyid,omitempty"`
	Error string `json:"error"`
}

type revocJSON struct {
	Kind  string `json:"kind"`
	KeyID string `json:"keyid,omitempty"`
	Step  string `json:"step,omitempty"`
	State string `json:"state"`
	Error string `json:"error,omitempty"`
}

func stepsJSON(in []intoto.StepResult) []stepJSON {
	var out []stepJSON
	for _, s := range in {
		sj := stepJSON{Name: s.Name, Threshold: s.Threshold, Signers: s.Signers, Ran: s.Ran}
		if sj.Signers == nil {
			sj.Signers = []string{}
		}
		if s.Err != nil {
			sj.Error = s.Err.Error()
		}
		for _, l := range s.Links {
			sj.Links = append(sj.Links, linkJSONv1{File: l.File, KeyID: l.KeyID, Digest: l.Digest, Format: string(l.Format), Sublayout: l.Sublayout != nil})
		}
		for _, r := range s.Rejected {
			sj.Rejected = append(sj.Rejected, rejectJSON{File: r.File, KeyID: r.KeyID, Error: r.Err.Error()})
		}
		for _, side := range []struct {
			name string
			res  *rules.Result
		}{{"materials", s.Materials}, {"products", s.Products}} {
			if side.res == nil {
				continue
			}
			for _, o := range side.res.Outcomes {
				sj.Rules = append(sj.Rules, ruleJSON{Side: side.name, Rule: o.Rule, Matched: o.Matched, Consumed: o.Consumed,
					NotApplicable: o.NotApplicable, Failed: o.Failed, Msg: o.Msg, Artifact: o.Artifact})
			}
		}
		out = append(out, sj)
	}
	return out
}

func writeIntotoJSON(w io.Writer, res *intoto.Result, err error) {
	out := intotoJSON{Version: 1, Verified: err == nil && res != nil && res.Verified}
	if err != nil {
		out.Error = err.Error()
		if r, ok := verr.ReasonOf(err); ok {
			out.Reason = string(r)
		} else {
			out.Reason = "invalid-input"
		}
		out.Failures = failureLines(err, 0)
		for i := range out.Failures {
			out.Failures[i] = strings.TrimSpace(out.Failures[i])
		}
	}
	if res != nil {
		out.LayoutDigest = res.LayoutDigest
		out.Format = string(res.Format)
		out.LayoutSigners = res.LayoutSigners
		out.Steps = stepsJSON(res.Steps)
		out.Inspections = stepsJSON(res.Inspections)
		out.Warnings = res.Warnings
		for _, r := range res.Revocations {
			rj := revocJSON{Kind: string(r.Ref.Kind), KeyID: r.Ref.KeyID, Step: r.Ref.Step, State: string(r.Status.State)}
			if r.Err != nil {
				rj.Error = r.Err.Error()
			}
			out.Revocations = append(out.Revocations, rj)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}
