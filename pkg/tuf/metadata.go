package tuf

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/tuf/internal/tjson"
	"github.com/tintoproject/tinto/pkg/verr"
)

// SpecVersion is the TUF specification version this client implements. Metadata with another
// major version is refused (verr.BadSpec).
const SpecVersion = "1.0.31"

// Top-level role names.
const (
	RoleRoot      = "root"
	RoleTimestamp = "timestamp"
	RoleSnapshot  = "snapshot"
	RoleTargets   = "targets"
)

func isTopLevel(name string) bool {
	switch name {
	case RoleRoot, RoleTimestamp, RoleSnapshot, RoleTargets:
		return true
	}
	return false
}

// Signature is one entry of a metadata file's "signatures".
type Signature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// KeyVal is a key's "keyval".
type KeyVal struct {
	Public string `json:"public"`
}

// Key is a public key as listed in root or in delegations.
type Key struct {
	KeyType string `json:"keytype"`
	Scheme  string `json:"scheme"`
	KeyVal  KeyVal `json:"keyval"`

	once   sync.Once
	parsed *keys.Key
	err    error
}

// Role lists the keys trusted for a role and the threshold.
type Role struct {
	KeyIDs    []string `json:"keyids"`
	Threshold int      `json:"threshold"`
}

// common is the part shared by every signed object.
type common struct {
	Type        string `json:"_type"`
	SpecVersion string `json:"spec_version"`
	Version     int64  `json:"version"`
	ExpiresRaw  string `json:"expires"`
	Expires     time.Time
}

// Root is the signed part of root.json.
type Root struct {
	common
	ConsistentSnapshot bool            `json:"consistent_snapshot"`
	Keys               map[string]*Key `json:"keys"`
	Roles              map[string]Role `json:"roles"`
}

// MetaFile describes a metadata file in timestamp or snapshot.
type MetaFile struct {
	Version int64             `json:"version"`
	Length  *int64            `json:"length,omitempty"`
	Hashes  map[string]string `json:"hashes,omitempty"`
}

// Timestamp is the signed part of timestamp.json.
type Timestamp struct {
	common
	Meta map[string]MetaFile `json:"meta"`
}

// Snapshot is the signed part of snapshot.json.
type Snapshot struct {
	common
	Meta map[string]MetaFile `json:"meta"`
}

// DelegatedRole is one delegation.
type DelegatedRole struct {
	Name             string   `json:"name"`
	KeyIDs           []string `json:"keyids"`
	Threshold        int      `json:"threshold"`
	Terminating      bool     `json:"terminating"`
	Paths            []string `json:"paths"`
	PathHashPrefixes []string `json:"path_hash_prefixes"`
}

// SuccinctRoles is a TAP 15 succinct hash bin delegation.
type SuccinctRoles struct {
	KeyIDs     []string `json:"keyids"`
	Threshold  int      `json:"threshold"`
	BitLength  int      `json:"bit_length"`
	NamePrefix string   `json:"name_prefix"`
}

// Delegations is a targets role's "delegations".
type Delegations struct {
	Keys          map[string]*Key `json:"keys"`
	Roles         []DelegatedRole `json:"roles"`
	SuccinctRoles *SuccinctRoles  `json:"succinct_roles"`
	hasRoles      bool
}

// Hash is one entry of a hashes object, in the order received.
type Hash struct {
	Algorithm string
	Hex       string
}

// TargetFile is a target as listed in targets metadata.
type TargetFile struct {
	// Name is the target path.
	Name   string
	Length int64
	// Hashes in the order they appear in the metadata.
	Hashes []Hash
	// Custom is the raw "custom" value, or nil.
	Custom json.RawMessage
}

// HashMap returns the hashes as algorithm -> hex.
func (t *TargetFile) HashMap() map[string]string {
	m := make(map[string]string, len(t.Hashes))
	for _, h := range t.Hashes {
		m[h.Algorithm] = h.Hex
	}
	return m
}

// rawTargets keeps a targets role's "targets" object undecoded and indexes it on first use.
type rawTargets struct {
	raw   []byte
	once  sync.Once
	index *tjson.Index
	err   error
}

func (r *rawTargets) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return &json.UnmarshalTypeError{Value: "non-object", Field: "targets"}
	}
	r.raw = b
	return nil
}

// Targets is the signed part of a targets role.
type Targets struct {
	common
	Targets     rawTargets   `json:"targets"`
	Delegations *Delegations `json:"delegations"`
}

