package verify_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/verify"
	"github.com/tintoproject/tinto/pkg/verify/verifytest"
	"github.com/tintoproject/tinto/pkg/verr"
)

// chainEvidence is what an allowed verification of the generated repository reports: the ids
// and digests of every revocable thing.
type chainEvidence struct {
	layout, owner, bob, buildLink, daveLink, sha256, sha512 string
}

func evidenceOf(t *testing.T, r *verifytest.Repo, res *verify.Result) chainEvidence {
	t.Helper()
	if len(res.Layouts) != 1 || res.Target == nil {
		t.Fatalf("unexpected evidence: %d layouts, target %v", len(res.Layouts), res.Target)
	}
	l := res.Layouts[0]
	ev := chainEvidence{
		layout: l.Digest,
		owner:  r.Owner.Key.KeyID,
		bob:    r.Functionaries["bob"].Key.KeyID,
		sha256: "sha256:" + res.Target.Hashes["sha256"],
		sha512: "sha512:" + res.Target.Hashes["sha512"],
	}
	dave := r.Functionaries["dave"].Key.KeyID
	for _, s := range l.Steps {
		for _, k := range s.Links {
			switch {
			case s.Name == "build" && k.KeyID == ev.bob:
				ev.buildLink = k.Digest
			case s.Name == "package" && k.KeyID == dave:
				ev.daveLink = k.Digest
			}
		}
	}
	if ev.layout == "" || ev.buildLink == "" || ev.daveLink == "" || ev.sha256 == "sha256:" || ev.sha512 == "sha512:" {
		t.Fatalf("incomplete evidence %+v", ev)
	}
	return ev
}

// recordingChecker answers Good for everything and records what it was asked.
type recordingChecker struct {
	mu   sync.Mutex
	refs []revocation.Ref
}

func (c *recordingChecker) Status(_ context.Context, ref revocation.Ref, _ time.Time) (revocation.Status, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refs = append(c.refs, ref)
	return revocation.Status{State: revocation.Good, Source: "recorder"}, nil
}

func (c *recordingChecker) asked(kind revocation.Kind, id, step string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(c.refs, func(r revocation.Ref) bool {
		return r.Kind == kind && r.KeyID+r.Digest == id && (step == "" || r.Step == step)
	})
}

