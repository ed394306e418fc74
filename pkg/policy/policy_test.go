package policy

import (
	"encoding/json"
	"errors"
	"strings"
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
	for i := range d.Trail {
		if d.Trail[i].Rule == "revoke-bob" {
			rev = &d.Trail[i]
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
