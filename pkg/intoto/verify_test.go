package intoto

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/verr"
)

var testNow = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

func genChain(t testing.TB, spec ChainSpec) *Chain {
	t.Helper()
	if spec.Now.IsZero() {
		spec.Now = testNow
	}
	c, err := GenerateChain(spec)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func chainOpts(c *Chain) Options {
	return Options{
		LayoutKeys: []*keys.Key{c.Owner.Key},
		Links:      c.Links,
		Now:        func() time.Time { return testNow.Add(time.Hour) },
	}
}

func TestVerifyChains(t *testing.T) {
	tests := []struct {
		name   string
		spec   ChainSpec
		reason verr.Reason // "" = verifies
	}{
		{"ed25519", ChainSpec{}, ""},
		{"ecdsa", ChainSpec{KeyType: "ecdsa"}, ""},
		{"dsse", ChainSpec{Format: FormatDSSE}, ""},
		{"statement-v0.3", ChainSpec{Format: FormatStatement, PredicateType: PredicateLinkV03}, ""},
		{"statement-v0.2", ChainSpec{Format: FormatStatement, PredicateType: PredicateLinkV02}, ""},
		{"threshold-2", ChainSpec{Functionaries: 2}, ""},
		{"inspection-prerecorded", ChainSpec{Inspection: true}, ""},
		{"tamper-artifact", ChainSpec{Tamper: "artifact"}, verr.RuleFailed},
		{"tamper-extra-product", ChainSpec{Tamper: "extra-product"}, verr.RuleFailed},
		{"tamper-missing-link", ChainSpec{Tamper: "missing-link"}, verr.MissingLink},
		{"tamper-bad-signature", ChainSpec{Tamper: "bad-signature"}, verr.Threshold},
		{"tamper-expired", ChainSpec{Tamper: "expired"}, verr.Expired},
		{"tamper-wrong-key", ChainSpec{Tamper: "wrong-key"}, verr.BadSignature},
		{"tamper-link-mismatch", ChainSpec{Functionaries: 2, Tamper: "link-mismatch"}, verr.LinkMismatch},
		{"dsse-tamper-artifact", ChainSpec{Format: FormatDSSE, Tamper: "artifact"}, verr.RuleFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := genChain(t, tt.spec)
			res, err := Verify(context.Background(), c.Layout, chainOpts(c))
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if !res.Verified || len(res.Steps) != 3 {
					t.Fatalf("result %+v", res)
				}
				for _, s := range res.Steps {
					if len(s.Signers) < s.Threshold || s.Materials == nil || s.Products == nil {
						t.Errorf("step %s: %+v", s.Name, s)
					}
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify succeeded, want %s", tt.reason)
			}
			if !errors.Is(err, tt.reason) {
				t.Fatalf("Verify: %v, want reason %s", err, tt.reason)
			}
			if res != nil && res.Verified {
				t.Fatal("Verified set on failure")
			}
		})
	}
}

func TestInspectionWithoutLinkRefused(t *testing.T) {
	c := genChain(t, ChainSpec{Inspection: true})
	for n := range c.Links {
		if len(n) > 14 && n[:14] == "verify-package" {
			delete(c.Links, n)
		}
	}
	_, err := Verify(context.Background(), c.Layout, chainOpts(c))
	if !errors.Is(err, verr.Inspection) {
		t.Fatalf("got %v, want inspection", err)
	}
}

func TestLayoutThreshold(t *testing.T) {
	c := genChain(t, ChainSpec{})
	other, _ := keys.GenerateEd25519(nil)
	opts := chainOpts(c)
	opts.LayoutKeys = append(opts.LayoutKeys, other.Key)
	if _, err := Verify(context.Background(), c.Layout, opts); !errors.Is(err, verr.BadSignature) {
		t.Fatalf("all keys required: got %v", err)
	}
	opts.LayoutThreshold = 1
	if _, err := Verify(context.Background(), c.Layout, opts); err != nil {
		t.Fatalf("1 of 2: %v", err)
	}
	opts.LayoutThreshold = 2
	if _, err := Verify(context.Background(), c.Layout, opts); !errors.Is(err, verr.Threshold) {
		t.Fatalf("2 of 2 with one signature: got %v", err)
	}
	opts.LayoutKeys = nil
	if _, err := Verify(context.Background(), c.Layout, opts); !errors.Is(err, verr.BadSignature) {
		t.Fatalf("no keys: got %v", err)
	}
}

type revoker struct {
	state revocation.State
	err   error
	keyid string
}

func (r revoker) Status(_ context.Context, ref revocation.Ref, _ time.Time) (revocation.Status, error) {
	if ref.KeyID != r.keyid {
		return revocation.Status{State: revocation.Good}, nil
	}
	return revocation.Status{State: r.state, Source: "test"}, r.err
}

func TestRevocation(t *testing.T) {
	c := genChain(t, ChainSpec{})
	fk := c.Functionaries["build"][0].Key.KeyID
	for _, tc := range []struct {
		r    revoker
		want verr.Reason
	}{
		{revoker{state: revocation.Revoked, keyid: fk}, verr.Revoked},
		{revoker{state: revocation.Unknown, keyid: fk}, verr.Unknown},
		{revoker{err: errors.New("offline"), keyid: fk}, verr.Unknown},
		{revoker{state: revocation.Revoked, keyid: c.Owner.Key.KeyID}, verr.BadSignature},
		{revoker{state: revocation.NotRevocable, keyid: fk}, ""},
	} {
		opts := chainOpts(c)
		opts.Revocation = tc.r
		res, err := Verify(context.Background(), c.Layout, opts)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.r, err)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%+v: got %v, want %s", tc.r, err, tc.want)
		}
		if len(res.Revocations) == 0 {
			t.Errorf("%+v: no revocation recorded", tc.r)
		}
	}
}

func TestAllStepFailuresCollected(t *testing.T) {
	c := genChain(t, ChainSpec{})
	for n := range c.Links {
		if n[:5] == "build" || n[:5] == "clone" {
			delete(c.Links, n)
		}
	}
	res, err := Verify(context.Background(), c.Layout, chainOpts(c))
	if !errors.Is(err, verr.MissingLink) {
		t.Fatalf("got %v", err)
	}
	failed := 0
	for _, s := range res.Steps {
		if s.Err != nil {
			failed++
		}
	}
	if failed != 2 {
		t.Fatalf("%d failed steps recorded, want 2 (%v)", failed, err)
	}
}

func TestParams(t *testing.T) {
	for _, tc := range []struct {
		in   string
		p    map[string]string
		want string
		ok   bool
	}{
		{"a{X}b", map[string]string{"X": "1"}, "a1b", true},
		{"{{X}}", nil, "{X}", true},
		{"{Y}", map[string]string{"X": "1"}, "", false},
		{"{0}", map[string]string{}, "", false},
		{"{a.b}", map[string]string{"a.b": ""}, "", false},
		{"}", nil, "", false},
		{"{", nil, "", false},
		{"plain", nil, "plain", true},
	} {
		got, err := format(tc.in, tc.p)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("format(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func TestExpiryUsesInjectedClock(t *testing.T) {
	c := genChain(t, ChainSpec{})
	opts := chainOpts(c)
	opts.Now = func() time.Time { return testNow.Add(31 * 24 * time.Hour) }
	if _, err := Verify(context.Background(), c.Layout, opts); !errors.Is(err, verr.Expired) {
		t.Fatalf("got %v", err)
	}
}
