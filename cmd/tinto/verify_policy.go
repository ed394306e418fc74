package main

import (
	"fmt"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/verify"
)

// vfyLoadPolicy loads and compiles a policy file for tinto verify. Diagnostics that are errors
// fail; warnings are ignored here (tinto policy check shows them).
func vfyLoadPolicy(path string) (verify.Policy, error) {
	p, diags, err := policy.LoadFile(path, policy.Options{})
	if err != nil {
		if len(diags) > 0 {
			return nil, fmt.Errorf("--policy %s:\n%v", path, diags)
		}
		return nil, fmt.Errorf("--policy %s: %w", path, err)
	}
	return p, nil
}
