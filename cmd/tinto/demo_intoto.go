package main

import (
	"context"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tintoproject/tinto/pkg/intoto"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

// The in-toto part of `tinto demo`: a three-step supply chain (clone, build, package) made with
// tinto's own key and in-toto builders, verified as it is, then with a tampered artifact and
// with a missing link. Nothing here touches the network.

// intotoDemoKeys are the demo's signers: the layout owner and one functionary per step, each with
// another key type.
type intotoDemoKeys struct {
	owner                  *keys.Signer
	clone, build, package_ *keys.Signer
}

func newIntotoDemoKeys() (*intotoDemoKeys, error) {
	var k intotoDemoKeys
	var err error
	if k.owner, err = keys.GenerateEd25519(rand.Reader); err != nil {
		return nil, err
	}
	if k.clone, err = keys.GenerateEd25519(rand.Reader); err != nil {
		return nil, err
	}
	if k.build, err = keys.GenerateECDSA(elliptic.P256()); err != nil {
		return nil, err
	}
	if k.package_, err = keys.GenerateRSA(2048); err != nil {
		return nil, err
	}
	return &k, nil
}

// intotoDemoScenario is one run of the chain.
type intotoDemoScenario struct {
	name string // directory name and title
	// tamper changes bin/app after the build step recorded it and before packaging.
	tamper bool
	// dropLink does not write the package step's link.
	dropLink bool
	// want is the expected outcome: "" verified, otherwise the verr.Reason of the denial.
	want verr.Reason
}

var intotoDemoScenarios = []intotoDemoScenario{
	{name: "1-untouched"},
	{name: "2-tampered-artifact", tamper: true, want: verr.RuleFailed},
	{name: "3-missing-link", dropLink: true, want: verr.MissingLink},
}

// intotoDemoLayout is the layout: who does each step, and how artifacts flow between steps.
func intotoDemoLayout(k *intotoDemoKeys, now time.Time) *intoto.Layout {
	l := intoto.NewLayout(now, 30*24*time.Hour, k.clone.Key, k.build.Key, k.package_.Key)
	l.Readme = "tinto demo: clone, build, package"
	l.Steps = []intoto.Step{
		{
			Name: "clone", Threshold: 1, PubKeys: []string{k.clone.Key.KeyID},
			ExpectedCommand:  []string{"git", "clone", "https://example.org/app.git"},
			ExpectedProducts: [][]string{{"CREATE", "src/*"}, {"CREATE", "README.md"}, {"DISALLOW", "*"}},
		},
		{
			Name: "build", Threshold: 1, PubKeys: []string{k.build.Key.KeyID},
			ExpectedCommand:   []string{"go", "build", "-o", "bin/app", "./src"},
			ExpectedMaterials: [][]string{{"MATCH", "*", "WITH", "PRODUCTS", "FROM", "clone"}, {"DISALLOW", "*"}},
			ExpectedProducts:  [][]string{{"CREATE", "bin/app"}, {"DISALLOW", "*"}},
		},
		{
			Name: "package", Threshold: 1, PubKeys: []string{k.package_.Key.KeyID},
			ExpectedCommand:   []string{"tar", "czf", "dist/app.tar.gz", "bin/app"},
			ExpectedMaterials: [][]string{{"MATCH", "bin/app", "WITH", "PRODUCTS", "FROM", "build"}, {"DISALLOW", "*"}},
			ExpectedProducts:  [][]string{{"CREATE", "dist/app.tar.gz"}, {"DISALLOW", "*"}},
		},
	}
	return l
}

// intotoDemoWork writes the files of the supply chain into work and records links for it in links.
// It plays every functionary: writes files, hashes them, signs what it saw.
// It returns a one-line note on what the scenario changed, for the demo's output.
func intotoDemoWork(k *intotoDemoKeys, sc intotoDemoScenario, work, links string) (note string, err error) {
	write := func(name, content string) error {
		p := filepath.Join(work, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(content), 0o644)
	}
	record := func(names ...string) (rules.Artifacts, error) {
		a := rules.Artifacts{}
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join(work, filepath.FromSlash(n)))
			if err != nil {
				return nil, err
			}
			h := sha256.Sum256(b)
			a[n] = rules.SHA256(hex.EncodeToString(h[:]))
		}
		return a, nil
	}
	sign := func(s *keys.Signer, l *intoto.Link) error {
		doc, err := intoto.SignMetablock(l.Signed(), s)
		if err != nil {
			return err
		}
		return intoto.WriteFile(links, fmt.Sprintf("%s.%s.link", l.Name, s.Key.KeyID[:8]), doc)
	}

	// clone
	for name, content := range map[string]string{
		"src/main.go": "package main\n\nfunc main() { println(greeting()) }\n",
		"src/util.go": "package main\n\nfunc greeting() string { return \"hello\" }\n",
		"README.md":   "# app\n",
	} {
		if err := write(name, content); err != nil {
			return "", err
		}
	}
	src := []string{"README.md", "src/main.go", "src/util.go"}
	cloned, err := record(src...)
	if err != nil {
		return "", err
	}
	if err := sign(k.clone, &intoto.Link{Name: "clone", Command: []string{"git", "clone", "https://example.org/app.git"}, Materials: rules.Artifacts{}, Products: cloned}); err != nil {
		return "", err
	}

	// build
	if err := write("bin/app", "\x7fELF app built from main.go and util.go\n"); err != nil {
		return "", err
	}
	built, err := record("bin/app")
	if err != nil {
		return "", err
	}
	if err := sign(k.build, &intoto.Link{Name: "build", Command: []string{"go", "build", "-o", "bin/app", "./src"}, Materials: cloned, Products: built}); err != nil {
		return "", err
	}

	// Between build and package, an attacker swaps the binary.
	if sc.tamper {
		if err := write("bin/app", "\x7fELF app with a backdoor\n"); err != nil {
			return "", err
		}
	}

	// package
	pkgMaterials, err := record("bin/app")
	if err != nil {
		return "", err
	}
	if err := write("dist/app.tar.gz", "tarball of bin/app\n"); err != nil {
		return "", err
	}
	packaged, err := record("dist/app.tar.gz")
	if err != nil {
		return "", err
	}
	if sc.dropLink {
		return note, nil
	}
	if sc.tamper {
		b, _ := built["bin/app"].Get("sha256")
		p, _ := pkgMaterials["bin/app"].Get("sha256")
		note = fmt.Sprintf("bin/app: sha256 %.12s... as built (build link), %.12s... as packaged (package link)", b, p)
	}
	return note, sign(k.package_, &intoto.Link{Name: "package", Command: []string{"tar", "czf", "dist/app.tar.gz", "bin/app"}, Materials: pkgMaterials, Products: packaged})
}

