package verify

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/tintoproject/tinto/pkg/verr"
)

func TestParseCustom(t *testing.T) {
	tests := []struct {
		name      string
		custom    string
		allowKeys bool
		want      []MetadataRef
		bad       bool
	}{
		{name: "absent", custom: ``},
		{name: "null", custom: `null`},
		{name: "no in-toto key", custom: `{"other": 1}`},
		{name: "datadog package (links only)", custom: `{"in-toto": ["in-toto-metadata/a/tag.6a5d3c1f.link", "in-toto-metadata/a/wheels-signer.0e8a2b44.link"], "root-layout-type": "core"}`,
			want: []MetadataRef{{KindLink, "in-toto-metadata/a/tag.6a5d3c1f.link"}, {KindLink, "in-toto-metadata/a/wheels-signer.0e8a2b44.link"}}},
		{name: "layout, links and a bundle, sorted by kind", custom: `{"in-toto": ["b.link", "x.intoto.jsonl", "root.layout", "a.link"]}`,
			want: []MetadataRef{{KindBundle, "x.intoto.jsonl"}, {KindLayout, "root.layout"}, {KindLink, "a.link"}, {KindLink, "b.link"}}},
		{name: "layout target keys", custom: `{"in-toto": ["keys/owner.pub"]}`, allowKeys: true, want: []MetadataRef{{KindKey, "keys/owner.pub"}}},
		{name: "keys on a package target", custom: `{"in-toto": ["keys/owner.pub"]}`, bad: true},
		{name: "not an object", custom: `[1]`, bad: true},
		{name: "not an array", custom: `{"in-toto": "root.layout"}`, bad: true},
		{name: "not strings", custom: `{"in-toto": [1]}`, bad: true},
		{name: "unknown suffix", custom: `{"in-toto": ["root.json"]}`, bad: true},
		{name: "duplicate", custom: `{"in-toto": ["a.link", "a.link"]}`, bad: true},
		{name: "traversal", custom: `{"in-toto": ["in-toto-metadata/../a.link"]}`, bad: true},
		{name: "dot segment", custom: `{"in-toto": ["./a.link"]}`, bad: true},
		{name: "empty segment", custom: `{"in-toto": ["a//b.link"]}`, bad: true},
		{name: "absolute", custom: `{"in-toto": ["/etc/a.link"]}`, bad: true},
		{name: "backslash", custom: `{"in-toto": ["a\\b.link"]}`, bad: true},
		{name: "empty", custom: `{"in-toto": [""]}`, bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCustom("target", json.RawMessage(tc.custom), tc.allowKeys)
			if tc.bad {
				if !errors.Is(err, verr.ErrInvalidInput) {
					t.Fatalf("want an input error, got %v (%v)", err, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzParseCustom: any input is either classified (every path clean, no duplicates, known
// suffixes) or an input error; never a panic.
func FuzzParseCustom(f *testing.F) {
	f.Add([]byte(`{"in-toto": ["root.layout", "a/b.link", "x.intoto.jsonl", "k.pub"]}`), true)
	f.Add([]byte(`{"in-toto": ["../a.link"]}`), false)
	f.Add([]byte(`{"in-toto": null}`), false)
	f.Add([]byte(`{"in-toto": [1, {}]}`), false)
	f.Fuzz(func(t *testing.T, data []byte, allowKeys bool) {
		refs, err := ParseCustom("fuzz", data, allowKeys)
		if err != nil {
			var ie *verr.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("non-input error %T: %v", err, err)
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range refs {
			if CheckTargetPath(r.Path) != nil || seen[r.Path] {
				t.Fatalf("accepted %q", r.Path)
			}
			if r.Kind == KindKey && !allowKeys {
				t.Fatalf("accepted key %q", r.Path)
			}
			seen[r.Path] = true
		}
	})
}

func TestParseRevocationList(t *testing.T) {
	good := `{"_type": "tinto/revocations", "entries": [{"ref": "functionary:abcdef0123456789", "reason": "stolen"}]}`
	if _, err := ParseRevocationList("revocations.json", []byte(good)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		``,
		`{}`,
		`{"_type": "other", "entries": []}`,
		`{"_type": "tinto/revocations", "entries": [], "extra": 1}`,
		`{"_type": "tinto/revocations", "_type": "tinto/revocations", "entries": []}`,
		`{"_type": "tinto/revocations", "entries": [{"ref": "nonsense"}]}`,
		`{"_type": "tinto/revocations", "entries": [{"ref": "key:abcd", "oops": true}]}`,
	} {
		if _, err := ParseRevocationList("r", []byte(bad)); !errors.Is(err, verr.ErrInvalidInput) {
			t.Errorf("%s: want an input error, got %v", bad, err)
		}
	}
	b, err := MarshalRevocationList(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseRevocationList("r", b); err != nil {
		t.Fatalf("round trip: %v", err)
	}
}

// FuzzParseRevocationList: never a panic; any failure is an input error.
func FuzzParseRevocationList(f *testing.F) {
	f.Add([]byte(`{"_type": "tinto/revocations", "entries": [{"ref": "key:ab"}, {"ref": "layout:sha256:00"}]}`))
	f.Add([]byte(`{"_type": "tinto/revocations", "entries": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ParseRevocationList("fuzz", data); err != nil && !errors.Is(err, verr.ErrInvalidInput) {
			t.Fatalf("non-input error: %v", err)
		}
	})
}
