package intoto

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

// TestDirSourceBufferReuse verifies chains from disk, where each step's link is read into the
// buffer of the previous step's: valid chains verify (the steps' links differ in size), and a
// tampered or re-signed later link is still caught.
func TestDirSourceBufferReuse(t *testing.T) {
	for _, tt := range []struct {
		name   string
		spec   ChainSpec
		reason verr.Reason
	}{
		{"valid", ChainSpec{Artifacts: 40}, ""},
		{"valid-dsse", ChainSpec{Artifacts: 40, Format: FormatDSSE}, ""},
		{"two-functionaries", ChainSpec{Artifacts: 40, Functionaries: 2}, ""},
		{"tamper-artifact", ChainSpec{Artifacts: 40, Tamper: "artifact"}, verr.RuleFailed},
		{"tamper-bad-signature", ChainSpec{Artifacts: 40, Tamper: "bad-signature"}, verr.Threshold},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := genChain(t, tt.spec)
			dir := t.TempDir()
			if err := c.WriteDir(dir); err != nil {
				t.Fatal(err)
			}
			opts := chainOpts(c)
			opts.Links = &DirSource{Dir: filepath.Join(dir, "links")}
			layout, err := os.ReadFile(filepath.Join(dir, "root.layout"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Verify(context.Background(), layout, opts)
			if tt.reason == "" {
				if err != nil || !res.Verified {
					t.Fatalf("Verify: %v", err)
				}
				// The same chain from memory gives the same step contents.
				mres, err := Verify(context.Background(), c.Layout, chainOpts(c))
				if err != nil {
					t.Fatal(err)
				}
				for i := range res.Steps {
					a, b := res.Steps[i].Link, mres.Steps[i].Link
					if !equalArtifacts(a.Materials, b.Materials) || !equalArtifacts(a.Products, b.Products) {
						t.Errorf("step %s differs when read from disk", res.Steps[i].Name)
					}
					// Which rule consumed each artifact is recorded (compactly).
					for _, side := range []struct {
						r *rules.Result
						a rules.Artifacts
					}{{res.Steps[i].Materials, a.Materials}, {res.Steps[i].Products, a.Products}} {
						cons := side.r.Consumers()
						if len(cons)+side.r.Remaining != len(side.a) || side.r.NumConsumed() != len(cons) {
							t.Errorf("step %s: %d consumed + %d remaining of %d", res.Steps[i].Name, len(cons), side.r.Remaining, len(side.a))
						}
						for n, k := range cons {
							if _, in := side.a[n]; !in {
								t.Errorf("step %s: consumed %q is not an artifact", res.Steps[i].Name, n)
							}
							if k2, ok := side.r.ConsumerOf(n); !ok || k2 != k {
								t.Errorf("step %s: ConsumerOf(%q) = %d %v, want %d", res.Steps[i].Name, n, k2, ok, k)
							}
						}
					}
				}
				return
			}
			if !errors.Is(err, tt.reason) {
				t.Fatalf("Verify: %v, want %s", err, tt.reason)
			}
		})
	}
}
