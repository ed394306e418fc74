package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

const demoUsage = `usage: tinto demo [--keep DIR]
       tinto demo intoto [--keep DIR]

Runs the main job on an embedded default, with no network and freshly generated keys.

Part 1, TUF + in-toto + policy (demo_tuf.go): builds a TUF repository in a temporary
directory holding a sample package, its in-toto layout (signed by an owner key that the
layout's target lists), the links of a three-step supply chain made by generated
functionaries, and a revocation list; serves it on 127.0.0.1; and runs "tinto verify" against
it: an allowed install, a tampered package, a package no build produced, a revoked functionary
whose step still meets its threshold, every functionary of a step revoked, a rollback attack.

Part 2, in-toto alone (demo_intoto.go; "tinto demo intoto" runs only this part): a supply
chain verified the way "tinto intoto verify" does: allowed, then a tampered artifact and a
missing link, each denied with the reason.

  --keep DIR   write everything into DIR (which must be empty or not exist) and keep it:
               DIR/metadata, DIR/targets, DIR/root.json (part 1, for tinto verify) and
               DIR/root.layout, DIR/owner.pub, DIR/<scenario>/ (part 2, for tinto intoto verify)

Exit 0 when every scenario had its expected outcome.
`

// runDemo is `tinto demo`: the full demo (part 1), then the in-toto-only demo (part 2).
func runDemo(e *env, args []string) int {
	intotoOnly := len(args) > 0 && args[0] == "intoto"
	if intotoOnly {
		args = args[1:]
	}
	fs := flag.NewFlagSet("tinto demo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, demoUsage) }
	keep := fs.String("keep", "", "keep the generated files in this directory")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "tinto demo: unexpected argument %q\n", fs.Arg(0))
		return exitError
	}
	dir := *keep
	if dir == "" {
		d, err := os.MkdirTemp("", "tinto-demo-")
		if err != nil {
			fmt.Fprintf(e.stderr, "tinto demo: %v\n", err)
			return exitError
		}
		defer os.RemoveAll(d)
		dir = d
	} else if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		fmt.Fprintf(e.stderr, "tinto demo: --keep %s: the directory is not empty\n", dir)
		return exitError
	}
	start := time.Now()
	ok := true
	if !intotoOnly {
		ok = tufDemoRun(e, *keep)
		fmt.Fprintln(e.stdout, "")
		fmt.Fprintln(e.stdout, "== part 2: in-toto alone, as tinto intoto verify sees a supply chain")
	}
	// The demo's one reading of the wall clock: the layout expires 30 days after it.
	now := time.Now().UTC().Truncate(time.Second)
	if !demoIntoto(e, dir, now) {
		ok = false
	} else {
		if *keep != "" {
			fmt.Fprintf(e.stdout, "\nfiles kept in %s\n", dir)
		}
		fmt.Fprintln(e.stdout, "\ndemo: OK (1 allowed, 2 denied as expected)")
	}
	fmt.Fprintf(e.stdout, "demo finished in %.1fs\n", time.Since(start).Seconds())
	if !ok {
		fmt.Fprintln(e.stdout, "some scenario did not end as expected")
		return exitDenied
	}
	return exitOK
}
