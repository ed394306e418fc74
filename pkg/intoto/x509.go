package intoto

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/verr"
)

// certLinks finds the links of a step with certificate constraints: every "<step>.*.link" file
// not already counted, with a signature that carries a certificate which chains (at the
// verification time) to one of the layout's root CAs through its intermediates, satisfies a
// constraint whose roots include the root the chain actually ends in, and verifies the
// signature. It returns how many candidate files it looked at.
func (v *verifier) certLinks(ctx context.Context, res *Result, layout *Layout, name string, ccs []CertConstraint, src LinkSource, byMain map[string]*counted, sr *StepResult) int {
	if src == nil || len(layout.RootCAs) == 0 {
		return 0
	}
	names, err := src.ListLinks(".")
	if err != nil {
		return 0
	}
	already := map[string]bool{}
	for _, c := range byMain {
		already[c.rec.File] = true
	}
	for _, r := range sr.Rejected {
		already[r.File] = true
	}
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	rootIDs := make([]string, 0, len(layout.RootCAs))
	for id, c := range layout.RootCAs {
		roots.AddCert(c)
		rootIDs = append(rootIDs, id)
	}
	sort.Strings(rootIDs)
	for _, c := range layout.IntermediateCAs {
		inters.AddCert(c)
	}
	found := 0
	for _, file := range names {
		if !strings.HasPrefix(file, name+".") || !strings.HasSuffix(file, ".link") || already[file] {
			continue
		}
		rest := strings.TrimSuffix(strings.TrimPrefix(file, name+"."), ".link")
		if strings.Contains(rest, ".") || strings.Contains(rest, "/") {
			continue // another step's file ("<step>.<x>.<keyid>.link")
		}
		data, err := src.ReadLink(file)
		if err != nil {
			continue
		}
		found++
		reject := func(err error) { sr.Rejected = append(sr.Rejected, Rejection{File: file, Err: err}) }
		env, err := parseEnvelope("link "+file, data, v.opts.Limits)
		if err != nil {
			reject(err)
			continue
		}
		if env.Type != "link" {
			reject(verr.Invalid("link "+file, "a certificate-signed link cannot be a layout"))
			continue
		}
		var errs []error
		for _, s := range env.Signatures {
			if s.Cert == "" {
				continue
			}
			key, cert, err := v.checkCert(s, roots, inters, rootIDs, layout, ccs)
			if err == nil {
				sig := s.Signature
				sig.KeyID = key.KeyID
				if err = key.VerifyAt(env.Message, sig, v.now); err != nil {
					err = verr.Wrap(verr.BadSignature, err, "signature by certificate %q", cert.Subject.String())
				}
			}
			if err == nil {
				if _, dup := byMain[key.KeyID]; dup {
					err = fmt.Errorf("key %s already counted", key.KeyID)
				}
			}
			if err == nil {
				err = v.checkRevoked(ctx, res,
					revocation.Ref{Kind: revocation.KindCertificate, Issuer: cert.Issuer.String(), Serial: cert.SerialNumber.String()},
					revocation.Ref{Kind: revocation.KindKey, KeyID: key.KeyID},
					revocation.Ref{Kind: revocation.KindFunctionary, KeyID: key.KeyID, Step: name})
			}
			var link *Link
			if err == nil {
				link, err = env.link()
				if err == nil && link.Name != name {
					err = &verr.VerificationError{Reason: verr.LinkMismatch, Step: name, Msg: fmt.Sprintf("link %s is signed for step %q", file, link.Name)}
				}
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			byMain[key.KeyID] = &counted{mainID: key.KeyID, link: link,
				rec: LinkRecord{File: file, KeyID: key.KeyID, Digest: digestOf(data), Format: env.Format}}
			errs = nil
			break
		}
		if len(errs) > 0 {
			reject(errors.Join(errs...))
		}
	}
	return found
}

func (v *verifier) checkCert(s Signature, roots, inters *x509.CertPool, rootIDs []string, layout *Layout, ccs []CertConstraint) (*keys.Key, *x509.Certificate, error) {
	cert, err := parseCertPEM(s.Cert)
	if err != nil {
		return nil, nil, &verr.VerificationError{Reason: verr.Certificate, Msg: "signature certificate", Err: err}
	}
	chains, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, CurrentTime: v.now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, cert, &verr.VerificationError{Reason: verr.Certificate, Msg: fmt.Sprintf("certificate %q does not chain to a root CA of the layout", cert.Subject.String()), Err: err}
	}
	// The ids of the roots the chains actually end in.
	var ends []string
	for _, ch := range chains {
		top := ch[len(ch)-1]
		for _, id := range rootIDs {
			if layout.RootCAs[id].Equal(top) && !slices.Contains(ends, id) {
				ends = append(ends, id)
			}
		}
	}
	var errs []error
	for _, cc := range ccs {
		for _, end := range ends {
			if err := cc.check(cert, end); err != nil {
				errs = append(errs, err)
				continue
			}
			key, err := keys.NewKey(cert.PublicKey, "")
			if err != nil {
				return nil, cert, &verr.VerificationError{Reason: verr.Certificate, Msg: "certificate key", Err: err}
			}
			return key, cert, nil
		}
	}
	return nil, cert, &verr.VerificationError{Reason: verr.Certificate, Msg: fmt.Sprintf("certificate %q satisfies no certificate constraint of the step", cert.Subject.String()), Err: errors.Join(errs...)}
}

// check applies one constraint, with root the id of the root CA the chain ends in.
func (cc CertConstraint) check(cert *x509.Certificate, root string) error {
	uris := make([]string, 0, len(cert.URIs))
	for _, u := range cert.URIs {
		uris = append(uris, (*url.URL)(u).String())
	}
	return errors.Join(
		matchAttr("common name", []string{cc.CommonName}, []string{cert.Subject.CommonName}),
		matchAttr("dns name", cc.DNSNames, cert.DNSNames),
		matchAttr("email", cc.Emails, cert.EmailAddresses),
		matchAttr("organization", cc.Organizations, cert.Subject.Organization),
		matchAttr("root", cc.Roots, []string{root}),
		matchAttr("uri", cc.URIs, uris),
	)
}

// matchAttr is in-toto-golang's checkCertConstraint: "*" alone allows anything; otherwise the
// certificate's values must equal the constraint's values as a set ("" alone means none).
func matchAttr(attr string, want, have []string) error {
	if len(want) == 1 && want[0] == "*" {
		return nil
	}
	if len(want) == 1 && want[0] == "" {
		want = nil
	}
	if len(have) == 1 && have[0] == "" {
		have = nil
	}
	unmet := map[string]bool{}
	for _, w := range want {
		unmet[w] = true
	}
	for _, h := range have {
		if !unmet[h] {
			return fmt.Errorf("certificate has unexpected %s %q (allowed %q)", attr, h, want)
		}
		delete(unmet, h)
	}
	if len(unmet) > 0 {
		return fmt.Errorf("certificate %s(s) %q do not meet the constraint %q", attr, have, want)
	}
	return nil
}
