package rego

import (
	"cmp"
	"context"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/tintoproject/tinto/pkg/policy"
	"github.com/tintoproject/tinto/pkg/verr"
)

// Input is evidence converted once, for any number of evaluations by any number of policies
// (EvaluateInput): the Rego input document and the implicit rules' trail entries
// (policy.BaseEntries: the revocation lookups and the layout combination). Converting is the
// larger part of a decision, so a caller that evaluates the same evidence more than once (several
// policies, or a policy and its successor) converts it once.
//
// An Input can only be made by NewInput, from the evidence it describes, so the document a
// policy sees is always the one this package's converter built from that evidence; callers
// cannot hand the engine a document of their own. It is a snapshot: the revocation answers are
// those the checker (policy.Input.Revocation) gave when NewInput ran, at the evidence's evaluation
// time (policy.Input.Time); make a new Input to ask again. The evidence passed to NewInput must not be
// changed afterwards (the Input keeps a pointer to it, for the trail).
//
// An Input is immutable and safe for concurrent use: every decision gets its own copy of the
// trail entries (sharing their Evidence and Revocations records, which are read-only, as
// policy.Decision.Trail documents), and OPA only reads the document.
type Input struct {
	in    *policy.Input
	base  policy.BaseOptions
	trail []policy.TrailEntry // policy.BaseEntries(in, base)
	value ast.Value           // the whole document (every member, whatever a module reaches)
	plain ast.Value           // the same without the indexes, for policies that name none
}

// NewInput applies the implicit rules to verified evidence, with the options of the policies
// that will evaluate it (Options.Base; a policy with other options applies them again at each
// evaluation), and converts the evidence into the Rego input document. Its shape is the JSON
// form of policy.Input, with "time" as an RFC 3339 string and the revocation lookups under
// "revocations", plus indexes built from the same evidence, for policies to look things up by
// key instead of iterating (OPA's evaluator pays for every iteration step):
//
//   - time_ns, and each layout's expires_ns: the times in nanoseconds since the Unix epoch
//     (expires_ns is the instant the "expires" string gives, to the second);
//   - each layout's steps_by_name: its steps keyed by name (the same objects as in "steps");
//   - each step's product_names and material_names: the sets of the artifact names of all its
//     links, and products_by_digest: {alg: {hex: [names]}}, for each algorithm and digest the
//     sorted names of the step's products that have it;
//   - each layout's product_names and material_names: the union of its steps' sets.
//
// An error is the one policy.BaseEntries returns (nil evidence, no evaluation time, bad
// options, a cancelled context), or an *verr.InputError for a layout with two steps of the same
// name (which no verified layout has).
func NewInput(ctx context.Context, in *policy.Input, base policy.BaseOptions) (*Input, error) {
	trail, err := policy.BaseEntries(ctx, in, base)
	if err != nil {
		return nil, err
	}
	v, plain, err := inputValues(in, trail[0].Revocations)
	if err != nil {
		return nil, err
	}
	return &Input{in: in, base: base, trail: trail, value: v, plain: plain}, nil
}

// baseTrail returns the implicit rules' entries for one decision, with room for n more. The
// entries are copied (Decide writes into them: OverriddenBy), their Evidence and Revocations
// slices are shared, as the entries of decisions of one policy are (see policy.Decision.Trail:
// read them, do not modify them).
func (x *Input) baseTrail(n int) []policy.TrailEntry {
	out := make([]policy.TrailEntry, len(x.trail), len(x.trail)+n)
	copy(out, x.trail)
	return out
}

// inputValue converts evidence into the Rego input document directly (no JSON round trip),
// leaving out the top-level members reach says no module can reach (nil: convert all), with the
// indexes if the modules name one of them (reach.indexes; nil: with them).
//
// The conversion is written for speed (it used to cost more than evaluating a typical module):
// terms are allocated in blocks, each object key is one term shared by all objects,
// small integers and booleans are OPA's interned terms, and objects are built in one call from
// a reused item buffer. The value it returns shares no mutable state with anything else.
//
// The only error is an *verr.InputError for evidence no verified supply chain has: a layout
// with two steps of the same name (steps_by_name could not say which one a policy means).
func inputValue(in *policy.Input, lookups []policy.Lookup, reach *inputKeys) (ast.Value, error) {
	if err := uniqueSteps(in); err != nil {
		return nil, err
	}
	c := &converter{reach: reach, indexed: reach.indexes(), plain: !reach.indexes()}
	indexed, plain := c.input(in, lookups)
	if indexed != nil {
		return indexed, nil
	}
	return plain, nil
}

