package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

// checkCompact checks a built-in decision's compact trail against its materialised form: the
// JSON that MarshalJSON writes equals the JSON of the exported fields and Trail(); Len agrees;
// and combining the materialised entries again with Decide (the code path of the other
// engines, which works on TrailEntry values) gives the same effect, deciding rules, reason,
// warnings, Err and JSON.
func checkCompact(t *testing.T, what string, d *Decision) {
	t.Helper()
	if d.cp == nil {
		t.Fatalf("%s: not a compact decision", what)
	}
	got, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	trail := d.Trail()
	plain := decisionDoc{MediaType: MediaType, Effect: d.Effect, Warnings: d.Warnings, PolicyID: d.PolicyID,
		Time: d.Time, DecidedBy: d.DecidedBy, Reason: d.Reason, Trail: trail}
	want, err := json.Marshal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s: MarshalJSON differs from the materialised trail's JSON:\n%s\n%s", what, got, want)
	}
	if raw, err := d.MarshalJSON(); err != nil || string(raw) != string(want) {
		t.Fatalf("%s: MarshalJSON (not compacted by encoding/json) differs: %v\n%s\n%s", what, err, raw, want)
	}
	if d.Len() != len(trail) {
		t.Errorf("%s: Len %d, Trail has %d", what, d.Len(), len(trail))
	}
	again := d.Trail()
	for i := range again {
		again[i].OverriddenBy = nil
	}
	re := Decide(d.PolicyID, d.Time, again, nil)
	if re.Effect != d.Effect || re.Reason != d.Reason || strings.Join(re.DecidedBy, ",") != strings.Join(d.DecidedBy, ",") ||
		strings.Join(re.Warnings, "|") != strings.Join(d.Warnings, "|") {
		t.Errorf("%s: Decide over the materialised trail: %s %q %v %q; compact: %s %q %v %q", what,
			re.Effect, re.Reason, re.DecidedBy, re.Warnings, d.Effect, d.Reason, d.DecidedBy, d.Warnings)
	}
	if fmt.Sprint(re.Err()) != fmt.Sprint(d.Err()) || !errors.Is(re.Err(), errReason(d.Err())) {
		t.Errorf("%s: Err %v, over the materialised trail %v", what, d.Err(), re.Err())
	}
	reJSON, _ := json.Marshal(re)
	if string(reJSON) != string(got) {
		t.Errorf("%s: Decide over the materialised trail:\n%s\ncompact:\n%s", what, reJSON, got)
	}
}

func errReason(err error) error {
	var ve *verr.VerificationError
	if errors.As(err, &ve) {
		return ve.Reason
	}
	return err
}

// TestCompactTrail runs checkCompact over the decision table, the golden cases and random
// policies (the property tests' generator) over the mutated fixtures, with and without a
// revocation checker.
func TestCompactTrail(t *testing.T) {
	for _, tt := range decisionTests {
		in := fixture()
		if tt.mutate != nil {
			tt.mutate(in)
		}
		checkCompact(t, tt.name, mustEval(t, mustLoad(t, header+tt.policy), in))
	}
	for _, src := range []string{"../../examples/policies/default.yaml", "../../examples/policies/revocations.yaml"} {
		checkCompact(t, src, mustEval(t, mustLoad(t, string(mustRead(t, src))), fixture()))
	}
	checkCompact(t, "weak", mustEval(t, mustLoad(t, weakPolicy), fixture()))
	g := ruleGen{rand.New(rand.NewSource(11))}
	for i := 0; i < propertyIterations; i++ {
		rs := g.rules(1 + g.r.Intn(6))
		d := evalRules(t, rs, mutations[i%len(mutations)])
		checkCompact(t, strings.Join(rs, ""), d)
		if i%2 == 0 {
			p := mustLoad(t, header+"revocation: {unknown: warn}\nrules:\n"+strings.Join(rs, ""))
			in := fixture()
			in.Revocation = goodChecker()
			checkCompact(t, "checker: "+strings.Join(rs, ""), mustEval(t, p, in))
		}
	}
}

