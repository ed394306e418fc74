// Package publish writes TUF repositories. It is a small repository writer for tests, the
// repository simulator, demos and fixture generation; it is not a production repository tool.
//
// A Repository holds the repository's roles in memory (versions, expiry, keys, targets,
// delegations), signs them with generated or supplied keys, and keeps every published metadata
// file in Files (so old versions stay available: a rollback or freeze demo serves an older file
// again). WriteDir writes the repository as a directory tree that any static HTTP server can
// serve:
//
//	DIR/metadata/1.root.json, 2.root.json, ...   every root version (always versioned)
//	DIR/metadata/root.json                       the newest root
//	DIR/metadata/timestamp.json                  the newest timestamp (never versioned)
//	DIR/metadata/N.snapshot.json, N.targets.json, N.<role>.json (consistent snapshots)
//	DIR/metadata/snapshot.json, targets.json, <role>.json       (newest, unversioned copies)
//	DIR/targets/<path dir>/<sha256>.<base name>  and  DIR/targets/<path>  (both forms)
//
// Typical use:
//
//	r, _ := publish.New(publish.Options{Now: now})          // 1 ed25519 key per top-level role
//	_ = r.AddTarget("targets", "app.tar.gz", data, map[string]any{"in-toto": []any{"root.layout"}})
//	_ = r.Publish()                                           // root v1, targets/snapshot/timestamp v1
//	trusted := r.TrustedRoot()                                // bytes of 1.root.json
//	_ = r.WriteDir(dir)
//	_ = r.AddTarget("targets", "app.tar.gz", data2, nil)
//	_ = r.Publish()                                           // targets v2, snapshot v2, timestamp v2
//	old := r.Files["1.targets.json"]                          // still there
//
// Delegations: Delegate adds a delegated targets role with its own generated keys; targets are
// added to it with AddTarget(roleName, ...). Succinct hash bins (TAP 15) are written with
// DelegateSuccinct.
//
// Serving: Lookup returns the bytes at "metadata/<file>" or "targets/<path>" (for an in-memory
// fetcher), Handler serves the same over HTTP, and WriteDir writes a directory that any static
// server can serve. AddTargetInfo lists a target by length and hashes only (for huge or
// generated content served by other means).
//
// Attacks and odd repositories: every field is exported (Roles[name].Version, .Expires,
// .Threshold, .Signers, .Extra for unrecognised fields, Repository.SpecVersion, ...), SignRole
// signs the current state of a role with any signers without storing it, and SignObject signs an
// arbitrary signed object. Old published files stay in Files, so a test can serve them again.
//
// Keys: Signer wraps a crypto.Signer (ed25519, ECDSA P-256, RSA-PSS) with its TUF key dict and
// keyid (sha256 of the canonical key dict, as securesystemslib computes it).
//
// A Repository is not safe for concurrent use.
package publish

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/tintoproject/tinto/pkg/tuf/internal/names"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf/internal/tjson"
)

// Signer signs metadata for one key.
type Signer struct {
	KeyID   string
	KeyType string // "ed25519", "ecdsa", "rsa"
	Scheme  string // "ed25519", "ecdsa-sha2-nistp256", "rsassa-pss-sha256"
	Public  string // keyval.public: hex for ed25519, PEM otherwise
	priv    crypto.Signer
}

// GenerateEd25519 returns a new ed25519 signer. A nil rand uses crypto/rand.
func GenerateEd25519(r io.Reader) (*Signer, error) {
	if r == nil {
		r = rand.Reader
	}
	_, priv, err := ed25519.GenerateKey(r)
	if err != nil {
		return nil, err
	}
	return NewSigner(priv)
}

// GenerateECDSA returns a new ECDSA P-256 signer (scheme ecdsa-sha2-nistp256).
func GenerateECDSA() (*Signer, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return NewSigner(priv)
}

