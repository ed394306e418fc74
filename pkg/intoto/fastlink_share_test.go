package intoto

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/rules"
)

// TestFastLinkSharing parses a sequence of links with one digestIntern, as a verification
// does, where consecutive artifact sets are equal, a prefix of each other, differ in one digest
// or in one name, and checks every set against the strict parser's. The sizes cross the
// sharing index's block boundaries.
func TestFastLinkSharing(t *testing.T) {
	for _, sz := range [][3]int{{10, 7, 3}, {2*entryBlock + 5, entryBlock + 1, entryBlock - 1}} {
		testSharing(t, sz[0], sz[1], sz[2])
	}
}

// artifactSet returns n artifacts f00000, f00001, ... in canonical JSON, with the digests or
// names ("name:x") in change replaced.
func artifactSet(n int, change map[int]string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		name, hex := fmt.Sprintf("f%05d", i), strings.Repeat(fmt.Sprintf("%x", i%16), 64)
		if c, ok := change[i]; ok && strings.HasPrefix(c, "name:") {
			name = c[5:]
		} else if ok {
			hex = c
		}
		fmt.Fprintf(&b, `%q:{"sha256":%q}`, name, hex)
	}
	b.WriteString("}")
	return b.String()
}

func linkDoc(mats, prods string) []byte {
	return []byte(`{"signatures":[],"signed":{"_type":"link","byproducts":{},"command":[],"environment":{},"materials":` +
		mats + `,"name":"s","products":` + prods + `}}`)
}

func testSharing(t *testing.T, n, m, k int) {
	t.Helper()
	set := artifactSet
	last := fmt.Sprintf("name:f%05d5", n-2) // sorts between the last two names
	docs := [][]byte{
		linkDoc("{}", set(n, nil)),
		linkDoc(set(n, nil), set(n, nil)),                                        // equal to the previous set: shared map
		linkDoc(set(n, map[int]string{k: strings.Repeat("e", 64)}), set(m, nil)), // one digest differs; a prefix
		linkDoc(set(m, nil), set(n, map[int]string{0: "name:a"})),                // a name differs
		linkDoc(set(n, map[int]string{n - 1: last}), set(k, nil)),
		linkDoc(set(k, nil), set(k, nil)),
	}
	var dig digestIntern
	var prev rules.Artifacts
	for i, d := range docs {
		_, link, ok := fastMetablockLink(d, cjson.Limits{}, &dig)
		if !ok {
			t.Fatalf("n=%d doc %d: fast path refused", n, i)
		}
		env2, err := parseEnvelope("link", d, cjson.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		link2, err := env2.link()
		if err != nil {
			t.Fatal(err)
		}
		if !equalArtifacts(link.Materials, link2.Materials) || !equalArtifacts(link.Products, link2.Products) {
			t.Fatalf("n=%d doc %d: artifacts differ", n, i)
		}
		if (i == 1 || i == 5) && (!sameArtifacts(link.Materials, prev) || !sameArtifacts(link.Products, link.Materials)) {
			t.Errorf("n=%d doc %d: equal sets are not shared", n, i)
		}
		prev = link.Products
		// The parse-order queue of each set yields exactly its map's entries, in name order.
		for _, a := range []rules.Artifacts{link.Materials, link.Products} {
			q := dig.queueOf(a)
			if q == nil {
				t.Fatalf("n=%d doc %d: no queue for a parsed set", n, i)
			}
			var names []string
			for name, d := range q {
				if got, ok := a[name]; !ok || got != d {
					t.Fatalf("n=%d doc %d: queue yields %q %v, map has %v %v", n, i, name, d, got, ok)
				}
				names = append(names, name)
			}
			if len(names) != len(a) || !slices.IsSorted(names) {
				t.Fatalf("n=%d doc %d: queue of %d names (sorted %v) for %d artifacts", n, i, len(names), slices.IsSorted(names), len(a))
			}
		}
	}
	if dig.queueOf(rules.Artifacts{"x": {}}) != nil || dig.queueOf(nil) != nil {
		t.Fatal("a queue for a map the parser did not make")
	}
}

func sameArtifacts(a, b rules.Artifacts) bool {
	return fmt.Sprintf("%p", a) == fmt.Sprintf("%p", b)
}