// TestCompactTrailStrings writes decisions whose evidence has strings that JSON escapes (HTML
// characters, control characters, invalid UTF-8, U+2028) and a checker whose answers have
// times, reasons and errors.
func TestCompactTrailStrings(t *testing.T) {
	odd := "<a&b>\"q\"\\ \n\t\x01\x7f\xff\u2028\u2029é"
	in := fixture()
	in.Layouts[0].Name += odd
	in.Layouts[0].Steps[0].Links[0].Products["dir/"+odd] = rules.SHA256(strings.Repeat("3", 64))
	in.Layouts[0].Keys[1].Issuer, in.Layouts[0].Keys[1].Serial = "CN="+odd, "42"
	at := evalTime.Add(-time.Hour)
	in.Revocation = checkerFunc(func(_ context.Context, ref revocation.Ref, _ time.Time) (revocation.Status, error) {
		switch ref.Kind {
		case revocation.KindCertificate:
			return revocation.Status{State: revocation.Revoked, Source: "crl" + odd, Reason: "key" + odd, RevokedAt: at, FetchedAt: at, NextUpdate: evalTime.Add(time.Hour)}, nil
		case revocation.KindLink:
			return revocation.Status{Source: "down"}, errors.New("unreachable " + odd)
		}
		return revocation.Status{State: revocation.Good, Source: "test", FetchedAt: at}, nil
	})
	for _, src := range []string{
		"rules:\n- {id: a, verb: ALLOW, subject: artifact, message: 'msg <a&b> é'}\n- {id: w, verb: REQUIRE, strength: WEAK, subject: step, expect: ['step.threshold >= 2']}\n",
		"revocation: {unknown: warn}\nrules:\n- {id: d, verb: DISALLOW, subject: step, artifacts: '*.pem'}\n- {id: k, verb: REVOKE, subject: key, keyids: ['" + keyAlice + "'], reason: stolen}\n",
	} {
		checkCompact(t, src, mustEval(t, mustLoad(t, header+src), in))
	}
}

// FuzzAppendJSONString compares appendJSONString with encoding/json.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "<a&b>", "\x00\x1f\x7f", "\xff\xfe", "\u2028\u2029", "é\"\\", "\b\f\n\r\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("%q: %s, encoding/json %s", s, got, want)
		}
	})
}

// TestReasonCodes checks that every reason the built-in engine gives survives its compact code.
func TestReasonCodes(t *testing.T) {
	for _, r := range []verr.Reason{"", verr.PolicyDenied, verr.Revoked, verr.Unknown, verr.LayoutInvalid,
		verr.Expired, verr.Threshold, verr.RuleFailed, verr.TargetUnbound} {
		var e centry
		e.setReason(r)
		if got := e.getReason(); got != r {
			t.Errorf("reason %q comes back as %q", r, got)
		}
	}
	if _, ok := reasonCode(verr.BadSignature); ok {
		t.Errorf("a reason the engine never gives has a code")
	}
}

// TestDecisionConcurrentReads reads one decision from several goroutines (run with -race).
func TestDecisionConcurrentReads(t *testing.T) {
	d := mustEval(t, mustLoad(t, weakPolicy), fixture())
	want, _ := json.Marshal(d)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				tr := d.Trail()
				tr[0].Message = "changed" // the caller's copy
				if got, _ := json.Marshal(d); string(got) != string(want) {
					t.Errorf("concurrent read:\n%s\nwant\n%s", got, want)
					return
				}
				_ = d.Err()
			}
		}()
	}
	wg.Wait()
}

// TestDecisionJSONRoundTrip decodes a decision's JSON and encodes it again.
func TestDecisionJSONRoundTrip(t *testing.T) {
	d := mustEval(t, mustLoad(t, weakPolicy), fixture())
	b, _ := json.Marshal(d)
	var back Decision
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(&back)
	if string(b) != string(b2) || back.Len() != d.Len() {
		t.Errorf("round trip:\n%s\n%s", b, b2)
	}
}

