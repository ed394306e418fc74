package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf/publish"
)

// tufGenTestRepo is the hidden "tinto tuf gen-test-repo DIR": it writes a sample repository
// (made with pkg/tuf/publish and freshly generated keys) for tests and experiments:
//
//	DIR/root.json                       the trusted root (version 1)
//	DIR/repo/metadata/..., repo/targets/...
//
// Targets: hello.txt (custom {"in-toto": ["root.layout"]}), and team/tool.bin listed by a
// delegated role "team" (paths "team/*"). With --rollback it also writes DIR/repo-old: the same
// repository one publication earlier, to serve for a rollback.
func tufGenTestRepo(e *env, args []string) int {
	fs := flag.NewFlagSet("tinto tuf gen-test-repo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	expiry := fs.Duration("expiry", 24*time.Hour, "metadata lifetime")
	rollback := fs.Bool("rollback", false, "also write repo-old (the previous publication)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(e.stderr, "usage: tinto tuf gen-test-repo [--expiry D] [--rollback] DIR")
		return exitError
	}
	dir := fs.Arg(0)
	fail := func(err error) int { fmt.Fprintln(e.stderr, "tinto tuf gen-test-repo:", err); return exitError }
	r, err := publish.New(publish.Options{Now: time.Now(), Expiry: *expiry})
	if err != nil {
		return fail(err)
	}
	if err := r.AddTarget("targets", "hello.txt", []byte("hello, world\n"), map[string]any{"in-toto": []any{"root.layout"}}); err != nil {
		return fail(err)
	}
	if _, err := r.Delegate("targets", publish.DelegatedRole{Name: "team", Paths: []string{"team/*"}}); err != nil {
		return fail(err)
	}
	if err := r.AddTarget("team", "team/tool.bin", []byte("tool v1\n"), nil); err != nil {
		return fail(err)
	}
	if err := r.Publish(); err != nil {
		return fail(err)
	}
	if *rollback {
		if err := r.WriteDir(filepath.Join(dir, "repo-old")); err != nil {
			return fail(err)
		}
		if err := r.AddTarget("team", "team/tool.bin", []byte("tool v2\n"), nil); err != nil {
			return fail(err)
		}
		if err := r.Publish(); err != nil {
			return fail(err)
		}
	}
	if err := r.WriteDir(filepath.Join(dir, "repo")); err != nil {
		return fail(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "root.json"), r.TrustedRoot(), 0o644); err != nil {
		return fail(err)
	}
	return exitOK
}