// parsed is a verified-or-not metadata file with its bytes.
type parsed struct {
	raw        []byte
	env        *tjson.Envelope
	signatures []Signature
	common     *common
	root       *Root
	timestamp  *Timestamp
	snapshot   *Snapshot
	targets    *Targets
}

var knownFields = []string{"_type", "spec_version", "version", "expires", "consistent_snapshot",
	"keys", "roles", "meta", "targets", "delegations"}

// unmarshalTargets decodes every member of a targets role except "targets", which is kept raw
// and indexed on first use: the (possibly very large) list of targets is scanned once, by the
// canonical scanner, and never decoded as a whole.
func unmarshalTargets(env *tjson.Envelope, t *Targets) error {
	span, ok := env.Members["targets"]
	if !ok || env.Members == nil {
		return json.Unmarshal(env.Signed, t)
	}
	small := []byte{'{'}
	first := true
	for k, sp := range env.Members {
		if k == "targets" {
			continue
		}
		if !first {
			small = append(small, ',')
		}
		first = false
		kb, _ := json.Marshal(k)
		small = append(small, kb...)
		small = append(small, ':')
		small = append(small, env.Signed[sp[0]:sp[1]]...)
	}
	small = append(small, '}')
	if err := json.Unmarshal(small, t); err != nil {
		return err
	}
	return t.Targets.UnmarshalJSON(env.Signed[span[0]:span[1]])
}

const expiresLayout = "2006-01-02T15:04:05Z"

// parseMetadata parses a metadata file strictly and checks its schema; it verifies nothing.
func parseMetadata(role, wantType string, raw []byte) (*parsed, error) {
	return parseMetadataMode(role, wantType, raw, false)
}

// errNeedsCopy reports that in-place parsing met a string with a control character; the
// buffer was overwritten and the caller must parse a fresh copy.
var errNeedsCopy = errors.New("tuf: metadata must be parsed from a copy")

func parseMetadataMode(role, wantType string, raw []byte, inPlace bool) (*parsed, error) {
	var env *tjson.Envelope
	var err error
	if inPlace {
		env, err = tjson.ParseEnvelopeInPlace(raw)
		if errors.Is(err, tjson.ErrControl) {
			return nil, errNeedsCopy
		}
	} else {
		env, err = tjson.ParseEnvelope(raw)
	}
	if err != nil {
		in := &verr.InputError{What: "metadata " + role, Offset: -1, Err: err}
		var se *tjson.SyntaxError
		if errors.As(err, &se) {
			in.Offset, in.Msg, in.Err = int64(se.Offset), se.Msg, nil
		}
		return nil, badMetadata(role, in, "malformed JSON")
	}
	p := &parsed{raw: raw, env: env}
	if err := json.Unmarshal(env.Signatures, &p.signatures); err != nil || p.signatures == nil {
		return nil, badMetadata(role, err, "malformed signatures")
	}
	seen := map[string]bool{}
	for _, s := range p.signatures {
		if seen[s.KeyID] {
			return nil, badMetadata(role, nil, "multiple signatures by keyid %s", s.KeyID)
		}
		seen[s.KeyID] = true
	}
	return p, p.parseSigned(role, wantType)
}

// parseBound parses a cached file whose exact bytes were verified before (see Binding): the
// spans recorded then locate the signed members, so nothing is scanned again.
func parseBound(role string, raw []byte, b *Binding) (*parsed, error) {
	if b.Signed[0] < 0 || b.Signed[0] > b.Signed[1] || b.Signed[1] > len(raw) {
		return nil, badMetadata(role, nil, "binding does not fit the cached file")
	}
	signed := raw[b.Signed[0]:b.Signed[1]]
	for _, sp := range b.Members {
		if sp[0] < 0 || sp[0] > sp[1] || sp[1] > len(signed) {
			return nil, badMetadata(role, nil, "binding does not fit the cached file")
		}
	}
	p := &parsed{raw: raw, env: &tjson.Envelope{Signed: signed, Members: b.Members, RawSigned: b.Signed, RawMembers: b.Members}}
	return p, p.parseSigned(role, RoleTargets)
}