// demoIntoto runs the in-toto part of the demo in dir (which must be empty or not exist): it
// generates keys, writes the layout, the owner's public key and, for each scenario, the files
// and links of a supply chain in dir/<scenario>, verifies each with pkg/intoto, and prints the
// outcome the way `tinto intoto verify` does. It reports whether every scenario had its
// expected outcome (verified, then two denials).
func demoIntoto(e *env, dir string, now time.Time) bool {
	fail := func(format string, a ...any) bool {
		fmt.Fprintf(e.stderr, "tinto demo: "+format+"\n", a...)
		return false
	}
	fmt.Fprintln(e.stdout, "== in-toto: a supply chain of three steps (clone, build, package)")
	k, err := newIntotoDemoKeys()
	if err != nil {
		return fail("generating keys: %v", err)
	}
	fmt.Fprintf(e.stdout, "keys: layout owner ed25519 %s; clone ed25519 %s; build ecdsa %s; package rsa %s\n",
		k.owner.Key.KeyID[:8], k.clone.Key.KeyID[:8], k.build.Key.KeyID[:8], k.package_.Key.KeyID[:8])

	layout, err := intoto.SignMetablock(intotoDemoLayout(k, now).Signed(), k.owner)
	if err != nil {
		return fail("signing the layout: %v", err)
	}
	pub, err := k.owner.Key.MarshalSSLib()
	if err != nil {
		return fail("exporting the owner key: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail("%v", err)
	}
	for name, data := range map[string][]byte{"root.layout": layout, "owner.pub": pub} {
		if err := intoto.WriteFile(dir, name, data); err != nil {
			return fail("writing %s: %v", name, err)
		}
	}

	ok := true
	for _, sc := range intotoDemoScenarios {
		scDir := filepath.Join(dir, sc.name)
		work, links := filepath.Join(scDir, "work"), filepath.Join(scDir, "links")
		for _, d := range []string{work, links} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fail("%v", err)
			}
		}
		note, err := intotoDemoWork(k, sc, work, links)
		if err != nil {
			return fail("%s: %v", sc.name, err)
		}
		fmt.Fprintf(e.stdout, "\n-- %s", sc.name)
		switch {
		case sc.tamper:
			fmt.Fprint(e.stdout, ": bin/app was replaced after the build step recorded it")
		case sc.dropLink:
			fmt.Fprint(e.stdout, ": the package step's link is missing")
		}
		fmt.Fprintf(e.stdout, "\n$ tinto intoto verify -l %s -k %s -t ed25519 --link-dir %s\n",
			filepath.Join(dir, "root.layout"), filepath.Join(dir, "owner.pub"), links)
		res, err := intoto.Verify(context.Background(), layout, intoto.Options{
			LayoutKeys: []*keys.Key{k.owner.Key},
			Links:      intoto.DirLinks(links),
			Now:        func() time.Time { return now },
		})
		got, _ := verr.ReasonOf(err)
		switch {
		case err == nil:
			steps := make([]string, 0, len(res.Steps))
			for _, s := range res.Steps {
				steps = append(steps, s.Name)
			}
			fmt.Fprintf(e.stdout, "verified: layout signed by %d key(s), steps %v: ALLOW\n", len(res.LayoutSigners), steps)
		default:
			explain(e.stdout, err)
			if note != "" {
				fmt.Fprintln(e.stdout, "  ("+note+")")
			}
			fmt.Fprintln(e.stdout, "=> DENY")
		}
		if (sc.want == "" && err != nil) || (sc.want != "" && got != sc.want) {
			ok = false
			want := "verified"
			if sc.want != "" {
				want = "denied with reason " + string(sc.want)
			}
			fmt.Fprintf(e.stderr, "tinto demo: %s: expected %s, got: %v\n", sc.name, want, err)
		}
	}
	return ok
}