// TestPrepare checks that Input.Prepare changes no decision: random evidence with valid and
// invalid artifact names, random DISALLOW and CREATE rules, evaluated with and without Prepare.
// Prepare must refuse evidence with an invalid name (and then record nothing).
func TestPrepare(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	names := []string{"src/main.go", "key.pem", "secret.key", "lib/a.pem", "README", "app.tar.gz", "../escape", "a//b", "dir/"}
	patterns := []string{"*.pem", "*.key", "*", "src/*", "README", "nothing"}
	artifacts := func(bad bool) map[string]Digests {
		m := map[string]Digests{}
		for i, n := 0, r.Intn(5); i < n; i++ {
			name := names[r.Intn(len(names))]
			if rules.ValidateName(name) != nil && !bad {
				continue
			}
			m[name] = rules.SHA256(strings.Repeat(fmt.Sprint(i), 64))
		}
		return m
	}
	for iter := 0; iter < 60; iter++ {
		bad := iter%3 == 0
		in := fixture()
		in.Layouts = nil
		for li, nl := 0, 1+r.Intn(3); li < nl; li++ {
			l := Layout{Name: fmt.Sprintf("l%d", li), Digest: "sha256:" + strings.Repeat("1", 64), Expires: evalTime.AddDate(1, 0, 0), Signers: []string{keyOwner}}
			for _, sn := range []string{"clone", "build", "package"} {
				s := Step{Name: sn, Functionaries: []string{keyAlice}, Threshold: 1}
				for ki, nk := 0, r.Intn(3); ki < nk; ki++ {
					s.Links = append(s.Links, Link{KeyID: keyAlice, Digest: fmt.Sprintf("sha256:%064d", ki), Materials: artifacts(bad), Products: artifacts(bad)})
				}
				l.Steps = append(l.Steps, s)
			}
			in.Layouts = append(in.Layouts, l)
		}
		var rs []string
		for i, n := 0, 1+r.Intn(4); i < n; i++ {
			verb := "DISALLOW"
			if r.Intn(3) == 0 {
				verb = "CREATE"
			}
			side := ""
			if r.Intn(3) == 0 {
				side = ", side: materials"
			}
			rs = append(rs, fmt.Sprintf("- {id: d%d, verb: %s, subject: step, artifacts: %q%s}\n", i, verb, patterns[r.Intn(len(patterns))], side))
		}
		p := mustLoad(t, header+"layouts: {require: any}\nrules:\n"+strings.Join(rs, ""))
		want, _ := json.Marshal(mustEval(t, p, in))
		invalid := false
		for _, l := range in.Layouts {
			for _, s := range l.Steps {
				for _, k := range s.Links {
					for _, m := range []map[string]Digests{k.Materials, k.Products} {
						for n := range m {
							invalid = invalid || rules.ValidateName(n) != nil
						}
					}
				}
			}
		}
		err := in.Prepare()
		if (err != nil) != invalid || allPrepared(in) == invalid {
			t.Fatalf("Prepare = %v with invalid names %v (prepared %v)", err, invalid, allPrepared(in))
		}
		got, _ := json.Marshal(mustEval(t, p, in))
		if string(got) != string(want) {
			t.Fatalf("%s\nprepared:\n%s\nnot prepared:\n%s", strings.Join(rs, ""), got, want)
		}
	}
}

// TestPrepareVoided checks that what Prepare recorded does not outlive the layouts it checked:
// a literal Input is never prepared, and replacing Layouts (or a link side's names changing
// in number) brings back the per-evaluation check.
func TestPrepareVoided(t *testing.T) {
	p := mustLoad(t, header+"rules:\n- {id: a, verb: DISALLOW, subject: step, artifacts: '*.pem'}\n- {id: b, verb: DISALLOW, subject: step, artifacts: '*.key'}\n")
	in := fixture()
	if allPrepared(in) {
		t.Fatal("a literal Input counts as prepared")
	}
	if err := in.Prepare(); err != nil || !allPrepared(in) {
		t.Fatalf("Prepare: %v", err)
	}
	denied := func(in *Input) bool { return !mustEval(t, p, in).Allowed() }
	if denied(in) {
		t.Fatal("the fixture is denied")
	}
	// Another steps slice with an invalid name: not prepared, so the name is checked.
	c := *in
	c.Layouts = append([]Layout(nil), in.Layouts...)
	c.Layouts[0].Steps = append([]Step(nil), c.Layouts[0].Steps...)
	c.Layouts[0].Steps[0].Links = []Link{{KeyID: keyAlice, Digest: "sha256:" + strings.Repeat("2", 64),
		Products: map[string]Digests{"../x": rules.SHA256(strings.Repeat("3", 64))}}}
	if c.Layouts[0].namesValidated() || !denied(&c) {
		t.Error("replaced steps with an invalid name: still prepared, or allowed")
	}
	// A copy of a prepared layout is prepared (the evidence a caller caches and reuses).
	c2 := *in
	c2.Layouts = append([]Layout(nil), in.Layouts...)
	if !allPrepared(&c2) {
		t.Error("a copy of a prepared layout is not prepared")
	}
	// A name added to a prepared map (which the documentation forbids) is still scanned.
	in.Layouts[0].Steps[0].Links[0].Products["x.pem"] = rules.SHA256(strings.Repeat("3", 64))
	if !denied(in) {
		t.Error("a name added after Prepare was not scanned")
	}
}

func allPrepared(in *Input) bool {
	for i := range in.Layouts {
		if !in.Layouts[i].namesValidated() {
			return false
		}
	}
	return len(in.Layouts) > 0
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCompactRecordSizes(t *testing.T) {
	// The records are pointer-free and small: a decision's trail costs a few hundred bytes.
	for _, x := range []struct {
		name string
		v    any
		max  uintptr
	}{{"centry", centry{}, 32}, {"cev", cev{}, 24}, {"clk", clk{}, 28}} {
		if s := reflect.TypeOf(x.v).Size(); s > x.max {
			t.Errorf("%s is %d bytes, want at most %d", x.name, s, x.max)
		}
	}
}
