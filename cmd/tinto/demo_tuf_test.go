package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoTUF runs the full demo (tinto demo) and checks that every scenario ends as expected and that
// --keep leaves a repository that tinto verify accepts from a directory.
func TestDemoTUF(t *testing.T) {
	var out, errb bytes.Buffer
	keep := filepath.Join(t.TempDir(), "repo")
	e := &env{stdout: &out, stderr: &errb, getenv: os.Getenv}
	if code := runDemo(e, []string{"--keep", keep}); code != exitOK {
		t.Fatalf("demo exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"== part 1", "1. an allowed install", "ALLOWED", "== part 2", "demo: OK", "mismatch", "target-unbound", "warning", "revoked", "rollback"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if testing.Verbose() {
		t.Log(out.String())
	}
	// The kept repository verifies from a directory.
	var vout bytes.Buffer
	ve := &env{stdout: &vout, stderr: &vout, getenv: os.Getenv}
	code := runVerify(ve, []string{"--root", filepath.Join(keep, "root.json"), "--repo", keep, "demo-app/demo-app-1.0.0.tar.gz"})
	if code != exitOK || !strings.Contains(vout.String(), "ALLOWED") {
		t.Fatalf("verify of the kept repository: exit %d\n%s", code, vout.String())
	}
}
