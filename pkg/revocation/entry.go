package revocation

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/tintoproject/tinto/pkg/verr"
)

// Entry is one revocation: what is revoked (a reference string, see ParseEntryRef), since when,
// and why. It is the unit of a Static list and of a signed List document.
//
// Reference strings:
//
//	key:<keyid>                      a key, wherever it is used
//	functionary:<keyid>              a key in its role as an in-toto functionary (any step)
//	functionary:<keyid>:<step>       ... for one step only
//	certificate:<serial>:<issuer>    an X.509 certificate (decimal serial, RFC 4514 issuer)
//	layout:<alg>:<hex>               a layout, by digest
//	layout:<name>@<version>          a layout name at one version (and every version below it
//	                                 is not implied: list each, or use Superseded)
//	link:<alg>:<hex>                 a link or attestation, by digest
//	artifact:<alg>:<hex>             an artifact, by digest
//
// Keyids and hex digests are compared case-insensitively. An Entry is a plain value (safe for
// concurrent reads).
type Entry struct {
	Ref       string    `json:"ref"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	Reason    string    `json:"reason,omitempty"`
}

// entryKey is the index key of a parsed entry ref.
type entryKey struct {
	kind Kind
	id   string // keyid, digest, "name@version", or "serial:issuer"
	step string // functionary scope
}

// ParseEntryRef checks a reference string and returns its normalised index key.
func parseEntryRef(s string) (entryKey, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return entryKey{}, verr.Invalid("revocation entry", "ref %q is not kind:value", s)
	}
	switch Kind(kind) {
	case KindKey:
		if !isHexish(rest) {
			return entryKey{}, verr.Invalid("revocation entry", "ref %q: a keyid is hex", s)
		}
		return entryKey{kind: KindKey, id: strings.ToLower(rest)}, nil
	case KindFunctionary:
		id, step, _ := strings.Cut(rest, ":")
		if !isHexish(id) {
			return entryKey{}, verr.Invalid("revocation entry", "ref %q: a keyid is hex", s)
		}
		return entryKey{kind: KindFunctionary, id: strings.ToLower(id), step: step}, nil
	case KindCertificate:
		serial, issuer, ok := strings.Cut(rest, ":")
		if !ok || serial == "" || issuer == "" || strings.Trim(serial, "0123456789") != "" {
			return entryKey{}, verr.Invalid("revocation entry", "ref %q: want certificate:<decimal serial>:<issuer>", s)
		}
		return entryKey{kind: KindCertificate, id: serial + ":" + issuer}, nil
	case KindLayout, KindLink, KindArtifact:
		if Kind(kind) == KindLayout && strings.Contains(rest, "@") {
			return entryKey{kind: KindLayout, id: rest}, nil
		}
		alg, h, ok := strings.Cut(rest, ":")
		if !ok || alg == "" || !isHexish(h) {
			return entryKey{}, verr.Invalid("revocation entry", "ref %q: want %s:<alg>:<hex>", s, kind)
		}
		return entryKey{kind: Kind(kind), id: strings.ToLower(alg + ":" + h)}, nil
	}
	return entryKey{}, verr.Invalid("revocation entry", "ref %q: unknown kind %q", s, kind)
}

func isHexish(s string) bool {
	if len(s) < 8 || len(s) > 256 {
		return false
	}
	_, err := hex.DecodeString(s)
	if err != nil && len(s)%2 == 1 {
		_, err = hex.DecodeString("0" + s)
	}
	return err == nil
}

// index is a parsed set of entries.
type index map[entryKey]Entry

func newIndex(entries []Entry) (index, error) {
	ix := make(index, len(entries))
	for i, e := range entries {
		k, err := parseEntryRef(e.Ref)
		if err != nil {
			return nil, fmt.Errorf("entries[%d]: %w", i, err)
		}
		if _, dup := ix[k]; dup {
			return nil, verr.Invalid("revocation entry", "entries[%d]: %q listed twice", i, e.Ref)
		}
		ix[k] = e
	}
	return ix, nil
}

// find returns the entry that revokes ref, if any. A key entry revokes the key in every role
// (functionary and certificate lookups carry the keyid); a functionary entry with a step applies
// to that step only.
func (ix index) find(ref Ref) (Entry, bool) {
	keyid := strings.ToLower(ref.KeyID)
	switch ref.Kind {
	case KindKey, KindFunctionary, KindCertificate:
		if keyid != "" {
			if e, ok := ix[entryKey{kind: KindKey, id: keyid}]; ok {
				return e, true
			}
		}
		if ref.Kind == KindFunctionary {
			if e, ok := ix[entryKey{kind: KindFunctionary, id: keyid}]; ok {
				return e, true
			}
			if e, ok := ix[entryKey{kind: KindFunctionary, id: keyid, step: ref.Step}]; ok && ref.Step != "" {
				return e, true
			}
		}
		if ref.Kind == KindCertificate && ref.Serial != "" {
			if e, ok := ix[entryKey{kind: KindCertificate, id: ref.Serial + ":" + ref.Issuer}]; ok {
				return e, true
			}
		}
	case KindLayout:
		if e, ok := ix[entryKey{kind: KindLayout, id: strings.ToLower(ref.Digest)}]; ok && ref.Digest != "" {
			return e, true
		}
		if ref.Name != "" && ref.Version > 0 {
			if e, ok := ix[entryKey{kind: KindLayout, id: fmt.Sprintf("%s@%d", ref.Name, ref.Version)}]; ok {
				return e, true
			}
		}
	case KindLink, KindArtifact:
		if e, ok := ix[entryKey{kind: ref.Kind, id: strings.ToLower(ref.Digest)}]; ok && ref.Digest != "" {
			return e, true
		}
	}
	return Entry{}, false
}
