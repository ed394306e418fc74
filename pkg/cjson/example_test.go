package cjson_test

import (
	"fmt"

	"github.com/tintoproject/tinto/pkg/cjson"
)

// Verify a signature over what was received: decode strictly, take the signed value, and
// canonicalise that value (not a re-encoded struct).
func ExampleCanonical() {
	received := []byte(`{"signed": {"b": 1, "a": "x", "big": 123456789012345678901234567890}, "signatures": []}`)
	tree, err := cjson.Decode(received, cjson.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	msg, err := cjson.Canonical(tree.(map[string]any)["signed"])
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(msg))
	// Output: {"a":"x","b":1,"big":123456789012345678901234567890}
}

func ExampleDecode_duplicateKeys() {
	_, err := cjson.Decode([]byte(`{"keyid": "a", "keyid": "b"}`), cjson.Limits{})
	fmt.Println(err)
	// Output: invalid JSON at offset 15: duplicate object key "keyid"
}
