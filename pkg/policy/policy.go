package policy

import (
	"context"
	"os"
	"path/filepath"

	"cel.dev/cel-go/cel"

	"github.com/tintoproject/tinto/pkg/verr"
)

// Policy decides over verified evidence. A Policy is compiled once and is safe for concurrent
// use: Evaluate may be called from many goroutines at once.
//
// Evaluate returns the whole Decision, allow or deny, and an error only when it could not decide
// at all (an invalid Input, a cancelled context); a denial is a Decision, not an error. Callers
// that want an error for a denial use Decision.Err.
type Policy interface {
	Evaluate(ctx context.Context, in *Input) (*Decision, error)
	// ID is "sha256:<hex>" of the compiled policy's normalised form; it is the Decision's
	// PolicyID.
	ID() string
}

// Options configures Load. The zero value is the strict choice.
type Options struct {
	// File is the name used in diagnostics and trail positions ("" -> "policy").
	File string
	// LayoutSteps, when non-nil, are the step names of the layout the policy will be used with;
	// references to other steps are errors. Nil skips that check.
	LayoutSteps []string
}

// envs builds the CEL environments for one Load (about a third of a small policy's compile time;
// they are not cached in package state).
func (o *Options) envs() ([numSubjects]*cel.Env, error) { return newEnvs() }

// Load parses, type-checks and compiles a policy document (YAML or JSON). On any error it
// returns nil and the Diagnostics (which is also the error; it wraps nothing and
// errors.Is(err, verr.ErrInvalidInput) holds). Warnings (for example shadowed rules) are returned
// with a non-nil Policy.
func Load(data []byte, opts Options) (Policy, Diagnostics, error) {
	d := &diags{file: opts.File}
	doc := parseDocument(opts.File, data, d)
	if doc == nil {
		return nil, d.list, &verr.InputError{What: "policy", Offset: -1, Err: d.list}
	}
	c := compile(doc, &opts, d)
	if c == nil || d.list.HasErrors() {
		return nil, d.list, &verr.InputError{What: "policy", Offset: -1, Err: d.list}
	}
	return c, d.list, nil
}

// LoadFile reads and loads a policy file; opts.File defaults to its base name.
func LoadFile(path string, opts Options) (Policy, Diagnostics, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := readLimited(f, MaxPolicyBytes)
	if err != nil {
		return nil, nil, err
	}
	if opts.File == "" {
		opts.File = filepath.Base(path)
	}
	return Load(data, opts)
}

// Check type-checks a policy and returns every diagnostic, errors and warnings.
func Check(data []byte, opts Options) Diagnostics {
	_, ds, _ := Load(data, opts)
	return ds
}

// ID implements Policy.
func (c *compiled) ID() string { return c.id }
