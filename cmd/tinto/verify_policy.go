package main

import (
	"errors"

	"github.com/tintoproject/tinto/pkg/verify"
)

// loadPolicyFile loads and compiles a policy file for tinto verify.
func loadPolicyFile(path string) (verify.Policy, error) {
	return nil, errors.New("--policy: policy files are not supported by this build yet")
}
