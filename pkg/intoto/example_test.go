package intoto_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tintoproject/tinto/pkg/intoto"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/verr"
)

// Verify a supply chain: a layout, the layout owner's key, and the links.
func ExampleVerify() {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	chain, err := intoto.GenerateChain(intoto.ChainSpec{Now: now})
	if err != nil {
		panic(err)
	}
	res, err := intoto.Verify(context.Background(), chain.Layout, intoto.Options{
		LayoutKeys: []*keys.Key{chain.Owner.Key},
		Links:      chain.Links, // or intoto.DirLinks("path/to/links")
		Now:        func() time.Time { return now },
	})
	if err != nil {
		fmt.Println("denied:", err)
		return
	}
	for _, s := range res.Steps {
		fmt.Printf("%s: %d of %d signers, %d products\n", s.Name, len(s.Signers), s.Threshold, len(s.Link.Products))
	}
	// Output:
	// clone: 1 of 1 signers, 3 products
	// build: 1 of 1 signers, 3 products
	// package: 1 of 1 signers, 1 products
}

// A tampered artifact is denied with the reason, the step, the rule and the artifact.
func ExampleVerify_tampered() {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	chain, err := intoto.GenerateChain(intoto.ChainSpec{Now: now, Tamper: "artifact"})
	if err != nil {
		panic(err)
	}
	_, err = intoto.Verify(context.Background(), chain.Layout, intoto.Options{
		LayoutKeys: []*keys.Key{chain.Owner.Key},
		Links:      chain.Links,
		Now:        func() time.Time { return now },
	})
	var ve *verr.VerificationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Reason, ve.Step, ve.Rule, ve.Artifact)
	}
	// Output:
	// rule-failed build DISALLOW * src/file0000000.c
}

// Without a prerecorded inspection link, a layout with an inspection is refused: tinto never
// runs a layout's commands unless told to (Options.Inspections = InspectionsRunUnsafe).
func ExampleVerify_inspections() {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	chain, err := intoto.GenerateChain(intoto.ChainSpec{Now: now, Inspection: true})
	if err != nil {
		panic(err)
	}
	for name := range chain.Links {
		if strings.HasPrefix(name, "verify-package.") {
			delete(chain.Links, name)
		}
	}
	_, err = intoto.Verify(context.Background(), chain.Layout, intoto.Options{
		LayoutKeys: []*keys.Key{chain.Owner.Key},
		Links:      chain.Links,
		Now:        func() time.Time { return now },
	})
	fmt.Println(errors.Is(err, verr.Inspection))
	// Output:
	// true
}
