package verify

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"path"
	"sort"
	"time"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/intoto"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

// ParseKey parses a public key file as the ".pub" targets of layouts and revocation lists are
// read: securesystemslib JSON, an armored OpenPGP public key, or PEM (the scheme then defaults
// to the key type's usual one: rsassa-pss-sha256, ecdsa-sha2-nistp256, ed25519). Malformed input
// is a *verr.InputError.
func ParseKey(data []byte) (*keys.Key, error) {
	return parseLayoutKey(blob{path: "key", data: data})
}

// parseLayoutKey reads a layout public key target (see ParseKey).
func parseLayoutKey(b blob) (*keys.Key, error) {
	trimmed := bytes.TrimSpace(b.data)
	var (
		k   *keys.Key
		err error
	)
	switch {
	case bytes.HasPrefix(trimmed, []byte("{")):
		k, err = keys.ParseSSLib(b.data)
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN PGP")):
		k, err = keys.ParseOpenPGP(b.data)
	default:
		k, err = keys.ParsePEM(b.data, "")
	}
	if err != nil {
		return nil, fmt.Errorf("layout key %q: %w", b.path, err)
	}
	return k, nil
}

// linkSource builds the in-memory link directory pkg/intoto reads: each .link target under its
// base name (which in-toto requires to be "<step>.<keyid8>.link"), and each statement of each
// attestation bundle under "<step>.<keyid8>.link" for every key that signed it.
//
// A bundle may also carry statements that are not links (provenance, test results, ...): they
// are not evidence for the layout and are skipped, each with a warning.
func linkSource(links, bundles []blob, lim cjson.Limits) (intoto.MemLinks, []string, error) {
	var warnings []string
	m := make(intoto.MemLinks, len(links))
	add := func(name, from string, data []byte) error {
		if _, dup := m[name]; dup {
			return verr.Invalid("in-toto metadata", "two documents would be the link %q (the second from %q)", name, from)
		}
		m[name] = data
		return nil
	}
	for _, l := range links {
		if err := add(path.Base(l.path), l.path, l.data); err != nil {
			return nil, nil, err
		}
	}
	for _, b := range bundles {
		for i, line := range bytes.Split(b.data, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			if pt, ok := statementType(line, lim); ok && !isLinkPredicate(pt) {
				warnings = append(warnings, fmt.Sprintf("bundle %s line %d: a statement of predicate type %q is not a link; ignored", b.path, i+1, pt))
				continue
			}
			lk, env, err := intoto.ParseLink(line, lim)
			if err != nil {
				return nil, nil, fmt.Errorf("bundle %q line %d: %w", b.path, i+1, err)
			}
			if len(env.Signatures) == 0 {
				return nil, nil, verr.Invalid(fmt.Sprintf("bundle %q line %d", b.path, i+1), "unsigned statement")
			}
			seen := map[string]bool{}
			for _, s := range env.Signatures {
				name := intoto.LinkFileName(lk.Name, s.KeyID)
				if seen[name] || len(s.KeyID) < 8 {
					continue
				}
				seen[name] = true
				if err := add(name, b.path, line); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	return m, warnings, nil
}

// statementType returns the predicate type of a DSSE envelope holding an in-toto statement, and
// false when data is not one (ParseLink then reports what it is).
func statementType(data []byte, lim cjson.Limits) (string, bool) {
	tree, err := cjson.Decode(data, lim)
	if err != nil {
		return "", false
	}
	env, _ := tree.(map[string]any)
	payload, _ := env["payload"].(string)
	if payload == "" {
		return "", false
	}
	raw, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		return "", false
	}
	st, err := cjson.Decode(raw, lim)
	if err != nil {
		return "", false
	}
	m, _ := st.(map[string]any)
	pt, ok := m["predicateType"].(string)
	return pt, ok
}

func isLinkPredicate(pt string) bool {
	switch pt {
	case intoto.PredicateLinkV02, intoto.PredicateLinkV03, "https://in-toto.io/Link/v1":
		return true
	}
	return false
}

// verifyChain runs pkg/intoto for one layout and maps its result onto the policy's evidence.
func verifyChain(ctx context.Context, in chainInput) (*chainResult, error) {
	lim := cjson.Limits{MaxBytes: in.limits.maxMetadataBytes()}
	var lkeys []*keys.Key
	for _, b := range in.keys {
		k, err := parseLayoutKey(b)
		if err != nil {
			return nil, err
		}
		lkeys = append(lkeys, k)
	}
	src, skipped, err := linkSource(in.links, in.bundles, lim)
	if err != nil {
		return nil, err
	}
	params := in.params
	if params == nil {
		params = map[string]string{} // strict: every {NAME} must be given
	}
	mode := intoto.InspectionsPrerecorded
	if in.inspections == InspectionsRunUnsafe {
		mode = intoto.InspectionsRunUnsafe
	}
	now := in.now
	res, err := intoto.Verify(ctx, in.layout.data, intoto.Options{
		LayoutKeys:      lkeys,
		LayoutThreshold: in.threshold,
		Links:           src,
		Now:             func() time.Time { return now },
		Params:          params,
		Inspections:     mode,
		InspectionFiles: in.inspectFS,
		Revocation:      in.revocation,
		Limits:          lim,
	})
	if err != nil {
		return nil, err
	}
	cr := evidence(in.layout, res)
	cr.warnings = append(cr.warnings, skipped...)
	for _, k := range lkeys {
		if k.IsOpenPGP() {
			cr.notAfter = time.Time{} // see evidence
		}
	}
	return cr, nil
}

// evidence maps a verified pkg/intoto result onto policy.Layout and the product index.
func evidence(l blob, res *intoto.Result) *chainResult {
	pl := policy.Layout{
		Name:    l.path,
		Digest:  res.LayoutDigest,
		Signers: append([]string(nil), res.LayoutSigners...),
	}
	cr := &chainResult{notAfter: time.Unix(1<<62, 0)}
	if res.Layout != nil {
		pl.Expires = res.Layout.Expires
		cr.notAfter = res.Layout.Expires
		ids := make([]string, 0, len(res.Layout.Keys))
		for id := range res.Layout.Keys {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			k := res.Layout.Keys[id]
			pk := policy.Key{KeyID: id, KeyType: k.KeyType, Scheme: k.Scheme}
			pl.Keys = append(pl.Keys, pk)
		}
		pgp := false
		for _, k := range res.Layout.Keys {
			pgp = pgp || k.IsOpenPGP()
		}
		if len(res.Layout.RootCAs) > 0 || pgp {
			// Certificate validity and OpenPGP key expiry depend on the time in ways the
			// layout's expiry does not bound: never reuse such a result.
			cr.notAfter = time.Time{}
		}
	}
	stepsByName := map[string]intoto.Step{}
	if res.Layout != nil {
		for _, s := range res.Layout.Steps {
			stepsByName[s.Name] = s
		}
	}
	for _, sr := range res.Steps {
		if sr.Inspection {
			continue
		}
		ps := policy.Step{Name: sr.Name, Threshold: sr.Threshold}
		if s, ok := stepsByName[sr.Name]; ok {
			ps.Functionaries = append([]string(nil), s.PubKeys...)
			ps.Command = s.ExpectedCommand
		}
		var mats, prods map[string]policy.Digests
		var cmd []string
		if sr.Link != nil {
			// The policy's evidence shares pkg/intoto's maps (policy.Digests is rules.Digests):
			// no copy, and neither side modifies them.
			mats = map[string]policy.Digests(sr.Link.Materials)
			prods = map[string]policy.Digests(sr.Link.Products)
			cmd = sr.Link.Command
			cr.products = append(cr.products, stepProducts{layout: l.path, step: sr.Name, order: len(pl.Steps), artifacts: sr.Link.Products})
		}
		for _, lr := range sr.Links {
			ps.Links = append(ps.Links, policy.Link{KeyID: lr.KeyID, Digest: lr.Digest, Materials: mats, Products: prods, Command: cmd})
		}
		pl.Rules = appendRules(pl.Rules, sr.Name, "materials", sr.Materials)
		pl.Rules = appendRules(pl.Rules, sr.Name, "products", sr.Products)
		for _, rj := range sr.Rejected {
			cr.warnings = append(cr.warnings, fmt.Sprintf("layout %s, step %s: link %s did not count: %v", l.path, sr.Name, rj.File, rj.Err))
		}
		pl.Steps = append(pl.Steps, ps)
	}
	for _, w := range res.Warnings {
		cr.warnings = append(cr.warnings, fmt.Sprintf("layout %s: %s", l.path, w))
	}
	for _, r := range res.Revocations {
		cr.warnings = append(cr.warnings, fmt.Sprintf("layout %s: %s %s%s is %s (%s) and did not count", l.path, r.Ref.Kind, r.Ref.KeyID, r.Ref.Digest, r.Status.State, r.Status.Source))
	}
	cr.layout = pl
	return cr
}

// appendRules records the outcome of every artifact rule of one side of a step. The consumed
// artifacts are not listed (a 100k-artifact step would copy every name); the policy sees them
// through the links' materials and products.
func appendRules(out []policy.RuleResult, step, side string, r *rules.Result) []policy.RuleResult {
	if r == nil {
		return out
	}
	for _, o := range r.Outcomes {
		rr := policy.RuleResult{Step: step, Side: side, Rule: o.Rule, Verb: string(o.Verb), OK: !o.Failed}
		if o.Failed {
			rr.Failure = o.Msg
		}
		out = append(out, rr)
	}
	return out
}
