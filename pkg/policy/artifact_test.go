package policy

import (
	"fmt"
	"github.com/tintoproject/tinto/pkg/verr"
	"math/rand"
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
