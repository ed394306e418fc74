package policy

import (
	"context"
	"fmt"
	"time"

	"github.com/tintoproject/tinto/pkg/verr"
)

// BaseOptions configures BaseEntries. The zero value is the strict choice: every layout must
// be satisfied (and there must be at least one), and Unknown revocation answers deny.
type BaseOptions struct {
	// Layouts is "all" (or ""), "any", "none", or a decimal k for k of n.
	Layouts string
	// UnknownWarn turns Unknown revocation answers into warnings instead of denials.
	UnknownWarn bool
}

// BaseEntries evaluates the two implicit rules every engine applies before its own rules: the
// revocation lookups ("revocation") and the layout combination ("layouts"). Other engines
// (pkg/policy/rego) use it so that revocation is decided the same way whatever the language.
func BaseEntries(ctx context.Context, in *Input, opts BaseOptions) ([]TrailEntry, error) {
	if in == nil || in.Time.IsZero() {
		return nil, verr.Invalid("policy input", "nil input or no evaluation time")
	}
	c := &compiled{unknownWarn: opts.UnknownWarn, goodStatus: newGoodStatus()}
	switch opts.Layouts {
	case "", "all":
		c.mode = layoutsAll
	case "any":
		c.mode = layoutsAny
	case "none":
		c.mode = layoutsNone
	default:
		var k int
		if _, err := fmt.Sscanf(opts.Layouts, "%d", &k); err != nil || k < 1 {
			return nil, fmt.Errorf("policy: bad Layouts %q", opts.Layouts)
		}
		c.mode, c.k = layoutsK, k
	}
	ev := &evaluator{c: c, ctx: ctx, in: in}
	cp := &compact{c: c, in: in, entries: make([]centry, 2)}
	ev.cp = cp
	ev.revocationEntry(&cp.entries[0])
	ev.layoutsEntry(&cp.entries[1])
	return cp.trail(nil), nil
}

// Decide combines trail entries into a Decision with DESIGN.md's rules: a deny vote by a WEAK
// entry becomes a warning; the highest strength that voted decides, and at that strength deny
// beats allow; with no vote at all the decision allows only if some entry was satisfied. It
// fills in OverriddenBy on the entries that lost.
func Decide(policyID string, at time.Time, trail []TrailEntry, warnings []string) *Decision {
	d := &Decision{MediaType: MediaType, PolicyID: policyID, Time: at, trail: trail}
	combine(d, warnings)
	return d
}
