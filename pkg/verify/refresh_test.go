package verify

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRefreshGate(t *testing.T) {
	var g refreshGate
	var calls atomic.Int32
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	slow := func(ctx context.Context) error {
		calls.Add(1)
		time.Sleep(10 * time.Millisecond)
		return nil
	}
	// Interval zero: every call refreshes, but callers that arrive during a refresh share the
	// next one instead of queueing one each.
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := g.do(context.Background(), t0, 0, slow); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := calls.Load(); n < 1 || n > 16 {
		t.Fatalf("%d refreshes for 16 concurrent callers", n)
	}

	// A positive interval reuses a successful refresh, measured on the injected clock.
	calls.Store(0)
	var h refreshGate
	for i := 0; i < 3; i++ {
		h.do(context.Background(), t0.Add(time.Duration(i)*time.Second), time.Minute, slow)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d refreshes within the interval", calls.Load())
	}
	h.do(context.Background(), t0.Add(2*time.Minute), time.Minute, slow)
	if calls.Load() != 2 {
		t.Fatal("no refresh after the interval")
	}

	// A failed refresh is never reused.
	var f refreshGate
	boom := errors.New("boom")
	if _, err := f.do(context.Background(), t0, time.Hour, func(context.Context) error { return boom }); err != boom {
		t.Fatal(err)
	}
	if _, err := f.do(context.Background(), t0, time.Hour, func(context.Context) error { return nil }); err != nil {
		t.Fatalf("failure reused: %v", err)
	}

	// A cancelled context does not refresh.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var c refreshGate
	if _, err := c.do(ctx, t0, 0, slow); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
