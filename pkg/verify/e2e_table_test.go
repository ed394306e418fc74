package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/intoto"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/tuf/publish"
	"github.com/tintoproject/tinto/pkg/verify"
	"github.com/tintoproject/tinto/pkg/verify/verifytest"
	"github.com/tintoproject/tinto/pkg/verr"
)

// e2eCase stages one attack or failure against a freshly generated repository served over
// loopback HTTP, and states what Verifier.Verify must conclude.
type e2eCase struct {
	name string
	repo verifytest.Options
	// stage alters the repository (and may verify once first, for rollback) before the final
	// verification. v is the verifier the final verification uses.
	stage func(t *testing.T, r *verifytest.Repo, v *verify.Verifier)
	opts  func(o *verify.Options)
	// target defaults to verifytest.DefaultPackage.
	target string
	// want: allowed, or denied with reason (a verr.Reason) or operational (reason "").
	allowed bool
	reason  verr.Reason
	// input: the denial is a *verr.InputError.
	input bool
	// warn is a substring of a decision warning (allowed cases).
	warn string
	// trail is a substring the decision's trail or reason must contain.
	trail string
}

func republishChain(t *testing.T, r *verifytest.Repo, co verifytest.ChainOptions) {
	t.Helper()
	c, data, err := r.MakeChainWith(verifytest.DefaultPackage, 3, co)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.AddPackageWith(verifytest.DefaultPackage, data, c); err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(); err != nil {
		t.Fatal(err)
	}
}

// linksOnly republishes the package with custom["in-toto"] listing its links only.
func linksOnly(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
	var links []any
	for name := range r.TUF.Roles["targets"].Targets {
		if strings.HasPrefix(name, verifytest.LinkDir(verifytest.DefaultPackage)+"/") {
			links = append(links, name)
		}
	}
	if err := r.TUF.AddTarget("targets", verifytest.DefaultPackage, r.Packages[verifytest.DefaultPackage], map[string]any{"in-toto": links}); err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(); err != nil {
		t.Fatal(err)
	}
}

// withParamLayout publishes a layout whose package step names the package as {PACKAGE}.
func withParamLayout(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
	l := r.Layout(t0.Add(365 * 24 * time.Hour))
	l.Steps[2].ExpectedProducts = [][]string{{"MATCH", "{PACKAGE}", "WITH", "PRODUCTS", "FROM", "build"}, {"DISALLOW", "*"}}
	b, err := r.SignLayout(l, r.Owner)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetLayout(b); err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(); err != nil {
		t.Fatal(err)
	}
}

func runInspections(o *verify.Options) { o.Inspections = verify.InspectionsRunUnsafe }

// withInspection adds ITE-3's kind of inspection to the layout: the command checks that file is
// in the working directory, and the rules that the package there is the package step's product.
func withInspection(file string) func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
	return func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		l := r.Layout(t0.Add(365 * 24 * time.Hour))
		l.Inspections = []intoto.Inspection{{Name: "check-package", Run: []string{"test", "-f", file},
			ExpectedMaterials: [][]string{{"MATCH", "*.tar.gz", "WITH", "PRODUCTS", "FROM", "package"}, {"DISALLOW", "*"}},
			ExpectedProducts:  [][]string{{"ALLOW", "*.tar.gz"}, {"DISALLOW", "*"}}}}
		b, err := r.SignLayout(l, r.Owner)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.SetLayout(b); err != nil {
			t.Fatal(err)
		}
		if err := r.Publish(); err != nil {
			t.Fatal(err)
		}
	}
}

