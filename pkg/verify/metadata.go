package verify

import (
	"context"
	"fmt"
	"sort"

	"github.com/tintoproject/tinto/pkg/verr"
)

// blob is one in-toto metadata target, fetched and verified through TUF.
type blob struct {
	path   string
	digest string // sha256:<hex> of data
	data   []byte
}

// metadata is everything in-toto needs for one target, all of it fetched through TUF.
type metadata struct {
	layouts []blob
	keys    map[string][]blob // layout path -> its keys
	links   []blob
	bundles []blob
}

// collect reads the target's custom["in-toto"] (ITE-2), and fetches through TUF the layouts (or
// Options.RootLayout), the keys each layout's own target lists, the links and the bundles.
func (v *Verifier) collect(ctx context.Context, lk *lookups, t *Target) (*metadata, error) {
	refs, err := ParseCustom(fmt.Sprintf("target %q", t.Name), t.Custom, false)
	if err != nil {
		return nil, err
	}
	layouts, links, bundles, _ := split(refs)
	if len(layouts) == 0 && v.opts.RootLayout != "" {
		layouts = []string{v.opts.RootLayout}
	}
	if len(layouts) == 0 {
		return nil, verr.New(verr.LayoutInvalid, "target %q lists no in-toto layout in custom[%q] and no root layout is configured", t.Name, CustomKey)
	}
	if len(links) == 0 && len(bundles) == 0 {
		return nil, verr.New(verr.MissingLink, "target %q lists no in-toto links or attestation bundles in custom[%q]", t.Name, CustomKey)
	}
	if n := len(layouts) + len(links) + len(bundles); n > v.opts.Limits.maxMetadataFiles() {
		return nil, verr.Invalid(fmt.Sprintf("target %q custom metadata", t.Name), "%d in-toto metadata files exceed the limit of %d", n, v.opts.Limits.maxMetadataFiles())
	}
	md := &metadata{keys: make(map[string][]blob)}
	for _, p := range layouts {
		lt, data, err := v.fetchMeta(ctx, lk, p, true)
		if err != nil {
			return nil, fmt.Errorf("layout %q: %w", p, err)
		}
		md.layouts = append(md.layouts, blob{path: p, digest: blobDigest(lt, data), data: data})
		krefs, err := ParseCustom(fmt.Sprintf("layout target %q", p), lt.Custom, true)
		if err != nil {
			return nil, err
		}
		_, _, _, keyPaths := split(krefs)
		if len(keyPaths) == 0 {
			return nil, verr.New(verr.UnknownKey, "layout target %q lists no layout public keys in custom[%q]", p, CustomKey)
		}
		for _, kp := range keyPaths {
			kt, kd, err := v.fetchMeta(ctx, lk, kp, true)
			if err != nil {
				return nil, fmt.Errorf("layout key %q: %w", kp, err)
			}
			md.keys[p] = append(md.keys[p], blob{path: kp, digest: blobDigest(kt, kd), data: kd})
		}
	}
	for _, p := range links {
		t, data, err := v.fetchMeta(ctx, lk, p, false)
		if err != nil {
			return nil, fmt.Errorf("link %q: %w", p, err)
		}
		md.links = append(md.links, blob{path: p, digest: blobDigest(t, data), data: data})
	}
	for _, p := range bundles {
		t, data, err := v.fetchMeta(ctx, lk, p, false)
		if err != nil {
			return nil, fmt.Errorf("bundle %q: %w", p, err)
		}
		md.bundles = append(md.bundles, blob{path: p, digest: blobDigest(t, data), data: data})
	}
	sort.Slice(md.layouts, func(i, j int) bool { return md.layouts[i].path < md.layouts[j].path })
	return md, nil
}

// blobDigest is "sha256:<hex>" of data: the target's signed sha256 when it has one (Fetch has
// checked data against it), computed otherwise.
func blobDigest(t *Target, data []byte) string {
	if h := t.Hashes["sha256"]; len(h) == 64 {
		return "sha256:" + h
	}
	return digestOf(data)
}
