// Command tinto decides whether a piece of software may be installed: it verifies TUF metadata,
// the in-toto supply chain behind the software, and applies a policy.
//
//	tinto verify   --root root.json --repo URL|DIR [--policy p.yaml] TARGET...
//	tinto intoto verify -l LAYOUT -k KEY... [--link-dir DIR]
//	tinto tuf      init|refresh|info|download|conformance-client
//	tinto policy   check POLICY [--layout LAYOUT]
//	tinto demo     [--keep DIR]
//
// Exit codes: 0 verified/allowed, 1 verification failed/denied, 2 usage or operational error.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// Exit codes shared by every subcommand.
const (
	exitOK     = 0
	exitDenied = 1
	exitError  = 2
)

// env is what a subcommand may touch of its process. Tests substitute every field.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// getenv reads an environment variable.
	getenv func(string) string
	// isTTY reports whether stdout is a terminal (for progress bars).
	isTTY bool
}

type command struct {
	summary string
	run     func(e *env, args []string) int
}

func commands() map[string]command {
	return map[string]command{
		"verify": {"verify targets: TUF + in-toto + policy", runVerify},
		"intoto": {"in-toto supply-chain verification (in-toto-verify compatible)", runIntoto},
		"tuf":    {"TUF client: init, refresh, info, download, conformance-client", runTUF},
		"policy": {"policy tools: check", runPolicy},
		"demo":   {"build a local TUF + in-toto repository and verify against it", runDemo},
	}
}

func main() {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, isTTY: isTerminal(os.Stdout)}
	os.Exit(run(e, os.Args[1:]))
}

func run(e *env, args []string) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr, cmds)
		if len(args) == 0 {
			return exitError
		}
		return exitOK
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "tinto: unknown command %q\n", args[0])
		usage(e.stderr, cmds)
		return exitError
	}
	return c.run(e, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: tinto COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nexit codes: 0 allowed/verified, 1 denied/failed, 2 usage or operational error")
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