// NewSigner wraps an ed25519, ECDSA (P-256, P-384) or RSA (PSS) private key.
func NewSigner(priv crypto.Signer) (*Signer, error) {
	s := &Signer{priv: priv}
	switch p := priv.Public().(type) {
	case ed25519.PublicKey:
		s.KeyType, s.Scheme, s.Public = "ed25519", "ed25519", hex.EncodeToString(p)
	case *ecdsa.PublicKey:
		s.KeyType = "ecdsa"
		switch p.Curve {
		case elliptic.P256():
			s.Scheme = "ecdsa-sha2-nistp256"
		case elliptic.P384():
			s.Scheme = "ecdsa-sha2-nistp384"
		default:
			return nil, errors.New("publish: unsupported ECDSA curve")
		}
		s.Public = pemOf(p)
	case *rsa.PublicKey:
		s.KeyType, s.Scheme, s.Public = "rsa", "rsassa-pss-sha256", pemOf(p)
	default:
		return nil, fmt.Errorf("publish: unsupported key type %T", p)
	}
	id, err := tjson.Encode(s.KeyDict())
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(id)
	s.KeyID = hex.EncodeToString(sum[:])
	return s, nil
}

func pemOf(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err) // only called with supported key types
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// KeyDict returns the TUF public key dict {"keytype", "scheme", "keyval": {"public"}}.
func (s *Signer) KeyDict() map[string]any {
	return map[string]any{"keytype": s.KeyType, "scheme": s.Scheme, "keyval": map[string]any{"public": s.Public}}
}

// Sign signs msg and returns the hex signature.
func (s *Signer) Sign(msg []byte) (string, error) {
	var sig []byte
	var err error
	switch s.Scheme {
	case "ed25519":
		sig, err = s.priv.Sign(rand.Reader, msg, crypto.Hash(0))
	case "ecdsa-sha2-nistp256", "rsassa-pss-sha256":
		h := sha256.Sum256(msg)
		var opts crypto.SignerOpts = crypto.SHA256
		if s.KeyType == "rsa" {
			opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
		}
		sig, err = s.priv.Sign(rand.Reader, h[:], opts)
	case "ecdsa-sha2-nistp384":
		h := sha512.Sum384(msg)
		sig, err = s.priv.Sign(rand.Reader, h[:], crypto.SHA384)
	default:
		err = fmt.Errorf("publish: unsupported scheme %q", s.Scheme)
	}
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(sig), nil
}

// TargetFile is one target entry.
type TargetFile struct {
	Length int64
	Hashes map[string]string // algorithm -> lowercase hex
	Custom map[string]any    // nil for none
	// Data is the content (kept so WriteDir can write the file); nil for metadata-only entries.
	Data []byte
}

// DelegatedRole describes a delegation from a targets role.
type DelegatedRole struct {
	Name             string
	Paths            []string // nil when PathHashPrefixes is used
	PathHashPrefixes []string
	Threshold        int
	Terminating      bool
	KeyIDs           []string
	// Signers, when set, are the keys this delegation lists (with their keyids, unless KeyIDs is
	// set) instead of the delegated role's own signers. Two delegators can so trust one role
	// name with different keys.
	Signers []*Signer
}

// Role is one role's editable state.
type Role struct {
	Name      string
	Version   int
	Expires   time.Time
	Threshold int       // for top-level roles: the threshold in root
	Signers   []*Signer // keys that sign this role (for delegated roles, listed in the delegation)
	// ExtraKeyIDs are keyids listed for the role in root or the delegation but that do not sign.
	ExtraKeyIDs []string
	Targets     map[string]*TargetFile // targets roles only
	Delegations []*DelegatedRole       // targets roles only, in priority order
	// Succinct, when set, replaces Delegations with a TAP 15 succinct_roles entry.
	Succinct *Succinct
	// Extra is merged into the signed object (unrecognised fields).
	Extra map[string]any
	// Delegator is the name of the delegating role ("root" for top-level roles).
	Delegator string
}

