package tuf

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
)

// A Binding records that the exact bytes of a targets role were fully verified (canonical form,
// signatures, threshold) against a delegator's keys, and where the signed members lie in those
// bytes. It lets a warm start skip the canonical scan and the signature check of a large,
// unchanged targets file: the cached bytes are bound to the earlier verification by their
// SHA-256, and to the delegator by a digest of the keys and threshold it gives the role.
// Everything else (snapshot version, length and hashes, expiry, delegations) is checked again.
//
// Bindings live next to the metadata cache and are exactly as trusted as the cache itself (which
// already holds the trusted root).
type Binding struct {
	SHA256  string            `json:"sha256"`
	Signed  [2]int            `json:"signed"`
	Members map[string][2]int `json:"members"`
	// Via maps each delegator the role was verified against to the digest of the keys and
	// threshold that delegator gives the role.
	Via map[string]string `json:"via"`
}

// bindThreshold is the smallest file worth binding: smaller files are simply verified again.
const bindThreshold = 256 << 10

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// keyDigest identifies the keys and threshold a delegator gives a role.
func keyDigest(keys map[string]*Key, r Role) string {
	ids := append([]string(nil), r.KeyIDs...)
	sort.Strings(ids)
	h := sha256.New()
	h.Write([]byte(strconv.Itoa(r.Threshold)))
	for _, id := range ids {
		h.Write([]byte{0})
		h.Write([]byte(id))
		if k := keys[id]; k != nil {
			h.Write([]byte{0})
			h.Write([]byte(k.identity()))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Binding returns the binding of a trusted targets role, or nil if it is not trusted or too
// small to be worth binding.
func (t *Trusted) Binding(role string) *Binding {
	tr := t.roles[role]
	if tr == nil || len(tr.p.raw) < bindThreshold || tr.p.env.RawMembers == nil {
		return nil
	}
	b := &Binding{
		SHA256:  tr.sha256(),
		Signed:  tr.p.env.RawSigned,
		Members: tr.p.env.RawMembers,
		Via:     map[string]string{},
	}
	for d := range tr.via {
		if keys, r, err := t.delegation(role, d); err == nil {
			b.Via[d] = keyDigest(keys, r)
		}
	}
	return b
}

func (tr *trustedRole) sha256() string {
	if tr.sum == "" {
		tr.sum = sha256Hex(tr.p.raw)
	}
	return tr.sum
}

// UpdateDelegatedTargetsBound is UpdateDelegatedTargets for cached bytes with a Binding. When
// the bytes hash to the bound SHA-256 and the delegator still gives the role the same keys and
// threshold, the canonical scan and the signature check are skipped; every other check is
// made. Otherwise it verifies the bytes in full.
func (t *Trusted) UpdateDelegatedTargetsBound(raw []byte, role, delegator string, b *Binding) error {
	if b == nil || t.snapshot == nil {
		return t.UpdateDelegatedTargets(raw, role, delegator)
	}
	keys, r, err := t.delegation(role, delegator)
	if err != nil {
		return err
	}
	sum := sha256Hex(raw)
	if sum != b.SHA256 || b.Via[delegator] != keyDigest(keys, r) {
		return t.UpdateDelegatedTargets(raw, role, delegator)
	}
	return t.updateTargets(raw, role, delegator, func() (*parsed, error) { return parseBound(role, raw, b) }, sum, false)
}
