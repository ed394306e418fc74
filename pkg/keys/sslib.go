package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/verr"
)

// maxKeyFile bounds every key file and key dict this package reads.
const maxKeyFile = 1 << 20

// keyFileLimits are the cjson limits for key files.
var keyFileLimits = cjson.Limits{MaxBytes: maxKeyFile, MaxDepth: 16}

func invalid(format string, args ...any) *verr.InputError {
	return verr.Invalid("key", format, args...)
}

// KeyID computes the securesystemslib keyid of a key dict's identifying fields: the lowercase hex
// SHA-256 of the canonical JSON of {keytype, scheme, keyval: {public}} plus keyid_hash_algorithms
// when hashAlgs is not nil. Use DefaultKeyIDHashAlgorithms for what securesystemslib computes.
func KeyID(keytype, scheme, public string, hashAlgs []string) (string, error) {
	var algs any
	if hashAlgs != nil {
		l := make([]any, len(hashAlgs))
		for i, a := range hashAlgs {
			l[i] = a
		}
		algs = l
	}
	return keyIDOf(keytype, scheme, public, algs, hashAlgs != nil)
}

// DefaultKeyIDHashAlgorithms returns securesystemslib's keyid_hash_algorithms list,
// ["sha256", "sha512"], as a fresh slice.
func DefaultKeyIDHashAlgorithms() []string {
	return append([]string(nil), defaultKeyIDHashAlgorithms...)
}

func keyIDOf(keytype, scheme, public string, algs any, withAlgs bool) (string, error) {
	m := map[string]any{
		"keytype": keytype,
		"scheme":  scheme,
		"keyval":  map[string]any{"public": public},
	}
	if withAlgs {
		m["keyid_hash_algorithms"] = algs
	}
	c, err := cjson.Canonical(m)
	if err != nil {
		return "", invalid("cannot compute keyid: %v", err)
	}
	sum := sha256.Sum256(c)
	return hex.EncodeToString(sum[:]), nil
}

// FromSSLib creates a key from a securesystemslib key dict, as found as a value of a layout's or
// a TUF root's "keys" map after pkg/cjson.Decode. keyid is the map key ("" if there is none). The
// dict's own "keyid" field, when present, must equal keyid. The declared keyid must be the
// key's keyid computed with the dict's keyid_hash_algorithms, with securesystemslib's default list,
// or without the field; otherwise FromSSLib fails with a *verr.InputError. OpenPGP key dicts
// (with "type" and "method") are accepted too; when a (sub)key dict has a creation_time, its
// declared keyid must be the v4 fingerprint computed from it.
//
// An empty or absent keyval.private is ignored, as is any field not named here.
func FromSSLib(keyid string, raw any) (*Key, error) {
	return fromSSLib(keyid, raw, true)
}

// FromSSLibUnsafeKeyID is FromSSLib without the keyid check: the key is known by the declared
// keyid whatever its fields hash to. It exists for metadata whose keyids were assigned by other
// rules (TUF allows any keyid); an in-toto layout must use FromSSLib.
func FromSSLibUnsafeKeyID(keyid string, raw any) (*Key, error) {
	return fromSSLib(keyid, raw, false)
}

