package buildsystem

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/verify/verifytest"
)

// buildTinto compiles cmd/tinto into dir.
func buildTinto(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	bin := filepath.Join(dir, "tinto")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/tintoproject/tinto/cmd/tinto")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// fixture writes a generated repository (for tinto verify) and the layout, its key and the links
// (for tinto intoto verify) under dir, and returns the make variables that point at them.
func fixture(t *testing.T, dir string) (*verifytest.Repo, map[string]string) {
	t.Helper()
	r, err := verifytest.New(verifytest.Options{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(dir, "repo")
	if err := r.WriteDir(repo); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"root.json": r.TrustedRoot()}
	targets := r.TUF.Roles["targets"].Targets
	files["root.layout"] = targets[verifytest.LayoutPath].Data
	files["owner.pub"] = targets[verifytest.OwnerKeyPath].Data
	for name, tf := range targets {
		if strings.HasPrefix(name, verifytest.LinkDir(verifytest.DefaultPackage)+"/") {
			files["links/"+filepath.Base(name)] = tf.Data
		}
	}
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return r, map[string]string{
		"ROOT": filepath.Join(dir, "root.json"), "REPO": repo, "PACKAGE": verifytest.DefaultPackage,
		"LAYOUT": filepath.Join(dir, "root.layout"), "LAYOUT_KEY": filepath.Join(dir, "owner.pub"),
		"LINKS": filepath.Join(dir, "links"), "OUT": filepath.Join(dir, "dist"),
	}
}

// TestReleaseGate runs the Makefile and gate.sh: both release the genuine package, and both
// refuse when a link is missing or when the published package was tampered with.
func TestReleaseGate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tinto")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	tmp := t.TempDir()
	tinto := buildTinto(t, tmp)
	wd, _ := os.Getwd()

	runners := map[string]func(vars map[string]string) *exec.Cmd{
		"make": func(vars map[string]string) *exec.Cmd {
			args := []string{"-s", "-f", filepath.Join(wd, "Makefile"), "release", "TINTO=" + tinto}
			for k, v := range vars {
				args = append(args, k+"="+v)
			}
			return exec.Command("make", args...)
		},
		"gate.sh": func(vars map[string]string) *exec.Cmd {
			cmd := exec.Command("sh", filepath.Join(wd, "gate.sh"))
			cmd.Env = append(os.Environ(), "TINTO="+tinto)
			for k, v := range vars {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			return cmd
		},
	}
	for name, runner := range runners {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			_, vars := fixture(t, dir)
			run := func() (string, error) {
				var out bytes.Buffer
				cmd := runner(vars)
				cmd.Stdout, cmd.Stderr = &out, &out
				err := cmd.Run()
				return out.String(), err
			}
			out, err := run()
			if err != nil {
				t.Fatalf("release refused: %v\n%s", err, out)
			}
			released := filepath.Join(vars["OUT"], filepath.FromSlash(verifytest.DefaultPackage))
			if _, err := os.Stat(released); err != nil || !strings.Contains(out, "release gate passed") {
				t.Fatalf("no release: %v\n%s", err, out)
			}
			os.RemoveAll(vars["OUT"])

			// A link missing from the pipeline's link directory stops the first gate.
			links, _ := filepath.Glob(filepath.Join(vars["LINKS"], "build.*.link"))
			if len(links) != 1 {
				t.Fatalf("build links: %v", links)
			}
			saved, _ := os.ReadFile(links[0])
			os.Remove(links[0])
			if out, err := run(); err == nil || !strings.Contains(out, "missing-link") {
				t.Fatalf("released without the build link: %v\n%s", err, out)
			}
			os.WriteFile(links[0], saved, 0o644)

			// A tampered package in the repository stops the second gate; nothing is released.
			pkgs, _ := filepath.Glob(filepath.Join(vars["REPO"], "targets", "demo-app", "*demo-app-1.0.0.tar.gz"))
			for _, p := range pkgs {
				os.WriteFile(p, []byte("tampered"), 0o644)
			}
			if out, err := run(); err == nil || !strings.Contains(out, "DENIED") {
				t.Fatalf("released a tampered package: %v\n%s", err, out)
			}
			if _, err := os.Stat(released); err == nil {
				t.Fatal("a denied package was written to OUT")
			}
		})
	}
}
