package verify_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tintoproject/tinto/pkg/verify"
	"github.com/tintoproject/tinto/pkg/verify/verifytest"
	"github.com/tintoproject/tinto/pkg/verr"
)

// Verify a package of a repository served on 127.0.0.1 (generated here by verifytest), then the
// same package after a mirror started serving tampered bytes.
func Example() {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	repo, _ := verifytest.New(verifytest.Options{Now: now})
	srv, _ := repo.Serve()
	defer srv.Close()

	v, err := verify.New(repo.TrustedRoot(), verify.Options{
		Remote: srv.URL,
		Now:    func() time.Time { return now.Add(time.Hour) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	res, err := v.Verify(ctx, verifytest.DefaultPackage)
	fmt.Println("allowed:", err == nil && res.Allowed())
	fmt.Printf("bound to %s, step %s\n", res.Binding.Artifact, res.Binding.Step)

	repo.Tamper(verifytest.DefaultPackage, []byte("not the package"))
	res, err = v.Verify(ctx, verifytest.DefaultPackage)
	reason, _ := verr.ReasonOf(err)
	fmt.Println("allowed:", err == nil, "reason:", reason, "decision:", res.Decision.Effect)
	// Output:
	// allowed: true
	// bound to demo-app-1.0.0.tar.gz, step package
	// allowed: false reason: mismatch decision: deny
}