// Succinct is a TAP 15 succinct hash bin delegation.
type Succinct struct {
	BitLength  int
	NamePrefix string
	Threshold  int
	Signers    []*Signer // every bin shares these keys
}

// BinName returns the role name of bin i.
func (s *Succinct) BinName(i int) string {
	width := (s.BitLength + 3) / 4
	return fmt.Sprintf("%s-%0*x", s.NamePrefix, width, i)
}

// BinFor returns the bin role name for a target path.
func (s *Succinct) BinFor(target string) string {
	h := sha256.Sum256([]byte(target))
	v := uint32(h[0])<<24 | uint32(h[1])<<16 | uint32(h[2])<<8 | uint32(h[3])
	return s.BinName(int(v >> (32 - uint(s.BitLength))))
}

// Options configure New. The zero value is usable.
type Options struct {
	// Now is the time expiries are computed from; zero means time.Now().
	Now time.Time
	// Expiry is how long metadata stays valid; zero means one year.
	Expiry time.Duration
	// NoConsistentSnapshot writes consistent_snapshot=false into root. The zero value writes a
	// consistent-snapshot repository.
	NoConsistentSnapshot bool
	// SpecVersion is written into every role; empty means "1.0.31".
	SpecVersion string
}

// Repository is an in-memory TUF repository. Not safe for concurrent use.
type Repository struct {
	Roles              map[string]*Role
	ConsistentSnapshot bool
	SpecVersion        string
	// Files holds every published metadata file by its file name ("1.root.json", "timestamp.json",
	// "2.snapshot.json", "snapshot.json", "3.targets.json", ...). Old versions are never removed.
	Files map[string][]byte
	// TargetFiles holds target contents by URL path under targets/ (both the plain path and
	// the "<dir>/<sha256>.<base>" consistent-snapshot form).
	TargetFiles map[string][]byte
	// SnapshotHashes, when true, writes hashes and length of targets files into snapshot.
	SnapshotHashes bool
	// TimestampHashes, when true (the default from New), writes hashes and length of snapshot
	// into timestamp.
	TimestampHashes bool
	// HashAlgorithms are the hashes AddTarget computes, in order ("sha256", "sha512"); New
	// sets both.
	HashAlgorithms []string

	now    time.Time
	expiry time.Duration
	dirty  map[string]bool
}

// TopLevel are the top-level role names.
var TopLevel = []string{"root", "timestamp", "snapshot", "targets"}

// New returns a repository with one generated ed25519 key per top-level role, threshold 1,
// version 0 (Publish makes version 1).
func New(opts Options) (*Repository, error) {
	r := &Repository{
		Roles:              map[string]*Role{},
		ConsistentSnapshot: !opts.NoConsistentSnapshot,
		SpecVersion:        opts.SpecVersion,
		Files:              map[string][]byte{},
		TargetFiles:        map[string][]byte{},
		TimestampHashes:    true,
		HashAlgorithms:     []string{"sha256", "sha512"},
		now:                opts.Now,
		expiry:             opts.Expiry,
		dirty:              map[string]bool{},
	}
	if r.now.IsZero() {
		r.now = time.Now()
	}
	if r.expiry == 0 {
		r.expiry = 365 * 24 * time.Hour
	}
	if r.SpecVersion == "" {
		r.SpecVersion = "1.0.31"
	}
	for _, name := range TopLevel {
		s, err := GenerateEd25519(nil)
		if err != nil {
			return nil, err
		}
		role := &Role{Name: name, Expires: r.now.Add(r.expiry).UTC().Truncate(time.Second), Threshold: 1,
			Signers: []*Signer{s}, Delegator: "root"}
		if name == "root" {
			role.Delegator = ""
		}
		if name == "targets" {
			role.Targets = map[string]*TargetFile{}
		}
		r.Roles[name] = role
		r.dirty[name] = true
	}
	return r, nil
}

