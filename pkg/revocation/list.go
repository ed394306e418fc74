package revocation

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/verr"
)

// ListPayloadType is the DSSE payload type of a signed revocation list.
const ListPayloadType = "application/vnd.tinto.revocation-list.v1+json"

// ListType is the value of a revocation list document's _type field.
const ListType = "revocation-list"

// MaxListBytes bounds a revocation list envelope.
const MaxListBytes = 16 << 20

// ListDocument is the payload of a signed revocation list:
//
//	{
//	  "_type": "revocation-list",
//	  "version": 7,                          // > 0; increases with every change
//	  "issued": "2026-11-01T00:00:00Z",
//	  "next_update": "2026-11-08T00:00:00Z", // answers after this time are Unknown (stale)
//	  "entries": [
//	    {"ref": "functionary:<keyid>", "revoked_at": "2026-10-30T00:00:00Z", "reason": "laptop stolen"},
//	    {"ref": "layout:sha256:<hex>", "reason": "signed by mistake"}
//	  ]
//	}
//
// Entry refs are described at Entry. The list is authoritative: a ref it does not name is Good
// (until next_update).
//
// The document is designed to be served as a TUF target (for example "revocations.dsse.json"),
// so that it inherits TUF's freshness (timestamp and snapshot expiry) and rollback protection;
// the signing keys given to ParseList are then distributed as TUF targets too, and the version
// field adds a second rollback check (ListOptions.MinVersion). A ListDocument is a plain value.
type ListDocument struct {
	Type       string    `json:"_type"`
	Version    int64     `json:"version"`
	Issued     time.Time `json:"issued"`
	NextUpdate time.Time `json:"next_update"`
	Entries    []Entry   `json:"entries"`
}

// ListOptions configures ParseList. The zero value is the strict choice.
type ListOptions struct {
	// Keys are the keys trusted to sign revocation lists. Empty is an error.
	Keys []*keys.Key
	// Threshold is how many distinct keys of Keys must have signed; 0 means 1.
	Threshold int
	// MinVersion is the lowest acceptable version (the version last seen, for rollback
	// protection). A lower version is a *verr.VerificationError with reason verr.Rollback.
	MinVersion int64
	// Name names the list in answers ("list:<Name>@v<version>"); "" -> "list@v<version>".
	Name string
	// FetchedAt is when the envelope was obtained; reported as the answers' freshness.
	FetchedAt time.Time
}

// List is a verified revocation list. It is immutable and safe for concurrent use.
type List struct {
	doc    ListDocument
	ix     index
	source string
	fetch  time.Time
}

type envelope struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

