package keys

import (
	"crypto/elliptic"
	"errors"
	"testing"

	"github.com/tintoproject/tinto/pkg/verr"
)

func generateAll(t testing.TB) map[string]*Signer {
	t.Helper()
	out := map[string]*Signer{}
	var err error
	if out["ed25519"], err = GenerateEd25519(nil); err != nil {
		t.Fatal(err)
	}
	if out["rsa"], err = GenerateRSA(2048); err != nil {
		t.Fatal(err)
	}
	if out["p256"], err = GenerateECDSA(elliptic.P256()); err != nil {
		t.Fatal(err)
	}
	if out["p384"], err = GenerateECDSA(elliptic.P384()); err != nil {
		t.Fatal(err)
	}
	if out["p521"], err = GenerateECDSA(elliptic.P521()); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSignVerifyRoundTrip(t *testing.T) {
	msg := []byte("the signed bytes")
	for name, s := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			sig, err := s.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			if sig.KeyID != s.Key.KeyID {
				t.Fatalf("keyid %q, want %q", sig.KeyID, s.Key.KeyID)
			}
			if err := s.Key.Verify(msg, sig); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// Through the dict, as a layout embeds it.
			k2, err := FromSSLib(s.Key.KeyID, s.Key.SSLib())
			if err != nil {
				t.Fatalf("FromSSLib: %v", err)
			}
			if err := k2.Verify(msg, sig); err != nil {
				t.Fatalf("Verify via dict: %v", err)
			}
			bad := append([]byte(nil), msg...)
			bad[0] ^= 1
			err = k2.Verify(bad, sig)
			if !errors.Is(err, verr.BadSignature) {
				t.Fatalf("tampered message: got %v, want BadSignature", err)
			}
		})
	}
}
