package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/policy"
)

const policyUsage = `usage:
  tinto policy check POLICY [--layout LAYOUT] [--json]
      Type-check a policy file and print every diagnostic as file:line:col.
      Exit 0 when there is none, 1 when there is any (error or warning), 2 on usage errors.
  tinto policy eval POLICY INPUT [--time RFC3339] [--json]
                    [--revocations LIST]... [--revocation-key FILE]...
      Evaluate a policy over an evidence file (the JSON form of policy.Input) and print the
      decision. Exit 0 allowed, 1 denied, 2 on errors.
      --revocations LIST is a revocation source (repeatable): a plain revocation list
      ({"_type": "tinto/revocations", ...}) or a signed (DSSE) revocation list, which must
      verify with one of the --revocation-key FILEs. Without any, only the policy's REVOKE
      rules are consulted. A list that cannot be read or verified is an error (exit 2).
`

func runPolicy(e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, policyUsage)
		return exitError
	}
	switch args[0] {
	case "check":
		return runPolicyCheck(e, args[1:])
	case "eval":
		return runPolicyEval(e, args[1:])
	case "-h", "--help", "help":
		fmt.Fprint(e.stderr, policyUsage)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "tinto policy: unknown subcommand %q\n", args[0])
	fmt.Fprint(e.stderr, policyUsage)
	return exitError
}

func runPolicyCheck(e *env, args []string) int {
	fs := flag.NewFlagSet("tinto policy check", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	layout := fs.String("layout", "", "an in-toto layout (Metablock or DSSE JSON) whose step names the policy must use")
	asJSON := fs.Bool("json", false, "print the diagnostics as a JSON array")
	fs.Usage = func() { fmt.Fprint(e.stderr, policyUsage) }
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, "tinto policy check: want exactly one POLICY file")
		fmt.Fprint(e.stderr, policyUsage)
		return exitError
	}
	opts := policy.Options{File: pos[0]}
	if *layout != "" {
		steps, err := layoutSteps(*layout)
		if err != nil {
			fmt.Fprintf(e.stderr, "tinto policy check: %v\n", err)
			return exitError
		}
		opts.LayoutSteps = steps
	}
	data, err := readFileLimited(pos[0], policy.MaxPolicyBytes)
	if err != nil {
		fmt.Fprintf(e.stderr, "tinto policy check: %v\n", err)
		return exitError
	}
	_, ds, loadErr := policy.Load(data, opts)
	if *asJSON {
		if ds == nil {
			ds = policy.Diagnostics{}
		}
		b, _ := json.MarshalIndent(ds, "", "  ")
		fmt.Fprintln(e.stdout, string(b))
	} else {
		for _, d := range ds {
			fmt.Fprintln(e.stdout, d.String())
		}
	}
	if loadErr != nil || len(ds) > 0 {
		if !*asJSON {
			fmt.Fprintf(e.stderr, "%s: %d problem(s)\n", pos[0], len(ds))
		}
		return exitDenied
	}
	if !*asJSON {
		fmt.Fprintf(e.stdout, "%s: ok\n", pos[0])
	}
	return exitOK
}

func runPolicyEval(e *env, args []string) int {
	fs := flag.NewFlagSet("tinto policy eval", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	at := fs.String("time", "", "evaluation time (RFC 3339); default: the input's time")
	asJSON := fs.Bool("json", false, "print the whole decision as JSON ("+policy.MediaType+")")
	var revLists, revKeys vfyFiles
	fs.Var(&revLists, "revocations", "a revocation list `FILE`, plain or signed (DSSE) (repeatable)")
	fs.Var(&revKeys, "revocation-key", "a public key `FILE` trusted to sign a signed revocation list (repeatable)")
	fs.Usage = func() { fmt.Fprint(e.stderr, policyUsage) }
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if len(pos) != 2 {
		fmt.Fprintln(e.stderr, "tinto policy eval: want POLICY and INPUT")
		return exitError
	}
	rev, err := loadRevocationSources(revLists, revKeys)
	if err != nil {
		fmt.Fprintf(e.stderr, "tinto policy eval: %v\n", err)
		return exitError
	}
	data, err := readFileLimited(pos[0], policy.MaxPolicyBytes)
	if err != nil {
		fmt.Fprintf(e.stderr, "tinto policy eval: %v\n", err)
		return exitError
	}
	p, ds, err := policy.Load(data, policy.Options{File: pos[0]})
	if err != nil {
		for _, d := range ds {
			fmt.Fprintln(e.stderr, d.String())
		}
		return exitError
	}
	raw, err := readFileLimited(pos[1], 64<<20)
	if err != nil {
		fmt.Fprintf(e.stderr, "tinto policy eval: %v\n", err)
		return exitError
	}
	var in policy.Input
	if err := cjson.Unmarshal(raw, &in, cjson.Limits{MaxBytes: 64 << 20}); err != nil {
		fmt.Fprintf(e.stderr, "tinto policy eval: %s: %v\n", pos[1], err)
		return exitError
	}
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			fmt.Fprintf(e.stderr, "tinto policy eval: --time: %v\n", err)
			return exitError
		}
		in.Time = t
	}
	in.Revocation = rev
	d, err := p.Evaluate(context.Background(), &in)
	if err != nil {
		fmt.Fprintf(e.stderr, "tinto policy eval: %v\n", err)
		return exitError
	}
	if *asJSON {
		b, _ := json.MarshalIndent(d, "", "  ")
		fmt.Fprintln(e.stdout, string(b))
	} else {
		printDecision(e.stdout, d)
	}
	if d.Allowed() {
		return exitOK
	}
	return exitDenied
}