// inputValues converts every member of the evidence into both documents: with the indexes and
// without them (sharing every term but the top-level, layout and step objects).
func inputValues(in *policy.Input, lookups []policy.Lookup) (indexed, plain ast.Value, err error) {
	if err := uniqueSteps(in); err != nil {
		return nil, nil, err
	}
	c := &converter{indexed: true, plain: true}
	indexed, plain = c.input(in, lookups)
	return indexed, plain, nil
}

// uniqueSteps checks that no layout has two steps of the same name (steps_by_name could not say
// which one a policy means; a verified layout never has them). Whether a policy reads the
// indexes or not, such evidence is an input error.
func uniqueSteps(in *policy.Input) error {
	for li := range in.Layouts {
		l := &in.Layouts[li]
		for si := range l.Steps {
			for _, prev := range l.Steps[:si] {
				if prev.Name == l.Steps[si].Name {
					return verr.Invalid("rego input", "layout %q has two steps named %q", l.Name, prev.Name)
				}
			}
		}
	}
	return nil
}

// converter builds one input document (or two: see input).
type converter struct {
	terms []ast.Term           // block the next terms are taken from
	items [][2]*ast.Term       // scratch for object items (NewObject copies them)
	ptrs  []*ast.Term          // block array elements are taken from
	keys  [numKeys]*ast.Term   // the object keys, made once (see key)
	algs  map[string]*ast.Term // digest algorithms other than sha256
	reach *inputKeys           // the top-level members to convert (nil: all)
	// What to build: the document with the indexes, the one without, or both.
	indexed, plain bool
	// digestTerms shares single-algorithm digest objects (see digests).
	digestTerms map[digestKey]*ast.Term
	// Scratch of layout and byDigest, reused.
	prods, mats []artifact
	dig         []digestName
	inner       [][2]*ast.Term
}

type digestKey struct{ alg, hex string }

// termBlock is how many terms are allocated at once.
const termBlock = 256

func (c *converter) term(v ast.Value) *ast.Term {
	if len(c.terms) == 0 {
		c.terms = make([]ast.Term, termBlock)
	}
	t := &c.terms[0]
	c.terms = c.terms[1:]
	t.Value = v
	return t
}

// The object keys of the input document.
const (
	kAttestations = iota
	kCommand
	kConsumed
	kCustom
	kDigest
	kExpires
	kFailure
	kFunctionaries
	kHashes
	kKeyid
	kKeys
	kKeytype
	kKind
	kLayouts
	kLength
	kLinks
	kMaterials
	kName
	kOk
	kParams
	kPredicate
	kPredicateType
	kProducts
	kReason
	kRevocations
	kRule
	kRules
	kScheme
	kSha256
	kSide
	kSigner
	kSigners
	kSource
	kState
	kStep
	kSteps
	kSubjects
	kTarget
	kThreshold
	kTime
	kVerb
	kVersion
	// The indexes (see NewInput).
	kExpiresNs
	kMaterialNames
	kProductNames
	kProductsByDigest
	kStepsByName
	kTimeNs
	numKeys
)

var keyNames = [numKeys]string{"attestations", "command", "consumed", "custom", "digest", "expires", "failure", "functionaries", "hashes", "keyid", "keys", "keytype", "kind", "layouts", "length", "links", "materials", "name", "ok", "params", "predicate", "predicate_type", "products", "reason", "revocations", "rule", "rules", "scheme", "sha256", "side", "signer", "signers", "source", "state", "step", "steps", "subjects", "target", "threshold", "time", "verb", "version",
	"expires_ns", "material_names", "product_names", "products_by_digest", "steps_by_name", "time_ns"}

// key returns the term of an object key, made once per conversion and shared by every object.
func (c *converter) key(k int) *ast.Term {
	if c.keys[k] == nil {
		c.keys[k] = c.str(keyNames[k])
	}
	return c.keys[k]
}

