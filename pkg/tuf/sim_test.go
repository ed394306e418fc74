package tuf_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf"
	"github.com/tintoproject/tinto/pkg/tuf/publish"
	"github.com/tintoproject/tinto/pkg/verr"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// sim is a repository simulator: a publish.Repository served through an in-memory fetcher that
// records requests and lets a test replace what is served at a location (the attacker).
type sim struct {
	t        testing.TB
	repo     *publish.Repository
	now      time.Time
	mu       sync.Mutex
	override map[string][]byte
	requests []string
	// slow, when set, is called before serving each location (to stall the response).
	slow func(ctx context.Context, location string) error
}

func newSim(t testing.TB) *sim {
	t.Helper()
	r, err := publish.New(publish.Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	s := &sim{t: t, repo: r, now: t0.Add(time.Hour), override: map[string][]byte{}}
	if err := r.AddTarget("targets", "file.txt", []byte("genuine content"), nil); err != nil {
		t.Fatal(err)
	}
	s.publish()
	return s
}

func (s *sim) publish(roles ...string) {
	s.t.Helper()
	if err := s.repo.Publish(roles...); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sim) serve(location string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.override[location] = b
}

func (s *sim) fetcher() tuf.Fetcher {
	return tuf.FetcherFunc(func(ctx context.Context, location string, limit int64) (io.ReadCloser, error) {
		s.mu.Lock()
		s.requests = append(s.requests, location)
		b, ok := s.override[location]
		slow := s.slow
		s.mu.Unlock()
		if slow != nil {
			if err := slow(ctx, location); err != nil {
				return nil, err
			}
		}
		if !ok {
			b, ok = s.repo.Lookup(location)
		}
		if !ok {
			return nil, fmt.Errorf("%s: %w", location, tuf.ErrNotExist)
		}
		return io.NopCloser(bytes.NewReader(b)), nil
	})
}

func (s *sim) options() tuf.Options {
	return tuf.Options{
		Fetcher:      s.fetcher(),
		MetadataBase: "metadata/",
		TargetsBase:  "targets/",
		Now:          func() time.Time { return s.now },
	}
}

func (s *sim) client(mod ...func(*tuf.Options)) *tuf.Client {
	s.t.Helper()
	o := s.options()
	for _, m := range mod {
		m(&o)
	}
	c, err := tuf.New(s.repo.TrustedRoot(), o)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// fetchTarget refreshes, looks name up and downloads it.
func fetchTarget(ctx context.Context, c *tuf.Client, name string) ([]byte, error) {
	if err := c.Refresh(ctx); err != nil {
		return nil, err
	}
	tf, err := c.Target(ctx, name)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := c.Download(ctx, tf, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func wantReason(t testing.TB, err error, reason verr.Reason) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", reason)
	}
	if !errors.Is(err, reason) {
		r, _ := verr.ReasonOf(err)
		t.Fatalf("got %v (reason %q), want reason %s", err, r, reason)
	}
}

func wantSecurity(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, verr.ErrSecurity) {
		t.Fatalf("%v does not match verr.ErrSecurity", err)
	}
}
