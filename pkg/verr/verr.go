// Package verr defines the error vocabulary shared by every tinto package.
//
// An error is either evidence or operational:
//
//   - A *VerificationError means "the evidence says no": a signature did not verify, a threshold
//     was not met, metadata expired, an artifact rule failed, something was revoked. Its Reason
//     says which. A caller that must decide whether to install something treats it as a denial.
//   - Any other error is operational: I/O failed, the context was cancelled, the input was
//     malformed. A caller must also deny, but may retry or report a configuration problem.
//
// Both kinds work with errors.Is and errors.As. A Reason is itself an error value, so
//
//	errors.Is(err, verr.Expired)
//
// reports whether err (or anything it wraps) is a *VerificationError with Reason Expired.
// Attack evidence (rollback, freeze, mix-and-match, endless data, fast-forward) also matches
// ErrSecurity.
//
// Input that cannot be parsed or is not valid for its schema is reported as an *InputError
// (operational, not evidence), which matches ErrInvalidInput.
//
// Every type in this package is an immutable value once constructed and is safe for concurrent use.
package verr

import (
	"errors"
	"fmt"
	"strings"
)

// Reason names why the evidence says no. It is a stable string that appears in JSON output and
// in the CLI's messages. A Reason is an error so that errors.Is(err, reason) works.
type Reason string

// Error implements error.
func (r Reason) Error() string { return string(r) }

// The reasons. New reasons may be added; existing ones never change their text.
const (
	// Signatures and keys.
	BadSignature Reason = "bad-signature" // a signature did not verify, or no trusted key signed
	Threshold    Reason = "threshold"     // fewer distinct trusted keys signed than required
	UnknownKey   Reason = "unknown-key"   // a signature by a key that is not authorised here

	// Time.
	Expired Reason = "expired" // metadata or a layout expired at the verification time
	Freeze  Reason = "freeze"  // TUF: metadata expired, so the repository may be frozen

	// TUF attacks.
	Rollback     Reason = "rollback"      // a version lower than one already trusted
	FastForward  Reason = "fast-forward"  // a version or key rotation that would lock out recovery
	MixAndMatch  Reason = "mix-and-match" // metadata versions or hashes disagree with snapshot/timestamp
	EndlessData  Reason = "endless-data"  // a response exceeded its length limit
	Mismatch     Reason = "mismatch"      // a length or hash does not match what was signed
	NotFound     Reason = "not-found"     // the target or role is not in the trusted metadata
	BadSpec      Reason = "spec-version"  // an unsupported spec_version
	BadMetadata  Reason = "bad-metadata"  // signed metadata is invalid for its type
	Delegation   Reason = "delegation"    // a delegated role is not trusted for the requested path
	RootRotation Reason = "root-rotation" // too many root rotations, or a broken rotation chain

	// in-toto.
	LayoutInvalid Reason = "layout-invalid" // the layout is signed but fails validation
	MissingLink   Reason = "missing-link"   // a step has no (or too few) valid links
	LinkMismatch  Reason = "link-mismatch"  // the links of one step disagree with each other
	RuleFailed    Reason = "rule-failed"    // an artifact rule failed
	Inspection    Reason = "inspection"     // an inspection failed or was refused
	Certificate   Reason = "certificate"    // an X.509 functionary's certificate or constraints failed

	// Policy and revocation.
	Revoked       Reason = "revoked" // a key, functionary, layout, link or artifact is revoked
	Unknown       Reason = "revocation-unknown"
	PolicyDenied  Reason = "policy-denied"  // the policy denied (see the decision's trail)
	TargetUnbound Reason = "target-unbound" // the artifact is not a product of the supply chain
)

// security lists the reasons that are evidence of an attack.
func (r Reason) security() bool {
	switch r {
	case Rollback, Freeze, MixAndMatch, EndlessData, FastForward:
		return true
	}
	return false
}

// ErrSecurity is matched (errors.Is) by every *VerificationError whose Reason is evidence of an
// attack: Rollback, Freeze, MixAndMatch, EndlessData and FastForward.
var ErrSecurity = errors.New("tinto: security violation")

// ErrInvalidInput is matched by every *InputError.
var ErrInvalidInput = errors.New("tinto: invalid input")

// VerificationError reports that the evidence does not support the requested decision.
// The location fields are set where they apply and are empty otherwise.
type VerificationError struct {
	Reason Reason
	// Role is a TUF role name or an in-toto document kind ("layout", "link").
	Role string
	// Step is an in-toto step or inspection name.
	Step string
	// Rule is an artifact rule, as written in the layout, or a policy rule id.
	Rule string
	// Artifact is an artifact or target name.
	Artifact string
	// Msg is a short human explanation. It may be empty.
	Msg string
	// Err is the underlying cause. When several candidates were tried (keys, delegations, links)
	// Err is an errors.Join of every failure.
	Err error
}

// New returns a *VerificationError with the given reason and message.
func New(reason Reason, format string, args ...any) *VerificationError {
	return &VerificationError{Reason: reason, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns a *VerificationError with the given reason that wraps err.
func Wrap(reason Reason, err error, format string, args ...any) *VerificationError {
	return &VerificationError{Reason: reason, Msg: fmt.Sprintf(format, args...), Err: err}
}

// Error implements error. The text is "<reason>: [location: ]msg: cause".
func (e *VerificationError) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Reason))
	var loc []string
	if e.Role != "" {
		loc = append(loc, "role "+quote(e.Role))
	}
	if e.Step != "" {
		loc = append(loc, "step "+quote(e.Step))
	}
	if e.Rule != "" {
		loc = append(loc, "rule "+quote(e.Rule))
	}
	if e.Artifact != "" {
		loc = append(loc, "artifact "+quote(e.Artifact))
	}
	if len(loc) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(loc, ", "))
		b.WriteString(")")
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// Unwrap returns the cause.
func (e *VerificationError) Unwrap() error { return e.Err }

// Is reports whether target is e's Reason, or ErrSecurity for an attack reason.
func (e *VerificationError) Is(target error) bool {
	switch t := target.(type) {
	case Reason:
		return t == e.Reason
	}
	return target == ErrSecurity && e.Reason.security()
}

// InputError reports malformed or invalid input: bad JSON, duplicate keys, oversized documents,
// unknown key types, hostile patterns, path traversal. It is operational, not evidence, but every
// caller must still deny.
type InputError struct {
	// What names the input ("layout", "link root.1234abcd.link", "policy", ...).
	What string
	// Offset is the byte offset in the input where the problem was found, or -1.
	Offset int64
	Msg    string
	Err    error
}

// Invalid returns an *InputError.
func Invalid(what string, format string, args ...any) *InputError {
	return &InputError{What: what, Offset: -1, Msg: fmt.Sprintf(format, args...)}
}

// Error implements error.
func (e *InputError) Error() string {
	s := "invalid " + e.What
	if e.Offset >= 0 {
		s += fmt.Sprintf(" at offset %d", e.Offset)
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *InputError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidInput.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// ReasonOf returns the Reason of the first *VerificationError in err's tree, and false if there
// is none (the error is operational).
func ReasonOf(err error) (Reason, bool) {
	var ve *VerificationError
	if errors.As(err, &ve) {
		return ve.Reason, true
	}
	return "", false
}