func (c *converter) str(s string) *ast.Term { return c.term(ast.String(s)) }

func (c *converter) int(n int64) *ast.Term {
	if n >= 0 && n <= 512 {
		return ast.InternedTerm(int(n))
	}
	return c.term(ast.Number(strconv.FormatInt(n, 10)))
}

// elems returns an empty slice with capacity n for array elements, from a shared block.
func (c *converter) elems(n int) []*ast.Term {
	if n > len(c.ptrs) {
		if n > termBlock/2 {
			return make([]*ast.Term, 0, n)
		}
		c.ptrs = make([]*ast.Term, termBlock)
	}
	s := c.ptrs[:0:n]
	c.ptrs = c.ptrs[n:]
	return s
}

// object builds an object from items (copied: the caller may reuse the slice).
func (c *converter) object(items ...[2]*ast.Term) *ast.Term { return c.term(ast.NewObject(items...)) }

// begin and end bracket building an object's items in the scratch buffer; nested objects are
// built before begin or after end.
func (c *converter) begin() int { return len(c.items) }

func (c *converter) end(mark int) *ast.Term {
	t := c.term(ast.NewObject(c.items[mark:]...))
	clear(c.items[mark:])
	c.items = c.items[:mark]
	return t
}

func (c *converter) add(k, v *ast.Term) { c.items = append(c.items, [2]*ast.Term{k, v}) }

func (c *converter) alg(a string) *ast.Term {
	if a == "sha256" {
		return c.key(kSha256)
	}
	if t, ok := c.algs[a]; ok {
		return t
	}
	if c.algs == nil {
		c.algs = map[string]*ast.Term{}
	}
	t := c.str(a)
	c.algs[a] = t
	return t
}

// input converts the evidence into the document with the indexes (c.indexed) and without them
// (c.plain).
func (c *converter) input(in *policy.Input, lookups []policy.Lookup) (indexed, plain ast.Value) {
	var target *ast.Term
	if t := in.Target; t != nil && c.reach.has("target") {
		target = c.object(
			[2]*ast.Term{c.key(kName), c.str(t.Name)},
			[2]*ast.Term{c.key(kLength), c.int(t.Length)},
			[2]*ast.Term{c.key(kHashes), c.strMap(t.Hashes)},
			[2]*ast.Term{c.key(kCustom), c.term(anyValue(t.Custom))},
		)
	}
	layouts := c.elems(len(in.Layouts))
	var plainLayouts []*ast.Term
	if c.plain && c.indexed {
		plainLayouts = c.elems(len(in.Layouts))
	}
	for i := 0; i < len(in.Layouts) && c.reach.has("layouts"); i++ {
		full, plain := c.layout(&in.Layouts[i])
		if c.indexed {
			layouts = append(layouts, full)
			if c.plain {
				plainLayouts = append(plainLayouts, plain)
			}
		} else {
			layouts = append(layouts, plain)
		}
	}
	atts := c.elems(len(in.Attestations))
	for i := 0; i < len(in.Attestations) && c.reach.has("attestations"); i++ {
		a := &in.Attestations[i]
		m := c.begin()
		for n, d := range a.Subjects {
			c.add(c.str(n), c.digests(d))
		}
		subj := c.end(m)
		atts = append(atts, c.object(
			[2]*ast.Term{c.key(kDigest), c.str(a.Digest)},
			[2]*ast.Term{c.key(kPredicateType), c.str(a.PredicateType)},
			[2]*ast.Term{c.key(kPredicate), c.term(anyValue(a.Predicate))},
			[2]*ast.Term{c.key(kSubjects), subj},
			[2]*ast.Term{c.key(kSigner), c.str(a.Signer)},
		))
	}
	revs := c.elems(len(lookups))
	for i := 0; i < len(lookups) && c.reach.has("revocations"); i++ {
		l := &lookups[i]
		revs = append(revs, c.object(
			[2]*ast.Term{c.key(kKind), c.str(string(l.Ref.Kind))},
			[2]*ast.Term{c.key(kKeyid), c.str(l.Ref.KeyID)},
			[2]*ast.Term{c.key(kDigest), c.str(l.Ref.Digest)},
			[2]*ast.Term{c.key(kName), c.str(l.Ref.Name)},
			[2]*ast.Term{c.key(kStep), c.str(l.Ref.Step)},
			[2]*ast.Term{c.key(kState), c.str(string(l.Status.State))},
			[2]*ast.Term{c.key(kSource), c.str(l.Status.Source)},
			[2]*ast.Term{c.key(kReason), c.str(l.Status.Reason)},
		))
	}
	items := make([][2]*ast.Term, 0, 7)
	if target != nil {
		items = append(items, [2]*ast.Term{c.key(kTarget), target})
	}
	items = append(items,
		[2]*ast.Term{c.key(kLayouts), c.term(ast.NewArray(layouts...))},
		[2]*ast.Term{c.key(kAttestations), c.term(ast.NewArray(atts...))},
		[2]*ast.Term{c.key(kParams), c.strMap(in.Params)},
		[2]*ast.Term{c.key(kTime), c.str(in.Time.UTC().Format(time.RFC3339Nano))},
		[2]*ast.Term{c.key(kRevocations), c.term(ast.NewArray(revs...))},
	)
	if !c.indexed {
		return nil, ast.NewObject(items...)
	}
	if c.plain {
		p := slices.Clone(items)
		p[len(p)-5][1] = c.term(ast.NewArray(plainLayouts...))
		plain = ast.NewObject(p...)
	}
	items = append(items, [2]*ast.Term{c.key(kTimeNs), c.term(unixNano(in.Time))})
	return ast.NewObject(items...), plain
}

