package revocation

import (
	"context"
	"time"
)

// Static is a fixed revocation list held in memory (for example from configuration). It is
// immutable and safe for concurrent use.
//
// A listed ref is Revoked. An unlisted ref is Good when the list is Authoritative (it is known
// to name everything that is revoked) and Unknown otherwise.
type Static struct {
	name          string
	ix            index
	authoritative bool
}

// StaticOptions configures NewStatic. The zero value is the strict choice.
type StaticOptions struct {
	// Name is the source name in answers ("static" when empty); answers say "static:<Name>".
	Name string
	// Authoritative makes unlisted refs Good. False (the zero value) answers Unknown for them.
	Authoritative bool
}

// NewStatic builds a static list. A malformed or duplicate ref is a *verr.InputError.
func NewStatic(entries []Entry, opts StaticOptions) (*Static, error) {
	ix, err := newIndex(entries)
	if err != nil {
		return nil, err
	}
	name := "static"
	if opts.Name != "" {
		name += ":" + opts.Name
	}
	return &Static{name: name, ix: ix, authoritative: opts.Authoritative}, nil
}

// Status implements Checker. It never returns an error.
func (s *Static) Status(ctx context.Context, ref Ref, at time.Time) (Status, error) {
	if e, ok := s.ix.find(ref); ok {
		if e.RevokedAt.IsZero() || !at.Before(e.RevokedAt) {
			return Status{State: Revoked, Source: s.name, RevokedAt: e.RevokedAt, Reason: e.Reason}, nil
		}
	}
	if s.authoritative {
		return Status{State: Good, Source: s.name}, nil
	}
	return Status{State: Unknown, Source: s.name}, nil
}