// SetNow changes the time new expiries are computed from (existing expiries are kept).
func (r *Repository) SetNow(t time.Time) { r.now = t }

// Role returns a role by name, or nil.
func (r *Repository) Role(name string) *Role { return r.Roles[name] }

// MarkDirty makes the next Publish bump the role's version.
func (r *Repository) MarkDirty(name string) { r.dirty[name] = true }

// AddTarget adds (or replaces) a target in a targets role. custom may be nil.
func (r *Repository) AddTarget(role, name string, data []byte, custom map[string]any) error {
	ro := r.Roles[role]
	if ro == nil || ro.Targets == nil {
		return fmt.Errorf("publish: %q is not a targets role", role)
	}
	tf := &TargetFile{Length: int64(len(data)), Hashes: map[string]string{}, Custom: custom, Data: data}
	r.TargetFiles[name] = data
	dir, base := path.Split(name)
	for _, alg := range r.HashAlgorithms {
		var sum []byte
		switch alg {
		case "sha256":
			h := sha256.Sum256(data)
			sum = h[:]
		case "sha512":
			h := sha512.Sum512(data)
			sum = h[:]
		default:
			return fmt.Errorf("publish: unsupported hash algorithm %q", alg)
		}
		hx := hex.EncodeToString(sum)
		tf.Hashes[alg] = hx
		r.TargetFiles[dir+hx+"."+base] = data
	}
	ro.Targets[name] = tf
	r.dirty[role] = true
	return nil
}

// AddTargetInfo lists a target by length and hashes only (no content is kept, so WriteDir and
// Lookup do not serve it): for very large or generated targets served by other means.
func (r *Repository) AddTargetInfo(role, name string, length int64, hashes map[string]string, custom map[string]any) error {
	ro := r.Roles[role]
	if ro == nil || ro.Targets == nil {
		return fmt.Errorf("publish: %q is not a targets role", role)
	}
	ro.Targets[name] = &TargetFile{Length: length, Hashes: hashes, Custom: custom}
	r.dirty[role] = true
	return nil
}

// RemoveTarget removes a target from a role.
func (r *Repository) RemoveTarget(role, name string) {
	if ro := r.Roles[role]; ro != nil {
		delete(ro.Targets, name)
		r.dirty[role] = true
	}
}

// Delegate adds a delegated targets role under parent with one new ed25519 key (threshold 1)
// unless d.KeyIDs is set by the caller and the role already exists. It returns the new role.
func (r *Repository) Delegate(parent string, d DelegatedRole) (*Role, error) {
	p := r.Roles[parent]
	if p == nil || p.Targets == nil {
		return nil, fmt.Errorf("publish: %q is not a targets role", parent)
	}
	role := r.Roles[d.Name]
	if role == nil {
		s, err := GenerateEd25519(nil)
		if err != nil {
			return nil, err
		}
		role = &Role{Name: d.Name, Expires: r.now.Add(r.expiry).UTC().Truncate(time.Second),
			Signers: []*Signer{s}, Targets: map[string]*TargetFile{}, Delegator: parent}
		r.Roles[d.Name] = role
	}
	if d.Threshold == 0 {
		d.Threshold = 1
	}
	if d.KeyIDs == nil && d.Signers != nil {
		for _, s := range d.Signers {
			d.KeyIDs = append(d.KeyIDs, s.KeyID)
		}
	}
	if d.KeyIDs == nil {
		for _, s := range role.Signers {
			d.KeyIDs = append(d.KeyIDs, s.KeyID)
		}
	}
	dd := d
	p.Delegations = append(p.Delegations, &dd)
	r.dirty[parent] = true
	r.dirty[d.Name] = true
	return role, nil
}

