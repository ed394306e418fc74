package keys

import (
	"bytes"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // OpenPGP DSA keys are what python in-toto calls pgp+dsa-fips-180-2.
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // OpenPGP v4 fingerprints are SHA-1 by definition.
	"crypto/sha256"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/tintoproject/tinto/pkg/verr"
)

// OpenPGP key types, as securesystemslib.gpg names them in a key dict's "type" field.
const (
	PGPTypeRSA   = "rsa"
	PGPTypeDSA   = "dsa"
	PGPTypeEdDSA = "eddsa"
)

// pgpHashes is the "hashes" list securesystemslib.gpg writes.
const pgpHashSHA2 = "pgp+SHA2"

// pgpSub is one OpenPGP (sub)key.
type pgpSub struct {
	keyid    string
	typ      string // PGPTypeRSA, PGPTypeDSA or PGPTypeEdDSA
	method   string
	hashes   []string
	public   map[string]string // keyval.public as in the dict: hex strings
	pub      crypto.PublicKey  // *rsa.PublicKey, *dsa.PublicKey or ed25519.PublicKey
	creation *int64
	validity *int64
}

// pgpKey is an OpenPGP primary key with its subkeys.
type pgpKey struct {
	primary pgpSub
	subkeys map[string]*pgpSub
}

