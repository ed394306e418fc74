package intoto

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/rules"
)

// TestFastLinkSharing parses a sequence of links with one digestIntern, as a verification
// does, where consecutive artifact sets are equal, a prefix of each other, differ in one digest
// or in one name, and checks every set against the strict parser's.
func TestFastLinkSharing(t *testing.T) {
	set := func(n int, change map[int]string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			name, hex := fmt.Sprintf("f%03d", i), strings.Repeat(fmt.Sprintf("%x", i%16), 64)
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
	doc := func(mats, prods string) []byte {
		return []byte(`{"signatures":[],"signed":{"_type":"link","byproducts":{},"command":[],"environment":{},"materials":` +
			mats + `,"name":"s","products":` + prods + `}}`)
	}
	docs := [][]byte{
		doc("{}", set(10, nil)),
		doc(set(10, nil), set(10, nil)), // equal to the previous set: shared map
		doc(set(10, map[int]string{3: strings.Repeat("e", 64)}), set(7, nil)), // one digest differs; a prefix
		doc(set(7, nil), set(10, map[int]string{0: "name:a"})),                // a name differs
		doc(set(10, map[int]string{9: "name:f0085"}), "{}"),
	}
	var dig digestIntern
	var prev rules.Artifacts
	for i, d := range docs {
		_, link, ok := fastMetablockLink(d, cjson.Limits{}, &dig)
		if !ok {
			t.Fatalf("doc %d: fast path refused", i)
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
			t.Fatalf("doc %d: artifacts differ:\n%v %v\n%v %v", i, link.Materials, link.Products, link2.Materials, link2.Products)
		}
		if i == 1 && (!sameArtifacts(link.Materials, prev) || !sameArtifacts(link.Products, link.Materials)) {
			t.Errorf("doc 1: equal sets are not shared")
		}
		prev = link.Products
	}
}

func sameArtifacts(a, b rules.Artifacts) bool {
	return fmt.Sprintf("%p", a) == fmt.Sprintf("%p", b)
}
