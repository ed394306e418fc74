package policy

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/tintoproject/tinto/pkg/verr"
)

func TestRevokedFunctionaryDenies(t *testing.T) {
	base := header + `rules:
  - id: bind
    verb: REQUIRE
    subject: target
    productOf: build
`
	p := mustLoad(t, base)
	d := mustEval(t, p, fixture())
	if !d.Allowed() {
		t.Fatalf("baseline denied: %s\n%s", d.Reason, dump(d))
	}
	p = mustLoad(t, base+`  - id: revoke-bob
    verb: REVOKE
    subject: functionary
    keyids: [`+keyBob+`]
    reason: laptop stolen
`)
	d = mustEval(t, p, fixture())
	if d.Allowed() {
		t.Fatalf("allowed with a revoked functionary:\n%s", dump(d))
	}
	if !errors.Is(d.Err(), verr.Revoked) {
		t.Errorf("Err() = %v, want reason revoked", d.Err())
	}
	js := dump(d)
	for _, want := range []string{keyBob, "policy:revoke-bob", `"rule": "revoke-bob"`, "laptop stolen"} {
		if !strings.Contains(js, want) {
			t.Errorf("trail does not name %q:\n%s", want, js)
		}
	}
	var rev *TrailEntry
	trail := d.Trail()
	for i := range trail {
		if trail[i].Rule == "revoke-bob" {
			rev = &trail[i]
		}
	}
	if rev == nil || len(rev.Revocations) != 1 || rev.Revocations[0].Ref.KeyID != keyBob || rev.Revocations[0].Status.Source != "policy:revoke-bob" {
		t.Errorf("revoke entry = %+v", rev)
	}
}

func dump(d *Decision) string {
	b, _ := json.MarshalIndent(d, "", "  ")
	return string(b)
}

// TestConcurrentEvaluate evaluates one compiled policy from many goroutines (run with -race).
func TestConcurrentEvaluate(t *testing.T) {
	src, err := os.ReadFile("../../examples/policies/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := Load(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := fixture()
	want := mustEval(t, p, in)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				d, err := p.Evaluate(context.Background(), in)
				if err != nil || d.Effect != want.Effect || len(d.Trail()) != len(want.Trail()) {
					t.Errorf("concurrent evaluation differs: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestPolicyIDStableAcrossFormats(t *testing.T) {
	y := mustLoad(t, header+"rules:\n- {id: a, verb: DENY, subject: target, when: 'target.length > 1'}\n")
	j := mustLoad(t, `{"apiVersion": "tinto.dev/policy/v1", "kind": "Policy", "rules": [{"id": "a", "verb": "DENY", "subject": "target", "when": "target.length > 1"}]}`)
	if y.ID() != j.ID() {
		t.Errorf("YAML %s != JSON %s", y.ID(), j.ID())
	}
	k := mustLoad(t, header+"rules:\n- {id: a, verb: DENY, subject: target, when: 'target.length > 2'}\n")
	if k.ID() == y.ID() {
		t.Error("different policies share an id")
	}
}

func TestLoadErrorIsInvalidInput(t *testing.T) {
	_, ds, err := Load([]byte("apiVersion: nope\n"), Options{})
	if !errors.Is(err, verr.ErrInvalidInput) || !ds.HasErrors() {
		t.Fatalf("err = %v, diagnostics %v", err, ds)
	}
	var d Diagnostics
	if !errors.As(err, &d) || len(d) == 0 {
		t.Errorf("the error does not carry the diagnostics: %v", err)
	}
	if _, _, err := LoadFile("testdata/does-not-exist.yaml", Options{}); err == nil {
		t.Error("LoadFile of a missing file succeeded")
	}
	p, _, err := LoadFile("../../examples/policies/default.yaml", Options{})
	if err != nil || p.ID() == "" {
		t.Errorf("LoadFile: %v", err)
	}
}
