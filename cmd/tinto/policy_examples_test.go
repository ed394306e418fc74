package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicyExamples runs tinto policy check over the real files in examples/policies: the good
// ones pass, and each deliberately broken one is caught with its diagnostic class.
func TestPolicyExamples(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "policies")
	layout := filepath.Join(dir, "app.layout.json")
	broken := map[string]string{
		"api-version.yaml":   "[api-version]",
		"artifact-rule.yaml": "[artifact-rule]",
		"bad-strength.yaml":  "[bad-value]",
		"cel-type.yaml":      "[cel]",
		"duplicate-key.json": "[syntax]",
		"shadowed.yaml":      "[shadowed]",
		"unknown-field.yaml": "[unknown-field]",
		"unknown-step.yaml":  "[unknown-step]",
		"verb-subject.yaml":  "[verb-subject]",
	}
	files, _ := filepath.Glob(filepath.Join(dir, "broken", "*"))
	if len(files) != len(broken) {
		t.Errorf("examples/policies/broken has %d files, the test knows %d", len(files), len(broken))
	}
	for _, f := range files {
		want, ok := broken[filepath.Base(f)]
		if !ok {
			t.Errorf("%s: no expectation", f)
			continue
		}
		code, out := runPolicyCLI(t, "check", f, "--layout", layout)
		if code != exitDenied || !strings.Contains(out, want) || !strings.Contains(out, filepath.Base(f)+":") {
			t.Errorf("%s: exit %d, output %q; want exit 1 and %s", f, code, out, want)
		}
	}
	good, _ := filepath.Glob(filepath.Join(dir, "*.*"))
	for _, f := range good {
		if f == layout || strings.HasSuffix(f, ".md") {
			continue
		}
		if code, out := runPolicyCLI(t, "check", f, "--layout", layout); code != exitOK {
			t.Errorf("%s: exit %d:\n%s", f, code, out)
		}
	}
}

func runPolicyCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: os.Getenv}
	code := run(e, append([]string{"policy"}, args...))
	return code, out.String() + errb.String()
}
