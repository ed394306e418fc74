package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/rules"
)

// chainInput is everything one in-toto verification depends on.
type chainInput struct {
	layout      blob
	keys        []blob
	links       []blob
	bundles     []blob
	threshold   int
	params      map[string]string
	now         time.Time
	inspections InspectionMode
	inspectFS   fs.FS // the inspections' working directory (InspectionsRunUnsafe only)
	revocation  revocation.Checker
	limits      Limits
}

// chainResult is the verified evidence of one layout.
type chainResult struct {
	layout policy.Layout
	// products are the verified products of each step (the agreed content of its links), for
	// target binding. They are pkg/intoto's own maps, shared, never modified.
	products []stepProducts
	// notBefore and notAfter bound the times at which this evidence stays valid (the layout's
	// expiry, certificate validity); a cached result is reused only inside them.
	notBefore, notAfter time.Time
	// warnings are observations that did not fail verification (links that did not count,
	// revoked keys that were skipped while the threshold was still met).
	warnings []string

	// prepOnce makes prepared, the layout evidence prepared for the policy, on the first reuse.
	prepOnce sync.Once
	prepared policy.Layout
}

// policyLayout returns the layout evidence to hand to the policy. A result reused from the
// cache is prepared (policy.Layout.Prepare) on its first reuse, once: every later decision over
// it scans lists of the artifact names instead of checking each name again. A fresh result is
// passed as it is: preparing touches every artifact name once more (about 15 % of a cold
// 100k-artifact verification), which is what one decision that scans the names costs anyway.
// If Prepare fails (pkg/intoto already rejected invalid names, so it should not), the
// unprepared evidence is used, and the policy checks each name itself. Safe for concurrent use.
func (c *chainResult) policyLayout(reused bool) policy.Layout {
	if !reused {
		return c.layout
	}
	c.prepOnce.Do(func() {
		c.prepared = c.layout // shares Steps; Prepare records only in this copy
		if c.prepared.Prepare() != nil {
			c.prepared = c.layout
		}
	})
	return c.prepared
}

type stepProducts struct {
	layout, step string
	// order is the step's position in the layout; a later step's product is preferred.
	order     int
	artifacts map[string]rules.Digests
}

// weight is the number of artifacts the evidence holds, its cost in the cache.
func (c *chainResult) weight() int64 {
	n := int64(1)
	for _, s := range c.layout.Steps {
		if len(s.Links) > 0 {
			n += int64(len(s.Links[0].Materials) + len(s.Links[0].Products))
		}
	}
	return n
}

func (c *chainResult) validAt(t time.Time) bool {
	return !t.Before(c.notBefore) && t.Before(c.notAfter)
}

// cacheKey is a digest of everything the in-toto outcome depends on, except the time (handled by
// chainResult.validAt) and the revocation checker, which is represented by the digest of the
// TUF-distributed list (the only source a cacheable verification may use).
func (in *chainInput) cacheKey(rl *RevocationList) string {
	h := sha256.New()
	w := func(parts ...string) {
		for _, p := range parts {
			fmt.Fprintf(h, "%d:%s;", len(p), p)
		}
	}
	w("layout", in.layout.path, in.layout.digest)
	for _, set := range []struct {
		name  string
		blobs []blob
	}{{"keys", in.keys}, {"links", in.links}, {"bundles", in.bundles}} {
		ds := make([]string, 0, len(set.blobs))
		for _, b := range set.blobs {
			ds = append(ds, b.path+"="+b.digest)
		}
		sort.Strings(ds)
		w(set.name, strings.Join(ds, ","))
	}
	w("threshold", fmt.Sprint(in.threshold), "inspections", fmt.Sprint(in.inspections))
	ks := make([]string, 0, len(in.params))
	for k := range in.params {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		w("param", k, in.params[k])
	}
	if rl != nil {
		w("revocation", rl.Target, rl.Digest)
	}
	return hex.EncodeToString(h.Sum(nil))
}