// moveToDelegated moves a target from the top-level targets role to a delegated role.
func moveToDelegated(t *testing.T, r *verifytest.Repo, name string) {
	t.Helper()
	if _, err := r.TUF.Delegate("targets", publish.DelegatedRole{Name: "online", Paths: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	tf := r.TUF.Roles["targets"].Targets[name]
	r.TUF.RemoveTarget("targets", name)
	if err := r.TUF.AddTarget("online", name, tf.Data, tf.Custom); err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(); err != nil {
		t.Fatal(err)
	}
}

func mustVerify(t *testing.T, v *verify.Verifier) {
	t.Helper()
	if _, err := v.Verify(context.Background(), verifytest.DefaultPackage); err != nil {
		t.Fatalf("first verification: %v", err)
	}
}

var e2eCases = []e2eCase{
	{name: "allowed", allowed: true},
	{name: "allowed-dsse", repo: verifytest.Options{DSSE: true}, allowed: true},
	{name: "allowed-attestation-bundle", repo: verifytest.Options{DSSE: true, Bundle: true}, allowed: true},
	{name: "bundle-with-provenance", repo: verifytest.Options{DSSE: true, Bundle: true}, allowed: true, warn: "not a link", stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		// The bundle also carries a provenance statement: not evidence for the layout, ignored.
		p := verifytest.LinkDir(verifytest.DefaultPackage) + "/links.intoto.jsonl"
		tf := r.TUF.Roles["targets"].Targets[p]
		env, err := intoto.SignDSSEValue(map[string]any{"_type": "https://in-toto.io/Statement/v1",
			"subject":       []any{map[string]any{"name": "demo-app-1.0.0.tar.gz", "digest": map[string]any{"sha256": strings.Repeat("0", 64)}}},
			"predicateType": "https://slsa.dev/provenance/v1", "predicate": map[string]any{"buildDefinition": map[string]any{}}},
			r.Functionaries["bob"])
		if err != nil {
			t.Fatal(err)
		}
		if err := r.TUF.AddTarget("targets", p, append(append(bytes.Clone(tf.Data), '\n'), env...), nil); err != nil {
			t.Fatal(err)
		}
		if err := r.Publish(); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "allowed-metablock-layout-bundle", repo: verifytest.Options{Bundle: true}, allowed: true},

	// TUF attacks.
	{name: "tampered-artifact", reason: verr.Mismatch, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		b := bytes.Clone(r.Packages[verifytest.DefaultPackage])
		b[0] ^= 1
		r.Tamper(verifytest.DefaultPackage, b)
	}},
	{name: "endless-artifact", reason: verr.EndlessData, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		r.Tamper(verifytest.DefaultPackage, append(bytes.Clone(r.Packages[verifytest.DefaultPackage]), make([]byte, 1<<16)...))
	}},
	{name: "rollback-timestamp", reason: verr.Rollback, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		old := r.Snapshot()
		if err := r.Publish(); err != nil {
			t.Fatal(err)
		}
		mustVerify(t, v)
		r.Restore(old) // the mirror replays version 1
	}},
	{name: "rollback-undoes-revocation", reason: verr.Rollback, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		old := r.Snapshot()
		if err := r.Revoke(r.Functionaries["dave"].Key.KeyID, "laptop stolen"); err != nil {
			t.Fatal(err)
		}
		mustVerify(t, v)
		r.Restore(old)
	}},
	{name: "freeze", reason: verr.Freeze, opts: func(o *verify.Options) {
		o.Now = func() time.Time { return t0.Add(2 * 365 * 24 * time.Hour) }
	}},
	{name: "targets-bad-signature", reason: verr.BadSignature, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		// A man in the middle edits the package's hashes in targets.json.
		name := "1.targets.json"
		doc := string(r.TUF.Files[name])
		h := r.TUF.Roles["targets"].Targets[verifytest.DefaultPackage].Hashes["sha256"]
		r.TamperMetadata(name, []byte(strings.ReplaceAll(doc, h, strings.Repeat("0", len(h)))))
	}},
	{name: "unbound-target", reason: verr.TargetUnbound, trail: "binding", stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		// An attacker holding the online targets key publishes a package that no build made,
		// with the genuine links.
		c, _, err := r.MakeChain(verifytest.DefaultPackage, 3)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.AddPackageWith(verifytest.DefaultPackage, []byte("malware"), c); err != nil {
			t.Fatal(err)
		}
		if err := r.Publish(); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "unknown-target", target: "demo-app/nope.tar.gz", reason: verr.NotFound},

	// in-toto failures.
	{name: "missing-link", reason: verr.MissingLink, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		republishChain(t, r, verifytest.ChainOptions{Omit: []string{"build"}})
	}},
	{name: "bundle-missing-link", repo: verifytest.Options{DSSE: true, Bundle: true}, reason: verr.MissingLink, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		republishChain(t, r, verifytest.ChainOptions{Omit: []string{"clone"}})
	}},
	{name: "link-wrong-functionary", reason: verr.MissingLink, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		republishChain(t, r, verifytest.ChainOptions{Signers: map[string][]string{"build": {"carol"}}})
	}},
	{name: "rule-failed", reason: verr.RuleFailed, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		// The build step used a source file that the clone step did not produce.
		republishChain(t, r, verifytest.ChainOptions{Mutate: func(l *intoto.Link) {
			if l.Name == "build" {
				m := maps.Clone(l.Materials)
				m["src/f000.c"] = rules.SHA256(strings.Repeat("ab", 32))
				l.Materials = m
			}
		}})
	}},
	{name: "layout-wrong-key", reason: verr.BadSignature, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		other, err := keys.GenerateEd25519(nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := r.SignLayout(r.Layout(t0.Add(365*24*time.Hour)), other)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.SetLayout(b); err != nil {
			t.Fatal(err)
		}
		if err := r.Publish(); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "layout-expired", reason: verr.Expired, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		b, err := r.SignLayout(r.Layout(t0.Add(time.Minute)), r.Owner)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.SetLayout(b); err != nil {
			t.Fatal(err)
		}
		if err := r.Publish(); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "inspection-refused", reason: verr.Inspection, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		l := r.Layout(t0.Add(365 * 24 * time.Hour))
		l.Inspections = []intoto.Inspection{{Name: "untar", Run: []string{"tar", "xzf", "demo-app-1.0.0.tar.gz"},
			ExpectedMaterials: [][]string{{"ALLOW", "*"}}, ExpectedProducts: [][]string{{"ALLOW", "*"}}}}
		b, err := r.SignLayout(l, r.Owner)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.SetLayout(b); err != nil {
			t.Fatal(err)
		}
		if err := r.Publish(); err != nil {
			t.Fatal(err)
		}
	}},

	{name: "inspection-run-unsafe", allowed: true, opts: runInspections, stage: withInspection("demo-app-1.0.0.tar.gz")},
	{name: "inspection-run-unsafe-fails", reason: verr.Inspection, opts: runInspections, stage: withInspection("other.tar.gz")},

	// ITE-3's role layout: packages and links signed by online, terminating delegations; the
	// layout, its keys and the revocation list by the top-level targets role.
	{name: "ite3-delegated-packages-and-links", allowed: true, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		top := r.TUF.Roles["targets"]
		if _, err := r.TUF.Delegate("targets", publish.DelegatedRole{Name: "wheels-signer", Paths: []string{"demo-app/*.tar.gz"}, Terminating: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.TUF.Delegate("targets", publish.DelegatedRole{Name: "in-toto-metadata-signer", Paths: []string{"in-toto-metadata/*/*/*.link"}, Terminating: true}); err != nil {
			t.Fatal(err)
		}
		for name, tf := range top.Targets {
			role := ""
			switch {
			case strings.HasSuffix(name, ".tar.gz"):
				role = "wheels-signer"
			case strings.HasSuffix(name, ".link"):
				role = "in-toto-metadata-signer"
			default:
				continue
			}
			r.TUF.RemoveTarget("targets", name)
			if err := r.TUF.AddTarget(role, name, tf.Data, tf.Custom); err != nil {
				t.Fatal(err)
			}
		}
		if top.Targets[verifytest.DefaultPackage] != nil || len(r.TUF.Roles["in-toto-metadata-signer"].Targets) != 4 {
			t.Fatal("the package and its links were not moved to the delegated roles")
		}
		if err := r.Publish(); err != nil {
			t.Fatal(err)
		}
	}},

	// ITE-3's deployment: packages list only their links, the root layout is at a fixed path.
	{name: "ite3-fixed-root-layout", allowed: true, opts: func(o *verify.Options) { o.RootLayout = verifytest.LayoutPath }, stage: linksOnly},
	{name: "ite3-no-root-layout-configured", reason: verr.LayoutInvalid, stage: linksOnly},
	// ITE-3's parameter substitution.
	{name: "params", allowed: true, stage: withParamLayout, opts: func(o *verify.Options) {
		o.Params = func(target string) map[string]string { return map[string]string{"PACKAGE": path.Base(target)} }
	}},
	{name: "params-missing", reason: verr.LayoutInvalid, stage: withParamLayout},

	// Revocation.
	{name: "revoked-functionary-threshold-met", allowed: true, warn: "revoked", stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		if err := r.Revoke(r.Functionaries["dave"].Key.KeyID, "laptop stolen"); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "revoked-functionary-denied", reason: verr.Revoked, trail: "revoked", stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		if err := r.Revoke(r.Functionaries["bob"].Key.KeyID, "key compromised"); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "signed-revocation-list-allowed", repo: verifytest.Options{SignedRevocations: true}, allowed: true, warn: "revoked", stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		if err := r.Revoke(r.Functionaries["dave"].Key.KeyID, "laptop stolen"); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "signed-revocation-list-denied", repo: verifytest.Options{SignedRevocations: true}, reason: verr.Revoked, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		if err := r.Revoke(r.Functionaries["bob"].Key.KeyID, "key compromised"); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "signed-revocation-list-wrong-key", repo: verifytest.Options{SignedRevocations: true}, reason: verr.BadSignature, trail: "revocation",
		opts: func(o *verify.Options) {
			k, _ := keys.GenerateEd25519(nil)
			o.RevocationKeys = []*keys.Key{k.Key}
		}},
	{name: "no-revocation-list", repo: verifytest.Options{NoRevocationList: true}, reason: verr.NotFound, trail: "revocation"},
	{name: "no-revocation-list-unsafe", repo: verifytest.Options{NoRevocationList: true}, allowed: false, reason: verr.PolicyDenied, trail: "revocation status unknown",
		opts: func(o *verify.Options) { o.NoRevocationListUnsafe = true }},

	{name: "revocation-list-delegated", reason: verr.NotFound, trail: "top-level", stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		// An online, delegated role publishes an (empty) list; only the top-level role may.
		moveToDelegated(t, r, verifytest.RevocationsPath)
	}},
	{name: "layout-delegated", reason: verr.NotFound, trail: "top-level", stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		moveToDelegated(t, r, verifytest.LayoutPath)
	}},

	// Hostile custom metadata.
	{name: "custom-traversal", input: true, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		if err := r.TUF.AddTarget("targets", verifytest.DefaultPackage, r.Packages[verifytest.DefaultPackage],
			map[string]any{"in-toto": []any{verifytest.LayoutPath, "in-toto-metadata/../x.link"}}); err != nil {
			t.Fatal(err)
		}
		if err := r.Publish(); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "custom-unlisted-link", reason: verr.NotFound, stage: func(t *testing.T, r *verifytest.Repo, v *verify.Verifier) {
		if err := r.TUF.AddTarget("targets", verifytest.DefaultPackage, r.Packages[verifytest.DefaultPackage],
			map[string]any{"in-toto": []any{verifytest.LayoutPath, "in-toto-metadata/demo-app/evil.12345678.link"}}); err != nil {
			t.Fatal(err)
		}
		if err := r.Publish(); err != nil {
			t.Fatal(err)
		}
	}},
}