// layout converts a layout: with the indexes (c.indexed) and without them (c.plain); the two
// share every term but the layout and step objects themselves.
func (c *converter) layout(l *policy.Layout) (indexed, plain *ast.Term) {
	steps := c.elems(len(l.Steps))
	var plainSteps []*ast.Term
	if c.plain && c.indexed {
		plainSteps = c.elems(len(l.Steps))
	}
	byName := c.begin()
	// The layout's artifacts, collected for its indexes in reused scratch slices; a step's are
	// the tail it appends.
	layoutProducts, layoutMaterials := c.prods[:0], c.mats[:0]
	for si := range l.Steps {
		s := &l.Steps[si]
		links := c.elems(len(s.Links))
		p0, m0 := len(layoutProducts), len(layoutMaterials)
		for ki := range s.Links {
			k := &s.Links[ki]
			var mt, pt *ast.Term
			mt, layoutMaterials = c.artifacts(k.Materials, layoutMaterials)
			pt, layoutProducts = c.artifacts(k.Products, layoutProducts)
			links = append(links, c.object(
				[2]*ast.Term{c.key(kKeyid), c.str(k.KeyID)},
				[2]*ast.Term{c.key(kDigest), c.str(k.Digest)},
				[2]*ast.Term{c.key(kMaterials), mt},
				[2]*ast.Term{c.key(kProducts), pt},
				[2]*ast.Term{c.key(kCommand), c.strList(k.Command)},
			))
		}
		name, functionaries, command := c.str(s.Name), c.strList(s.Functionaries), c.strList(s.Command)
		linksTerm := c.term(ast.NewArray(links...))
		step := func() int { // begins the step object with the plain fields
			m := c.begin()
			c.add(c.key(kName), name)
			c.add(c.key(kFunctionaries), functionaries)
			c.add(c.key(kThreshold), c.int(int64(s.Threshold)))
			c.add(c.key(kCommand), command)
			c.add(c.key(kLinks), linksTerm)
			return m
		}
		if !c.indexed {
			steps = append(steps, c.end(step()))
			continue
		}
		if c.plain {
			plainSteps = append(plainSteps, c.end(step()))
		}
		products, materials := layoutProducts[p0:], layoutMaterials[m0:]
		pn, mn, pd := c.names(products), c.names(materials), c.byDigest(products)
		m := step()
		c.add(c.key(kProductNames), pn)
		c.add(c.key(kMaterialNames), mn)
		c.add(c.key(kProductsByDigest), pd)
		st := c.end(m)
		steps = append(steps, st)
		c.add(name, st) // steps_by_name, begun before the loop
	}
	var stepsByName *ast.Term
	if c.indexed {
		stepsByName = c.end(byName)
	}
	keys := c.elems(len(l.Keys))
	for i := range l.Keys {
		k := &l.Keys[i]
		keys = append(keys, c.object(
			[2]*ast.Term{c.key(kKeyid), c.str(k.KeyID)},
			[2]*ast.Term{c.key(kKeytype), c.str(k.KeyType)},
			[2]*ast.Term{c.key(kScheme), c.str(k.Scheme)},
		))
	}
	rules := c.elems(len(l.Rules))
	for i := range l.Rules {
		r := &l.Rules[i]
		rules = append(rules, c.object(
			[2]*ast.Term{c.key(kStep), c.str(r.Step)},
			[2]*ast.Term{c.key(kSide), c.str(r.Side)},
			[2]*ast.Term{c.key(kRule), c.str(r.Rule)},
			[2]*ast.Term{c.key(kVerb), c.str(r.Verb)},
			[2]*ast.Term{c.key(kOk), ast.InternedTerm(r.OK)},
			[2]*ast.Term{c.key(kConsumed), c.strList(r.Consumed)},
			[2]*ast.Term{c.key(kFailure), c.str(r.Failure)},
		))
	}
	// expires is what the "expires" string says (RFC 3339 has no fraction of a second here).
	expires := l.Expires.UTC().Truncate(time.Second)
	name, digest, expiresStr := c.str(l.Name), c.str(l.Digest), c.str(expires.Format(time.RFC3339))
	signers, keysTerm, rulesTerm, failure := c.strList(l.Signers), c.term(ast.NewArray(keys...)), c.term(ast.NewArray(rules...)), c.str(l.Failure)
	layout := func(steps *ast.Term) int { // begins the layout object with the plain fields
		m := c.begin()
		c.add(c.key(kName), name)
		c.add(c.key(kDigest), digest)
		c.add(c.key(kVersion), c.int(l.Version))
		c.add(c.key(kExpires), expiresStr)
		c.add(c.key(kSigners), signers)
		c.add(c.key(kKeys), keysTerm)
		c.add(c.key(kSteps), steps)
		c.add(c.key(kRules), rulesTerm)
		c.add(c.key(kFailure), failure)
		return m
	}
	if !c.indexed {
		return nil, c.end(layout(c.term(ast.NewArray(steps...))))
	}
	if c.plain {
		plain = c.end(layout(c.term(ast.NewArray(plainSteps...))))
	}
	exp, pn, mn := c.term(unixNano(expires)), c.names(layoutProducts), c.names(layoutMaterials)
	clear(layoutProducts)
	clear(layoutMaterials)
	c.prods, c.mats = layoutProducts[:0], layoutMaterials[:0]
	m := layout(c.term(ast.NewArray(steps...)))
	c.add(c.key(kExpiresNs), exp)
	c.add(c.key(kStepsByName), stepsByName)
	c.add(c.key(kProductNames), pn)
	c.add(c.key(kMaterialNames), mn)
	return c.end(m), plain
}

