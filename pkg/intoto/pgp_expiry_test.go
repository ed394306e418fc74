package intoto

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/eddsa"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/verr"
)

// pgpLayoutSigner is an Ed25519 OpenPGP key made with go-crypto that expires a day after its
// creation, and a signer producing securesystemslib GPG signatures with it.
type pgpLayoutSigner struct {
	key  *keys.Key
	priv ed25519.PrivateKey
}

func newExpiringPGPKey(t *testing.T, created time.Time, lifetime time.Duration) *pgpLayoutSigner {
	t.Helper()
	secs := uint32(lifetime / time.Second)
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, KeyLifetimeSecs: secs,
		Time: func() time.Time { return created }}
	e, err := openpgp.NewEntity("expiring", "", "exp@example.com", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var pub []byte
	{
		var w writerBuf
		if err := e.Serialize(&w); err != nil {
			t.Fatal(err)
		}
		pub = w.b
	}
	k, err := keys.ParseOpenPGP(pub)
	if err != nil {
		t.Fatal(err)
	}
	if exp, ok := k.Expires(k.KeyID); !ok || !exp.Equal(created.Add(lifetime).UTC().Truncate(time.Second)) {
		t.Fatalf("key expiry %v %v", exp, ok)
	}
	sk, ok := e.PrivateKey.PrivateKey.(*eddsa.PrivateKey)
	if !ok {
		t.Fatalf("private key is %T", e.PrivateKey.PrivateKey)
	}
	return &pgpLayoutSigner{key: k, priv: ed25519.NewKeyFromSeed(sk.D)}
}

type writerBuf struct{ b []byte }

func (w *writerBuf) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// signMetablock returns a Metablock with one securesystemslib GPG signature over signed.
func (s *pgpLayoutSigner) signMetablock(t *testing.T, signed map[string]any) []byte {
	t.Helper()
	msg, err := cjson.Canonical(signed)
	if err != nil {
		t.Fatal(err)
	}
	// v4 signature of a binary document, EdDSA, SHA-256, no hashed subpackets.
	oh := []byte{4, 0, byte(packet.PubKeyAlgoEdDSA), 8, 0, 0}
	sig := ed25519.Sign(s.priv, keys.PGPDigest(msg, oh))
	doc, err := marshalPython(map[string]any{
		"signatures": []any{map[string]any{"keyid": s.key.KeyID, "other_headers": hex.EncodeToString(oh),
			"signature": hex.EncodeToString(sig)}},
		"signed": signed,
	})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestVerifyOpenPGPKeyExpiry checks that an OpenPGP layout key's expiry is enforced at the
// verification time Options.Now gives, not at the wall clock's.
func TestVerifyOpenPGPKeyExpiry(t *testing.T) {
	created := testNow.Add(-time.Hour)
	s := newExpiringPGPKey(t, created, 24*time.Hour)
	layout := NewLayout(testNow, 365*24*time.Hour)
	doc := s.signMetablock(t, layout.Signed())
	for _, tt := range []struct {
		name string
		at   time.Time
		want verr.Reason // "" = verifies
	}{
		{"valid", testNow, ""},
		{"expired", created.Add(48 * time.Hour), verr.Expired},
	} {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			_, err := Verify(context.Background(), doc, Options{LayoutKeys: []*keys.Key{s.key},
				Links: MemLinks{}, Now: func() time.Time { return at }})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify: %v, want %s", err, tt.want)
			}
		})
	}
}
