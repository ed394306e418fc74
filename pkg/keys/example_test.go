package keys_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/verr"
)

// A signer signs; its Key verifies. The keyid is the one securesystemslib computes.
func ExampleNewSigner() {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))
	s, err := keys.NewSigner(priv, keys.SchemeEd25519)
	if err != nil {
		panic(err)
	}
	msg := []byte(`{"_type":"link"}`)
	sig, err := s.Sign(msg)
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Key.KeyType, s.Key.Scheme, s.Key.KeyID)
	fmt.Println(s.Key.Verify(msg, sig))
	fmt.Println(errors.Is(s.Key.Verify([]byte("tampered"), sig), verr.BadSignature))
	// Output:
	// ed25519 ed25519 5e2d627cd203a4d4c575306b6a244bd3a2e85d8401f2f7401a2413cdd92ab718
	// <nil>
	// true
}

// A layout embeds its functionaries' keys as securesystemslib dicts. Decode the received bytes
// with pkg/cjson and hand each "keys" entry to FromSSLib, which checks the declared keyid.
func ExampleFromSSLib() {
	layoutKeys := []byte(`{"46724ece99e8d190f17469534b058600474c1ae4a923aa7a5903a21be05b5db4": {"keytype": "ed25519", "scheme": "ed25519",
		"keyid_hash_algorithms": ["sha256", "sha512"],
		"keyval": {"public": "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394"}}}`)
	tree, err := cjson.Decode(layoutKeys, cjson.Limits{})
	if err != nil {
		panic(err)
	}
	for keyid, raw := range tree.(map[string]any) {
		k, err := keys.FromSSLib(keyid, raw)
		if err != nil {
			panic(err)
		}
		fmt.Println(k.KeyType, k.KeyID == keyid)
	}
	// A keyid that does not match the key is refused.
	_, err = keys.FromSSLib("0123", tree.(map[string]any)["46724ece99e8d190f17469534b058600474c1ae4a923aa7a5903a21be05b5db4"])
	fmt.Println(errors.Is(err, verr.ErrInvalidInput))
	// Output:
	// ed25519 true
	// true
}

// ParsePEM reads PKIX, PKCS#1, PKCS#8, SEC1 and certificates; "" picks the default scheme.
func ExampleParsePEM() {
	pem := []byte(`-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAiojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=
-----END PUBLIC KEY-----
`)
	k, err := keys.ParsePEM(pem, "")
	if err != nil {
		panic(err)
	}
	fmt.Println(k.KeyType, k.Scheme, hex.EncodeToString(k.Public.(ed25519.PublicKey))[:16])
	// Output:
	// ed25519 ed25519 8a88e3dd7409f195
}