func (c *converter) strMap(m map[string]string) *ast.Term {
	mark := c.begin()
	for k, v := range m {
		c.add(c.str(k), c.str(v))
	}
	return c.end(mark)
}

// digests converts an artifact's digests (alg -> hex); the algorithm keys are shared terms.
// A single-algorithm digest object is made once per conversion and shared: in a supply chain
// most digests appear twice (a product of one step is a material of the next), and an OPA
// object costs far more than the map lookup.
func (c *converter) digests(d policy.Digests) *ast.Term {
	if d.Len() == 1 {
		for alg, h := range d.All() {
			k := digestKey{alg, h}
			if t, ok := c.digestTerms[k]; ok {
				return t
			}
			if c.digestTerms == nil {
				c.digestTerms = make(map[digestKey]*ast.Term, 64)
			}
			t := c.object([2]*ast.Term{c.alg(alg), c.str(h)})
			c.digestTerms[k] = t
			return t
		}
	}
	mark := c.begin()
	for alg, h := range d.All() {
		c.add(c.alg(alg), c.str(h))
	}
	return c.end(mark)
}

func (c *converter) strList(xs []string) *ast.Term {
	ts := c.elems(len(xs))
	for _, x := range xs {
		ts = append(ts, c.str(x))
	}
	return c.term(ast.NewArray(ts...))
}

