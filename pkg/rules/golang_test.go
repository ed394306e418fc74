package rules

import (
	"strings"
	"testing"

	intoto "github.com/in-toto/in-toto-golang/in_toto"
)

// golangKnownWrong reports whether a case uses something in-toto-golang v0.11.0 is known to get
// wrong or to do differently (docs/rules.md, "Differences from in-toto-golang"): MATCH prefixes,
// bracket expressions and backslashes in patterns, and names that path.Clean rewrites (URIs).
func golangKnownWrong(c diffCase) bool {
	for _, r := range c.Rules {
		if len(r) > 6 { // MATCH with IN
			return true
		}
		if strings.ContainsAny(r[1], "[]\\") {
			return true
		}
	}
	for _, sides := range c.Steps {
		for _, a := range sides {
			for n := range a {
				if strings.Contains(n, "://") {
					return true
				}
			}
		}
	}
	return false
}

// TestCrossCheckInTotoGolang compares the verdict with in-toto-golang's VerifyArtifacts on the
// generated cases where in-toto-golang is not known to be wrong.
func TestCrossCheckInTotoGolang(t *testing.T) {
	g := newGen(*flagSeed + 200)
	n, want := 8000, 300
	if testing.Short() {
		n, want = 2000, 75
	}
	checked := 0
	for range n {
		c := g.diffCase()
		if golangKnownWrong(c) {
			continue
		}
		checked++
		rs, err := ParseList(c.Rules)
		if err != nil {
			t.Fatal(err)
		}
		side := Materials
		if c.Side == "products" {
			side = Products
		}
		steps := func(name string) (StepArtifacts, bool) {
			s, ok := c.Steps[name]
			return StepArtifacts{Materials: s["materials"], Products: s["products"]}, ok
		}
		self, _ := steps(c.Self)
		res := MustCompile(rs).Run(side, self, steps)

		step := intoto.Step{}
		step.Name = c.Self
		if side == Products {
			step.ExpectedProducts = c.Rules
		} else {
			step.ExpectedMaterials = c.Rules
		}
		md := map[string]intoto.Metadata{}
		for name, s := range c.Steps {
			md[name] = &intoto.Metablock{Signed: intoto.Link{Name: name,
				Materials: toGolang(s["materials"]), Products: toGolang(s["products"])}}
		}
		gerr := intoto.VerifyArtifacts([]interface{}{step}, md)
		if (gerr == nil) != (res.Err == nil) {
			t.Errorf("tinto: %v\nin-toto-golang: %v\n%v", res.Err, gerr, c)
		}
	}
	if checked < want {
		t.Fatalf("only %d cases cross-checked", checked)
	}
	t.Logf("%d cases cross-checked with in-toto-golang", checked)
}