// ParseList verifies a DSSE envelope holding a revocation list and returns the list.
//
// Signatures are verified over the DSSE PAE of the payload exactly as received. Malformed input
// is a *verr.InputError; a signature threshold that is not met is a *verr.VerificationError
// with reason verr.Threshold (or verr.BadSignature when nothing verified) wrapping every
// signature's failure; a version below MinVersion is verr.Rollback.
func ParseList(data []byte, opts ListOptions) (*List, error) {
	if len(opts.Keys) == 0 {
		return nil, errors.New("revocation: no trusted keys for the revocation list")
	}
	lim := cjson.Limits{MaxBytes: MaxListBytes}
	var env envelope
	if err := cjson.Unmarshal(data, &env, lim); err != nil {
		return nil, &verr.InputError{What: "revocation list envelope", Offset: -1, Err: err}
	}
	if env.PayloadType != ListPayloadType {
		return nil, verr.Invalid("revocation list envelope", "payloadType %q, want %q", env.PayloadType, ListPayloadType)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, verr.Invalid("revocation list envelope", "payload is not base64: %v", err)
	}
	need := max(opts.Threshold, 1)
	msg := cjson.PAE(env.PayloadType, payload)
	signed := map[string]bool{}
	var errs []error
	for i, s := range env.Signatures {
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil {
			errs = append(errs, fmt.Errorf("signature %d: not base64: %v", i, err))
			continue
		}
		matched := false
		for _, k := range opts.Keys {
			if k == nil || (s.KeyID != "" && !k.Owns(s.KeyID)) || signed[k.KeyID] {
				continue
			}
			matched = true
			if err := k.Verify(msg, keys.Signature{KeyID: s.KeyID, Sig: sig}); err != nil {
				errs = append(errs, fmt.Errorf("signature %d by %s: %w", i, k.KeyID, err))
				continue
			}
			signed[k.KeyID] = true
			break
		}
		if !matched {
			errs = append(errs, fmt.Errorf("signature %d: keyid %q is not a trusted revocation list key", i, s.KeyID))
		}
	}
	if len(signed) < need {
		reason := verr.Threshold
		if len(signed) == 0 {
			reason = verr.BadSignature
		}
		return nil, &verr.VerificationError{Reason: reason, Role: "revocation-list",
			Msg: fmt.Sprintf("%d of %d required signatures", len(signed), need), Err: errors.Join(errs...)}
	}
	var doc ListDocument
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := cjson.Check(payload, lim); err != nil {
		return nil, &verr.InputError{What: "revocation list", Offset: -1, Err: err}
	}
	if err := dec.Decode(&doc); err != nil {
		return nil, &verr.InputError{What: "revocation list", Offset: -1, Err: err}
	}
	if doc.Type != ListType {
		return nil, verr.Invalid("revocation list", "_type %q, want %q", doc.Type, ListType)
	}
	if doc.Version <= 0 {
		return nil, verr.Invalid("revocation list", "version must be positive")
	}
	if doc.Issued.IsZero() || doc.NextUpdate.IsZero() || !doc.NextUpdate.After(doc.Issued) {
		return nil, verr.Invalid("revocation list", "issued and next_update are required, next_update after issued")
	}
	if doc.Version < opts.MinVersion {
		return nil, &verr.VerificationError{Reason: verr.Rollback, Role: "revocation-list",
			Msg: fmt.Sprintf("version %d is below the last seen version %d", doc.Version, opts.MinVersion)}
	}
	ix, err := newIndex(doc.Entries)
	if err != nil {
		return nil, err
	}
	src := "list"
	if opts.Name != "" {
		src += ":" + strings.TrimSpace(opts.Name)
	}
	src += fmt.Sprintf("@v%d", doc.Version)
	return &List{doc: doc, ix: ix, source: src, fetch: opts.FetchedAt}, nil
}

// Version returns the list's version.
func (l *List) Version() int64 { return l.doc.Version }

// Document returns a copy of the verified document.
func (l *List) Document() ListDocument {
	d := l.doc
	d.Entries = append([]Entry(nil), l.doc.Entries...)
	return d
}

// Status implements Checker. After next_update every answer is Unknown (the list is stale);
// otherwise a listed ref whose revoked_at is not after at is Revoked and anything else is Good.
func (l *List) Status(ctx context.Context, ref Ref, at time.Time) (Status, error) {
	st := Status{Source: l.source, FetchedAt: l.fetch, NextUpdate: l.doc.NextUpdate}
	if at.After(l.doc.NextUpdate) {
		st.State = Unknown
		return st, nil
	}
	if e, ok := l.ix.find(ref); ok && (e.RevokedAt.IsZero() || !at.Before(e.RevokedAt)) {
		st.State, st.RevokedAt, st.Reason = Revoked, e.RevokedAt, e.Reason
		return st, nil
	}
	st.State = Good
	return st, nil
}

// SignList encodes doc and signs it with every signer into a DSSE envelope. It is for tinto's
// own fixtures, the demo and tests; production lists are signed offline the same way.
func SignList(doc ListDocument, signers ...*keys.Signer) ([]byte, error) {
	if doc.Type == "" {
		doc.Type = ListType
	}
	if doc.Entries == nil {
		doc.Entries = []Entry{}
	}
	payload, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	env := map[string]any{"payloadType": ListPayloadType, "payload": base64.StdEncoding.EncodeToString(payload)}
	var sigs []map[string]string
	msg := cjson.PAE(ListPayloadType, payload)
	for _, s := range signers {
		sig, err := s.Sign(msg)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, map[string]string{"keyid": sig.KeyID, "sig": base64.StdEncoding.EncodeToString(sig.Sig)})
	}
	env["signatures"] = sigs
	return json.MarshalIndent(env, "", "  ")
}

// IsSignedList reports whether data looks like a signed revocation list, a JSON object with a
// "payloadType" member (a DSSE envelope), rather than a plain list document. It only tells the
// two forms apart: it verifies nothing (ParseList does).
func IsSignedList(data []byte) bool {
	tree, err := cjson.Decode(data, cjson.Limits{MaxBytes: MaxListBytes})
	if err != nil {
		return false
	}
	m, ok := tree.(map[string]any)
	if !ok {
		return false
	}
	_, ok = m["payloadType"]
	return ok
}
