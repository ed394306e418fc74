package tuf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"fmt"
	"strings"

	"github.com/tintoproject/tinto/pkg/keys"
)

// keyOf returns the key as a pkg/keys key, parsed once. Key parsing and signature verification
// are pkg/keys' (the securesystemslib key dicts and schemes of the TUF specification: ed25519;
// ecdsa with ecdsa-sha2-nistp256/384/521; rsa with rsassa-pss-sha256/384/512 and
// rsa-pkcs1v15-sha256/384/512). The keyid is the one the metadata declares: TUF lets a repository
// choose its keyids, so it is never recomputed (keys.FromSSLibUnsafeKeyID). A key that does not
// parse, or whose type or scheme is unknown, is not an error of the metadata that lists it: it
// only makes signatures by it count as missing (TUF specification 5.3.4 and 5.5.3).
//
// On top of pkg/keys, TUF requires an ECDSA key's curve to be the one its scheme names, and an
// ECDSA or RSA keyval.public to be PEM (pkg/keys also reads go-tuf v0's hex ECDSA points, which
// the TUF specification does not define).
func (k *Key) keyOf(keyid string) (*keys.Key, error) {
	k.once.Do(func() { k.parsed, k.err = parseKey(keyid, k) })
	return k.parsed, k.err
}

func parseKey(keyid string, k *Key) (*keys.Key, error) {
	if k.KeyType != keys.KeyTypeEd25519 && !strings.Contains(k.KeyVal.Public, "-----BEGIN") {
		return nil, fmt.Errorf("%s keyval.public is not PEM", k.KeyType)
	}
	pk, err := keys.FromSSLibUnsafeKeyID(keyid, map[string]any{
		"keytype": k.KeyType,
		"scheme":  k.Scheme,
		"keyval":  map[string]any{"public": k.KeyVal.Public},
	})
	if err != nil {
		return nil, err
	}
	if ec, ok := pk.Public.(*ecdsa.PublicKey); ok {
		var want elliptic.Curve
		switch pk.Scheme {
		case keys.SchemeECDSAP256:
			want = elliptic.P256()
		case keys.SchemeECDSAP384:
			want = elliptic.P384()
		case keys.SchemeECDSAP521:
			want = elliptic.P521()
		}
		if ec.Curve != want {
			return nil, fmt.Errorf("scheme %q does not fit this key's curve", pk.Scheme)
		}
	}
	return pk, nil
}

// identity returns a string that is equal for two keys with the same key material, so that a
// threshold counts distinct keys, not distinct keyids.
func (k *Key) identity() string {
	return k.KeyType + "\x00" + k.Scheme + "\x00" + k.KeyVal.Public
}