// DelegateSuccinct makes parent delegate to 2^bitLength hash bins named prefix-<hex> (TAP 15),
// all signed by one new ed25519 key, and creates the bin roles.
func (r *Repository) DelegateSuccinct(parent string, bitLength int, prefix string) (*Succinct, error) {
	p := r.Roles[parent]
	if p == nil || p.Targets == nil {
		return nil, fmt.Errorf("publish: %q is not a targets role", parent)
	}
	s, err := GenerateEd25519(nil)
	if err != nil {
		return nil, err
	}
	sc := &Succinct{BitLength: bitLength, NamePrefix: prefix, Threshold: 1, Signers: []*Signer{s}}
	p.Succinct = sc
	p.Delegations = nil
	r.dirty[parent] = true
	for i := 0; i < 1<<bitLength; i++ {
		name := sc.BinName(i)
		r.Roles[name] = &Role{Name: name, Expires: r.now.Add(r.expiry).UTC().Truncate(time.Second),
			Signers: sc.Signers, Targets: map[string]*TargetFile{}, Delegator: parent}
		r.dirty[name] = true
	}
	return sc, nil
}

// AddKey generates a new ed25519 key for role (top-level: listed in root; delegated: listed in
// the delegator's delegation) and returns it. The role and its delegator become dirty.
func (r *Repository) AddKey(role string) (*Signer, error) {
	ro := r.Roles[role]
	if ro == nil {
		return nil, fmt.Errorf("publish: no role %q", role)
	}
	s, err := GenerateEd25519(nil)
	if err != nil {
		return nil, err
	}
	ro.Signers = append(ro.Signers, s)
	r.keyChanged(ro, s.KeyID, true)
	return s, nil
}

// RemoveKey removes a signer from a role (and from the delegation listing it).
func (r *Repository) RemoveKey(role, keyID string) {
	ro := r.Roles[role]
	if ro == nil {
		return
	}
	out := ro.Signers[:0]
	for _, s := range ro.Signers {
		if s.KeyID != keyID {
			out = append(out, s)
		}
	}
	ro.Signers = out
	r.keyChanged(ro, keyID, false)
}

func (r *Repository) keyChanged(ro *Role, keyID string, add bool) {
	if ro.Delegator == "root" || ro.Name == "root" {
		r.dirty["root"] = true
		return
	}
	if p := r.Roles[ro.Delegator]; p != nil {
		for _, d := range p.Delegations {
			if d.Name == ro.Name {
				if add {
					d.KeyIDs = append(d.KeyIDs, keyID)
				} else {
					ids := d.KeyIDs[:0]
					for _, id := range d.KeyIDs {
						if id != keyID {
							ids = append(ids, id)
						}
					}
					d.KeyIDs = ids
				}
			}
		}
		r.dirty[p.Name] = true
	}
}

