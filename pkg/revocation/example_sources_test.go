package revocation_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/revocation"
)

func ExampleChain() {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// Local configuration: one stolen key, not authoritative for anything else.
	local, _ := revocation.NewStatic([]revocation.Entry{
		{Ref: "functionary:b0b0b0b0b0b0b0b0", Reason: "laptop stolen"},
	}, revocation.StaticOptions{Name: "local"})
	// Layouts superseded in TUF: app.layout is at version 4.
	superseded := revocation.NewSuperseded(map[string]int64{"app.layout": 4}, at)
	c := revocation.Chain{local, superseded}

	for _, ref := range []revocation.Ref{
		{Kind: revocation.KindFunctionary, KeyID: "b0b0b0b0b0b0b0b0", Step: "build"},
		{Kind: revocation.KindLayout, Name: "app.layout", Version: 3},
		{Kind: revocation.KindLayout, Name: "app.layout", Version: 4},
		{Kind: revocation.KindKey, KeyID: "a1a1a1a1a1a1a1a1"},
	} {
		st, err := c.Status(context.Background(), ref, at)
		fmt.Printf("%s %s%s: %s (%s) %s %v\n", ref.Kind, ref.KeyID, ref.Name, st.State, st.Source, st.Reason, err)
	}
	// Output:
	// functionary b0b0b0b0b0b0b0b0: revoked (static:local) laptop stolen <nil>
	// layout app.layout: revoked (superseded) superseded by version 4 <nil>
	// layout app.layout: good (superseded)  <nil>
	// key a1a1a1a1a1a1a1a1: not-revocable (superseded)  <nil>
}

func ExampleParseList() {
	signer, _ := keys.GenerateEd25519(rand.Reader)
	issued := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	env, _ := revocation.SignList(revocation.ListDocument{
		Version: 7, Issued: issued, NextUpdate: issued.Add(7 * 24 * time.Hour),
		Entries: []revocation.Entry{{Ref: "layout:sha256:1111111111111111", Reason: "signed by mistake"}},
	}, signer)

	list, err := revocation.ParseList(env, revocation.ListOptions{Keys: []*keys.Key{signer.Key}, MinVersion: 6, Name: "revocations.json"})
	if err != nil {
		fmt.Println(err)
		return
	}
	st, _ := list.Status(context.Background(), revocation.Ref{Kind: revocation.KindLayout, Digest: "sha256:1111111111111111"}, issued.Add(time.Hour))
	fmt.Println(st.State, st.Source, st.Reason)
	st, _ = list.Status(context.Background(), revocation.Ref{Kind: revocation.KindLayout, Digest: "sha256:2222222222222222"}, issued.Add(8*24*time.Hour))
	fmt.Println(st.State, "(stale after next_update)")
	// Output:
	// revoked list:revocations.json@v7 signed by mistake
	// unknown (stale after next_update)
}
