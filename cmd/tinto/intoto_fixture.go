package main

import (
	"flag"
	"fmt"

	"github.com/tintoproject/tinto/pkg/intoto"
)

// runIntotoGenFixture is the hidden "tinto intoto gen-fixture DIR" command: it writes a
// generated three-step supply chain (intoto.GenerateChain) to DIR for tests and demos.
func runIntotoGenFixture(e *env, args []string) int {
	fs := flag.NewFlagSet("tinto intoto gen-fixture", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var spec intoto.ChainSpec
	var format string
	fs.StringVar(&spec.KeyType, "key-type", "ed25519", "ed25519, rsa or ecdsa")
	fs.StringVar(&format, "format", "metablock", "metablock, dsse, statement-v0.2 or statement-v0.3")
	fs.IntVar(&spec.Artifacts, "artifacts", 3, "artifacts per step")
	fs.IntVar(&spec.Functionaries, "functionaries", 1, "functionaries per step (all required)")
	fs.StringVar(&spec.Tamper, "tamper", "", "artifact, extra-product, missing-link, bad-signature, expired, wrong-key, link-mismatch")
	fs.BoolVar(&spec.Inspection, "inspection", false, "add an inspection with a prerecorded link")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "usage: tinto intoto gen-fixture [flags] DIR")
		return exitError
	}
	switch format {
	case "metablock":
		spec.Format = intoto.FormatMetablock
	case "dsse":
		spec.Format = intoto.FormatDSSE
	case "statement-v0.2":
		spec.Format, spec.PredicateType = intoto.FormatStatement, intoto.PredicateLinkV02
	case "statement-v0.3":
		spec.Format, spec.PredicateType = intoto.FormatStatement, intoto.PredicateLinkV03
	default:
		fmt.Fprintf(e.stderr, "tinto intoto gen-fixture: unknown format %q\n", format)
		return exitError
	}
	c, err := intoto.GenerateChain(spec)
	if err != nil {
		fmt.Fprintf(e.stderr, "tinto intoto gen-fixture: %v\n", err)
		return exitError
	}
	if err := c.WriteDir(fs.Arg(0)); err != nil {
		fmt.Fprintf(e.stderr, "tinto intoto gen-fixture: %v\n", err)
		return exitError
	}
	fmt.Fprintf(e.stdout, "tinto intoto verify -l %[1]s/root.layout -k %[1]s/owner.pub -t %[2]s --link-dir %[1]s/links\n", fs.Arg(0), c.KeyTypeFlag())
	return exitOK
}