// Signed returns the signed object of a role as a value tree (at its current version).
func (r *Repository) Signed(name string) (map[string]any, error) {
	ro := r.Roles[name]
	if ro == nil {
		return nil, fmt.Errorf("publish: no role %q", name)
	}
	typ := "targets"
	switch name {
	case "root", "timestamp", "snapshot":
		typ = name
	}
	m := map[string]any{
		"_type":        typ,
		"spec_version": r.SpecVersion,
		"version":      ro.Version,
		"expires":      ro.Expires.UTC().Format(time.RFC3339),
	}
	switch typ {
	case "root":
		keys := map[string]any{}
		roles := map[string]any{}
		for _, rn := range TopLevel {
			tr := r.Roles[rn]
			ids := []any{}
			for _, s := range tr.Signers {
				keys[s.KeyID] = s.KeyDict()
				ids = append(ids, s.KeyID)
			}
			for _, id := range tr.ExtraKeyIDs {
				ids = append(ids, id)
			}
			roles[rn] = map[string]any{"keyids": ids, "threshold": tr.Threshold}
		}
		m["keys"] = keys
		m["roles"] = roles
		m["consistent_snapshot"] = r.ConsistentSnapshot
	case "timestamp":
		sn := r.Roles["snapshot"]
		meta := map[string]any{"version": sn.Version}
		if r.TimestampHashes {
			if b, ok := r.Files[r.metaFile("snapshot", sn.Version)]; ok {
				sum := sha256.Sum256(b)
				meta["length"] = len(b)
				meta["hashes"] = map[string]any{"sha256": hex.EncodeToString(sum[:])}
			}
		}
		m["meta"] = map[string]any{"snapshot.json": meta}
	case "snapshot":
		meta := map[string]any{}
		for rn, tr := range r.Roles {
			if tr.Targets == nil {
				continue
			}
			e := map[string]any{"version": tr.Version}
			if r.SnapshotHashes {
				if b, ok := r.Files[r.metaFile(rn, tr.Version)]; ok {
					sum := sha256.Sum256(b)
					e["length"] = len(b)
					e["hashes"] = map[string]any{"sha256": hex.EncodeToString(sum[:])}
				}
			}
			meta[rn+".json"] = e
		}
		m["meta"] = meta
	case "targets":
		t := map[string]any{}
		for tn, tf := range ro.Targets {
			e := map[string]any{"length": tf.Length}
			h := map[string]any{}
			for a, v := range tf.Hashes {
				h[a] = v
			}
			e["hashes"] = h
			if tf.Custom != nil {
				e["custom"] = tf.Custom
			}
			t[tn] = e
		}
		m["targets"] = t
		if ro.Succinct != nil || len(ro.Delegations) > 0 {
			keys := map[string]any{}
			var roles []any
			for _, d := range ro.Delegations {
				dr := r.Roles[d.Name]
				if d.Signers != nil {
					for _, s := range d.Signers {
						keys[s.KeyID] = s.KeyDict()
					}
				} else if dr != nil {
					for _, s := range dr.Signers {
						keys[s.KeyID] = s.KeyDict()
					}
				}
				ids := []any{}
				for _, id := range d.KeyIDs {
					ids = append(ids, id)
				}
				e := map[string]any{"name": d.Name, "keyids": ids, "threshold": d.Threshold,
					"terminating": d.Terminating}
				if d.PathHashPrefixes != nil {
					e["path_hash_prefixes"] = d.PathHashPrefixes
				} else {
					p := d.Paths
					if p == nil {
						p = []string{}
					}
					e["paths"] = p
				}
				roles = append(roles, e)
			}
			del := map[string]any{"keys": keys}
			if ro.Succinct != nil {
				sc := ro.Succinct
				ids := []any{}
				for _, s := range sc.Signers {
					keys[s.KeyID] = s.KeyDict()
					ids = append(ids, s.KeyID)
				}
				del["succinct_roles"] = map[string]any{"keyids": ids, "threshold": sc.Threshold,
					"bit_length": sc.BitLength, "name_prefix": sc.NamePrefix}
			} else {
				if roles == nil {
					roles = []any{}
				}
				del["roles"] = roles
			}
			m["delegations"] = del
		}
	}
	for k, v := range ro.Extra {
		m[k] = v
	}
	return m, nil
}

func (r *Repository) metaFile(role string, version int) string {
	if role == "timestamp" {
		return "timestamp.json"
	}
	return fmt.Sprintf("%d.%s.json", version, names.Quote(role))
}

// SignRole signs the role's current signed object with signers (nil: the role's own signers)
// and returns the metadata file bytes (pretty-printed JSON, as repositories usually publish).
func (r *Repository) SignRole(name string, signers []*Signer) ([]byte, error) {
	signed, err := r.Signed(name)
	if err != nil {
		return nil, err
	}
	if signers == nil {
		signers = r.Roles[name].Signers
	}
	return SignObject(signed, signers)
}

