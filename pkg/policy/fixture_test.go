package policy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/rules"
)

var (
	evalTime  = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	keyOwner  = "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11"
	keyAlice  = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
	keyBob    = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
	appDigest = "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592"
)

// fixture returns evidence for one layout "app.layout" with steps "clone" (alice) and "build"
// (bob) whose product app.tar.gz is the TUF target.
func fixture() *Input {
	return &Input{
		Target: &Target{Name: "app.tar.gz", Length: 1234, Hashes: map[string]string{"sha256": appDigest},
			Custom: map[string]any{"team": "core"}},
		Layouts: []Layout{{
			Name: "app.layout", Digest: "sha256:" + strings.Repeat("1", 64), Version: 3,
			Expires: evalTime.Add(30 * 24 * time.Hour), Signers: []string{keyOwner},
			Keys: []Key{{KeyID: keyAlice, KeyType: "ed25519", Scheme: "ed25519"}, {KeyID: keyBob, KeyType: "ecdsa", Scheme: "ecdsa-sha2-nistp256"}},
			Steps: []Step{
				{Name: "clone", Functionaries: []string{keyAlice}, Threshold: 1, Command: []string{"git", "clone"},
					Links: []Link{{KeyID: keyAlice, Digest: "sha256:" + strings.Repeat("2", 64),
						Products: map[string]Digests{"src/main.go": rules.SHA256(strings.Repeat("3", 64))}}}},
				{Name: "build", Functionaries: []string{keyBob}, Threshold: 1, Command: []string{"make"},
					Links: []Link{{KeyID: keyBob, Digest: "sha256:" + strings.Repeat("4", 64),
						Materials: map[string]Digests{"src/main.go": rules.SHA256(strings.Repeat("3", 64))},
						Products:  map[string]Digests{"app.tar.gz": rules.SHA256(appDigest)}}}},
			},
			Rules: []RuleResult{
				{Step: "build", Side: "materials", Rule: "MATCH * WITH PRODUCTS FROM clone", Verb: "MATCH", OK: true, Consumed: []string{"src/main.go"}},
			},
		}},
		Params: map[string]string{"env": "prod"},
		Time:   evalTime,
	}
}

func mustLoad(t testing.TB, src string) Policy {
	t.Helper()
	p, ds, err := Load([]byte(src), Options{File: "test.yaml"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, d := range ds {
		t.Logf("diagnostic: %s", d)
	}
	return p
}

func mustEval(t testing.TB, p Policy, in *Input) *Decision {
	t.Helper()
	d, err := p.Evaluate(context.Background(), in)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return d
}

const header = "apiVersion: tinto.dev/policy/v1\nkind: Policy\n"
