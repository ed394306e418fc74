package rego

import "github.com/tintoproject/tinto/pkg/revocation"

type (
	revocationRef    = revocation.Ref
	revocationStatus = revocation.Status
)
