package revocation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Chain combines sources. It asks every source, in order, and answers:
//
//  1. Revoked, as soon as any source says Revoked (a revocation anywhere is a revocation; later
//     sources are not asked);
//  2. otherwise Good, from the first source that says Good;
//  3. otherwise NotRevocable, when some source says so (no configured source can revoke the
//     thing, for example a CRL asked about a layout);
//  4. otherwise Unknown, with every source's error joined.
//
// A source that returns an error counts as Unknown for that source. A Chain is safe for
// concurrent use when its sources are.
type Chain []Checker

// Status implements Checker. It returns an error only together with Unknown, when at least one
// source failed and none answered definitively.
func (c Chain) Status(ctx context.Context, ref Ref, at time.Time) (Status, error) {
	var good, notRevocable *Status
	var errs []error
	var unknown []string
	for i, src := range c {
		if err := ctx.Err(); err != nil {
			return Status{State: Unknown, Source: "chain"}, err
		}
		st, err := src.Status(ctx, ref, at)
		if err != nil {
			errs = append(errs, fmt.Errorf("source %d (%s): %w", i, st.Source, err))
			continue
		}
		switch st.State {
		case Revoked:
			return st, nil
		case Good:
			if good == nil {
				good = &st
			}
		case NotRevocable:
			if notRevocable == nil {
				notRevocable = &st
			}
		default:
			unknown = append(unknown, st.Source)
		}
	}
	switch {
	case good != nil:
		return *good, nil
	case notRevocable != nil:
		return *notRevocable, nil
	}
	st := Status{State: Unknown, Source: "chain[" + strings.Join(unknown, ",") + "]"}
	if len(errs) > 0 {
		return st, errors.Join(errs...)
	}
	return st, nil
}

// CountsTowardsThreshold reports whether a key whose revocation status is st may count towards
// a signature threshold. This is the hook pkg/intoto applies to every layout signer and every
// functionary before counting it: Revoked never counts, Good and NotRevocable count, and Unknown
// counts only when unknownCounts is set (the default everywhere in tinto is false: fail closed).
// An error from the checker is Unknown.
func CountsTowardsThreshold(st Status, err error, unknownCounts bool) bool {
	if err != nil {
		return unknownCounts
	}
	switch st.State {
	case Good, NotRevocable:
		return true
	case Unknown:
		return unknownCounts
	}
	return false
}
