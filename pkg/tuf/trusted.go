package tuf

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/verr"
)

// errEqualVersion reports a timestamp with the same version as the trusted one: nothing to do.
var errEqualVersion = errors.New("tuf: timestamp version equals the trusted version")

// Trusted is the trusted-metadata state machine of the TUF client workflow (specification
// section 5), apart from any network or disk access: it is given bytes, checks them against what
// it already trusts, and either trusts them or returns an error and stays unchanged.
//
// The order is fixed: root updates, then timestamp, then snapshot, then targets and delegated
// targets. Signatures are checked over the canonical form of the received "signed" value.
//
// A Trusted is not safe for concurrent use; the Client serialises access to it.
type Trusted struct {
	now       time.Time
	root      *parsed
	timestamp *parsed
	snapshot  *parsed
	roles     map[string]*trustedRole
}

type trustedRole struct {
	p *parsed
	// via records the delegators this role's metadata has been verified against. A role reached
	// through another delegator is verified again (the diamond case).
	via map[string]bool
	sum string // SHA-256 of p.raw, computed on demand
}

// NewTrusted starts from trusted root bytes (which must be signed by a threshold of their own
// root keys; expiry is not checked here) at the reference time now.
func NewTrusted(rootBytes []byte, now time.Time) (*Trusted, error) {
	p, err := parseMetadata(RoleRoot, RoleRoot, rootBytes)
	if err != nil {
		return nil, err
	}
	if err := verifyRole(RoleRoot, p.root.Keys, p.root.Roles[RoleRoot], p); err != nil {
		return nil, err
	}
	return &Trusted{now: now, root: p, roles: map[string]*trustedRole{}}, nil
}

// Root returns the trusted root.
func (t *Trusted) Root() *Root { return t.root.root }

// RootBytes returns the bytes of the trusted root.
func (t *Trusted) RootBytes() []byte { return t.root.raw }

// UpdateRoot verifies the next root version: signed by a threshold of the trusted root's root
// keys and of its own, with version exactly trusted+1. Expiry is checked later (at timestamp).
func (t *Trusted) UpdateRoot(raw []byte) error {
	if t.timestamp != nil {
		return errors.New("tuf: cannot update root after timestamp")
	}
	p, err := parseMetadata(RoleRoot, RoleRoot, raw)
	if err != nil {
		return err
	}
	if err := verifyRole(RoleRoot, t.root.root.Keys, t.root.root.Roles[RoleRoot], p); err != nil {
		return err
	}
	if want := t.root.common.Version + 1; p.common.Version != want {
		return errRollback(RoleRoot, "root version %d, want %d", p.common.Version, want)
	}
	if err := verifyRole(RoleRoot, p.root.Keys, p.root.Roles[RoleRoot], p); err != nil {
		return err
	}
	t.root = p
	return nil
}

// UpdateTimestamp verifies a timestamp. It returns errEqualVersion (and keeps the trusted one)
// when the version equals the trusted version. The new timestamp is trusted even when expired
// (so that it still protects against rollback), and the expiry error is returned.
func (t *Trusted) UpdateTimestamp(raw []byte) error {
	if t.snapshot != nil {
		return errors.New("tuf: cannot update timestamp after snapshot")
	}
	if t.root.common.Expires.Before(t.now) || t.root.common.Expires.Equal(t.now) {
		return errFreeze(RoleRoot, "root v%d expired at %s", t.root.common.Version, t.root.common.ExpiresRaw)
	}
	p, err := parseMetadata(RoleTimestamp, RoleTimestamp, raw)
	if err != nil {
		return err
	}
	if err := verifyRole(RoleTimestamp, t.root.root.Keys, t.root.root.Roles[RoleTimestamp], p); err != nil {
		return err
	}
	if old := t.timestamp; old != nil {
		if p.common.Version < old.common.Version {
			return errRollback(RoleTimestamp, "timestamp version %d < trusted %d", p.common.Version, old.common.Version)
		}
		if p.common.Version == old.common.Version {
			return errEqualVersion
		}
		nv, ov := p.timestamp.Meta["snapshot.json"].Version, old.timestamp.Meta["snapshot.json"].Version
		if nv < ov {
			return errRollback(RoleSnapshot, "timestamp lists snapshot version %d < trusted %d", nv, ov)
		}
	}
	t.timestamp = p
	return t.checkFinalTimestamp()
}

