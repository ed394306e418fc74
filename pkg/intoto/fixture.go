package intoto

import (
	"bytes"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tintoproject/tinto/pkg/cjson"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/rules"
)

// ChainSpec describes a generated three-step supply chain ("clone" -> "build" -> "package"),
// for tests, benchmarks and the demo. The zero value is a valid spec: Ed25519 keys, Metablocks,
// a handful of artifacts, one functionary per step, nothing tampered.
type ChainSpec struct {
	// KeyType is "ed25519" (zero value), "rsa" or "ecdsa".
	KeyType string
	// Format of the layout and links: FormatMetablock (zero value), FormatDSSE or
	// FormatStatement (links only; the layout is then DSSE).
	Format Format
	// PredicateType for FormatStatement: PredicateLinkV03 (zero value) or PredicateLinkV02.
	PredicateType string
	// Artifacts is the number of source files (zero value: 3). Each step has about this many
	// materials and products.
	Artifacts int
	// Functionaries per step, all required (the step threshold). Zero value: 1.
	Functionaries int
	// Dirs spreads the artifacts over this many directories, with one rule per directory in
	// each step (so a step has Dirs+1 rules per side). Zero value: 1, a single "src/*" rule.
	Dirs int
	// Now is the generation time; the layout expires 30 days later. Zero value: time.Now().
	Now time.Time
	// Tamper names one defect: "" (none), "artifact" (a material of "build" differs from the
	// product of "clone"), "extra-product" (an unexpected product of "package"), "missing-link"
	// (no link for "package"), "bad-signature" (a link changed after signing), "expired"
	// (the layout expired), "wrong-key" (the layout is signed by another key than Owner),
	// "link-mismatch" (with Functionaries >= 2, two links of "build" disagree).
	Tamper string
	// Inspection adds an inspection "verify-package" that checks the package, with a
	// prerecorded inspection link signed by the layout owner.
	Inspection bool
	// Rand is the randomness for Ed25519 keys (RSA and ECDSA keys always use crypto/rand).
	// Zero value: crypto/rand.
	Rand io.Reader
}

// Chain is a generated supply chain.
type Chain struct {
	Layout        []byte
	Owner         *keys.Signer
	Functionaries map[string][]*keys.Signer // step -> functionaries
	Links         MemLinks
}

func genKey(kt string, r io.Reader) (*keys.Signer, error) {
	switch kt {
	case "", "ed25519":
		return keys.GenerateEd25519(r)
	case "rsa":
		return keys.GenerateRSA(2048)
	case "ecdsa":
		return keys.GenerateECDSA(elliptic.P256())
	}
	return nil, fmt.Errorf("intoto: unknown key type %q", kt)
}

// FileDigest is the fixture digest of a generated artifact.
func FileDigest(content string) rules.Digests {
	h := sha256.Sum256([]byte(content))
	return rules.SHA256(hex.EncodeToString(h[:]))
}