func fromSSLib(keyid string, raw any, check bool) (*Key, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, invalid("key is a %s, not an object", jsonKind(raw))
	}
	if declared, present := m["keyid"]; present {
		s, ok := declared.(string)
		if !ok {
			return nil, invalid("keyid is not a string")
		}
		if keyid == "" {
			keyid = s
		} else if s != keyid {
			return nil, invalid("key listed as %q declares keyid %q", keyid, s)
		}
	}
	if _, hasKeytype := m["keytype"]; !hasKeytype {
		if _, hasMethod := m["method"]; hasMethod {
			return pgpFromDict(keyid, m)
		}
	}
	keytype, ierr := strField(m, "keytype")
	if ierr != nil {
		return nil, ierr
	}
	scheme, ierr := strField(m, "scheme")
	if ierr != nil {
		return nil, ierr
	}
	kv, ok := m["keyval"].(map[string]any)
	if !ok {
		return nil, invalid("keyval is missing or not an object")
	}
	public, ierr := strField(kv, "public")
	if ierr != nil {
		return nil, invalid("keyval: %v", ierr.Msg)
	}
	var (
		rawAlgs  any
		hashAlgs []string
	)
	if a, present := m["keyid_hash_algorithms"]; present {
		l, ok := a.([]any)
		if !ok {
			return nil, invalid("keyid_hash_algorithms is not a list")
		}
		hashAlgs = make([]string, 0, len(l))
		for _, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, invalid("keyid_hash_algorithms holds a non-string")
			}
			hashAlgs = append(hashAlgs, s)
		}
		rawAlgs = a
	}
	k, err := newSSLibKey(keytype, scheme, public)
	if err != nil {
		return nil, err
	}
	k.hashAlgs = hashAlgs
	if c, present := kv["certificate"]; present {
		cs, ok := c.(string)
		if !ok {
			return nil, invalid("keyval.certificate is not a string")
		}
		if cs != "" {
			cert, err := parseCertPEM([]byte(cs))
			if err != nil {
				return nil, err
			}
			if !samePublic(cert.PublicKey, k.Public) {
				return nil, invalid("keyval.certificate holds a different public key")
			}
			k.cert, k.certPEM = cert, cs
		}
	}

	// The keyid.
	var computed string
	if rawAlgs != nil {
		computed, err = keyIDOf(keytype, scheme, public, rawAlgs, true)
	} else {
		computed, err = KeyID(keytype, scheme, public, defaultKeyIDHashAlgorithms)
	}
	if err != nil {
		return nil, err
	}
	switch {
	case keyid == "":
		keyid = computed
	case !check || keyid == computed:
	default:
		alt1, err1 := KeyID(keytype, scheme, public, defaultKeyIDHashAlgorithms)
		alt2, err2 := KeyID(keytype, scheme, public, nil)
		if (err1 != nil || keyid != alt1) && (err2 != nil || keyid != alt2) {
			return nil, &verr.InputError{What: "key", Offset: -1,
				Msg: fmt.Sprintf("declared keyid %q does not match the key (computed %q)", keyid, computed)}
		}
	}
	if !isKeyID(keyid) && check {
		return nil, invalid("keyid %q is not lowercase hex", keyid)
	}
	k.KeyID = keyid
	return k, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

func strField(m map[string]any, name string) (string, *verr.InputError) {
	v, ok := m[name]
	if !ok {
		return "", invalid("%s is missing", name)
	}
	s, ok := v.(string)
	if !ok {
		return "", invalid("%s is not a string", name)
	}
	return s, nil
}

func isKeyID(s string) bool {
	if s == "" || len(s) > 1024 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// newSSLibKey parses keyval.public for the given keytype and scheme. The keyid is not set.
func newSSLibKey(keytype, scheme, public string) (*Key, error) {
	fam, ok := keyTypeFamily(keytype)
	if !ok {
		return nil, invalid("unknown key type %q", keytype)
	}
	info, ok := lookupScheme(scheme)
	if !ok {
		return nil, invalid("unknown scheme %q", scheme)
	}
	if info.family != fam {
		return nil, invalid("scheme %q does not fit key type %q", scheme, keytype)
	}
	var pub crypto.PublicKey
	switch fam {
	case KeyTypeEd25519:
		b, err := hex.DecodeString(public)
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, invalid("ed25519 keyval.public is not the hex of 32 bytes")
		}
		pub = ed25519.PublicKey(b)
	case KeyTypeECDSA:
		if !strings.Contains(public, "-----BEGIN") {
			// Legacy go-tuf (before v2) wrote ECDSA keys as the hex of the uncompressed point.
			b, err := hex.DecodeString(public)
			if err != nil {
				return nil, invalid("ecdsa keyval.public is neither PEM nor hex")
			}
			p, err := ecdsa.ParseUncompressedPublicKey(info.curve, b)
			if err != nil {
				return nil, &verr.InputError{What: "key", Offset: -1, Msg: "ecdsa keyval.public", Err: err}
			}
			pub = p
			break
		}
		p, err := parsePublicPEMText(public)
		if err != nil {
			return nil, err
		}
		pub = p
	case KeyTypeRSA:
		p, err := parsePublicPEMText(public)
		if err != nil {
			return nil, err
		}
		pub = p
	}
	if err := checkPublic(pub, info); err != nil {
		return nil, err
	}
	return &Key{KeyType: keytype, Scheme: scheme, Public: pub, publicText: public, info: info}, nil
}