func (t *Trusted) expired(c *common) bool { return !t.now.Before(c.Expires) }

func (t *Trusted) checkFinalTimestamp() error {
	if t.expired(t.timestamp.common) {
		return errFreeze(RoleTimestamp, "timestamp v%d expired at %s", t.timestamp.common.Version, t.timestamp.common.ExpiresRaw)
	}
	return nil
}

// UpdateSnapshot verifies a snapshot against the trusted timestamp (length and hashes unless
// fromCache) and root keys, and checks that no targets role goes back in version or disappears.
func (t *Trusted) UpdateSnapshot(raw []byte, fromCache bool) error {
	if t.timestamp == nil {
		return errors.New("tuf: cannot update snapshot before timestamp")
	}
	if len(t.roles) > 0 {
		return errors.New("tuf: cannot update snapshot after targets")
	}
	if err := t.checkFinalTimestamp(); err != nil {
		return err
	}
	meta := t.timestamp.timestamp.Meta["snapshot.json"]
	if !fromCache {
		if err := checkMetaFile(RoleSnapshot, meta, raw); err != nil {
			return err
		}
	}
	p, err := parseMetadata(RoleSnapshot, RoleSnapshot, raw)
	if err != nil {
		return err
	}
	if err := verifyRole(RoleSnapshot, t.root.root.Keys, t.root.root.Roles[RoleSnapshot], p); err != nil {
		return err
	}
	if old := t.snapshot; old != nil {
		for name, om := range old.snapshot.Meta {
			nm, ok := p.snapshot.Meta[name]
			if !ok {
				return errRollback(RoleSnapshot, "new snapshot is missing %s", name)
			}
			if nm.Version < om.Version {
				return errRollback(strings.TrimSuffix(name, ".json"), "snapshot lists %s version %d < trusted %d", name, nm.Version, om.Version)
			}
		}
	}
	t.snapshot = p
	return t.checkFinalSnapshot()
}

func (t *Trusted) checkFinalSnapshot() error {
	if t.expired(t.snapshot.common) {
		return errFreeze(RoleSnapshot, "snapshot v%d expired at %s", t.snapshot.common.Version, t.snapshot.common.ExpiresRaw)
	}
	if want := t.timestamp.timestamp.Meta["snapshot.json"].Version; t.snapshot.common.Version != want {
		return errMixAndMatch(RoleSnapshot, "snapshot version %d, timestamp says %d", t.snapshot.common.Version, want)
	}
	return nil
}

// checkMetaFile checks raw against the length and hashes in m (where present).
func checkMetaFile(role string, m MetaFile, raw []byte) error {
	if m.Length != nil && int64(len(raw)) != *m.Length {
		return errMixAndMatch(role, "length %d, expected %d", len(raw), *m.Length)
	}
	if m.Hashes != nil {
		known := 0
		for alg, want := range m.Hashes {
			h := hashFor(alg)
			if h == nil {
				continue
			}
			known++
			h.Write(raw)
			w, err := hex.DecodeString(want)
			if err != nil || !bytes.Equal(h.Sum(nil), w) {
				return errMixAndMatch(role, "%s hash mismatch", alg)
			}
		}
		if known == 0 {
			return errMixAndMatch(role, "no supported hash algorithm")
		}
	}
	return nil
}

// Snapshot returns the trusted snapshot, or nil.
func (t *Trusted) Snapshot() *Snapshot {
	if t.snapshot == nil {
		return nil
	}
	return t.snapshot.snapshot
}

