package verify

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/verr"
)

// RevocationListType is the "_type" of a revocation list target.
const RevocationListType = "tinto/revocations"

// RevocationListDoc (a plain value) is the revocation list a repository publishes as a TUF target
// (docs/integration.md §4). TUF signs, versions and freshens it, so the document itself carries
// no signature. Entries use pkg/revocation's reference strings ("key:<keyid>",
// "functionary:<keyid>[:<step>]", "layout:sha256:<hex>", "link:sha256:<hex>",
// "artifact:sha256:<hex>", "certificate:<serial>:<issuer>").
//
// The list is authoritative: what it does not list is Good, because TUF guarantees that the
// client holds the repository's current list.
type RevocationListDoc struct {
	Type    string             `json:"_type"`
	Entries []revocation.Entry `json:"entries"`
}

// MarshalRevocationList encodes a revocation list target.
func MarshalRevocationList(entries []revocation.Entry) ([]byte, error) {
	if entries == nil {
		entries = []revocation.Entry{}
	}
	return json.MarshalIndent(RevocationListDoc{Type: RevocationListType, Entries: entries}, "", "  ")
}

// ParseRevocationList parses a revocation list target strictly (duplicate keys, unknown
// fields, a wrong "_type" and malformed references are *verr.InputError) and returns the
// checker it defines, named after name and the list's digest.
func ParseRevocationList(name string, data []byte) (revocation.Checker, error) {
	what := "revocation list " + name
	if err := cjson.Check(data, cjson.Limits{}); err != nil {
		return nil, &verr.InputError{What: what, Offset: -1, Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc RevocationListDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, &verr.InputError{What: what, Offset: -1, Err: err}
	}
	if doc.Type != RevocationListType {
		return nil, verr.Invalid(what, "_type is %q, want %q", doc.Type, RevocationListType)
	}
	c, err := revocation.NewStatic(doc.Entries, revocation.StaticOptions{
		Name:          fmt.Sprintf("%s@%s", name, digestOf(data)[:len("sha256:")+12]),
		Authoritative: true,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// parseRevocationList turns the TUF-verified revocation list into a checker.
func parseRevocationList(path string, data []byte, _ *Target) (revocation.Checker, error) {
	return ParseRevocationList(path, data)
}

// firstKnown combines revocation sources: a revocation anywhere is a revocation (see
// revocation.Chain).
func firstKnown(cs []revocation.Checker) revocation.Checker { return revocation.Chain(cs) }