// parsePublicPEMText parses the single PEM public key in a keyval.public string.
func parsePublicPEMText(s string) (crypto.PublicKey, error) {
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return nil, invalid("keyval.public is not PEM")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, invalid("keyval.public has data after the PEM block")
	}
	if len(block.Headers) != 0 {
		return nil, invalid("keyval.public PEM block has headers")
	}
	switch block.Type {
	case "PUBLIC KEY":
		p, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, &verr.InputError{What: "key", Offset: -1, Msg: "bad PKIX public key", Err: err}
		}
		return p, nil
	case "RSA PUBLIC KEY":
		p, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, &verr.InputError{What: "key", Offset: -1, Msg: "bad PKCS#1 public key", Err: err}
		}
		return p, nil
	}
	return nil, invalid("keyval.public is a PEM %q block, not a public key", block.Type)
}

// checkPublic checks that pub is usable with the scheme.
func checkPublic(pub crypto.PublicKey, info schemeInfo) error {
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if info.family != KeyTypeRSA {
			return invalid("an RSA key cannot use a %s scheme", info.family)
		}
		if p.N == nil || p.N.BitLen() < 1024 || p.N.BitLen() > 16384 {
			return invalid("RSA modulus size is not supported")
		}
	case *ecdsa.PublicKey:
		if info.family != KeyTypeECDSA {
			return invalid("an ECDSA key cannot use a %s scheme", info.family)
		}
		switch p.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return invalid("unsupported ECDSA curve")
		}
	case ed25519.PublicKey:
		if info.family != KeyTypeEd25519 || len(p) != ed25519.PublicKeySize {
			return invalid("bad Ed25519 key")
		}
	default:
		return invalid("unsupported public key type %T", pub)
	}
	return nil
}

func samePublic(a, b crypto.PublicKey) bool {
	type eq interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(eq)
	return ok && e.Equal(b)
}

// ParseSSLib parses a securesystemslib JSON key file: the public key files in-toto-keygen
// writes for ed25519 and ecdsa keys ({"keytype", "scheme", "keyid_hash_algorithms", "keyval"}),
// and also its private key files, of which only the public part is used. A "keyid" field, when
// present, is checked as FromSSLib does.
func ParseSSLib(data []byte) (*Key, error) {
	tree, err := cjson.Decode(data, keyFileLimits)
	if err != nil {
		return nil, &verr.InputError{What: "key", Offset: -1, Msg: "securesystemslib key file", Err: err}
	}
	return FromSSLib("", tree)
}

// SSLib returns the securesystemslib public-key dict of k, as embedded in layouts (the value of
// the "keys" map): keyid, keytype, scheme, keyid_hash_algorithms (when the key has one) and
// keyval.public (and keyval.certificate for a key from an X.509 certificate). For an OpenPGP key
// it is the dict that securesystemslib.gpg exports. The map is a fresh copy.
func (k *Key) SSLib() map[string]any {
	if k == nil {
		return nil
	}
	if k.pgp != nil {
		return k.pgp.dict(k.KeyID)
	}
	kv := map[string]any{"public": k.publicText}
	if k.certPEM != "" {
		kv["certificate"] = k.certPEM
	}
	m := map[string]any{
		"keyid":   k.KeyID,
		"keytype": k.KeyType,
		"scheme":  k.Scheme,
		"keyval":  kv,
	}
	if k.hashAlgs != nil {
		l := make([]any, len(k.hashAlgs))
		for i, a := range k.hashAlgs {
			l[i] = a
		}
		m["keyid_hash_algorithms"] = l
	}
	return m
}

// MarshalSSLib returns k as a securesystemslib JSON public key file, the format in-toto-keygen
// writes for ed25519 and ecdsa keys and python's in-toto-verify loads with "-t ed25519" or
// "-t ecdsa". The file has no keyid field: readers compute it, and get k.KeyID. It fails for
// OpenPGP keys and for keys whose keyid does not follow from the file.
func (k *Key) MarshalSSLib() ([]byte, error) {
	if k == nil || k.pgp != nil {
		return nil, invalid("an OpenPGP key has no securesystemslib key file")
	}
	algs := k.hashAlgs
	if algs == nil {
		algs = defaultKeyIDHashAlgorithms
	}
	want, err := KeyID(k.KeyType, k.Scheme, k.publicText, algs)
	if err != nil {
		return nil, err
	}
	if want != k.KeyID {
		return nil, invalid("keyid %q would not be reproduced from a key file", k.KeyID)
	}
	m := map[string]any{
		"keytype":               k.KeyType,
		"scheme":                k.Scheme,
		"keyid_hash_algorithms": algs,
		"keyval":                map[string]any{"public": k.publicText},
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
