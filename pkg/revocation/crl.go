package revocation

import (
	"context"
	"crypto/x509"
	"fmt"
	"math/big"
	"time"

	"github.com/tintoproject/tinto/pkg/verr"
)

// CRL answers for X.509 certificate functionaries from one certificate revocation list.
//
// NewCRL parses the list (crypto/x509.ParseRevocationList) and checks its signature against the
// issuer certificate the caller trusts. Status answers KindCertificate refs whose Issuer equals
// the CRL issuer's RFC 4514 name: a listed serial is Revoked (with the CRL's revocation time and
// reason code); another serial is Good until the CRL's NextUpdate and Unknown after it (the CRL
// is stale). A certificate of another issuer is Unknown. Refs that are not certificates are
// NotRevocable by this source. A CRL is immutable and safe for concurrent use.
type CRL struct {
	issuer     string
	thisUpdate time.Time
	nextUpdate time.Time
	fetchedAt  time.Time
	number     *big.Int
	revoked    map[string]x509.RevocationListEntry
}

// NewCRL parses a DER CRL and verifies it was signed by issuer. fetchedAt is reported as the
// answers' freshness (zero when unknown). A malformed CRL is a *verr.InputError; a bad signature
// is a *verr.VerificationError with reason verr.BadSignature.
func NewCRL(der []byte, issuer *x509.Certificate, fetchedAt time.Time) (*CRL, error) {
	if issuer == nil {
		return nil, fmt.Errorf("revocation: no issuer certificate for the CRL")
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, &verr.InputError{What: "CRL", Offset: -1, Err: err}
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		return nil, verr.Wrap(verr.BadSignature, err, "CRL not signed by %s", issuer.Subject)
	}
	c := &CRL{issuer: issuer.Subject.String(), thisUpdate: rl.ThisUpdate, nextUpdate: rl.NextUpdate,
		fetchedAt: fetchedAt, number: rl.Number, revoked: map[string]x509.RevocationListEntry{}}
	for _, e := range rl.RevokedCertificateEntries {
		if e.SerialNumber != nil {
			c.revoked[e.SerialNumber.String()] = e
		}
	}
	return c, nil
}

// Status implements Checker. It never returns an error.
func (c *CRL) Status(ctx context.Context, ref Ref, at time.Time) (Status, error) {
	src := "crl:" + c.issuer
	if c.number != nil {
		src += "#" + c.number.String()
	}
	st := Status{Source: src, FetchedAt: c.fetchedAt, NextUpdate: c.nextUpdate}
	if ref.Kind != KindCertificate {
		st.State = NotRevocable
		return st, nil
	}
	if ref.Issuer != c.issuer || ref.Serial == "" {
		st.State = Unknown
		return st, nil
	}
	if e, ok := c.revoked[ref.Serial]; ok && !at.Before(e.RevocationTime) {
		st.State, st.RevokedAt = Revoked, e.RevocationTime
		st.Reason = crlReason(e.ReasonCode)
		return st, nil
	}
	if !c.nextUpdate.IsZero() && at.After(c.nextUpdate) || at.Before(c.thisUpdate) {
		st.State = Unknown
		return st, nil
	}
	st.State = Good
	return st, nil
}

func crlReason(code int) string {
	names := map[int]string{0: "unspecified", 1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged",
		4: "superseded", 5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL",
		9: "privilegeWithdrawn", 10: "aACompromise"}
	if n, ok := names[code]; ok {
		return n
	}
	return fmt.Sprintf("reason code %d", code)
}