func (p *parsed) parseSigned(role, wantType string) error {
	env := p.env
	var err error
	for k := range env.Members {
		for _, f := range knownFields {
			if k != f && strings.EqualFold(k, f) {
				return badMetadata(role, nil, "field %q differs from %q only in case", k, f)
			}
		}
	}
	if env.Members != nil {
		if err := checkFieldCase(env.Members, env.Signed); err != nil {
			return badMetadata(role, err, "invalid %s metadata", wantType)
		}
	}
	var c *common
	switch wantType {
	case RoleRoot:
		p.root = &Root{}
		err = json.Unmarshal(env.Signed, p.root)
		c = &p.root.common
	case RoleTimestamp:
		p.timestamp = &Timestamp{}
		err = json.Unmarshal(env.Signed, p.timestamp)
		c = &p.timestamp.common
	case RoleSnapshot:
		p.snapshot = &Snapshot{}
		err = json.Unmarshal(env.Signed, p.snapshot)
		c = &p.snapshot.common
	default:
		p.targets = &Targets{}
		err = unmarshalTargets(env, p.targets)
		c = &p.targets.common
	}
	if err != nil {
		return badMetadata(role, err, "invalid %s metadata", wantType)
	}
	p.common = c
	if c.Type != wantType {
		return badMetadata(role, nil, "_type is %q, want %q", c.Type, wantType)
	}
	if err := checkSpecVersion(c.SpecVersion); err != nil {
		e := err.(*verr.VerificationError)
		e.Role = role
		return e
	}
	if c.Version <= 0 {
		return badMetadata(role, nil, "version %d is not positive", c.Version)
	}
	t, err := time.Parse(expiresLayout, c.ExpiresRaw)
	if err != nil {
		return badMetadata(role, err, "invalid expires %q", c.ExpiresRaw)
	}
	c.Expires = t
	return p.validate(role)
}

func checkSpecVersion(v string) error {
	parts := strings.Split(v, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return verr.New(verr.BadSpec, "invalid spec_version %q", v)
	}
	for _, s := range parts {
		if s == "" || strings.Trim(s, "0123456789") != "" {
			return verr.New(verr.BadSpec, "invalid spec_version %q", v)
		}
	}
	if parts[0] != strings.SplitN(SpecVersion, ".", 2)[0] {
		return verr.New(verr.BadSpec, "unsupported spec_version %q (this client implements %s)", v, SpecVersion)
	}
	return nil
}

