package verify

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/tintoproject/tinto/pkg/verr"
)

// CustomKey is the key of a TUF target's custom metadata that lists in-toto metadata, as ITE-2 and
// ITE-3 use it: an array of TUF target paths.
const CustomKey = "in-toto"

// The file-name suffixes that classify an entry of custom["in-toto"]. docs/integration.md is the
// normative description.
const (
	// SuffixLayout marks a root layout: a Metablock or a DSSE envelope (the content decides).
	SuffixLayout = ".layout"
	// SuffixLink marks a link: a Metablock or a DSSE envelope (the content decides).
	SuffixLink = ".link"
	// SuffixBundle marks an attestation bundle: JSON Lines of DSSE envelopes whose statements carry
	// an in-toto link predicate.
	SuffixBundle = ".intoto.jsonl"
	// SuffixKey marks a layout public key (securesystemslib JSON or PEM). Keys are only accepted
	// from a layout target's custom metadata, never from a package target's.
	SuffixKey = ".pub"
)

// MetadataKind classifies one entry of custom["in-toto"]. It is a plain value.
type MetadataKind string

// The kinds of in-toto metadata a custom["in-toto"] entry can name.
const (
	KindLayout MetadataKind = "layout"
	KindLink   MetadataKind = "link"
	KindBundle MetadataKind = "bundle"
	KindKey    MetadataKind = "key"
)

// MetadataRef is one classified entry of custom["in-toto"]. It is a plain value.
type MetadataRef struct {
	Kind MetadataKind `json:"kind"`
	// Path is the TUF target path, exactly as listed.
	Path string `json:"path"`
}

// maxCustomEntries bounds the length of a custom["in-toto"] list.
const maxCustomEntries = 4096

// ParseCustom classifies the in-toto metadata listed by a TUF target's custom metadata (raw is the
// JSON object of the target's "custom" field, or nil when the target has none).
//
// The entries are classified by suffix (see docs/integration.md). The result is sorted by kind,
// then path, and has no duplicates. It is an *verr.InputError when custom["in-toto"] is not an
// array of strings, when an entry is empty, absolute, has a "." or ".." segment or a backslash,
// when an entry has an unknown suffix, when an entry is duplicated, or when a key is listed and
// allowKeys is false. A target with no custom["in-toto"] yields no refs and no error: the caller
// decides whether that is acceptable.
func ParseCustom(what string, raw json.RawMessage, allowKeys bool) ([]MetadataRef, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var custom map[string]json.RawMessage
	if err := json.Unmarshal(raw, &custom); err != nil {
		return nil, &verr.InputError{What: what + " custom metadata", Offset: -1, Msg: "not a JSON object", Err: err}
	}
	list, ok := custom[CustomKey]
	if !ok || string(list) == "null" {
		return nil, nil
	}
	var entries []any
	if err := json.Unmarshal(list, &entries); err != nil {
		return nil, &verr.InputError{What: what + ` custom["in-toto"]`, Offset: -1, Msg: "not an array", Err: err}
	}
	if len(entries) > maxCustomEntries {
		return nil, verr.Invalid(what+` custom["in-toto"]`, "%d entries exceed the limit of %d", len(entries), maxCustomEntries)
	}
	seen := make(map[string]bool, len(entries))
	refs := make([]MetadataRef, 0, len(entries))
	for i, e := range entries {
		p, ok := e.(string)
		if !ok {
			return nil, verr.Invalid(what+` custom["in-toto"]`, "entry %d is not a string", i)
		}
		if err := checkTargetPath(p); err != nil {
			return nil, verr.Invalid(what+` custom["in-toto"]`, "entry %d %q: %v", i, p, err)
		}
		if seen[p] {
			return nil, verr.Invalid(what+` custom["in-toto"]`, "entry %q is listed twice", p)
		}
		seen[p] = true
		k, err := classify(p)
		if err != nil {
			return nil, verr.Invalid(what+` custom["in-toto"]`, "entry %q: %v", p, err)
		}
		if k == KindKey && !allowKeys {
			return nil, verr.Invalid(what+` custom["in-toto"]`, "entry %q: layout keys may only be listed by a layout's target", p)
		}
		refs = append(refs, MetadataRef{Kind: k, Path: p})
	}
	sort.Slice(refs, func(i, j int) bool {
		if refs[i].Kind != refs[j].Kind {
			return refs[i].Kind < refs[j].Kind
		}
		return refs[i].Path < refs[j].Path
	})
	return refs, nil
}

func classify(p string) (MetadataKind, error) {
	switch {
	case strings.HasSuffix(p, SuffixBundle):
		return KindBundle, nil
	case strings.HasSuffix(p, SuffixLayout):
		return KindLayout, nil
	case strings.HasSuffix(p, SuffixLink):
		return KindLink, nil
	case strings.HasSuffix(p, SuffixKey):
		return KindKey, nil
	}
	return "", fmt.Errorf("unknown suffix (want %s, %s, %s or %s)", SuffixLayout, SuffixLink, SuffixBundle, SuffixKey)
}

// CheckTargetPath reports whether p is a clean, relative TUF target path that cannot name
// something other than what it seems to: not empty, not absolute, no empty, "." or ".." segment,
// no backslash or NUL, at most 1024 bytes. It is what ParseCustom requires of every entry, and
// what the CLI requires before writing a target under a directory.
func CheckTargetPath(p string) error { return checkTargetPath(p) }

func checkTargetPath(p string) error {
	if p == "" {
		return fmt.Errorf("empty path")
	}
	if len(p) > 1024 {
		return fmt.Errorf("path longer than 1024 bytes")
	}
	if strings.HasPrefix(p, "/") {
		return fmt.Errorf("absolute path")
	}
	if strings.ContainsAny(p, "\\\x00") {
		return fmt.Errorf("backslash or NUL in path")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("empty, '.' or '..' segment")
		}
	}
	if path.Clean(p) != p {
		return fmt.Errorf("path is not clean")
	}
	return nil
}

// split partitions refs by kind.
func split(refs []MetadataRef) (layouts, links, bundles, keys []string) {
	for _, r := range refs {
		switch r.Kind {
		case KindLayout:
			layouts = append(layouts, r.Path)
		case KindLink:
			links = append(links, r.Path)
		case KindBundle:
			bundles = append(bundles, r.Path)
		case KindKey:
			keys = append(keys, r.Path)
		}
	}
	return
}