// GenerateChain generates the supply chain described by spec.
func GenerateChain(spec ChainSpec) (*Chain, error) {
	n := spec.Artifacts
	if n <= 0 {
		n = 3
	}
	nf := max(spec.Functionaries, 1)
	now := spec.Now
	if now.IsZero() {
		now = time.Now()
	}
	r := spec.Rand
	if r == nil {
		r = rand.Reader
	}
	owner, err := genKey(spec.KeyType, r)
	if err != nil {
		return nil, err
	}
	c := &Chain{Owner: owner, Functionaries: map[string][]*keys.Signer{}, Links: MemLinks{}}
	stepNames := []string{"clone", "build", "package"}
	var fkeys []*keys.Key
	for _, s := range stepNames {
		for range nf {
			k, err := genKey(spec.KeyType, r)
			if err != nil {
				return nil, err
			}
			c.Functionaries[s] = append(c.Functionaries[s], k)
			fkeys = append(fkeys, k.Key)
		}
	}
	ttl := 30 * 24 * time.Hour
	if spec.Tamper == "expired" {
		ttl = -time.Hour
	}
	layout := NewLayout(now, ttl, fkeys...)
	layout.Readme = "tinto generated supply chain"
	ids := func(step string) []string {
		var out []string
		for _, s := range c.Functionaries[step] {
			out = append(out, s.Key.KeyID)
		}
		return out
	}
	dirs := max(spec.Dirs, 1)
	dirOf := func(top string, i int) string {
		if dirs == 1 {
			return top + "/"
		}
		return fmt.Sprintf("%s/d%03d/", top, i%dirs)
	}
	var cloneP, buildM, buildP [][]string
	for d := range dirs {
		cloneP = append(cloneP, []string{"CREATE", dirOf("src", d) + "*"})
		buildM = append(buildM, []string{"MATCH", dirOf("src", d) + "*", "WITH", "PRODUCTS", "FROM", "clone"})
		buildP = append(buildP, []string{"CREATE", dirOf("bin", d) + "*"})
	}
	layout.Steps = []Step{
		{Name: "clone", Threshold: nf, PubKeys: ids("clone"), ExpectedCommand: []string{"git", "clone", "https://example.org/app.git"},
			ExpectedProducts: append(cloneP, []string{"DISALLOW", "*"})},
		{Name: "build", Threshold: nf, PubKeys: ids("build"), ExpectedCommand: []string{"make"},
			ExpectedMaterials: append(buildM, []string{"DISALLOW", "*"}),
			ExpectedProducts:  append(buildP, []string{"DISALLOW", "*"})},
		{Name: "package", Threshold: nf, PubKeys: ids("package"), ExpectedCommand: []string{"tar", "czf", "app.tar.gz", "bin"},
			ExpectedMaterials: [][]string{{"MATCH", "bin/*", "WITH", "PRODUCTS", "FROM", "build"}, {"DISALLOW", "*"}},
			ExpectedProducts:  [][]string{{"CREATE", "app.tar.gz"}, {"DISALLOW", "*"}}},
	}
	if spec.Inspection {
		layout.Inspections = []Inspection{{Name: "verify-package", Run: []string{"tar", "tzf", "app.tar.gz"},
			ExpectedMaterials: [][]string{{"MATCH", "app.tar.gz", "WITH", "PRODUCTS", "FROM", "package"}, {"DISALLOW", "*"}},
			ExpectedProducts:  [][]string{{"ALLOW", "*"}}}}
	}

	src := make(rules.Artifacts, n)
	bin := make(rules.Artifacts, n)
	for i := range n {
		src[fmt.Sprintf("%sfile%07d.c", dirOf("src", i), i)] = FileDigest(fmt.Sprintf("source %d", i))
		bin[fmt.Sprintf("%sfile%07d.o", dirOf("bin", i), i)] = FileDigest(fmt.Sprintf("object %d", i))
	}
	pkg := rules.Artifacts{"app.tar.gz": FileDigest("package")}
	links := []*Link{
		{Name: "clone", Command: layout.Steps[0].ExpectedCommand, Materials: rules.Artifacts{}, Products: src},
		{Name: "build", Command: layout.Steps[1].ExpectedCommand, Materials: src, Products: bin},
		{Name: "package", Command: layout.Steps[2].ExpectedCommand, Materials: bin, Products: pkg},
	}
	switch spec.Tamper {
	case "artifact":
		m := make(rules.Artifacts, len(src))
		for k, v := range src {
			m[k] = v
		}
		m[dirOf("src", 0)+"file0000000.c"] = FileDigest("evil")
		links[1] = &Link{Name: "build", Command: links[1].Command, Materials: m, Products: bin}
	case "extra-product":
		links[2] = &Link{Name: "package", Command: links[2].Command, Materials: bin,
			Products: rules.Artifacts{"app.tar.gz": FileDigest("package"), "backdoor.sh": FileDigest("evil")}}
	}
	for i, l := range links {
		if spec.Tamper == "missing-link" && l.Name == "package" {
			continue
		}
		for j, f := range c.Functionaries[l.Name] {
			ll := l
			if spec.Tamper == "link-mismatch" && i == 1 && j == 1 {
				p := rules.Artifacts{"bin/other.o": FileDigest("other")}
				for k, v := range bin {
					p[k] = v
				}
				ll = &Link{Name: l.Name, Command: l.Command, Materials: l.Materials, Products: p}
			}
			data, err := SignLink(ll, spec.Format, spec.PredicateType, f)
			if err != nil {
				return nil, err
			}
			if spec.Tamper == "bad-signature" && l.Name == "build" {
				data = bytes.Replace(data, []byte(`"make"`), []byte(`"make2"`), 1)
			}
			c.Links[LinkFileName(l.Name, f.Key.KeyID)] = data
		}
	}
	if spec.Inspection {
		il := &Link{Name: "verify-package", Command: []string{"tar", "tzf", "app.tar.gz"}, Materials: pkg, Products: rules.Artifacts{}}
		data, err := SignLink(il, spec.Format, spec.PredicateType, owner)
		if err != nil {
			return nil, err
		}
		c.Links[LinkFileName(il.Name, owner.Key.KeyID)] = data
	}

	layoutSigner := owner
	if spec.Tamper == "wrong-key" {
		if layoutSigner, err = genKey(spec.KeyType, r); err != nil {
			return nil, err
		}
	}
	if spec.Format == FormatMetablock || spec.Format == "" {
		c.Layout, err = SignMetablock(layout.Signed(), layoutSigner)
	} else {
		c.Layout, err = SignDSSEValue(layout.Signed(), layoutSigner)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// SignLink signs a link in the given format (Metablock, DSSE, or an ITE-6 statement with the
// link predicate predicateType, PredicateLinkV03 by default). Metablock links are written
// without building a value tree, so that large links are cheap to generate.
func SignLink(l *Link, format Format, predicateType string, signers ...*keys.Signer) ([]byte, error) {
	switch format {
	case "", FormatMetablock:
		signed, err := canonicalLink(l)
		if err != nil {
			return nil, err
		}
		var b bytes.Buffer
		b.WriteString(`{"signatures":[`)
		for i, s := range signers {
			sig, err := s.Sign(signed)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"keyid":%q,"sig":%q}`, sig.KeyID, hex.EncodeToString(sig.Sig))
		}
		b.WriteString(`],"signed":`)
		b.Write(signed)
		b.WriteString("}")
		return b.Bytes(), nil
	case FormatDSSE:
		return SignDSSEValue(l.Signed(), signers...)
	case FormatStatement:
		if predicateType == "" {
			predicateType = PredicateLinkV03
		}
		st, err := l.Statement(predicateType)
		if err != nil {
			return nil, err
		}
		return SignDSSEValue(st, signers...)
	}
	return nil, fmt.Errorf("intoto: unknown format %q", format)
}

// canonicalLink writes the canonical JSON of l.Signed() directly.
func canonicalLink(l *Link) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(128 * (len(l.Materials) + len(l.Products) + 4))
	b.WriteString(`{"_type":"link","byproducts":`)
	if err := canonicalInto(&b, objOrEmpty(l.Byproducts)); err != nil {
		return nil, err
	}
	b.WriteString(`,"command":`)
	if err := canonicalInto(&b, strs(l.Command)); err != nil {
		return nil, err
	}
	b.WriteString(`,"environment":`)
	if err := canonicalInto(&b, objOrEmpty(l.Environment)); err != nil {
		return nil, err
	}
	b.WriteString(`,"materials":`)
	writeArtifacts(&b, l.Materials)
	b.WriteString(`,"name":`)
	cjson.WriteString(&b, l.Name)
	b.WriteString(`,"products":`)
	writeArtifacts(&b, l.Products)
	b.WriteString("}")
	return b.Bytes(), nil
}

func canonicalInto(b *bytes.Buffer, v any) error {
	c, err := cjson.Canonical(v)
	if err != nil {
		return err
	}
	b.Write(c)
	return nil
}

func writeArtifacts(b *bytes.Buffer, a rules.Artifacts) {
	names := make([]string, 0, len(a))
	for n := range a {
		names = append(names, n)
	}
	sort.Strings(names)
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		cjson.WriteString(b, n)
		b.WriteString(":{")
		j := 0
		for alg, h := range a[n].All() { // in sorted order
			if j > 0 {
				b.WriteByte(',')
			}
			j++
			cjson.WriteString(b, alg)
			b.WriteByte(':')
			cjson.WriteString(b, h)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
}

// WriteDir writes the chain as in-toto-verify expects it: dir/root.layout, the owner's public
// key dir/owner.pub (PEM for RSA, as python in-toto reads with -t rsa; securesystemslib JSON
// otherwise) and the links in dir/links/. Existing files are never overwritten.
func (c *Chain) WriteDir(dir string) error {
	if err := WriteFile(dir, "root.layout", c.Layout); err != nil {
		return err
	}
	var pub []byte
	var err error
	if c.Owner.Key.KeyType == "rsa" {
		pub, err = c.Owner.Key.MarshalPEM()
	} else {
		pub, err = c.Owner.Key.MarshalSSLib()
	}
	if err != nil {
		return err
	}
	if err := WriteFile(dir, "owner.pub", pub); err != nil {
		return err
	}
	names := make([]string, 0, len(c.Links))
	for n := range c.Links {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := WriteFile(filepath.Join(dir, "links"), n, c.Links[n]); err != nil {
			return err
		}
	}
	return nil
}

// KeyTypeFlag returns the in-toto-verify --key-types value for the owner key.
func (c *Chain) KeyTypeFlag() string {
	return strings.SplitN(c.Owner.Key.KeyType, "-", 2)[0]
}