func printDecision(w io.Writer, d *policy.Decision) {
	fmt.Fprintf(w, "%s: %s\n", d.Effect, d.Reason)
	for _, t := range d.Trail() {
		mark := " "
		switch {
		case t.Effect == policy.Deny:
			mark = "✗"
		case t.Effect == policy.Allow || t.Outcome == policy.OutcomeSatisfied:
			mark = "✓"
		case t.Warning:
			mark = "!"
		}
		over := ""
		if len(t.OverriddenBy) > 0 {
			over = fmt.Sprintf(" (overridden by %v)", t.OverriddenBy)
		}
		fmt.Fprintf(w, "  %s %-9s %-10s %-12s %s: %s%s\n", mark, t.Strength, t.Verb, t.Rule, t.Outcome, t.Message, over)
		if t.Effect != policy.Deny && !t.Warning {
			continue
		}
		for _, ev := range t.Evidence {
			if ev.Result == "ok" || ev.Result == "not-matched" || ev.Result == "selected" {
				continue
			}
			fmt.Fprintf(w, "        %s %s: %s %s\n", ev.Kind, ev.Ref, ev.Result, ev.Detail)
		}
		for _, l := range t.Revocations {
			if l.Status.State == "good" || l.Status.State == "not-revocable" {
				continue
			}
			fmt.Fprintf(w, "        %s %s%s: %s by %s %s %s\n", l.Ref.Kind, l.Ref.KeyID, l.Ref.Digest, l.Status.State, l.Status.Source, l.Status.Reason, l.Error)
		}
	}
	for _, x := range d.Warnings {
		fmt.Fprintf(w, "warning: %s\n", x)
	}
}

// layoutSteps reads the step names of a layout (a Metablock {"signed": {...}} or a DSSE
// envelope with an in-toto layout payload). It checks nothing else: it is a lint aid, not a
// verification.
func layoutSteps(path string) ([]string, error) {
	raw, err := readFileLimited(path, cjson.DefaultMaxBytes)
	if err != nil {
		return nil, err
	}
	tree, err := cjson.Decode(raw, cjson.Limits{})
	if err != nil {
		return nil, fmt.Errorf("layout %s: %w", path, err)
	}
	obj, _ := tree.(map[string]any)
	if obj == nil {
		return nil, fmt.Errorf("layout %s: not a JSON object", path)
	}
	signed, _ := obj["signed"].(map[string]any)
	if signed == nil {
		if p, ok := obj["payload"].(string); ok {
			b, err := base64.StdEncoding.DecodeString(p)
			if err != nil {
				return nil, fmt.Errorf("layout %s: DSSE payload: %v", path, err)
			}
			t, err := cjson.Decode(b, cjson.Limits{})
			if err != nil {
				return nil, fmt.Errorf("layout %s: DSSE payload: %w", path, err)
			}
			signed, _ = t.(map[string]any)
		}
	}
	if signed == nil {
		return nil, fmt.Errorf("layout %s: neither a Metablock nor a DSSE envelope", path)
	}
	if ty, _ := signed["_type"].(string); ty != "layout" {
		return nil, fmt.Errorf("layout %s: _type is %q, not \"layout\"", path, ty)
	}
	stepsRaw, _ := signed["steps"].([]any)
	steps := []string{}
	for i, s := range stepsRaw {
		m, _ := s.(map[string]any)
		name, _ := m["name"].(string)
		if name == "" {
			return nil, fmt.Errorf("layout %s: steps[%d] has no name", path, i)
		}
		steps = append(steps, name)
	}
	return steps, nil
}