func (p *parsed) validate(role string) error {
	bad := func(format string, args ...any) error { return badMetadata(role, nil, format, args...) }
	checkRole := func(name string, r Role) error {
		if r.Threshold < 1 {
			return bad("role %q: threshold %d < 1", name, r.Threshold)
		}
		seen := map[string]bool{}
		for _, id := range r.KeyIDs {
			if seen[id] {
				return bad("role %q: duplicate keyid %s", name, id)
			}
			seen[id] = true
		}
		return nil
	}
	checkMeta := func(name string, m MetaFile) error {
		if m.Version <= 0 {
			return bad("meta %q: version %d is not positive", name, m.Version)
		}
		if m.Length != nil && *m.Length < 0 {
			return bad("meta %q: negative length", name)
		}
		if m.Hashes != nil && len(m.Hashes) == 0 {
			return bad("meta %q: empty hashes", name)
		}
		return nil
	}
	switch {
	case p.root != nil:
		r := p.root
		if len(r.Roles) != 4 {
			return bad("root must list exactly the four top-level roles")
		}
		for _, n := range []string{RoleRoot, RoleTimestamp, RoleSnapshot, RoleTargets} {
			ro, ok := r.Roles[n]
			if !ok {
				return bad("root does not list role %q", n)
			}
			if err := checkRole(n, ro); err != nil {
				return err
			}
		}
		for id, k := range r.Keys {
			if k == nil {
				return bad("key %s is null", id)
			}
		}
	case p.timestamp != nil:
		m, ok := p.timestamp.Meta["snapshot.json"]
		if !ok {
			return bad("timestamp has no snapshot.json meta")
		}
		if err := checkMeta("snapshot.json", m); err != nil {
			return err
		}
	case p.snapshot != nil:
		if p.snapshot.Meta == nil {
			return bad("snapshot has no meta")
		}
		for n, m := range p.snapshot.Meta {
			if err := checkMeta(n, m); err != nil {
				return err
			}
		}
	case p.targets != nil:
		if p.targets.Targets.raw == nil {
			return bad("targets has no targets object")
		}
		if d := p.targets.Delegations; d != nil {
			if err := d.validate(bad, checkRole); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *Delegations) UnmarshalJSON(b []byte) error {
	type plain Delegations
	var aux struct {
		plain
		Roles json.RawMessage `json:"roles"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*d = Delegations(aux.plain)
	if aux.Roles != nil {
		d.hasRoles = true
		if err := json.Unmarshal(aux.Roles, &d.Roles); err != nil {
			return err
		}
	}
	return nil
}

func (d *Delegations) validate(bad func(string, ...any) error, checkRole func(string, Role) error) error {
	if d.Keys == nil {
		return bad("delegations has no keys")
	}
	for id, k := range d.Keys {
		if k == nil {
			return bad("key %s is null", id)
		}
	}
	if d.hasRoles == (d.SuccinctRoles != nil) {
		return bad("delegations must have exactly one of roles and succinct_roles")
	}
	if s := d.SuccinctRoles; s != nil {
		if s.BitLength < 1 || s.BitLength > 32 {
			return bad("succinct_roles: bit_length %d out of range 1..32", s.BitLength)
		}
		if s.NamePrefix == "" {
			return bad("succinct_roles: empty name_prefix")
		}
		return checkRole("succinct_roles", Role{KeyIDs: s.KeyIDs, Threshold: s.Threshold})
	}
	names := map[string]bool{}
	for _, r := range d.Roles {
		if r.Name == "" || isTopLevel(r.Name) {
			return bad("delegated role name %q is empty or a top-level role name", r.Name)
		}
		if names[r.Name] {
			return bad("duplicate delegated role %q", r.Name)
		}
		names[r.Name] = true
		if (r.Paths == nil) == (r.PathHashPrefixes == nil) {
			return bad("delegated role %q must have exactly one of paths and path_hash_prefixes", r.Name)
		}
		for _, p := range r.PathHashPrefixes {
			if _, err := hex.DecodeString(padEven(p)); err != nil {
				return bad("delegated role %q: path_hash_prefix %q is not hex", r.Name, p)
			}
		}
		if err := checkRole(r.Name, Role{KeyIDs: r.KeyIDs, Threshold: r.Threshold}); err != nil {
			return err
		}
	}
	return nil
}

func padEven(s string) string {
	if len(s)%2 == 1 {
		return s + "0"
	}
	return s
}

// lookup returns the target named name, or nil.
func (r *rawTargets) lookup(name string) (*TargetFile, error) {
	r.once.Do(r.buildIndex)
	if r.err != nil {
		return nil, r.err
	}
	v, ok := r.index.Get(name)
	if !ok {
		return nil, nil
	}
	return decodeTarget(name, v)
}

// names returns every target name (unordered).
func (r *rawTargets) names() ([]string, error) {
	r.once.Do(r.buildIndex)
	if r.err != nil {
		return nil, r.err
	}
	out := make([]string, 0, r.index.Len())
	r.index.Keys(func(k string) bool { out = append(out, k); return true })
	return out, nil
}

func (r *rawTargets) count() int {
	r.once.Do(r.buildIndex)
	if r.index == nil {
		return 0
	}
	return r.index.Len()
}

func (r *rawTargets) buildIndex() {
	idx, err := tjson.NewIndex(r.raw)
	if err != nil {
		r.err = verr.Invalid("targets", "%v", err)
		return
	}
	r.index = idx
}

func decodeTarget(name string, raw []byte) (*TargetFile, error) {
	keys, err := tjson.MemberKeys(raw)
	if err != nil {
		return nil, badMetadata("", err, "target %q", name)
	}
	for _, k := range keys {
		for _, f := range []string{"length", "hashes", "custom"} {
			if k != f && strings.EqualFold(k, f) {
				return nil, badMetadata("", nil, "target %q: field %q differs from %q only in case", name, k, f)
			}
		}
	}
	var aux struct {
		Length *int64          `json:"length"`
		Hashes json.RawMessage `json:"hashes"`
		Custom json.RawMessage `json:"custom"`
	}
	if err := json.Unmarshal(raw, &aux); err != nil {
		return nil, badMetadata("", err, "target %q", name)
	}
	if aux.Length == nil || *aux.Length < 0 {
		return nil, badMetadata("", nil, "target %q: missing or negative length", name)
	}
	t := &TargetFile{Name: name, Length: *aux.Length}
	if len(aux.Custom) > 0 && !bytes.Equal(aux.Custom, []byte("null")) {
		t.Custom = aux.Custom
	}
	hs, err := tjson.StringPairs(aux.Hashes)
	if err != nil || len(hs) == 0 {
		return nil, badMetadata("", err, "target %q: missing or invalid hashes", name)
	}
	for _, h := range hs {
		t.Hashes = append(t.Hashes, Hash{Algorithm: h[0], Hex: h[1]})
	}
	return t, nil
}

// hashFor returns a new hash.Hash for a known algorithm, or nil.
func hashFor(alg string) hash.Hash {
	switch alg {
	case "sha256":
		return sha256.New()
	case "sha512":
		return sha512.New()
	case "sha384":
		return sha512.New384()
	case "sha224":
		return sha256.New224()
	}
	return nil
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
