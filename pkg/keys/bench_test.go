package keys

import (
	"context"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/signerverifier"
)

// BenchmarkVerify compares Key.Verify with go-securesystemslib's verifiers, which in-toto-golang
// v0.11.0 verifies Metablock and DSSE signatures with, on the same keys and signatures.
func BenchmarkVerify(b *testing.B) {
	msg := make([]byte, 4096)
	for _, name := range []string{"ed25519", "p256", "p384", "rsa"} {
		s := fixtures(b)[name]
		sig, err := s.Sign(msg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("alg="+name+"/impl=tinto", func(b *testing.B) {
			for b.Loop() {
				if err := s.Key.Verify(msg, sig); err != nil {
					b.Fatal(err)
				}
			}
		})
		sk := signerverifier.SSLibKey{KeyType: s.Key.KeyType, Scheme: s.Key.Scheme, KeyID: s.Key.KeyID,
			KeyIDHashAlgorithms: DefaultKeyIDHashAlgorithms(), KeyVal: signerverifier.KeyVal{Public: s.Key.PublicText()}}
		b.Run("alg="+name+"/impl=in-toto-golang", func(b *testing.B) {
			for b.Loop() {
				// in-toto-golang builds the verifier from the key for every signature it checks.
				var (
					v interface {
						Verify(context.Context, []byte, []byte) error
					}
					err error
				)
				switch s.Key.KeyType {
				case KeyTypeRSA:
					v, err = signerverifier.NewRSAPSSSignerVerifierFromSSLibKey(&sk)
				case KeyTypeECDSA:
					v, err = signerverifier.NewECDSASignerVerifierFromSSLibKey(&sk)
				default:
					v, err = signerverifier.NewED25519SignerVerifierFromSSLibKey(&sk)
				}
				if err != nil {
					b.Fatal(err)
				}
				if err := v.Verify(context.Background(), msg, sig.Sig); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFromSSLib measures loading a layout key dict, keyid check included.
func BenchmarkFromSSLib(b *testing.B) {
	for _, name := range []string{"ed25519", "p256", "rsa"} {
		k := fixtures(b)[name].Key
		raw := roundTrip(b, k.SSLib())
		b.Run("alg="+name, func(b *testing.B) {
			for b.Loop() {
				if _, err := FromSSLib(k.KeyID, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
