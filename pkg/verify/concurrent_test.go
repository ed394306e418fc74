package verify_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/tintoproject/tinto/pkg/verify"
	"github.com/tintoproject/tinto/pkg/verify/verifytest"
)

// TestConcurrentVerify runs 64 goroutines, each verifying a different target (and every fourth
// one a tampered target that must be denied) from one Verifier, twice over so that the second
// round uses the caches. Run it with -race.
func TestConcurrentVerify(t *testing.T) {
	const n = 64
	r, s := newRepo(t, verifytest.Options{})
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("demo-app/app-%02d.tar.gz", i)
		if err := r.AddPackage(names[i], 3); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Publish(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 4 {
		r.Tamper(names[i], []byte("tampered"))
	}
	for _, interval := range []bool{false, true} {
		v := newVerifier(t, r, s.URL, func(o *verify.Options) {
			if interval {
				o.RefreshInterval = 1 << 40
			}
		})
		for round := 0; round < 2; round++ {
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range names {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := v.Verify(context.Background(), names[i])
					tampered := i%4 == 0
					switch {
					case tampered && err == nil:
						errs[i] = fmt.Errorf("%s: tampered target allowed", names[i])
					case !tampered && err != nil:
						errs[i] = fmt.Errorf("%s: %v", names[i], err)
					case res == nil || res.Target == nil || res.Target.Name != names[i]:
						errs[i] = fmt.Errorf("%s: result for another target", names[i])
					}
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
		}
	}
}