// SignObject signs an arbitrary signed object tree and returns the metadata file bytes.
func SignObject(signed map[string]any, signers []*Signer) ([]byte, error) {
	msg, err := tjson.Encode(signed)
	if err != nil {
		return nil, err
	}
	sigs := []any{}
	for _, s := range signers {
		sig, err := s.Sign(msg)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, map[string]any{"keyid": s.KeyID, "sig": sig})
	}
	// Pretty output (from the value tree, since canonical JSON keeps control characters such as
	// the newlines of PEM keys raw and so is not always valid JSON): the client must verify over
	// the canonical form, not over the bytes as served.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(map[string]any{"signed": signed, "signatures": sigs}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Publish bumps the version of every role changed since the last Publish (plus those named),
// re-signs them, then re-signs snapshot and timestamp (always bumped), and stores the files.
func (r *Repository) Publish(roles ...string) error {
	for _, n := range roles {
		if r.Roles[n] == nil {
			return fmt.Errorf("publish: no role %q", n)
		}
		r.dirty[n] = true
	}
	var names []string
	for n := range r.dirty {
		if n != "root" && n != "snapshot" && n != "timestamp" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if r.dirty["root"] {
		if err := r.publishOne("root"); err != nil {
			return err
		}
	}
	for _, n := range names {
		if err := r.publishOne(n); err != nil {
			return err
		}
	}
	if err := r.publishOne("snapshot"); err != nil {
		return err
	}
	if err := r.publishOne("timestamp"); err != nil {
		return err
	}
	r.dirty = map[string]bool{}
	return nil
}

// PublishRoot bumps and signs root with both the old and the new root keys (oldSigners are the
// keys of the previous root; nil means the current root signers only).
func (r *Repository) PublishRoot(oldSigners []*Signer) error {
	ro := r.Roles["root"]
	ro.Version++
	signers := append([]*Signer(nil), ro.Signers...)
	for _, s := range oldSigners {
		dup := false
		for _, t := range signers {
			dup = dup || t.KeyID == s.KeyID
		}
		if !dup {
			signers = append(signers, s)
		}
	}
	b, err := r.SignRole("root", signers)
	if err != nil {
		return err
	}
	r.Files[fmt.Sprintf("%d.root.json", ro.Version)] = b
	r.Files["root.json"] = b
	delete(r.dirty, "root")
	return nil
}

func (r *Repository) publishOne(name string) error {
	ro := r.Roles[name]
	ro.Version++
	b, err := r.SignRole(name, nil)
	if err != nil {
		return err
	}
	if name == "timestamp" {
		r.Files["timestamp.json"] = b
		return nil
	}
	r.Files[r.metaFile(name, ro.Version)] = b
	r.Files[names.Quote(name)+".json"] = b
	return nil
}

// TrustedRoot returns the bytes of 1.root.json (the root a client bootstraps from).
func (r *Repository) TrustedRoot() []byte { return r.Files["1.root.json"] }

// Metadata returns the newest bytes of a role's metadata file, or nil.
func (r *Repository) Metadata(role string) []byte {
	if role == "timestamp" {
		return r.Files["timestamp.json"]
	}
	return r.Files[names.Quote(role)+".json"]
}

// WriteDir writes metadata/ and targets/ under dir (creating them). Existing files with the
// same names are replaced; other files are left alone.
func (r *Repository) WriteDir(dir string) error {
	md := filepath.Join(dir, "metadata")
	if err := os.MkdirAll(md, 0o755); err != nil {
		return err
	}
	for name, b := range r.Files {
		if strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
			return fmt.Errorf("publish: unsafe metadata file name %q", name)
		}
		if err := writeFile(filepath.Join(md, name), b); err != nil {
			return err
		}
	}
	for name, b := range r.TargetFiles {
		clean := path.Clean("/" + name)
		if clean != "/"+name {
			return fmt.Errorf("publish: unsafe target path %q", name)
		}
		p := filepath.Join(dir, "targets", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := writeFile(p, b); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(p string, b []byte) error {
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}