// Timestamp returns the trusted timestamp, or nil.
func (t *Trusted) Timestamp() *Timestamp {
	if t.timestamp == nil {
		return nil
	}
	return t.timestamp.timestamp
}

// Targets returns a trusted targets role, or nil.
func (t *Trusted) Targets(role string) *Targets {
	if r := t.roles[role]; r != nil {
		return r.p.targets
	}
	return nil
}

// HasRole reports whether role is trusted and has been verified against delegator.
func (t *Trusted) HasRole(role, delegator string) bool {
	r := t.roles[role]
	return r != nil && r.via[delegator]
}

// UpdateDelegatedTargets verifies a targets role (RoleTargets with delegator RoleRoot, or a
// delegated role with the name of its trusted delegator) against the snapshot and the
// delegator's keys.
func (t *Trusted) UpdateDelegatedTargets(raw []byte, role, delegator string) error {
	if t.snapshot == nil {
		return errors.New("tuf: cannot update targets before snapshot")
	}
	return t.updateTargets(raw, role, delegator, nil, "", false)
}

// UpdateDelegatedTargetsInPlace is UpdateDelegatedTargets for a buffer the caller hands over:
// the canonical form is written over it instead of into a copy, which halves the memory a
// large targets role needs. Afterwards buf must not be used by the caller. If it returns an
// error matching errNeedsCopy, buf was overwritten before the metadata could be parsed in place
// (a string holds a control character); call UpdateDelegatedTargets with a fresh copy.
func (t *Trusted) UpdateDelegatedTargetsInPlace(buf []byte, role, delegator string) error {
	if t.snapshot == nil {
		return errors.New("tuf: cannot update targets before snapshot")
	}
	return t.updateTargets(buf, role, delegator, nil, sha256Hex(buf), true)
}

// updateTargets checks a targets role. With bound set, the bytes were verified before (see
// Binding) and bound() parses them without the signature check.
func (t *Trusted) updateTargets(raw []byte, role, delegator string, bound func() (*parsed, error), sum string, inPlace bool) error {
	if err := t.checkFinalSnapshot(); err != nil {
		return err
	}
	keys, r, err := t.delegation(role, delegator)
	if err != nil {
		return err
	}
	meta, ok := t.snapshot.snapshot.Meta[role+".json"]
	if !ok {
		return errMixAndMatch(role, "snapshot does not list %s.json", role)
	}
	if err := checkMetaFile(role, meta, raw); err != nil {
		return err
	}
	var p *parsed
	if bound != nil {
		if p, err = bound(); err != nil {
			return err
		}
	} else {
		if p, err = parseMetadataMode(role, RoleTargets, raw, inPlace); err != nil {
			return err
		}
		if err := verifyRole(role, keys, r, p); err != nil {
			return err
		}
	}
	if p.common.Version != meta.Version {
		return errMixAndMatch(role, "version %d, snapshot says %d", p.common.Version, meta.Version)
	}
	if t.expired(p.common) {
		return errFreeze(role, "%s v%d expired at %s", role, p.common.Version, p.common.ExpiresRaw)
	}
	t.roles[role] = &trustedRole{p: p, via: map[string]bool{delegator: true}, sum: sum}
	return nil
}

// ReverifyDelegated checks an already trusted role against another delegator (the diamond case:
// a role reached through a second path must satisfy that path's keys and threshold too).
func (t *Trusted) ReverifyDelegated(role, delegator string) error {
	tr := t.roles[role]
	if tr == nil {
		return fmt.Errorf("tuf: role %q is not trusted", role)
	}
	if tr.via[delegator] {
		return nil
	}
	keys, r, err := t.delegation(role, delegator)
	if err != nil {
		return err
	}
	p := tr.p
	if p.env.Canonical == nil {
		// Trusted through a Binding: the canonical form was not computed. Parse the (intact)
		// bytes in full to check the signatures against this delegator.
		if p, err = parseMetadata(role, RoleTargets, p.raw); err != nil {
			return err
		}
	}
	if err := verifyRole(role, keys, r, p); err != nil {
		return err
	}
	tr.via[delegator] = true
	return nil
}

