package tuf

import (
	"fmt"

	"github.com/tintoproject/tinto/pkg/verr"
)

// This file is the one place where the client's failures become tinto reasons. Every check in
// the state machine and the updater reports through these constructors:
//
//	malformed or schema-invalid metadata            verr.BadMetadata
//	unsupported spec_version major                  verr.BadSpec
//	no valid signature by a trusted key             verr.BadSignature
//	some, but fewer than threshold, distinct keys   verr.Threshold
//	version lower than trusted (or root not +1)     verr.Rollback        (ErrSecurity)
//	metadata expired                                verr.Freeze          (ErrSecurity)
//	version/length/hash disagrees with timestamp
//	  or snapshot, or role missing from snapshot    verr.MixAndMatch     (ErrSecurity)
//	a download longer than allowed                  verr.EndlessData     (ErrSecurity)
//	a target's length or hash is wrong              verr.Mismatch
//	no such target (or no trusted delegation)       verr.NotFound
//	root rotation chain broken                      verr.RootRotation

func vErr(reason verr.Reason, role string, err error, format string, args ...any) *verr.VerificationError {
	return &verr.VerificationError{Reason: reason, Role: role, Msg: fmt.Sprintf(format, args...), Err: err}
}

func badMetadata(role string, err error, format string, args ...any) error {
	return vErr(verr.BadMetadata, role, err, format, args...)
}

func errRollback(role string, format string, args ...any) error {
	return vErr(verr.Rollback, role, nil, format, args...)
}

func errFreeze(role string, format string, args ...any) error {
	return vErr(verr.Freeze, role, nil, format, args...)
}

func errMixAndMatch(role string, format string, args ...any) error {
	return vErr(verr.MixAndMatch, role, nil, format, args...)
}

func errEndless(role string, limit int64) error {
	return vErr(verr.EndlessData, role, nil, "response exceeds %d bytes", limit)
}

func errMismatch(target string, format string, args ...any) error {
	e := vErr(verr.Mismatch, "", nil, format, args...)
	e.Artifact = target
	return e
}

func errNotFound(target string, format string, args ...any) error {
	e := vErr(verr.NotFound, "", nil, format, args...)
	e.Artifact = target
	return e
}
