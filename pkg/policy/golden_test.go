package policy

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/tintoproject/tinto/pkg/rules"
)

var update = flag.Bool("update", false, "rewrite the golden decisions in testdata/policy")

// goldenDir holds the golden decisions (repository root testdata/policy).
const goldenDir = "../../testdata/policy"

// goldenCases are evaluated over the fixture and compared with testdata/policy/<name>.json.
var goldenCases = []struct {
	name   string
	policy string
	mutate func(*Input)
}{
	{"allow-default", "../../examples/policies/default.yaml", func(in *Input) {
		in.Layouts[0].Steps = append(in.Layouts[0].Steps, Step{Name: "package", Functionaries: []string{keyBob}, Threshold: 1,
			Links: []Link{{KeyID: keyBob, Digest: "sha256:" + string(bytes.Repeat([]byte("6"), 64)),
				Products: map[string]Digests{"app.tar.gz": rules.SHA256(appDigest)}}}})
	}},
	{"deny-unbound", "../../examples/policies/default.yaml", nil},
	{"deny-revoked-functionary", "../../examples/policies/revocations.yaml", nil},
	{"allow-weak-warning", "", nil},
}

const weakPolicy = header + `rules:
  - id: prefer-two-functionaries
    verb: REQUIRE
    strength: WEAK
    subject: step
    expect: ["step.threshold >= 2"]
  - id: prod-only
    verb: DENY
    strength: PREFERRED
    subject: target
    when: params.env != "prod"
  - id: core-team
    verb: ALLOW
    strength: MEDIUM
    subject: target
    when: target.custom.team == "core"
`

func TestGoldenDecisions(t *testing.T) {
	for _, gc := range goldenCases {
		t.Run(gc.name, func(t *testing.T) {
			src := []byte(weakPolicy)
			file := "weak.yaml"
			if gc.policy != "" {
				var err error
				if src, err = os.ReadFile(gc.policy); err != nil {
					t.Fatal(err)
				}
				file = filepath.Base(gc.policy)
			}
			p, _, err := Load(src, Options{File: file})
			if err != nil {
				t.Fatal(err)
			}
			in := fixture()
			if gc.mutate != nil {
				gc.mutate(in)
			}
			d := mustEval(t, p, in)
			got, err := json.MarshalIndent(d, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join(goldenDir, gc.name+".json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGoldenDecisions -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("decision differs from %s (rerun with -update if intended):\n%s", path, got)
			}
		})
	}
}
