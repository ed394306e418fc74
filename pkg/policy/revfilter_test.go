package policy

import (
	"strings"
	"testing"

	"github.com/tintoproject/tinto/pkg/revocation"
)

// TestRevokedByCase checks that the lookup fast paths (filter, lower-case map hit) find revoked
// keys and digests whatever the case of the id in the evidence.
func TestRevokedByCase(t *testing.T) {
	key := strings.Repeat("ab", 31) + "c9"
	dig := "sha256:" + strings.Repeat("0f", 32)
	src := `apiVersion: tinto.dev/policy/v1
kind: Policy
rules:
  - {id: k, verb: REVOKE, subject: key, keyids: ["` + strings.ToUpper(key) + `"]}
  - {id: d, verb: REVOKE, subject: link, digests: ["` + dig + `"]}
`
	p, _, err := Load([]byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := p.(*compiled)
	for _, tc := range []struct {
		ref  revocation.Ref
		want string
	}{
		{revocation.Ref{Kind: revocation.KindKey, KeyID: key}, "k"},
		{revocation.Ref{Kind: revocation.KindKey, KeyID: strings.ToUpper(key)}, "k"},
		{revocation.Ref{Kind: revocation.KindKey, KeyID: key[:62] + "ca"}, ""},
		{revocation.Ref{Kind: revocation.KindKey, KeyID: "\u212a"}, ""},
		{revocation.Ref{Kind: revocation.KindLink, Digest: dig}, "d"},
		{revocation.Ref{Kind: revocation.KindLink, Digest: strings.ToUpper(dig)}, "d"},
		{revocation.Ref{Kind: revocation.KindLayout, Digest: dig}, ""},
		{revocation.Ref{Kind: revocation.KindLink, Digest: ""}, ""},
	} {
		r := c.revokedBy(&tc.ref)
		got := ""
		if r != nil {
			got = r.id
		}
		if got != tc.want {
			t.Errorf("%+v: revoked by %q, want %q", tc.ref, got, tc.want)
		}
	}
}
