package verify

import (
	"encoding/json"
	"time"

	"github.com/tintoproject/tinto/pkg/policy"
)

// MediaType is the media type of a Result's JSON form. Within v1 the schema only grows: fields
// are added, never renamed or removed.
const MediaType = "application/vnd.tinto.verify.result.v1+json"

// Result is the outcome of one verification: the verified facts, the policy's Decision with its
// whole trail, and the time each phase took. It holds verified facts only: anything that failed
// verification appears as a failure, never as a fact.
//
// A Result is safe for concurrent reads once returned, and must be treated as immutable: it
// shares read-only evidence with the Verifier's cache. Timings marshal as nanoseconds.
type Result struct {
	// MediaType is always MediaType in JSON.
	MediaType string `json:"mediaType"`
	// Target is the TUF target as the repository's verified metadata describes it. Nil when TUF
	// verification failed before the target was found.
	Target *Target `json:"target,omitempty"`
	// Layouts holds the in-toto evidence, one entry per root layout (a layout that failed to
	// verify has its Failure set and no facts).
	Layouts []policy.Layout `json:"layouts,omitempty"`
	// Binding says which product of the supply chain the artifact is (nil when unbound).
	Binding *Binding `json:"binding,omitempty"`
	// Revocation names the revocation list that was applied (nil when none).
	Revocation *RevocationList `json:"revocation,omitempty"`
	// Checks are tinto's own checks, in the order they ran: TUF, revocation list, artifact,
	// in-toto metadata, in-toto verification per layout, target binding. Each is STRONG: a
	// failed check denies whatever the policy says, except an Advisory one (a layout that did
	// not verify), which the policy weighs.
	Checks []Check `json:"checks"`
	// Decision is the final decision. Its trail starts with the failed Checks (as STRONG deny
	// entries named "tinto:<check>") followed by every rule of the policy. It is never nil in a
	// Result returned by Verify.
	Decision *policy.Decision `json:"decision"`
	// Timings is how long each phase took.
	Timings Timings `json:"timings"`

	// warnings collected by the checks, merged into the Decision's warnings.
	warnings []string
	// layoutFailures are the advisory failures of layouts that did not verify.
	layoutFailures []error
}

// Allowed reports whether the decision allows installation.
func (r *Result) Allowed() bool { return r != nil && r.Decision.Allowed() }

// Check is the outcome of one of tinto's own checks. It is a plain value.
type Check struct {
	// Name is "tuf", "in-toto-metadata", "in-toto:<layout>", "binding" or "revocation-list".
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Reason is the verr.Reason of a failed check ("" when OK or when the failure is
	// operational).
	Reason string `json:"reason,omitempty"`
	// Message explains the outcome.
	Message string `json:"message,omitempty"`
	// Cached is true when the check's outcome came from the Verifier's cache of verified
	// evidence.
	Cached bool `json:"cached,omitempty"`
	// Advisory is true for a failed check that does not deny by itself: one layout of several
	// failing to verify is evidence that the policy weighs (it appears in the policy's input as
	// the layout's Failure, and the default policy requires every layout).
	Advisory bool `json:"advisory,omitempty"`
}

// Binding ties the TUF target to a product of the supply chain. It is a plain value.
type Binding struct {
	// Layout, Step and Artifact name the product whose digests equal the target's.
	Layout   string `json:"layout"`
	Step     string `json:"step"`
	Artifact string `json:"artifact"`
	// Algorithms are the hash algorithms that were compared (all those both sides have).
	Algorithms []string `json:"algorithms"`
}

// RevocationList describes the TUF-distributed revocation list that was applied. It is a plain
// value.
type RevocationList struct {
	Target string `json:"target"`
	// Digest is "sha256:<hex>" of the list as received.
	Digest string `json:"digest"`
}

// Timings is the wall time of each phase. Zero means the phase did not run. It is a plain value;
// in JSON each duration is in nanoseconds.
type Timings struct {
	TUF        time.Duration `json:"tuf"`
	Artifact   time.Duration `json:"artifact"`
	Metadata   time.Duration `json:"metadata"`
	InToto     time.Duration `json:"intoto"`
	Binding    time.Duration `json:"binding"`
	Revocation time.Duration `json:"revocation"`
	Policy     time.Duration `json:"policy"`
	Total      time.Duration `json:"total"`
}

// MarshalJSON encodes the result under MediaType.
func (r *Result) MarshalJSON() ([]byte, error) {
	type plain Result
	c := *r
	c.MediaType = MediaType
	return json.Marshal((*plain)(&c))
}
