package intoto

import (
	"errors"
	"strings"
	"testing"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/verr"
)

// TestParseLinkDigests checks that ParseLink (the strict parser) accepts hex digests in either
// case and rejects every other digest value with an *verr.InputError naming the artifact.
func TestParseLinkDigests(t *testing.T) {
	link := func(digests string) []byte {
		return []byte(`{"signatures":[],"signed":{"_type":"link","name":"build","command":[],` +
			`"materials":{},"products":{"a.txt":` + digests + `},"byproducts":{},"environment":{}}}`)
	}
	for _, tc := range []struct {
		digests string
		ok      bool
	}{
		{`{"sha256":"0123456789abcdef"}`, true},
		{`{"sha256":"ABCDEF","sha512":"00"}`, true},
		{`{}`, true},
		{`{"sha256":""}`, false},
		{`{"sha256":"xyz"}`, false},
		{`{"sha256":"ab","sha512":"g0"}`, false},
		{`{"sha256":12}`, false},
		{`{"sha256":null}`, false},
		{`"ab"`, false},
	} {
		l, _, err := ParseLink(link(tc.digests), cjson.Limits{})
		if tc.ok {
			if err != nil {
				t.Errorf("%s: %v", tc.digests, err)
			} else if _, ok := l.Products["a.txt"]; !ok {
				t.Errorf("%s: product missing", tc.digests)
			}
			continue
		}
		var ie *verr.InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), `"a.txt"`) {
			t.Errorf("%s: want an *verr.InputError naming the artifact, got %v", tc.digests, err)
		}
	}
}
