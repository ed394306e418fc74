package revocation

import (
	"context"
	"fmt"
	"time"
)

// Superseded revokes every layout version below the current one. The current versions usually
// come from TUF (the version recorded in each layout target's custom metadata), so a layout
// replaced in the repository is revoked as soon as the client has refreshed.
//
// It answers only for KindLayout refs that carry a Name and a Version: below the current
// version, Revoked; at or above it, Good; a name it does not know, Unknown. Every other ref is
// NotRevocable by this source. Superseded is immutable and safe for concurrent use.
type Superseded struct {
	current   map[string]int64
	fetchedAt time.Time
}

// NewSuperseded builds the source from layout name -> current version. fetchedAt is when those
// versions were obtained (reported as the answers' freshness; zero when unknown).
func NewSuperseded(current map[string]int64, fetchedAt time.Time) *Superseded {
	m := make(map[string]int64, len(current))
	for k, v := range current {
		m[k] = v
	}
	return &Superseded{current: m, fetchedAt: fetchedAt}
}

// Status implements Checker. It never returns an error.
func (s *Superseded) Status(ctx context.Context, ref Ref, at time.Time) (Status, error) {
	if ref.Kind != KindLayout {
		return Status{State: NotRevocable, Source: "superseded"}, nil
	}
	cur, ok := s.current[ref.Name]
	if !ok || ref.Version <= 0 {
		return Status{State: Unknown, Source: "superseded", FetchedAt: s.fetchedAt}, nil
	}
	if ref.Version < cur {
		return Status{State: Revoked, Source: "superseded", FetchedAt: s.fetchedAt,
			Reason: fmt.Sprintf("superseded by version %d", cur)}, nil
	}
	return Status{State: Good, Source: "superseded", FetchedAt: s.fetchedAt}, nil
}