// delegation returns the keys and role (keyids, threshold) that delegator gives role.
func (t *Trusted) delegation(role, delegator string) (map[string]*Key, Role, error) {
	if delegator == RoleRoot {
		if role != RoleTargets {
			return nil, Role{}, fmt.Errorf("tuf: root does not delegate %q", role)
		}
		return t.root.root.Keys, t.root.root.Roles[RoleTargets], nil
	}
	d := t.roles[delegator]
	if d == nil {
		return nil, Role{}, fmt.Errorf("tuf: delegator %q is not trusted", delegator)
	}
	dl := d.p.targets.Delegations
	if dl == nil {
		return nil, Role{}, vErr(verr.Delegation, role, nil, "%s has no delegations", delegator)
	}
	if s := dl.SuccinctRoles; s != nil {
		if s.isBin(role) {
			return dl.Keys, Role{KeyIDs: s.KeyIDs, Threshold: s.Threshold}, nil
		}
	}
	for _, r := range dl.Roles {
		if r.Name == role {
			return dl.Keys, Role{KeyIDs: r.KeyIDs, Threshold: r.Threshold}, nil
		}
	}
	return nil, Role{}, vErr(verr.Delegation, role, nil, "%s does not delegate to %s", delegator, role)
}

// verifyRole checks that p is signed by at least r.Threshold distinct keys among r.KeyIDs.
func verifyRole(role string, trusted map[string]*Key, r Role, p *parsed) error {
	msg := p.env.Canonical
	sigs := make(map[string]string, len(p.signatures))
	for _, s := range p.signatures {
		sigs[s.KeyID] = s.Sig
	}
	good := map[string]bool{}
	var fails []error
	for _, id := range r.KeyIDs {
		k := trusted[id]
		if k == nil {
			continue
		}
		sh, ok := sigs[id]
		if !ok {
			continue
		}
		pk, err := k.keyOf(id)
		if err != nil {
			fails = append(fails, fmt.Errorf("key %s: %w", id, err))
			continue
		}
		sig, err := hex.DecodeString(sh)
		if err != nil || pk.Verify(msg, keys.Signature{KeyID: id, Sig: sig}) != nil {
			fails = append(fails, fmt.Errorf("key %s: signature does not verify", id))
			continue
		}
		good[k.identity()] = true
	}
	if len(good) >= r.Threshold && r.Threshold >= 1 {
		return nil
	}
	reason := verr.Threshold
	if len(good) == 0 {
		reason = verr.BadSignature
	}
	return vErr(reason, role, errors.Join(fails...), "%d of %d required signatures by distinct trusted keys", len(good), r.Threshold)
}

// isBin reports whether name is one of the succinct hash bins.
func (s *SuccinctRoles) isBin(name string) bool {
	rest, ok := strings.CutPrefix(name, s.NamePrefix+"-")
	if !ok {
		return false
	}
	width := (s.BitLength + 3) / 4
	if len(rest) != width {
		return false
	}
	var v uint64
	for _, c := range rest {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		default:
			return false
		}
		v = v<<4 | d
	}
	return v < 1<<uint(s.BitLength)
}

// binFor returns the bin a target path hashes to.
func (s *SuccinctRoles) binFor(target string) string {
	h := sha256.Sum256([]byte(target))
	v := uint64(h[0])<<24 | uint64(h[1])<<16 | uint64(h[2])<<8 | uint64(h[3])
	bin := v >> (32 - uint(s.BitLength))
	width := (s.BitLength + 3) / 4
	return fmt.Sprintf("%s-%0*x", s.NamePrefix, width, bin)
}
