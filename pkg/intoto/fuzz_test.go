package intoto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

func fuzzSeeds(f *testing.F) *Chain {
	c, err := GenerateChain(ChainSpec{Now: testNow, Inspection: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c.Layout)
	for _, d := range c.Links {
		f.Add(d)
	}
	for _, fm := range []Format{FormatDSSE, FormatStatement} {
		c2, err := GenerateChain(ChainSpec{Now: testNow, Format: fm})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c2.Layout)
		for _, d := range c2.Links {
			f.Add(d)
			break
		}
	}
	// A python-style (indented, sorted) link with escapes, numbers and several digests.
	py, err := SignMetablock((&Link{Name: "build", Command: []string{"make", "é\n"},
		Materials:  rules.Artifacts{"a\"b": rules.MustDigests(map[string]string{"sha256": "00", "sha512": "ff"}), "c": {}},
		Products:   rules.Artifacts{"d": rules.SHA256("AB")},
		Byproducts: map[string]any{"return-value": json.Number("0"), "stdout": "x"}}).Signed(), c.Owner)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(py)
	f.Add([]byte(`{"signed":{"_type":"link","name":"a","materials":{"a":{"sha256":"00"}},"products":{}},"signatures":[]}`))
	f.Add([]byte(`{"signed":{"_type":"link","name":"a","materials":{"b":{"sha256":"00"},"a":{"sha256":"00"}}},"signatures":[]}`))
	f.Add([]byte(`{"signed":{"_type":"link","_type":"link"},"signatures":[]}`))
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}`))
	f.Add([]byte(`{"signed":{"_type":"layout","expires":"2030-01-01T00:00:00Z","steps":[{"_type":"step","name":"a","threshold":0}]},"signatures":[]}`))
	return c
}

// checkErr fails on an error that is neither an InputError nor a VerificationError.
func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var ie *verr.InputError
	var ve *verr.VerificationError
	if !errors.As(err, &ie) && !errors.As(err, &ve) {
		t.Fatalf("untyped error %T: %v", err, err)
	}
}

func FuzzParseLayout(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		l, env, err := ParseLayout(data, cjson.Limits{})
		checkErr(t, err)
		if err != nil {
			return
		}
		if env.Type != "layout" || l == nil {
			t.Fatal("layout without type")
		}
		checkErr(t, Validate(l))
	})
}

func FuzzParseLink(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, err := ParseLink(data, cjson.Limits{})
		checkErr(t, err)
	})
}

func FuzzParseEnvelope(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnvelope(data, cjson.Limits{})
		checkErr(t, err)
		if err == nil && env.Message == nil {
			t.Fatal("envelope without message")
		}
	})
}

// FuzzFastLink checks that the one-pass link parser agrees with the strict general path on
// every document it accepts: same canonical bytes, same signatures, same link.
func FuzzFastLink(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		env, link, ok := fastMetablockLink(data, cjson.Limits{}, &digestIntern{})
		if !ok {
			return
		}
		env2, err := parseEnvelope("link", data, cjson.Limits{})
		if err != nil {
			t.Fatalf("fast path accepted what the strict path refuses: %v", err)
		}
		link2, err := env2.link()
		if err != nil {
			t.Fatalf("fast path accepted a link the strict path refuses: %v", err)
		}
		if !bytes.Equal(env.Message, env2.Message) {
			t.Fatalf("canonical bytes differ:\n%s\n%s", env.Message, env2.Message)
		}
		if !reflect.DeepEqual(env.Signatures, env2.Signatures) {
			t.Fatal("signatures differ")
		}
		if !equalArtifacts(link.Materials, link2.Materials) || !equalArtifacts(link.Products, link2.Products) ||
			link.Name != link2.Name || !reflect.DeepEqual(link.Command, link2.Command) {
			t.Fatalf("links differ: %+v vs %+v", link, link2)
		}
	})
}

// FuzzVerify runs the whole verification over a fuzzed layout and a fuzzed link for each step
// of a generated chain: it must never panic and only return typed errors.
func FuzzVerify(f *testing.F) {
	c := fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		links := MemLinks{}
		for n, d := range c.Links {
			links[n] = d
		}
		// The fuzzed bytes as the layout, and as every link.
		_, err := Verify(context.Background(), data, Options{LayoutKeys: []*keys.Key{c.Owner.Key}, Links: links,
			Now: func() time.Time { return testNow }})
		checkErr(t, err)
		for n := range links {
			links[n] = data
		}
		_, err = Verify(context.Background(), c.Layout, Options{LayoutKeys: []*keys.Key{c.Owner.Key}, Links: links,
			Now: func() time.Time { return testNow }, Params: map[string]string{}})
		checkErr(t, err)
	})
}