// TestEndToEnd drives every case through Verifier.Verify against a repository served over
// loopback HTTP.
func TestEndToEnd(t *testing.T) {
	for _, tc := range e2eCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, s := newRepo(t, tc.repo)
			v := newVerifier(t, r, s.URL, tc.opts)
			if tc.stage != nil {
				tc.stage(t, r, v)
			}
			target := tc.target
			if target == "" {
				target = verifytest.DefaultPackage
			}
			res, err := v.Verify(context.Background(), target)
			if res == nil || res.Decision == nil {
				t.Fatalf("no result or decision (err %v)", err)
			}
			if _, jerr := json.Marshal(res); jerr != nil {
				t.Fatalf("result does not marshal: %v", jerr)
			}
			trail := res.Decision.Reason
			for _, e := range res.Decision.Trail() {
				trail += "\n" + e.Rule + ": " + e.Message
			}
			trail += "\n" + strings.Join(res.Decision.Warnings, "\n")
			if tc.allowed {
				if err != nil || !res.Allowed() {
					t.Fatalf("want allowed, got err %v\ntrail: %s", err, trail)
				}
				if tc.warn != "" && !strings.Contains(strings.Join(res.Decision.Warnings, "\n"), tc.warn) {
					t.Errorf("warnings %q lack %q", res.Decision.Warnings, tc.warn)
				}
				return
			}
			if err == nil || res.Allowed() {
				t.Fatalf("want denied, got allowed (err %v)\ntrail: %s", err, trail)
			}
			if res.Decision.Effect != "deny" {
				t.Errorf("decision effect %q with error %v", res.Decision.Effect, err)
			}
			switch {
			case tc.input:
				if !errors.Is(err, verr.ErrInvalidInput) {
					t.Errorf("want an input error, got %v", err)
				}
			default:
				if !errors.Is(err, tc.reason) {
					r, _ := verr.ReasonOf(err)
					t.Errorf("want reason %q, got %q: %v", tc.reason, r, err)
				}
			}
			if tc.trail != "" && !strings.Contains(trail+"\n"+err.Error(), tc.trail) {
				t.Errorf("trail lacks %q:\n%s\nerr: %v", tc.trail, trail, err)
			}
		})
	}
}
