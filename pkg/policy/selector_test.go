package policy

import (
	"path"
	"testing"
)

// TestSelectorMatchesPathMatch checks the compiled layout/step selector against path.Match,
// which the selectors were written with before: "" selects everything, a pattern without
// metacharacters is compared as a string.
func TestSelectorMatchesPathMatch(t *testing.T) {
	patterns := []string{"", "build", "b*", "*", "?uild", "[bp]*", `b\uild`, `\*`, "pack*", "a/b", "*/b", "[a-c]?", "build*x"}
	names := []string{"", "build", "buildx", "package", "b", "*", "a/b", "x/b", "uild", "ab", "B", "build-x"}
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			t.Fatalf("bad pattern %q in the table: %v", p, err)
		}
		s := newSelector(p)
		for _, n := range names {
			want := p == ""
			if !want {
				m, err := path.Match(p, n)
				want = err == nil && m
			}
			if got := s.match(n); got != want {
				t.Errorf("selector %q match %q = %v, path.Match says %v", p, n, got, want)
			}
		}
	}
}

func FuzzSelector(f *testing.F) {
	f.Add("b*", "build")
	f.Add(`\*`, "*")
	f.Add("build", "build")
	f.Fuzz(func(t *testing.T, p, n string) {
		if _, err := path.Match(p, ""); err != nil {
			return // Load rejects such patterns
		}
		want := p == ""
		if !want {
			m, err := path.Match(p, n)
			want = err == nil && m
		}
		if got := newSelector(p).match(n); got != want {
			t.Fatalf("selector %q match %q = %v, path.Match says %v", p, n, got, want)
		}
	})
}
