package tjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"testing"
)

func TestCanonicalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"b": 1, "a": [true, false, null]}`, `{"a":[true,false,null],"b":1}`},
		{`"a\"b\\c\/\u00e9\n"`, "\"a\\\"b\\\\c/\u00e9\n\""},
		{`-0`, `0`},
		{`123456789012345678901234567890`, `123456789012345678901234567890`},
		{`{"\u00e9": 1, "z": 2, "A": 3}`, `{"A":3,"z":2,"` + "\u00e9" + `":1}`},
		{`"\ud83d\ude00"`, "\"\U0001F600\""},
		{` { } `, `{}`},
	} {
		got, err := Canonicalize([]byte(c.in))
		if err != nil || string(got) != c.want {
			t.Errorf("Canonicalize(%s) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestCanonicalizeRejects(t *testing.T) {
	for _, in := range []string{
		`{"a":1,"a":2}`, `{"b":1,"a":2,"b":3}`, `1.5`, `1e3`, `01`, `"\ud83d"`, "\"\xff\"", `[1,]`,
		`{"a":1,}`, `[1] [2]`, `tru`, `"a` + "\x01" + `"`, `{"a" 1}`, ``,
		string(bytes.Repeat([]byte("["), MaxDepth+2)) + string(bytes.Repeat([]byte("]"), MaxDepth+2)),
	} {
		if got, err := Canonicalize([]byte(in)); err == nil {
			t.Errorf("Canonicalize(%q) = %q, want error", in, got)
		}
	}
}

func TestParseEnvelope(t *testing.T) {
	raw := []byte(`{"signatures": [{"keyid": "k", "sig": "00"}], "signed": {"version": 1, "_type": "x"}}`)
	env, err := ParseEnvelope(raw)
	if err != nil {
		t.Fatal(err)
	}
	if string(env.Canonical) != `{"_type":"x","version":1}` {
		t.Errorf("canonical %s", env.Canonical)
	}
	if sp := env.Members["version"]; string(env.Signed[sp[0]:sp[1]]) != "1" {
		t.Errorf("members %v", env.Members)
	}
	for _, bad := range []string{`{"signed":{}}`, `{"signed":{},"signatures":[],"x":1}`, `{"signed":{},"signed":{},"signatures":[]}`} {
		if _, err := ParseEnvelope([]byte(bad)); err == nil {
			t.Errorf("ParseEnvelope(%s) succeeded", bad)
		}
	}
}

func TestIndex(t *testing.T) {
	ix, err := NewIndex([]byte(`{"b": {"x": 1}, "a\u00e9": [1], "c": "s"}`))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := ix.Get("b"); !ok || string(v) != `{"x": 1}` {
		t.Errorf("b = %s %v", v, ok)
	}
	if _, ok := ix.Get("a\u00e9"); !ok {
		t.Error("escaped key not found")
	}
	if _, ok := ix.Get("zz"); ok || ix.Len() != 3 {
		t.Error("index")
	}
	if _, err := NewIndex([]byte(`{"a":1,"a":2}`)); err == nil {
		t.Error("duplicate accepted")
	}
}

// TestCanonicalMatchesSecuresystemslib compares with python securesystemslib's
// encode_canonical, when it is installed.
func TestCanonicalMatchesSecuresystemslib(t *testing.T) {
	py := "/usr/bin/python3"
	if testing.Short() {
		t.Skip("short")
	}
	if err := exec.Command(py, "-c", "import securesystemslib.formats").Run(); err != nil {
		t.Skip("python securesystemslib not installed")
	}
	docs := []string{
		`{"signed": {"z": [1, -0, 2], "a": {"y": "q\"\\", "b": null}, "\u00e9": true, "B": "\u00ff\n\t"}}`,
		`{"targets": {"b/c.txt": {"length": 3, "hashes": {"sha256": "ab"}, "custom": {"k": [false]}}, "a": {}}}`,
		`{"big": 123456789012345678901234567890, "neg": -17, "s": "\u2028 \ud83d\ude00"}`,
	}
	for _, d := range docs {
		want, err := exec.Command(py, "-c", `import sys, json
