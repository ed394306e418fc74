package keys

import (
	"bytes"
	"crypto/dsa" //nolint:staticcheck // OpenPGP DSA keys.
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"math/big"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/eddsa"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/tintoproject/tinto/pkg/verr"
)

// ParseOpenPGP parses one OpenPGP transferable public key, ASCII-armored or binary, with
// github.com/ProtonMail/go-crypto/openpgp. The key is known by the hex fingerprint of its primary
// key; every subkey whose binding signature verifies, that is not revoked, and whose algorithm
// securesystemslib supports (RSA, DSA, EdDSA on Ed25519) counts as the primary key (Owns).
// Subkeys of other algorithms (encryption subkeys, say) are skipped, as securesystemslib skips
// them. The primary key must be RSA, DSA or EdDSA (Ed25519), and a v4 key.
//
// The validity periods of the primary key (from its primary user ID's self-signature) and of each
// subkey (from its binding signature) are kept; see VerifyAt.
func ParseOpenPGP(data []byte) (k *Key, err error) {
	defer func() {
		if r := recover(); r != nil {
			k, err = nil, invalid("OpenPGP key: parser failure: %v", r)
		}
	}()
	if len(data) > maxKeyFile {
		return nil, invalid("OpenPGP key is larger than 1 MiB")
	}
	var el openpgp.EntityList
	trimmed := bytes.TrimSpace(data)
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN PGP")) {
		// go-crypto reads the first armored block only; refuse anything it would ignore.
		if n := bytes.Count(data, []byte("-----BEGIN PGP")); n != 1 {
			return nil, invalid("OpenPGP data holds %d armored blocks, want exactly 1", n)
		}
		el, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	} else {
		el, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, &verr.InputError{What: "key", Offset: -1, Msg: "OpenPGP key", Err: err}
	}
	if len(el) != 1 {
		return nil, invalid("OpenPGP data holds %d keys, want exactly 1", len(el))
	}
	return fromEntity(el[0])
}

func fromEntity(e *openpgp.Entity) (*Key, error) {
	if e.PrimaryKey == nil {
		return nil, invalid("OpenPGP key has no primary key")
	}
	prim, err := pgpSubFromPacket(e.PrimaryKey)
	if err != nil {
		return nil, err
	}
	if id := e.PrimaryIdentity(); id != nil && id.SelfSignature != nil {
		setValidity(prim, id.SelfSignature)
	}
	if len(e.Revocations) > 0 {
		// Any verified revocation signature revokes the key; no clock is consulted.
		return nil, invalid("OpenPGP key %q is revoked", prim.keyid)
	}
	pk := &pgpKey{primary: *prim, subkeys: map[string]*pgpSub{}}
	for i := range e.Subkeys {
		sk := &e.Subkeys[i]
		if sk.PublicKey == nil || sk.Sig == nil || len(sk.Revocations) > 0 {
			continue
		}
		s, err := pgpSubFromPacket(sk.PublicKey)
		if err != nil {
			continue // an algorithm securesystemslib does not use
		}
		setValidity(s, sk.Sig)
		pk.subkeys[s.keyid] = s
	}
	return &Key{KeyID: prim.keyid, KeyType: prim.typ, Scheme: prim.method, Public: prim.pub, pgp: pk}, nil
}

func setValidity(s *pgpSub, sig *packet.Signature) {
	if sig.KeyLifetimeSecs != nil && *sig.KeyLifetimeSecs != 0 {
		v := int64(*sig.KeyLifetimeSecs)
		s.validity = &v
	}
}

func hexOfInt(n *big.Int) string { return hex.EncodeToString(n.Bytes()) }

func pgpSubFromPacket(p *packet.PublicKey) (*pgpSub, error) {
	if p.Version != 4 {
		return nil, invalid("OpenPGP key version %d is not supported (want 4)", p.Version)
	}
	ct := p.CreationTime.Unix()
	s := &pgpSub{
		keyid:    hex.EncodeToString(p.Fingerprint),
		hashes:   []string{pgpHashSHA2},
		public:   map[string]string{},
		creation: &ct,
	}
	switch pub := p.PublicKey.(type) {
	case *rsa.PublicKey:
		if p.PubKeyAlgo != packet.PubKeyAlgoRSA && p.PubKeyAlgo != packet.PubKeyAlgoRSASignOnly {
			return nil, invalid("OpenPGP RSA key %s cannot sign", s.keyid)
		}
		s.typ = PGPTypeRSA
		s.public["e"] = hexOfInt(big.NewInt(int64(pub.E)))
		s.public["n"] = hexOfInt(pub.N)
		s.pub = pub
	case *dsa.PublicKey:
		s.typ = PGPTypeDSA
		s.public["p"] = hexOfInt(pub.P)
		s.public["q"] = hexOfInt(pub.Q)
		s.public["g"] = hexOfInt(pub.G)
		s.public["y"] = hexOfInt(pub.Y)
		s.pub = pub
	case *eddsa.PublicKey:
		c, err := p.Curve()
		if err != nil || c != packet.Curve25519 || len(pub.X) != ed25519.PublicKeySize {
			return nil, invalid("OpenPGP EdDSA key %s is not Ed25519", s.keyid)
		}
		x := append([]byte(nil), pub.X...)
		s.typ = PGPTypeEdDSA
		s.public["q"] = hex.EncodeToString(x)
		s.pub = ed25519.PublicKey(x)
	default:
		return nil, invalid("OpenPGP key %s: algorithm %d is not supported", s.keyid, p.PubKeyAlgo)
	}
	s.method = pgpMethodOf(s.typ)
	// Check the parameters as a key dict would be checked.
	if _, err := pgpSubFromDict(s.keyid, s.dict()); err != nil {
		return nil, fmt.Errorf("OpenPGP key %s: %w", s.keyid, err)
	}
	return s, nil
}
