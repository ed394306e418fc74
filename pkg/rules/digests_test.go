package rules

import (
	"encoding/json"
	"errors"
	"maps"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/tintoproject/tinto/pkg/verr"
)

func TestDigestsEncoding(t *testing.T) {
	h := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		m    map[string]string
	}{
		{"empty", map[string]string{}},
		{"sha256", map[string]string{"sha256": h}},
		{"upper", map[string]string{"sha256": "ABCDEF"}},
		{"one other", map[string]string{"sha512": "ff"}},
		{"empty alg", map[string]string{"": "01"}},
		{"two", map[string]string{"sha256": h, "sha512": "ff"}},
		{"three", map[string]string{"sha256": "01", "sha512": "02", "md5": "03"}},
		{"odd algs", map[string]string{"a/b": "1", "x\x00y": "2", strings.Repeat("z", 300): "3", "é": "4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewDigests(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Map(); !maps.Equal(got, tc.m) || got == nil {
				t.Fatalf("Map() = %v, want %v", got, tc.m)
			}
			if d.Len() != len(tc.m) || d.IsZero() != (len(tc.m) == 0) {
				t.Fatalf("Len() = %d, IsZero() = %v for %v", d.Len(), d.IsZero(), tc.m)
			}
			var algs []string
			for a, x := range d.All() {
				algs = append(algs, a)
				if y, ok := d.Get(a); !ok || x != y || tc.m[a] != x {
					t.Fatalf("Get(%q) = %q, %v; All gave %q", a, y, ok, x)
				}
			}
			if !slices.IsSorted(algs) {
				t.Fatalf("All() not in order: %q", algs)
			}
			if _, ok := d.Get("nope"); ok {
				t.Fatal("Get of a missing algorithm succeeded")
			}
			if len(tc.m) == 1 {
				for a, x := range tc.m {
					if d1, err := NewDigest(a, x); err != nil || d1 != d {
						t.Fatalf("NewDigest(%q, %q) = %v, %v; want %v", a, x, d1, err, d)
					}
				}
			}
			// The JSON form is what encoding/json writes for the map.
			want, _ := json.Marshal(tc.m)
			got, err := json.Marshal(d)
			if err != nil || string(got) != string(want) {
				t.Fatalf("MarshalJSON = %s, %v; want %s", got, err, want)
			}
			var back Digests
			if err := json.Unmarshal(got, &back); err != nil || back != d {
				t.Fatalf("round trip: %v, %v", back, err)
			}
			// A map of artifacts marshals as before.
			a := Artifacts{"x": d}
			got, _ = json.Marshal(a)
			want, _ = json.Marshal(map[string]map[string]string{"x": tc.m})
			if string(got) != string(want) {
				t.Fatalf("Artifacts JSON = %s, want %s", got, want)
			}
		})
	}
	if SHA256("ab") != MustDigests(map[string]string{"sha256": "ab"}) {
		t.Fatal("SHA256 differs from NewDigests")
	}
	var zero Digests
	if zero != MustDigests(nil) || zero.Len() != 0 || zero.String() != "" {
		t.Fatal("the zero Digests is not the empty set")
	}
	if s := MustDigests(map[string]string{"sha512": "ff", "sha256": "01"}).String(); s != "sha256:01 sha512:ff" {
		t.Fatalf("String() = %q", s)
	}
}

func TestDigestsEquality(t *testing.T) {
	for _, tc := range []struct {
		a, b map[string]string
		eq   bool
	}{
		{map[string]string{}, map[string]string{}, true},
		{map[string]string{"sha256": "01"}, map[string]string{"sha256": "01"}, true},
		{map[string]string{"sha256": "01"}, map[string]string{"sha256": "02"}, false},
		{map[string]string{"sha256": "ab"}, map[string]string{"sha256": "AB"}, false}, // as written
		{map[string]string{"sha256": "01"}, map[string]string{"sha512": "01"}, false},
		{map[string]string{"sha256": "01"}, map[string]string{}, false},
		{map[string]string{"sha256": "01"}, map[string]string{"sha256": "01", "sha512": "02"}, false},
		{map[string]string{"sha512": "02", "sha256": "01"}, map[string]string{"sha256": "01", "sha512": "02"}, true},
		{map[string]string{"a": "1", "b": "2"}, map[string]string{"a": "2", "b": "1"}, false},
		{map[string]string{"a": "12", "b": "3"}, map[string]string{"a": "1", "b": "23"}, false},
		{map[string]string{"ab": "1"}, map[string]string{"a": "1"}, false},
		{map[string]string{"sha256": "01", "x": "2"}, map[string]string{"sha256": "01", "y": "2"}, false},
	} {
		a, b := MustDigests(tc.a), MustDigests(tc.b)
		if (a == b) != tc.eq || (b == a) != tc.eq {
			t.Errorf("%v == %v is %v, want %v", tc.a, tc.b, a == b, tc.eq)
		}
	}
}