func pgpMethodOf(typ string) string {
	switch typ {
	case PGPTypeRSA:
		return SchemePGPRSA
	case PGPTypeDSA:
		return SchemePGPDSA
	case PGPTypeEdDSA:
		return SchemePGPEd25519
	}
	return ""
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// hexInt parses a hex string of any length (odd lengths too, as python's int(x, 16)).
func hexInt(s string) (*big.Int, bool) {
	if !isHex(s) || len(s) > 8192 {
		return nil, false
	}
	n, ok := new(big.Int).SetString(s, 16)
	return n, ok
}

// pgpFromDict parses an OpenPGP key dict as securesystemslib.gpg exports it.
func pgpFromDict(keyid string, m map[string]any) (*Key, error) {
	prim, err := pgpSubFromDict(keyid, m)
	if err != nil {
		return nil, err
	}
	if err := prim.checkFingerprint(); err != nil {
		return nil, err
	}
	pk := &pgpKey{primary: *prim, subkeys: map[string]*pgpSub{}}
	if sk, present := m["subkeys"]; present {
		sm, ok := sk.(map[string]any)
		if !ok {
			return nil, invalid("OpenPGP key %q: subkeys is not an object", prim.keyid)
		}
		for id, raw := range sm {
			d, ok := raw.(map[string]any)
			if !ok {
				return nil, invalid("OpenPGP subkey %q is not an object", id)
			}
			if id == prim.keyid {
				return nil, invalid("OpenPGP subkey %q repeats the primary key", id)
			}
			s, err := pgpSubFromDict(id, d)
			if err != nil {
				return nil, err
			}
			if err := s.checkFingerprint(); err != nil {
				return nil, err
			}
			pk.subkeys[id] = s
		}
	}
	return &Key{KeyID: prim.keyid, KeyType: prim.typ, Scheme: prim.method, Public: prim.pub, pgp: pk}, nil
}

func pgpSubFromDict(keyid string, m map[string]any) (*pgpSub, error) {
	if d, present := m["keyid"]; present {
		s, ok := d.(string)
		if !ok {
			return nil, invalid("OpenPGP key: keyid is not a string")
		}
		if keyid == "" {
			keyid = s
		} else if s != keyid {
			return nil, invalid("OpenPGP key listed as %q declares keyid %q", keyid, s)
		}
	}
	if !isHex(keyid) || len(keyid) > 128 {
		return nil, invalid("OpenPGP keyid %q is not hex", keyid)
	}
	typ, ierr := strField(m, "type")
	if ierr != nil {
		return nil, ierr
	}
	method, ierr := strField(m, "method")
	if ierr != nil {
		return nil, ierr
	}
	want := pgpMethodOf(typ)
	if want == "" {
		return nil, invalid("OpenPGP key %q: unknown type %q", keyid, typ)
	}
	if method != want {
		return nil, invalid("OpenPGP key %q: method %q does not fit type %q", keyid, method, typ)
	}
	s := &pgpSub{keyid: keyid, typ: typ, method: method}
	if h, present := m["hashes"]; present {
		l, ok := h.([]any)
		if !ok {
			return nil, invalid("OpenPGP key %q: hashes is not a list", keyid)
		}
		for _, e := range l {
			hs, ok := e.(string)
			if !ok {
				return nil, invalid("OpenPGP key %q: hashes holds a non-string", keyid)
			}
			s.hashes = append(s.hashes, hs)
		}
	}
	kv, ok := m["keyval"].(map[string]any)
	if !ok {
		return nil, invalid("OpenPGP key %q: keyval is missing or not an object", keyid)
	}
	if p, present := kv["private"]; present && p != "" {
		return nil, invalid("OpenPGP key %q: keyval.private is not empty", keyid)
	}
	pm, ok := kv["public"].(map[string]any)
	if !ok {
		return nil, invalid("OpenPGP key %q: keyval.public is not an object", keyid)
	}
	s.public = map[string]string{}
	var fields []string
	switch typ {
	case PGPTypeRSA:
		fields = []string{"e", "n"}
	case PGPTypeDSA:
		fields = []string{"p", "q", "g", "y"}
	case PGPTypeEdDSA:
		fields = []string{"q"}
	}
	ints := map[string]*big.Int{}
	for _, f := range fields {
		v, ok := pm[f].(string)
		if !ok {
			return nil, invalid("OpenPGP key %q: keyval.public.%s is missing or not a string", keyid, f)
		}
		n, ok := hexInt(v)
		if !ok {
			return nil, invalid("OpenPGP key %q: keyval.public.%s is not hex", keyid, f)
		}
		s.public[f] = v
		ints[f] = n
	}
	switch typ {
	case PGPTypeRSA:
		if ints["n"].BitLen() < 1024 || ints["n"].BitLen() > 16384 || !ints["e"].IsInt64() ||
			ints["e"].Int64() < 3 || ints["e"].Int64() > 1<<31-1 || ints["e"].Bit(0) == 0 {
			return nil, invalid("OpenPGP key %q: unsupported RSA parameters", keyid)
		}
		s.pub = &rsa.PublicKey{N: ints["n"], E: int(ints["e"].Int64())}
	case PGPTypeDSA:
		p, q, g, y := ints["p"], ints["q"], ints["g"], ints["y"]
		switch q.BitLen() {
		case 160, 224, 256:
		default:
			return nil, invalid("OpenPGP key %q: unsupported DSA q size %d", keyid, q.BitLen())
		}
		if p.BitLen() < 1024 || p.BitLen() > 4096 || g.Sign() <= 0 || y.Sign() <= 0 || g.Cmp(p) >= 0 || y.Cmp(p) >= 0 {
			return nil, invalid("OpenPGP key %q: unsupported DSA parameters", keyid)
		}
		s.pub = &dsa.PublicKey{Parameters: dsa.Parameters{P: p, Q: q, G: g}, Y: y}
	case PGPTypeEdDSA:
		b, err := hex.DecodeString(s.public["q"])
		if err != nil || len(b) != ed25519.PublicKeySize {
			return nil, invalid("OpenPGP key %q: keyval.public.q is not 32 bytes of hex", keyid)
		}
		s.pub = ed25519.PublicKey(b)
	}
	var err error
	if s.creation, err = optInt(m, "creation_time", keyid); err != nil {
		return nil, err
	}
	if s.validity, err = optInt(m, "validity_period", keyid); err != nil {
		return nil, err
	}
	return s, nil
}

func optInt(m map[string]any, name, keyid string) (*int64, error) {
	v, present := m[name]
	if !present {
		return nil, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		switch x := v.(type) {
		case int:
			n = json.Number(strconv.Itoa(x))
		case int64:
			n = json.Number(strconv.FormatInt(x, 10))
		default:
			return nil, invalid("OpenPGP key %q: %s is not an integer", keyid, name)
		}
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || i < 0 {
		return nil, invalid("OpenPGP key %q: %s is not a non-negative integer", keyid, name)
	}
	return &i, nil
}

func (s *pgpSub) dict() map[string]any {
	pub := map[string]any{}
	for k, v := range s.public {
		pub[k] = v
	}
	hashes := make([]any, 0, len(s.hashes))
	for _, h := range s.hashes {
		hashes = append(hashes, h)
	}
	d := map[string]any{
		"keyid":  s.keyid,
		"type":   s.typ,
		"method": s.method,
		"hashes": hashes,
		"keyval": map[string]any{"public": pub, "private": ""},
	}
	if s.creation != nil {
		d["creation_time"] = *s.creation
	}
	if s.validity != nil {
		d["validity_period"] = *s.validity
	}
	return d
}

func (p *pgpKey) dict(keyid string) map[string]any {
	d := p.primary.dict()
	d["keyid"] = keyid
	if len(p.subkeys) > 0 {
		subs := map[string]any{}
		for id, s := range p.subkeys {
			subs[id] = s.dict()
		}
		d["subkeys"] = subs
	}
	return d
}

// SubkeyIDs returns the fingerprints of an OpenPGP key's subkeys, sorted; nil for other keys.
func (k *Key) SubkeyIDs() []string {
	if k == nil || k.pgp == nil {
		return nil
	}
	ids := make([]string, 0, len(k.pgp.subkeys))
	for id := range k.pgp.subkeys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Expires returns when the OpenPGP (sub)key named by keyid expires (its creation time plus its
// validity period), and false if it does not expire, keyid does not name it, or k is not an
// OpenPGP key.
func (k *Key) Expires(keyid string) (time.Time, bool) {
	if k == nil || k.pgp == nil {
		return time.Time{}, false
	}
	s := k.pgp.sub(k.KeyID, keyid)
	if s == nil {
		return time.Time{}, false
	}
	return s.expires()
}

func (s *pgpSub) expires() (time.Time, bool) {
	if s.creation == nil || s.validity == nil || *s.validity == 0 {
		return time.Time{}, false
	}
	return time.Unix(*s.creation+*s.validity, 0).UTC(), true
}

// VerifyAt is Verify followed, for an OpenPGP key, by the expiry check that
// securesystemslib.gpg makes with the wall clock, here made at the given time: a signature by a
// (sub)key that expired before at, or whose primary key expired before at, is a
// *verr.VerificationError with Reason verr.Expired.
func (k *Key) VerifyAt(msg []byte, sig Signature, at time.Time) error {
	if err := k.Verify(msg, sig); err != nil {
		return err
	}
	if k.pgp == nil {
		return nil
	}
	for _, s := range []*pgpSub{&k.pgp.primary, k.pgp.sub(k.KeyID, sig.KeyID)} {
		if s == nil {
			continue
		}
		if exp, ok := s.expires(); ok && exp.Before(at) {
			return verr.New(verr.Expired, "OpenPGP key %q expired at %s", s.keyid, exp.Format(time.RFC3339))
		}
	}
	return nil
}

func (p *pgpKey) sub(primaryID, keyid string) *pgpSub {
	if keyid == "" || keyid == primaryID {
		return &p.primary
	}
	return p.subkeys[keyid]
}

// PGPDigest returns the digest securesystemslib.gpg verifies an OpenPGP signature over:
// SHA-256(msg || otherHeaders || 0x04 0xff || uint32be(len(otherHeaders))).
func PGPDigest(msg, otherHeaders []byte) []byte {
	h := sha256.New()
	h.Write(msg)
	h.Write(otherHeaders)
	var trailer [6]byte
	trailer[0], trailer[1] = 0x04, 0xff
	binary.BigEndian.PutUint32(trailer[2:], uint32(len(otherHeaders)))
	h.Write(trailer[:])
	return h.Sum(nil)
}

// checkOtherHeaders checks that other_headers is a v4 signature's hashed part with SHA-256:
// version 4, type, public-key algorithm, hash algorithm 8 (SHA-256), a two-octet length and the
// hashed subpackets of exactly that length.
func checkOtherHeaders(oh []byte) error {
	if len(oh) < 6 {
		return fmt.Errorf("other_headers is %d bytes, too short", len(oh))
	}
	if oh[0] != 4 {
		return fmt.Errorf("other_headers: signature version %d, want 4", oh[0])
	}
	if oh[3] != 8 {
		return fmt.Errorf("other_headers: hash algorithm %d, want 8 (SHA-256)", oh[3])
	}
	if n := int(binary.BigEndian.Uint16(oh[4:6])); 6+n != len(oh) {
		return fmt.Errorf("other_headers: hashed subpacket length %d does not fit %d bytes", n, len(oh))
	}
	return nil
}

func (p *pgpKey) verify(primaryID string, msg []byte, sig Signature) error {
	s := p.sub(primaryID, sig.KeyID)
	if s == nil {
		return verr.New(verr.BadSignature, "no OpenPGP key %q", sig.KeyID)
	}
	if err := checkOtherHeaders(sig.OtherHeaders); err != nil {
		return verr.Wrap(verr.BadSignature, err, "OpenPGP signature by %q", s.keyid)
	}
	digest := PGPDigest(msg, sig.OtherHeaders)
	if err := s.verifyDigest(digest, sig.Sig); err != nil {
		return verr.Wrap(verr.BadSignature, err, "OpenPGP signature by %q", s.keyid)
	}
	return nil
}

func (s *pgpSub) verifyDigest(digest, sig []byte) error {
	switch pub := s.pub.(type) {
	case *rsa.PublicKey:
		size := (pub.N.BitLen() + 7) / 8
		if len(sig) > size || len(sig) == 0 {
			return fmt.Errorf("RSA signature is %d bytes for a %d-byte modulus", len(sig), size)
		}
		padded := make([]byte, size)
		copy(padded[size-len(sig):], sig)
		v, err := signature.LoadRSAPKCS1v15Verifier(pub, crypto.SHA256)
		if err != nil {
			return err
		}
		return verifyDigest(v, digest, padded)
	case *dsa.PublicKey:
		var rs struct{ R, S *big.Int }
		rest, err := asn1.Unmarshal(sig, &rs)
		if err != nil || len(rest) != 0 || rs.R == nil || rs.S == nil {
			return fmt.Errorf("DSA signature is not ASN.1 DER")
		}
		if re, err := asn1.Marshal(rs); err != nil || !bytes.Equal(re, sig) {
			return fmt.Errorf("DSA signature is not minimal DER")
		}
		// sigstore has no DSA verifier; the standard library's is used.
		if !dsa.Verify(pub, digest, rs.R, rs.S) {
			return fmt.Errorf("DSA signature does not verify")
		}
		return nil
	case ed25519.PublicKey:
		if len(sig) != ed25519.SignatureSize {
			return fmt.Errorf("Ed25519 signature is %d bytes", len(sig))
		}
		v, err := signature.LoadED25519Verifier(pub)
		if err != nil {
			return err
		}
		return v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(digest))
	}
	return fmt.Errorf("no usable OpenPGP public key")
}

// v4Fingerprints returns the v4 fingerprints (RFC 4880 12.2) the (sub)key would have, computed
// from its creation time and public parameters, or nil if the dict has no creation_time. An RSA
// key may be of algorithm 1 (RSA) or 3 (RSA sign-only), so it has two candidates.
func (s *pgpSub) v4Fingerprints() []string {
	if s.creation == nil || *s.creation > 1<<32-1 {
		return nil
	}
	var algos []byte
	var params bytes.Buffer
	mpi := func(b []byte) {
		b = bytes.TrimLeft(b, "\x00")
		n := new(big.Int).SetBytes(b).BitLen()
		params.Write([]byte{byte(n >> 8), byte(n)})
		params.Write(b)
	}
	switch pub := s.pub.(type) {
	case *rsa.PublicKey:
		algos = []byte{1, 3}
		mpi(pub.N.Bytes())
		mpi(big.NewInt(int64(pub.E)).Bytes())
	case *dsa.PublicKey:
		algos = []byte{17}
		mpi(pub.P.Bytes())
		mpi(pub.Q.Bytes())
		mpi(pub.G.Bytes())
		mpi(pub.Y.Bytes())
	case ed25519.PublicKey:
		algos = []byte{22}
		params.Write([]byte{9, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01}) // Ed25519 OID
		mpi(append([]byte{0x40}, pub...))
	default:
		return nil
	}
	var out []string
	for _, algo := range algos {
		var body bytes.Buffer
		body.WriteByte(4)
		var ct [4]byte
		binary.BigEndian.PutUint32(ct[:], uint32(*s.creation))
		body.Write(ct[:])
		body.WriteByte(algo)
		body.Write(params.Bytes())
		h := sha1.New()
		h.Write([]byte{0x99, byte(body.Len() >> 8), byte(body.Len())})
		h.Write(body.Bytes())
		out = append(out, hex.EncodeToString(h.Sum(nil)))
	}
	return out
}

// checkFingerprint checks a dict's declared keyid against the fingerprint computed from its
// fields, when the dict has a creation time to compute it from.
func (s *pgpSub) checkFingerprint() error {
	fprs := s.v4Fingerprints()
	if fprs == nil {
		return nil
	}
	id := strings.ToLower(s.keyid)
	for _, f := range fprs {
		if id == f {
			return nil
		}
	}
	return invalid("OpenPGP key %q: declared keyid is not the key's fingerprint (computed %s)", s.keyid, fprs[0])
}
