package policy

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary documents to the parser and type checker. Whatever loads must also
// evaluate without error over the fixture.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("../../examples/policies/*.*")
	broken, _ := filepath.Glob("../../examples/policies/broken/*")
	for _, p := range append(files, broken...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(header + "rules: [{verb: DENY, subject: target, when: 'target.length > 1'}]"))
	f.Add([]byte(`{"apiVersion": "tinto.dev/policy/v1", "rules": [{"verb": "ALLOW", "subject": "key"}]}`))
	f.Add([]byte("a: &x [1]\nb: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, ds, err := Load(data, Options{File: "fuzz.yaml", LayoutSteps: []string{"build"}})
		if err != nil {
			if !ds.HasErrors() {
				t.Fatalf("error without error diagnostics: %v", err)
			}
			return
		}
		if _, err := p.Evaluate(context.Background(), fixture()); err != nil {
			t.Fatalf("a loaded policy failed to evaluate: %v", err)
		}
	})
}