// artifacts converts a link's materials or products, and appends each artifact (its name term
// shared with the object) to acc, for the step's and the layout's indexes (if built).
func (c *converter) artifacts(m map[string]policy.Digests, acc []artifact) (*ast.Term, []artifact) {
	mark := c.begin()
	for n, d := range m {
		nt := c.str(n)
		c.add(nt, c.digests(d))
		if c.indexed {
			acc = append(acc, artifact{name: nt, d: d})
		}
	}
	return c.end(mark), acc
}

// anyValue converts a decoded JSON value (map[string]any, []any, string, bool, nil, float64,
// json.Number, ints). Anything else becomes null: evidence is JSON.
func anyValue(v any) ast.Value {
	if v == nil {
		return ast.Null{}
	}
	val, err := ast.InterfaceToValue(v)
	if err != nil {
		return ast.Null{}
	}
	return val
}

// artifact is one entry of a link's materials or products, for the indexes.
type artifact struct {
	name *ast.Term // ast.String, the key term of the link's object
	d    policy.Digests
}

// names is the set of the artifacts' names (product_names, material_names); a name several
// links (or steps) record is in it once.
func (c *converter) names(as []artifact) *ast.Term {
	ts := c.elems(len(as))
	for _, a := range as {
		ts = append(ts, a.name)
	}
	return c.term(ast.NewSet(ts...))
}

// byDigest is the index {alg: {hex: [names]}} of the artifacts (products_by_digest): for every
// algorithm and digest, the sorted names (without repeats) of the artifacts that have that
// digest for that algorithm. The (algorithm, digest, name) triples are sorted in a reused
// scratch slice, which groups them without a map.
func (c *converter) byDigest(as []artifact) *ast.Term {
	ds := c.dig[:0]
	for _, a := range as {
		for alg, h := range a.d.All() {
			ds = append(ds, digestName{alg: alg, hex: h, name: a.name})
		}
	}
	slices.SortFunc(ds, func(a, b digestName) int {
		if c := cmp.Compare(a.alg, b.alg); c != 0 {
			return c
		}
		if c := cmp.Compare(a.hex, b.hex); c != 0 {
			return c
		}
		return cmp.Compare(a.name.Value.(ast.String), b.name.Value.(ast.String))
	})
	outer := c.begin()
	inner := c.inner[:0]
	for i := 0; i < len(ds); {
		alg := ds[i].alg
		for i < len(ds) && ds[i].alg == alg {
			hex := ds[i].hex
			names := c.elems(countRun(ds[i:], alg, hex))
			for ; i < len(ds) && ds[i].alg == alg && ds[i].hex == hex; i++ {
				if n := len(names); n == 0 || names[n-1].Value.(ast.String) != ds[i].name.Value.(ast.String) {
					names = append(names, ds[i].name)
				}
			}
			inner = append(inner, [2]*ast.Term{c.str(hex), c.term(ast.NewArray(names...))})
		}
		c.add(c.alg(alg), c.term(ast.NewObject(inner...)))
		clear(inner)
		inner = inner[:0]
	}
	clear(ds)
	c.dig, c.inner = ds[:0], inner
	return c.end(outer)
}

// digestName is one (algorithm, digest, name) triple of byDigest.
type digestName struct {
	alg, hex string
	name     *ast.Term
}

// countRun is how many of ds, from the first, have the algorithm and digest.
func countRun(ds []digestName, alg, hex string) int {
	n := 0
	for n < len(ds) && ds[n].alg == alg && ds[n].hex == hex {
		n++
	}
	return n
}

// unixNano is t as nanoseconds since the Unix epoch (time_ns, expires_ns), exact for any time
// (time.Time.UnixNano is undefined outside the years 1678-2262).
func unixNano(t time.Time) ast.Value {
	if y := t.Year(); y > 1678 && y < 2262 {
		return ast.Number(strconv.FormatInt(t.UnixNano(), 10))
	}
	n := new(big.Int).Mul(big.NewInt(t.Unix()), big.NewInt(1e9))
	n.Add(n, big.NewInt(int64(t.Nanosecond())))
	return ast.Number(n.String())
}
