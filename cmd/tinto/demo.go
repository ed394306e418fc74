package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

const demoUsage = `usage: tinto demo [--keep DIR]

Builds a small in-toto supply chain in a temporary directory with freshly generated keys
(nothing is fetched from the network), verifies it (allowed), then verifies a copy with a
tampered artifact and a copy with a missing link (each denied, with the reason).

  --keep DIR   write everything into DIR (which must be empty or not exist) and keep it
`

// runDemo is `tinto demo`. It exits 0 when every scenario had its expected outcome.
func runDemo(e *env, args []string) int {
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
	// The demo's one reading of the wall clock: the layout expires 30 days after it.
	now := time.Now().UTC().Truncate(time.Second)
	if !demoIntoto(e, dir, now) {
		return exitDenied
	}
	if *keep != "" {
		fmt.Fprintf(e.stdout, "\nfiles kept in %s\n", dir)
	}
	fmt.Fprintln(e.stdout, "\ndemo: OK (1 allowed, 2 denied as expected)")
	return exitOK
}