from securesystemslib.formats import encode_canonical
sys.stdout.buffer.write(encode_canonical(json.loads(sys.argv[1])).encode("utf-8"))`, d).Output()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Canonicalize([]byte(d))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("doc %s:\n got %q %v\nwant %q", d, got, err, want)
		}
	}
	_ = os.Getenv
}

func TestEncode(t *testing.T) {
	got, err := Encode(map[string]any{"b": []any{1, "x", json.Number("7")}, "a": map[string]string{"k": "v"}, "c": nil})
	if err != nil || string(got) != `{"a":{"k":"v"},"b":[1,"x",7],"c":null}` {
		t.Fatalf("%s %v", got, err)
	}
	if _, err := Encode(1.5); err == nil {
		t.Fatal("float accepted")
	}
}

func FuzzCanonicalize(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,"\u00e9",{"b":null}]`, `"\ud83d\ude00"`, `{"b":1,"a":2}`, `-0`,
		`{"a":1,"c":{"z":1,"y":[2]},"b\"":3}`, `{"x\\":1,"x":2,"a":{"q":1,"p":2}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Canonicalize(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		// Compare with a tree-based reference: decode, then Encode.
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("reference decode: %v", err)
		}
		ref, err := Encode(v)
		if err != nil {
			t.Fatalf("reference encode of %q: %v", data, err)
		}
		if !bytes.Equal(ref, out) {
			t.Fatalf("canonical form of %q:\n got %q\nwant %q", data, out, ref)
		}
		// Canonical output is a fixed point when it is itself valid JSON.
		if json.Valid(out) {
			again, err := Canonicalize(out)
			if err != nil || !bytes.Equal(again, out) {
				t.Fatalf("not idempotent: %q -> %q -> %q %v", data, out, again, err)
			}
		}
	})
}

func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(`{"signed":{"_type":"root","version":1},"signatures":[]}`))
	f.Add([]byte(`{"signatures":[{"keyid":"a","sig":"b"}],"signed":{"targets":{"x":{}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnvelope(data)
		if err != nil {
			return
		}
		for _, sp := range env.Members {
			if sp[0] < 0 || sp[1] > len(env.Signed) || sp[0] > sp[1] {
				t.Fatalf("bad span %v", sp)
			}
		}
		if sp, ok := env.Members["targets"]; ok {
			_, _ = NewIndex(env.Signed[sp[0]:sp[1]])
		}
	})
}

// FuzzInPlace checks that parsing in place gives the same canonical form, members and
// signatures as parsing into a copy.
func FuzzInPlace(f *testing.F) {
	f.Add([]byte(`{"signed":{"b":{"y":1,"x":"\u00e9"},"a":[1,2]},"signatures":[{"sig":"00","keyid":"k"}]}`))
	f.Add([]byte(`{"signatures":[],"signed":{"targets":{"z":{"length":1},"a\"b":{"hashes":{"sha256":"ab"}}},"_type":"targets"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnvelope(data)
		buf := append([]byte(nil), data...)
		env2, err2 := ParseEnvelopeInPlace(buf)
		if errors.Is(err2, ErrControl) {
			return
		}
		if (err == nil) != (err2 == nil) {
			t.Fatalf("copy: %v, in place: %v", err, err2)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(env.Canonical, env2.Canonical) {
			t.Fatalf("canonical differs: %q vs %q", env.Canonical, env2.Canonical)
		}
		if len(env.Members) != len(env2.Members) {
			t.Fatalf("members differ")
		}
		for k, sp := range env.Members {
			a, err := Canonicalize(env.Signed[sp[0]:sp[1]])
			if err != nil {
				t.Fatal(err)
			}
			sp2 := env2.Members[k]
			if !bytes.Equal(a, env2.Signed[sp2[0]:sp2[1]]) {
				t.Fatalf("member %q: %q vs %q", k, a, env2.Signed[sp2[0]:sp2[1]])
			}
			if rs := env2.RawMembers[k]; !bytes.Equal(data[env2.RawSigned[0]+rs[0]:env2.RawSigned[0]+rs[1]], env.Signed[sp[0]:sp[1]]) {
				t.Fatalf("raw member %q differs", k)
			}
		}
		s1, err1 := Canonicalize(env.Signatures)
		if err1 != nil || !bytes.Equal(s1, env2.Signatures) {
			t.Fatalf("signatures differ: %q vs %q", s1, env2.Signatures)
		}
	})
}
