package policy

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tintoproject/tinto/pkg/rules"
)

// TestScratchReuse evaluates one policy over inputs of different shapes, in turn and from
// several goroutines, and checks that every decision equals that of a freshly compiled policy:
// the scratch kept between evaluations (compiled.evals) must not carry anything over.
func TestScratchReuse(t *testing.T) {
	src := header + `rules:
  - {id: no-pem, verb: DISALLOW, subject: step, artifacts: "*.pem"}
  - {id: no-key, verb: DISALLOW, subject: step, step: build, artifacts: "*.key"}
  - {id: bob, verb: REVOKE, subject: functionary, keyids: ["` + keyBob + `"]}
  - {id: ok, verb: ALLOW, subject: target}
`
	inputs := make([]*Input, 4)
	for i := range inputs {
		in := fixture()
		if i%2 == 1 { // so that no-pem's verdict on the first layout changes from one input to the next
			k := &in.Layouts[0].Steps[1].Links[0]
			k.Products = map[string]Digests{"app.tar.gz": rules.SHA256(appDigest), "bad.pem": rules.SHA256(strings.Repeat("6", 64))}
		}
		for j := 0; j < i; j++ { // more layouts, links and artifacts with i
			l := in.Layouts[0]
			l.Name = fmt.Sprintf("extra-%d.layout", j)
			l.Steps = append([]Step(nil), l.Steps...)
			k := l.Steps[1].Links[0]
			k.Products = map[string]Digests{"app.tar.gz": rules.SHA256(appDigest), fmt.Sprintf("f%d.pem", j): rules.SHA256(strings.Repeat("5", 64))}
			l.Steps[1].Links = []Link{k, k}
			in.Layouts = append(in.Layouts, l)
		}
		inputs[i] = in
	}
	want := make([]string, len(inputs))
	for i, in := range inputs {
		want[i] = decisionJSON(t, mustEval(t, mustLoad(t, src), in))
	}
	p := mustLoad(t, src)
	for round := 0; round < 4; round++ {
		for n := range inputs { // ascending, then descending, ...
			i := n
			if round%2 == 1 {
				i = len(inputs) - 1 - n
			}
			if got := decisionJSON(t, mustEval(t, p, inputs[i])); got != want[i] {
				t.Fatalf("input %d, round %d:\n%s\nwant\n%s", i, round, got, want[i])
			}
		}
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 20; n++ {
				i := (g + n) % len(inputs)
				dd := mustEval(t, p, inputs[i])
				t.Logf("%d %s", i, dd.Trail()[2].Message)
				if got := decisionJSON(t, dd); got != want[i] {
					t.Errorf("input %d from goroutine %d:\n%s\nwant\n%s", i, g, got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}

func decisionJSON(t testing.TB, d *Decision) string {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
