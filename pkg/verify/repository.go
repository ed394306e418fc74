package verify

import (
	"context"
	"encoding/json"
	"io"
)

// Target is a TUF target as the repository's verified metadata describes it. It is safe for
// concurrent reads and must not be modified.
type Target struct {
	// Name is the target path.
	Name string `json:"name"`
	// Length is the signed length in bytes.
	Length int64 `json:"length"`
	// Hashes maps a hash algorithm to the lowercase hex digest, as signed.
	Hashes map[string]string `json:"hashes"`
	// Custom is the target's custom metadata exactly as signed (nil when absent).
	Custom json.RawMessage `json:"custom,omitempty"`
	// TopLevel is true when the target was looked up in the top-level targets role only (layouts,
	// layout keys and the revocation list must be signed by it).
	TopLevel bool `json:"top_level,omitempty"`

	impl any // the Repository implementation's own record of the target
}

// Repository is the TUF side of a verification: a client that has verified the repository's
// metadata from a trusted root and answers for targets. pkg/tuf provides the implementation New
// uses; tests and embedders may supply another through Options.Repository.
//
// Implementations must be safe for concurrent use: Target and Fetch may run while Refresh runs.
type Repository interface {
	// Refresh runs the TUF client workflow (root, timestamp, snapshot, top-level targets).
	// Errors that are evidence are *verr.VerificationError (Rollback, Freeze, ...).
	Refresh(ctx context.Context) error
	// Target looks name up through the delegation graph. A target that is not found is a
	// *verr.VerificationError with Reason NotFound.
	Target(ctx context.Context, name string) (*Target, error)
	// TopLevelTarget looks name up in the top-level targets role only, following no delegation;
	// a target that role does not list is a *verr.VerificationError with Reason NotFound.
	TopLevelTarget(ctx context.Context, name string) (*Target, error)
	// Fetch downloads t and writes its bytes to w, checking the length and the hashes as they
	// arrive. Bytes written to w are unverified until Fetch returns nil; a length or hash
	// mismatch is a *verr.VerificationError (Mismatch or EndlessData).
	Fetch(ctx context.Context, t *Target, w io.Writer) error
}
