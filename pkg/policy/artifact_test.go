package policy

import (
	"fmt"
	"github.com/tintoproject/tinto/pkg/verr"
	"math/rand"
	"strings"
	"testing"

	"github.com/tintoproject/tinto/pkg/rules"
)

// TestDisallowFastPathAgrees checks the direct DISALLOW evaluation against pkg/rules' Program.
func TestDisallowFastPathAgrees(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	names := []string{"a.pem", "b.go", "dir/c.pem", "x", "../up.pem", "k.key", "README", "d/e/f.pem.txt", "//", "z.pem"}
	for _, pat := range []string{"*.pem", "*", "dir/*", "x", "[ab].*", "*.key"} {
		ap, err := compileArtifactRule(VerbDisallow, pat)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 50; i++ {
			l := &Link{Products: map[string]Digests{}}
			for _, n := range names {
				if r.Intn(2) == 0 {
					l.Products[n] = rules.SHA256("00")
				}
			}
			_, na, err := ap.run("products", l, &Step{}, &Layout{}, false)
			ref := ap.prog.Run(rules.Products, rules.StepArtifacts{Products: rules.Artifacts(l.Products)}, nil)
			refNA := ref.Err == nil && ref.Outcomes[0].NotApplicable
			if (err == nil) != (ref.Err == nil) || na != refNA {
				t.Errorf("DISALLOW %s over %v: fast (na=%v, %v), program (na=%v, %v)", pat, keys(l.Products), na, err, refNA, ref.Err)
			}
			if err != nil && fmt.Sprint(artifactOf(err)) != fmt.Sprint(artifactOf(ref.Err)) {
				t.Errorf("DISALLOW %s: artifact %v vs %v", pat, artifactOf(err), artifactOf(ref.Err))
			}
		}
	}
}

func keys(m map[string]Digests) []string { return sortedKeys(m) }

func artifactOf(err error) string {
	var ve interface{ Error() string }
	ve = err
	if v, ok := ve.(*verrVE); ok {
		return v.Artifact
	}
	return ""
}

type verrVE = verr.VerificationError

// TestLiteralLast checks literalLast against rules.Glob: whenever it names a byte, every name
// the pattern matches ends with that byte.
func TestLiteralLast(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	alphabet := []string{"a", "b", ".", "/", "*", "?", "[ab]", "[!a]", `\*`, `\a`, "m", "é", "pem", "]"}
	names := func() string {
		var b strings.Builder
		for i, n := 0, r.Intn(6); i < n; i++ {
			b.WriteString([]string{"a", "b", ".", "/", "m", "*", "é", "pem", "]", "x"}[r.Intn(10)])
		}
		return b.String()
	}
	checked := 0
	for i := 0; i < 3000; i++ {
		var p strings.Builder
		for j, n := 0, 1+r.Intn(4); j < n; j++ {
			p.WriteString(alphabet[r.Intn(len(alphabet))])
		}
		pat := p.String()
		g, err := rules.CompileGlob(pat)
		if err != nil {
			continue
		}
		last := literalLast(pat)
		if last < 0 {
			continue
		}
		checked++
		for k := 0; k < 30; k++ {
			n := names()
			if k == 0 {
				n = strings.ReplaceAll(strings.ReplaceAll(pat, "*", "x"), "?", "a")
			}
			if g.Match(n) && (n == "" || int(n[len(n)-1]) != last) {
				t.Fatalf("pattern %q matches %q, which does not end with %q", pat, n, rune(last))
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d patterns with a literal last byte", checked)
	}
	for pat, want := range map[string]int{"*.pem": 'm', "*": -1, "a?": -1, "[ab]": -1, `a\*`: -1, "x/": '/', "": -1} {
		if got := literalLast(pat); got != want {
			t.Errorf("literalLast(%q) = %d, want %d", pat, got, want)
		}
	}
}