// TestDigestsEqualityProperty checks == against map equality on random digest maps.
func TestDigestsEqualityProperty(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	algs := []string{"sha256", "sha512", "md5", "", "a/b", "sha"}
	hexes := []string{"0", "00", "01", "1", "AB", "ab", "0a", "a0"}
	rnd := func() map[string]string {
		m := map[string]string{}
		for range r.Intn(4) {
			m[algs[r.Intn(len(algs))]] = hexes[r.Intn(len(hexes))]
		}
		return m
	}
	for range 20000 {
		x, y := rnd(), rnd()
		a, b := MustDigests(x), MustDigests(y)
		if (a == b) != maps.Equal(x, y) {
			t.Fatalf("%v vs %v: == is %v", x, y, a == b)
		}
		if !maps.Equal(a.Map(), x) {
			t.Fatalf("Map() of %v = %v", x, a.Map())
		}
	}
}

func TestDigestsReject(t *testing.T) {
	for _, in := range []map[string]string{
		{"sha256": ""},
		{"sha256": "xyz"},
		{"sha256": "0x12"},
		{"sha256": "12 "},
		{"sha256": "01", "sha512": "g"},
		{"sha256": "01/"},
	} {
		if _, err := NewDigests(in); !errors.Is(err, verr.ErrInvalidInput) {
			t.Errorf("NewDigests(%v) = %v, want an input error", in, err)
		}
	}
	if _, err := NewDigest("sha256", ""); !errors.Is(err, verr.ErrInvalidInput) {
		t.Errorf("NewDigest of an empty digest: %v", err)
	}
	for _, in := range []string{
		`null`, `[]`, `"ab"`, `1`, ``, `{`, `{"sha256":}`, `{"sha256":"ab"`,
		`{"sha256":""}`, `{"sha256":"xy"}`, `{"sha256":1}`, `{"sha256":null}`, `{"sha256":["ab"]}`,
		`{"sha256":{"a":"b"}}`, `{"sha256":"ab","sha256":"ab"}`, `{"sha256":"ab","sha256":"cd"}`,
		`{"sha256":"ab"} {}`, `{"sha256":"ab"}x`, `{"a":"1",}`,
	} {
		var d Digests
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("Unmarshal(%s) accepted: %v", in, d)
		}
		if err := d.UnmarshalJSON([]byte(in)); !errors.Is(err, verr.ErrInvalidInput) {
			t.Errorf("UnmarshalJSON(%s) = %v, want an input error", in, err)
		}
	}
	for in, want := range map[string]map[string]string{
		`{}`:                          {},
		` { "sha256" : "AB" } `:       {"sha256": "AB"},
		`{"sha512":"ff","md5":"0"}`:   {"sha512": "ff", "md5": "0"},
		`{"\u0073ha256":"01"}`:        {"sha256": "01"},
		`{"a\"b":"01","sha256":"02"}`: {"a\"b": "01", "sha256": "02"},
	} {
		var d Digests
		if err := json.Unmarshal([]byte(in), &d); err != nil || !maps.Equal(d.Map(), want) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", in, d.Map(), err, want)
		}
	}
}

// FuzzDigestsJSON checks the strict JSON reader against encoding/json's reading of a
// map[string]string: it accepts exactly the objects of non-empty hex strings without a
// duplicate key, with the same content, and what it accepts round-trips.
func FuzzDigestsJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"sha256":"ab"}`, `{"sha256":"ab","sha512":"CD"}`, `{"a":"1","a":"1"}`,
		`{"sha256":""}`, `{"x":"g"}`, `null`, `{"\u00e9":"0"}`, `{"a/b":"1","":"2"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d, viaJSON Digests
		err := d.UnmarshalJSON(b)
		if jerr := json.Unmarshal(b, &viaJSON); (jerr == nil) != (err == nil) || viaJSON != d {
			t.Fatalf("%q: UnmarshalJSON gives %v, %v; json.Unmarshal %v, %v", b, d, err, viaJSON, jerr)
		}
		var m map[string]string
		refErr := json.Unmarshal(b, &m)
		if err == nil {
			if refErr != nil {
				t.Fatalf("accepted %q, which encoding/json rejects: %v", b, refErr)
			}
			if !maps.Equal(d.Map(), m) {
				t.Fatalf("%q: read %v, encoding/json %v", b, d.Map(), m)
			}
			for _, h := range m {
				if !isHexString(h) {
					t.Fatalf("%q: accepted the digest %q", b, h)
				}
			}
			if nd, err := NewDigests(m); err != nil || nd != d {
				t.Fatalf("%q: NewDigests gives %v, %v", b, nd, err)
			}
			out, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var back Digests
			if err := json.Unmarshal(out, &back); err != nil || back != d {
				t.Fatalf("%q: round trip through %s gave %v, %v", b, out, back, err)
			}
			return
		}
		if !errors.Is(err, verr.ErrInvalidInput) {
			t.Fatalf("%q: error %v is not an input error", b, err)
		}
		if refErr != nil || m == nil {
			return // not an object (or null)
		}
		for _, h := range m {
			if !isHexString(h) {
				return
			}
		}
		// Every value is hex: the rejection must be a duplicate key.
		if !strings.Contains(err.Error(), "duplicate") {
			t.Fatalf("%q rejected (%v) though encoding/json reads %v", b, err, m)
		}
	})
}