// examplePolicy is the policy language's example policy (pkg/policy's revocation path).
func examplePolicy(t *testing.T) verify.Policy {
	t.Helper()
	doc, err := os.ReadFile("../../examples/policies/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := policy.Load(doc, policy.Options{File: "default.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRevocationLookups: with the default policy and with a policy of the policy language,
// an external checker (Options.Revocation) is asked about every revocable thing in the
// evidence, not only the target: the layout signer's key, each functionary key (for its step),
// the layout digest, each link digest and every hash of the target.
func TestRevocationLookups(t *testing.T) {
	r, s := newRepo(t, verifytest.Options{})
	for _, pc := range []struct {
		name string
		p    verify.Policy
	}{{"default policy", nil}, {"policy language", examplePolicy(t)}} {
		t.Run(pc.name, func(t *testing.T) {
			c := &recordingChecker{}
			v := newVerifier(t, r, s.URL, func(o *verify.Options) {
				o.Policy = pc.p
				o.Revocation = []revocation.Checker{c}
			})
			res, err := v.Verify(context.Background(), verifytest.DefaultPackage)
			if err != nil {
				t.Fatal(err)
			}
			ev := evidenceOf(t, r, res)
			want := []struct {
				kind     revocation.Kind
				id, step string
			}{
				{revocation.KindKey, ev.owner, ""},
				{revocation.KindLayout, ev.layout, ""},
				{revocation.KindLink, ev.buildLink, ""},
				{revocation.KindLink, ev.daveLink, ""},
				{revocation.KindArtifact, ev.sha256, ""},
				{revocation.KindArtifact, ev.sha512, ""},
			}
			for _, l := range res.Layouts {
				for _, st := range l.Steps {
					for _, k := range st.Links {
						want = append(want, struct {
							kind     revocation.Kind
							id, step string
						}{revocation.KindFunctionary, k.KeyID, st.Name}, struct {
							kind     revocation.Kind
							id, step string
						}{revocation.KindLink, k.Digest, ""})
					}
				}
			}
			for _, w := range want {
				if !c.asked(w.kind, w.id, w.step) {
					t.Errorf("checker was not asked about %s %s (step %q)", w.kind, w.id, w.step)
				}
			}
		})
	}
}

// TestRevocationCoverage revokes each revocable thing of the evidence in turn, through each kind
// of revocation source, and checks that the verification is denied with reason revoked and that
// the trail names the thing and the source, with the default policy and with a policy of the
// policy language.
func TestRevocationCoverage(t *testing.T) {
	things := []struct {
		name string
		ref  func(ev chainEvidence) (ref, mention string)
	}{
		{"layout signer key", func(ev chainEvidence) (string, string) { return "key:" + ev.owner, ev.owner }},
		{"functionary key", func(ev chainEvidence) (string, string) { return "functionary:" + ev.bob + ":build", ev.bob }},
		{"layout digest", func(ev chainEvidence) (string, string) { return "layout:" + ev.layout, ev.layout }},
		{"link digest", func(ev chainEvidence) (string, string) { return "link:" + ev.buildLink, ev.buildLink }},
		// dave's package link is not needed for the package step's threshold (carol's suffices),
		// but a revoked link is evidence that must not be there: it denies.
		{"link digest, threshold met without it", func(ev chainEvidence) (string, string) { return "link:" + ev.daveLink, ev.daveLink }},
		{"target sha256", func(ev chainEvidence) (string, string) { return "artifact:" + ev.sha256, ev.sha256 }},
		{"target sha512", func(ev chainEvidence) (string, string) { return "artifact:" + ev.sha512, ev.sha512 }},
	}
	sources := []struct {
		name   string
		repo   verifytest.Options
		source string // a substring of the answering source's name
		// revoke puts ref into the source, returning the Options change that configures it.
		revoke func(t *testing.T, r *verifytest.Repo, ref string) func(*verify.Options)
	}{
		{"repository list", verifytest.Options{}, "static:revocations.json@sha256:", func(t *testing.T, r *verifytest.Repo, ref string) func(*verify.Options) {
			if err := r.RevokeRef(ref, "coverage test"); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
		{"signed repository list", verifytest.Options{SignedRevocations: true}, "list:revocations.json@v", func(t *testing.T, r *verifytest.Repo, ref string) func(*verify.Options) {
			if err := r.RevokeRef(ref, "coverage test"); err != nil {
				t.Fatal(err)
			}
			return nil
		}},
		{"Options.Revocation", verifytest.Options{}, "static:external", func(t *testing.T, r *verifytest.Repo, ref string) func(*verify.Options) {
			c, err := revocation.NewStatic([]revocation.Entry{{Ref: ref, Reason: "coverage test"}},
				revocation.StaticOptions{Name: "external", Authoritative: true})
			if err != nil {
				t.Fatal(err)
			}
			return func(o *verify.Options) { o.Revocation = []revocation.Checker{c} }
		}},
	}
	lang := examplePolicy(t)
	for _, src := range sources {
		for _, th := range things {
			t.Run(src.name+"/"+th.name, func(t *testing.T) {
				t.Parallel()
				r, s := newRepo(t, src.repo)
				if src.repo.SignedRevocations {
					// The generated repository publishes an unsigned list; switch to a signed one.
					if err := r.Unrevoke(); err != nil {
						t.Fatal(err)
					}
				}
				res, err := newVerifier(t, r, s.URL, nil).Verify(context.Background(), verifytest.DefaultPackage)
				if err != nil {
					t.Fatalf("before the revocation: %v", err)
				}
				ref, mention := th.ref(evidenceOf(t, r, res))
				mod := src.revoke(t, r, ref)
				for _, pc := range []struct {
					name string
					p    verify.Policy
				}{{"default policy", nil}, {"policy language", lang}} {
					v := newVerifier(t, r, s.URL, func(o *verify.Options) {
						o.Policy = pc.p
						if mod != nil {
							mod(o)
						}
					})
					res, err := v.Verify(context.Background(), verifytest.DefaultPackage)
					if err == nil || res.Allowed() {
						t.Fatalf("%s: %s revoked, but allowed", pc.name, ref)
					}
					if !errors.Is(err, verr.Revoked) {
						t.Errorf("%s: want reason %q, got %v", pc.name, verr.Revoked, err)
					}
					trail := trailText(res.Decision)
					for _, w := range []string{mention, src.source} {
						if !strings.Contains(trail, w) {
							t.Errorf("%s: trail lacks %q:\n%s", pc.name, w, trail)
						}
					}
				}
			})
		}
	}
}

// trailText flattens a decision: reason, every entry's rule and message, evidence and lookups.
func trailText(d *policy.Decision) string {
	var b strings.Builder
	b.WriteString(d.Reason)
	for _, e := range d.Trail() {
		b.WriteString("\n" + e.Rule + ": " + e.Message)
		for _, ev := range e.Evidence {
			b.WriteString("\n  " + ev.Kind + " " + ev.Ref + " " + ev.Result + " " + ev.Detail)
		}
		for _, l := range e.Revocations {
			if l.Status.State == revocation.Revoked {
				b.WriteString("\n  " + string(l.Ref.Kind) + " " + l.Ref.KeyID + l.Ref.Digest + " revoked by " + l.Status.Source)
			}
		}
	}
	return b.String()
}
