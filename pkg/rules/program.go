package rules

import (
	"errors"
	"fmt"
	"iter"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/tintoproject/tinto/pkg/verr"
)

// Artifacts maps an artifact name to its digests.
type Artifacts map[string]Digests

// StepArtifacts is what one step (its link) recorded.
type StepArtifacts struct{ Materials, Products Artifacts }

// Side says which of a step's own artifact sets a rule list applies to: the rules in
// expected_materials apply to Materials, those in expected_products to Products.
type Side int

// The sides.
const (
	Materials Side = iota
	Products
)

// MarshalText returns "materials" or "products", so that a Side reads well in JSON.
func (s Side) MarshalText() ([]byte, error) {
	if s != Materials && s != Products {
		return nil, fmt.Errorf("rules: invalid side %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText parses "materials" or "products".
func (s *Side) UnmarshalText(b []byte) error {
	switch string(b) {
	case "materials":
		*s = Materials
	case "products":
		*s = Products
	default:
		return verr.Invalid("side", "%q is neither materials nor products", b)
	}
	return nil
}

// String returns "materials" or "products".
func (s Side) String() string {
	switch s {
	case Materials:
		return "materials"
	case Products:
		return "products"
	}
	return "Side(" + strconv.Itoa(int(s)) + ")"
}

// Program is a compiled list of artifact rules (a step's expected_materials or
// expected_products). Compile it once, Run it for every link set. A Program is immutable and
// safe for concurrent use by multiple goroutines.
type Program struct {
	rules    []crule
	pre      index   // literal-prefix (and exact-name) index of the pattern rules
	suf      index   // literal-suffix index (keys compared from their end)
	always   []int32 // pattern rules with no usable literal prefix or suffix: tried on every name
	requires []int32 // REQUIRE rules
}

// crule is a compiled rule.
type crule struct {
	Rule
	text        string
	glob        *Glob
	sp          string // normalized source prefix: "" or ending in '/'
	dstProducts bool
	exact       bool // an index hit implies that the pattern matches
}

// index finds, for a name, every rule whose literal prefix (or suffix) the name has. Keys are
// sorted (by their reversal, for suffixes); parent[i] is the nearest key that is a proper
// prefix (suffix) of keys[i], or -1.
type index struct {
	suffix bool
	keys   []string
	parent []int32
	exact  [][]int32 // rules that need name == keys[i] (prefix index only)
	rules  [][]int32 // rules that need keys[i] to be a prefix (suffix) of the name
}

// Compile checks and compiles rules. Any invalid rule (see Parse) is an *verr.InputError; all of
// them are reported, joined. Compile(nil) is a valid program that consumes nothing.
func Compile(rs []Rule) (*Program, error) {
	p := &Program{rules: make([]crule, len(rs))}
	var errs []error
	type ent struct{ exact, rules []int32 }
	pre := map[string]*ent{}
	suf := map[string]*ent{}
	get := func(m map[string]*ent, k string) *ent {
		e := m[k]
		if e == nil {
			e = &ent{}
			m[k] = e
		}
		return e
	}
	for i, r := range rs {
		c := &p.rules[i]
		c.Rule = r
		c.Rule.Text = slices.Clone(r.Text) // the program must not change if the caller's slice does
		c.text = r.String()
		if msg := r.check(); msg != "" {
			errs = append(errs, &verr.InputError{What: fmt.Sprintf("artifact rule %d %q", i, c.text), Offset: -1, Msg: msg})
			continue
		}
		if r.Verb == Require {
			p.requires = append(p.requires, int32(i))
			continue
		}
		g, err := CompileGlob(r.Pattern)
		if err != nil {
			errs = append(errs, &verr.InputError{What: fmt.Sprintf("artifact rule %d %q", i, c.text), Offset: -1, Msg: "bad pattern", Err: err})
			continue
		}
		c.glob = g
		if r.SrcPrefix != "" && !strings.HasSuffix(r.SrcPrefix, "/") {
			c.sp = r.SrcPrefix + "/"
		} else {
			c.sp = r.SrcPrefix
		}
		c.dstProducts = r.DstType == DstProducts
		lp, ls := g.literalPrefix(), g.literalSuffix()
		idx := int32(i)
		switch {
		case g.shape == shapeLiteral:
			c.exact = true
			e := get(pre, c.sp+g.lit)
			e.exact = append(e.exact, idx)
		case g.shape == shapeAny && c.sp == "":
			c.exact = true
			p.always = append(p.always, idx)
		case len(ls) > len(c.sp)+len(lp):
			c.exact = g.shape == shapeSuffix && c.sp == ""
			e := get(suf, ls)
			e.rules = append(e.rules, idx)
		case len(c.sp)+len(lp) > 0:
			c.exact = g.shape == shapePrefix || g.shape == shapeAny
			e := get(pre, c.sp+lp)
			e.rules = append(e.rules, idx)
		default:
			p.always = append(p.always, idx)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	build := func(m map[string]*ent, suffix bool) index {
		ix := index{suffix: suffix}
		for k := range m {
			ix.keys = append(ix.keys, k)
		}
		if suffix {
			slices.SortFunc(ix.keys, cmpRev)
		} else {
			slices.Sort(ix.keys)
		}
		ix.parent = make([]int32, len(ix.keys))
		var stack []int32
		for i, k := range ix.keys {
			for len(stack) > 0 && !ix.has(k, ix.keys[stack[len(stack)-1]]) {
				stack = stack[:len(stack)-1]
			}
			ix.parent[i] = -1
			if len(stack) > 0 {
				ix.parent[i] = stack[len(stack)-1]
			}
			stack = append(stack, int32(i))
			ix.exact = append(ix.exact, m[k].exact)
			ix.rules = append(ix.rules, m[k].rules)
		}
		return ix
	}
	p.pre = build(pre, false)
	p.suf = build(suf, true)
	return p, nil
}

// MustCompile is Compile for rules known to be valid; it panics otherwise. For tests and examples.
func MustCompile(rs []Rule) *Program {
	p, err := Compile(rs)
	if err != nil {
		panic(err)
	}
	return p
}

// CompileList parses and compiles a list of rules as a layout holds them.
func CompileList(list [][]string) (*Program, error) {
	rs, err := ParseList(list)
	if err != nil {
		return nil, err
	}
	return Compile(rs)
}

// Rules returns a copy of the program's rules.
func (p *Program) Rules() []Rule {
	out := make([]Rule, len(p.rules))
	for i := range p.rules {
		out[i] = p.rules[i].Rule
	}
	return out
}

// Len returns the number of rules.
func (p *Program) Len() int { return len(p.rules) }

// cmpRev compares a and b read from their last byte to their first.
func cmpRev(a, b string) int {
	i, j := len(a)-1, len(b)-1
	for ; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if a[i] != b[j] {
			if a[i] < b[j] {
				return -1
			}
			return 1
		}
	}
	switch {
	case i < 0 && j < 0:
		return 0
	case i < 0:
		return -1
	}
	return 1
}

// has reports whether key is a prefix (suffix) of name.
func (ix *index) has(name, key string) bool {
	if ix.suffix {
		return strings.HasSuffix(name, key)
	}
	return strings.HasPrefix(name, key)
}

// lookup appends to out the rules of every key that is a prefix (suffix) of name, and the
// exact-name rules of a key equal to name.
func (ix *index) lookup(name string, out []int32) []int32 {
	keys := ix.keys
	if len(keys) == 0 {
		return out
	}
	// j = the last key <= name.
	lo, hi := 0, len(keys)
	if ix.suffix {
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if cmpRev(keys[m], name) <= 0 {
				lo = m + 1
			} else {
				hi = m
			}
		}
	} else {
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if keys[m] <= name {
				lo = m + 1
			} else {
				hi = m
			}
		}
	}
	j := int32(lo - 1)
	for j >= 0 && !ix.has(name, keys[j]) {
		j = ix.parent[j]
	}
	if j >= 0 && !ix.suffix && len(ix.exact[j]) > 0 && keys[j] == name {
		out = append(out, ix.exact[j]...)
	}
	for ; j >= 0; j = ix.parent[j] {
		out = append(out, ix.rules[j]...)
	}
	return out
}

// Outcome is what one rule did in a Run.
type Outcome struct {
	// Rule is the rule as written; Verb its verb.
	Rule string `json:"rule"`
	Verb Verb   `json:"verb"`
	// Matched counts the artifacts still in the queue when the rule was applied whose name
	// matched the pattern (for REQUIRE: 1 if the name was in the queue, else 0).
	Matched int `json:"matched"`
	// Consumed counts the artifacts the rule consumed (removed from the queue).
	Consumed int `json:"consumed"`
	// NotApplicable is true when the rule matched nothing and did not fail. Such a rule is
	// reported, never silently passed.
	NotApplicable bool `json:"not_applicable"`
	// Failed is true for a DISALLOW rule that matched an artifact and for a REQUIRE rule whose
	// name was not in the queue. Msg explains, Artifact names the (lexicographically first)
	// offending or missing artifact.
	Failed   bool   `json:"failed"`
	Msg      string `json:"msg,omitempty"`
	Artifact string `json:"artifact,omitempty"`
}

// Result is the outcome of running a Program over one step's artifacts.
type Result struct {
	// Side is the artifact set that formed the queue.
	Side Side `json:"side"`
	// Outcomes has one entry per rule, in rule order. Every rule is evaluated, also after a
	// failure (DISALLOW and REQUIRE consume nothing, so later rules see the same queue as they
	// would had the failure not happened).
	Outcomes []Outcome `json:"outcomes"`
	// ConsumedBy maps each consumed artifact to the index of the rule that consumed it.
	// Artifacts left in the queue are absent. It is nil in a Result of a run with
	// RunOptions.CompactConsumers, which keeps the same facts in a list: use ConsumerOf and
	// Consumers, which work for both kinds of Result.
	ConsumedBy map[string]int `json:"consumed_by"`
	// Remaining is the number of artifacts no rule consumed (left over; that is allowed).
	Remaining int `json:"remaining"`
	// Err is nil when every rule passed. Otherwise it is a *verr.VerificationError with Reason
	// verr.RuleFailed, Rule and Artifact set, for the first failing rule in rule order (the
	// reference stops there); Step is left for the caller to fill in. An artifact name that
	// ValidateName rejects is also reported here (Artifact set, Rule empty, Err the
	// *verr.InputError) and takes precedence over rule failures.
	// Err is not marshalled to JSON (an error has no JSON form); the failing outcome is.
	Err error `json:"-"`

	// consumed is the compact record of the consumers (RunOptions.CompactConsumers).
	consumed []consumption
}

type consumption struct {
	name string
	rule int32
}

// ConsumerOf returns the index of the rule that consumed name, and whether one did. For a
// Result with a compact record (RunOptions.CompactConsumers) it takes time linear in the number
// of consumed artifacts; call Consumers once for many lookups.
func (r *Result) ConsumerOf(name string) (int, bool) {
	if r.ConsumedBy != nil {
		k, ok := r.ConsumedBy[name]
		return k, ok
	}
	for _, c := range r.consumed {
		if c.name == name {
			return int(c.rule), true
		}
	}
	return 0, false
}

// Consumers returns the map from each consumed artifact to the index of the rule that consumed
// it: ConsumedBy itself when it is set (do not modify it), or else a new map built from the
// compact record.
func (r *Result) Consumers() map[string]int {
	if r.ConsumedBy != nil || r.consumed == nil {
		if r.ConsumedBy == nil {
			return map[string]int{}
		}
		return r.ConsumedBy
	}
	m := make(map[string]int, len(r.consumed))
	for _, c := range r.consumed {
		m[c.name] = int(c.rule)
	}
	return m
}

// NumConsumed returns the number of consumed artifacts.
func (r *Result) NumConsumed() int {
	if r.ConsumedBy != nil {
		return len(r.ConsumedBy)
	}
	return len(r.consumed)
}

// RunOptions adjust Program.RunWith. The zero value is Run.
type RunOptions struct {
	// NamesValidated says that the caller has already checked every name in the queue (the
	// chosen side of self) with ValidateName, as pkg/intoto does while it parses a link: the
	// run's own check of each name is skipped. Names that ValidateName rejects are then NOT
	// reported; the rules still apply to them literally and the run still never panics.
	// Zero value: every name is checked.
	NamesValidated bool
	// CompactConsumers records which rule consumed each artifact in a list instead of the
	// ConsumedBy map (which is then nil; see Result.ConsumerOf and Result.Consumers). Filling a
	// map of a million entries is a fifth of the run's time and ~70 bytes per artifact; the
	// list costs 24 bytes per artifact and no hashing. Zero value: ConsumedBy is filled.
	CompactConsumers bool
	// Queue, when set, yields every artifact of the queue (the chosen side of self) once, in
	// the order the run should visit them: a caller that holds the artifacts in the order they
	// sit in memory (pkg/intoto, in the order it parsed them) saves the cache misses of a walk
	// in map order. The order never changes the result. If Queue yields a different number of
	// artifacts than the side's map holds, the run ignores it and walks the map; it must not
	// yield a name twice or a name or digests that are not the map's. Zero value: the map is
	// walked.
	Queue iter.Seq2[string, Digests]
}

// Run applies the program to one step. side selects the queue (self.Materials or
// self.Products); steps resolves the destination step of MATCH rules (it may return self for
// the step's own name; a nil steps, or a step it does not know, makes those MATCH rules consume
// nothing). Run never modifies its inputs and never panics on any input.
//
// Semantics (python in-toto 1.3.1's verify_item_rules): the queue starts as every artifact name
// of the chosen side. Rules apply in order; each one filters the names still in the queue with
// its pattern and consumes some of them:
//
//   - MATCH consumes a name if the destination step's materials (products) have the
//     corresponding name with an equal digest map. With IN <source-prefix>, only names under
//     the prefix are considered, the pattern is matched against the rest of the name, and the
//     corresponding name is the destination prefix joined with that rest.
//   - CREATE consumes names in products but not in materials; DELETE names in materials but not
//     in products; MODIFY names in both whose digest maps differ; ALLOW consumes every match.
//   - DISALLOW fails if its pattern matches any name still in the queue.
//   - REQUIRE fails if its (literal) name is not in the queue.
//
// Names left in the queue at the end are fine. The cost is O(artifacts · (log K + c)) where K is
// the number of distinct literal prefixes/suffixes in the rules and c the number of rules whose
// index entry a name hits before it is consumed; not O(artifacts · rules). For queues of 16384
// artifacts or more, Run spreads the artifacts over up to min(GOMAXPROCS, 4) goroutines; it
// returns only when they are done, and the result does not depend on their number.
func (p *Program) Run(side Side, self StepArtifacts, steps func(name string) (StepArtifacts, bool)) *Result {
	return p.run(side, self, steps, min(runtime.GOMAXPROCS(0), maxWorkers), RunOptions{})
}

// RunWith is Run with options (see RunOptions); RunWith(side, self, steps, RunOptions{}) is Run.
func (p *Program) RunWith(side Side, self StepArtifacts, steps func(name string) (StepArtifacts, bool), o RunOptions) *Result {
	return p.run(side, self, steps, min(runtime.GOMAXPROCS(0), maxWorkers), o)
}

// RunValidated is RunWith(side, self, steps, RunOptions{NamesValidated: true}): Run for a
// caller that has already checked every name in the queue with ValidateName (which saves about
// a tenth of the time). Use Run for artifacts from anywhere else.
func (p *Program) RunValidated(side Side, self StepArtifacts, steps func(name string) (StepArtifacts, bool)) *Result {
	return p.run(side, self, steps, min(runtime.GOMAXPROCS(0), maxWorkers), RunOptions{NamesValidated: true})
}

// run is RunWith with at most procs goroutines.
func (p *Program) run(side Side, self StepArtifacts, steps func(name string) (StepArtifacts, bool), procs int, o RunOptions) *Result {
	if o.Queue != nil {
		if res := p.run1(side, self, steps, procs, o); res != nil {
			return res
		}
		o.Queue = nil // it did not yield the queue
	}
	return p.run1(side, self, steps, procs, o)
}

// run1 is run; it returns nil if o.Queue yields a different number of artifacts than the queue.
func (p *Program) run1(side Side, self StepArtifacts, steps func(name string) (StepArtifacts, bool), procs int, o RunOptions) *Result {
	n := len(p.rules)
	if side != Materials && side != Products {
		return &Result{Side: side, Outcomes: make([]Outcome, n), ConsumedBy: map[string]int{},
			Err: &verr.VerificationError{Reason: verr.RuleFailed, Msg: "invalid side " + side.String(),
				Err: verr.Invalid("side", "%s is neither Materials nor Products", side)}}
	}
	rc := &runCtx{p: p, side: side, queue: self.Materials, other: self.Products, dest: make([]Artifacts, n), hasDest: make([]bool, n),
		destIsQueue: make([]bool, n), checkNames: !o.NamesValidated}
	if side == Products {
		rc.queue, rc.other = self.Products, self.Materials
	}
	res := &Result{Side: side, Outcomes: make([]Outcome, n)}
	if o.CompactConsumers {
		res.consumed = make([]consumption, 0, len(rc.queue))
	} else {
		res.ConsumedBy = make(map[string]int, len(rc.queue))
	}
	for i := range p.rules {
		r := &p.rules[i]
		res.Outcomes[i].Rule, res.Outcomes[i].Verb = r.text, r.Verb
		if r.Verb == Match && steps != nil {
			if sa, ok := steps(r.DstStep); ok {
				rc.hasDest[i] = true
				if r.dstProducts {
					rc.dest[i] = sa.Products
				} else {
					rc.dest[i] = sa.Materials
				}
				// The destination set is the queue itself (a step's materials that are the
				// previous step's products, shared by the parser): an unprefixed MATCH then
				// finds every queue name there with the same digests, without a lookup.
				rc.destIsQueue[i] = r.sp == "" && r.DstPrefix == "" && sameMap(rc.dest[i], rc.queue)
			}
		}
	}

	// Each artifact's fate depends on its own name and digests only, so artifacts can be
	// evaluated in any order and in parallel.
	queue := o.Queue
	if queue == nil {
		queue = maps.All(rc.queue)
	}
	visited := 0
	var workers []*worker
	consumers := res.ConsumedBy // nil: record in res.consumed
	if len(rc.queue) < parallelMin || procs < 2 {
		w := newWorker(n)
		workers = append(workers, w)
		for name, dig := range queue {
			visited++
			if c := rc.eval(w, name, dig); c >= 0 {
				if consumers != nil {
					consumers[name] = int(c)
				} else {
					res.consumed = append(res.consumed, consumption{name, c})
				}
			}
		}
	} else {
		// A pipeline: this goroutine walks the map and cuts it into chunks; up to procs workers
		// evaluate the chunks; this goroutine records the consumers of the oldest chunk when
		// too many are in flight, and reuses its buffers, so the pipeline holds a few chunks
		// whatever the size of the queue.
		type chunk struct {
			names []string
			digs  []Digests
			cons  []int32
			done  chan struct{}
		}
		maxInflight := 4 * procs
		work := make(chan *chunk, maxInflight)
		var wg sync.WaitGroup
		for range procs {
			w := newWorker(n)
			workers = append(workers, w)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := range work {
					for i := range c.names {
						c.cons[i] = rc.eval(w, c.names[i], c.digs[i])
					}
					close(c.done)
				}
			}()
		}
		var pending, free []*chunk
		record := func(c *chunk) {
			<-c.done
			for i, k := range c.cons[:len(c.names)] {
				if k < 0 {
					continue
				}
				if consumers != nil {
					consumers[c.names[i]] = int(k)
				} else {
					res.consumed = append(res.consumed, consumption{c.names[i], k})
				}
			}
			c.names, c.digs = c.names[:0], c.digs[:0]
			free = append(free, c)
		}
		get := func() *chunk {
			if len(free) == 0 && len(pending) >= maxInflight {
				record(pending[0])
				pending = pending[1:]
			}
			if k := len(free); k > 0 {
				c := free[k-1]
				free = free[:k-1]
				c.done = make(chan struct{})
				return c
			}
			return &chunk{names: make([]string, 0, chunkSize), digs: make([]Digests, 0, chunkSize),
				cons: make([]int32, chunkSize), done: make(chan struct{})}
		}
		submit := func(c *chunk) {
			pending = append(pending, c)
			work <- c // never blocks: at most maxInflight chunks are pending
		}
		var cur *chunk
		for name, dig := range queue {
			visited++
			if cur == nil {
				cur = get()
			}
			cur.names = append(cur.names, name)
			cur.digs = append(cur.digs, dig)
			if len(cur.names) == chunkSize {
				submit(cur)
				cur = nil
			}
		}
		if cur != nil {
			submit(cur)
		}
		close(work)
		for _, c := range pending {
			record(c)
		}
		wg.Wait()
	}
	if visited != len(rc.queue) {
		return nil
	}

	outcomes := res.Outcomes
	var badName, badMsg string
	for _, w := range workers {
		for i := range outcomes {
			o := &outcomes[i]
			o.Matched += w.matched[i]
			o.Consumed += w.consumed[i]
			if w.failed[i] && (!o.Failed || w.failMin[i] < o.Artifact) {
				o.Failed, o.Artifact = true, w.failMin[i]
			}
		}
		if w.badMsg != "" && (badMsg == "" || w.badName < badName) {
			badName, badMsg = w.badName, w.badMsg
		}
	}
	res.Remaining = len(rc.queue) - res.NumConsumed()
	consumerOf := res.ConsumerOf
	if res.ConsumedBy == nil && len(p.requires) > 0 {
		// One pass over the compact record for all REQUIRE names.
		need := make(map[string]int, len(p.requires))
		for _, i := range p.requires {
			need[p.rules[i].Pattern] = -1
		}
		for _, c := range res.consumed {
			if _, ok := need[c.name]; ok {
				need[c.name] = int(c.rule)
			}
		}
		consumerOf = func(name string) (int, bool) {
			k := need[name]
			return k, k >= 0
		}
	}
	for _, i := range p.requires {
		r := &p.rules[i]
		o := &outcomes[i]
		if _, in := rc.queue[r.Pattern]; !in {
			o.Failed, o.Artifact = true, r.Pattern
			o.Msg = fmt.Sprintf("%q is not among the step's %s", r.Pattern, side)
		} else if c, gone := consumerOf(r.Pattern); gone && c < int(i) {
			o.Failed, o.Artifact = true, r.Pattern
			o.Msg = fmt.Sprintf("%q was consumed by the earlier rule %d (%s)", r.Pattern, c, p.rules[c].text)
		} else {
			o.Matched = 1
		}
	}
	for i := range outcomes {
		o := &outcomes[i]
		if o.Failed && o.Msg == "" && o.Verb == Match {
			o.Msg = fmt.Sprintf("the source prefix splits %q right before a '/'; the rest would be read as an absolute path", o.Artifact)
		}
		if o.Failed && o.Msg == "" { // DISALLOW
			if o.Matched == 1 {
				o.Msg = fmt.Sprintf("%q is disallowed: no earlier rule consumed it", o.Artifact)
			} else {
				o.Msg = fmt.Sprintf("%d artifacts are disallowed, e.g. %q: no earlier rule consumed them", o.Matched, o.Artifact)
			}
		}
		o.NotApplicable = o.Matched == 0 && !o.Failed
		if o.Failed && res.Err == nil {
			res.Err = &verr.VerificationError{Reason: verr.RuleFailed, Rule: o.Rule, Artifact: o.Artifact, Msg: o.Msg}
		}
	}
	if badMsg != "" {
		res.Err = &verr.VerificationError{Reason: verr.RuleFailed, Artifact: badName,
			Msg: "artifact name rejected: " + badMsg,
			Err: verr.Invalid("artifact name", "%q: %s", badName, badMsg)}
	}
	return res
}

const (
	// parallelMin is the queue length from which Run spreads the artifacts over goroutines.
	parallelMin = 16384
	// maxWorkers caps the goroutines of one Run.
	maxWorkers = 4
	// chunkSize is the number of artifacts a worker takes at a time.
	chunkSize = 4096
)

// runCtx is the read-only state of one Run.
type runCtx struct {
	p       *Program
	side    Side
	queue   Artifacts // the side being checked
	other   Artifacts // the step's other side
	dest    []Artifacts
	hasDest []bool
	// destIsQueue[i]: rule i is an unprefixed MATCH whose destination map is the queue's map.
	destIsQueue []bool
	checkNames  bool
}

// worker holds one goroutine's scratch space and tallies.
type worker struct {
	matched, consumed []int
	failed            []bool
	failMin           []string
	badName, badMsg   string
	cands             []int32
	buf               []byte
}

func newWorker(n int) *worker {
	return &worker{matched: make([]int, n), consumed: make([]int, n), failed: make([]bool, n), failMin: make([]string, n)}
}

// eval applies the rules to one artifact and returns the index of the rule that consumes it,
// or -1.
func (rc *runCtx) eval(w *worker, name string, dig Digests) int32 {
	p := rc.p
	if rc.checkNames {
		if msg := checkName(name); msg != "" {
			if w.badMsg == "" || name < w.badName {
				w.badName, w.badMsg = name, msg
			}
			return -1
		}
	}
	cands := p.pre.lookup(name, w.cands[:0])
	cands = p.suf.lookup(name, cands)
	w.cands = cands
	if len(cands) > 1 {
		sortSmall(cands)
	}
	always := p.always
	a, b := 0, 0
	for {
		var i int32
		switch {
		case a < len(cands) && (b >= len(always) || cands[a] < always[b]):
			i = cands[a]
			a++
		case b < len(always):
			i = always[b]
			b++
		default:
			return -1
		}
		r := &p.rules[i]
		if !r.exact {
			rest := name
			if r.sp != "" {
				if !strings.HasPrefix(name, r.sp) {
					continue
				}
				rest = name[len(r.sp):]
			}
			if !r.glob.Match(rest) {
				continue
			}
		}
		w.matched[i]++
		take := false
		switch r.Verb {
		case Allow:
			take = true
		case Disallow:
			if !w.failed[i] || name < w.failMin[i] {
				w.failed[i], w.failMin[i] = true, name
			}
		case Create: // in products, not in materials
			if rc.side == Products {
				_, in := rc.other[name]
				take = !in
			}
		case Delete: // in materials, not in products
			if rc.side == Materials {
				_, in := rc.other[name]
				take = !in
			}
		case Modify:
			if other, in := rc.other[name]; in {
				take = dig != other
			}
		case Match:
			if !rc.hasDest[i] {
				break
			}
			if rc.destIsQueue[i] {
				take = true
				break
			}
			rest := name[len(r.sp):]
			if r.sp != "" && strings.HasPrefix(rest, "/") {
				// Only a URI can get here ("pkg://x" under the prefix "pkg:"). python in-toto
				// joins the prefix and "/x" into "/x", a different name, and raises; fail the rule.
				if !w.failed[i] || name < w.failMin[i] {
					w.failed[i], w.failMin[i] = true, name
				}
				break
			}
			dp := r.DstPrefix
			var d Digests
			var ok bool
			if dp == "" || strings.HasPrefix(rest, "/") { // os.path.join(dp, "/x") is "/x"
				d, ok = rc.dest[i][rest]
			} else {
				buf := append(w.buf[:0], dp...)
				if !strings.HasSuffix(dp, "/") {
					buf = append(buf, '/')
				}
				buf = append(buf, rest...)
				w.buf = buf
				d, ok = rc.dest[i][string(buf)]
			}
			take = ok && dig == d
		}
		if take {
			w.consumed[i]++
			return i
		}
	}
}

// sortSmall sorts a short slice in place (insertion sort; candidate lists are tiny).
func sortSmall(s []int32) {
	if len(s) > 16 {
		slices.Sort(s)
		return
	}
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// sameMap reports whether a and b are the same map (not merely equal ones). A map value is a
// single pointer to the map's header.
func sameMap[M ~map[K]V, K comparable, V any](a, b M) bool {
	return *(*unsafe.Pointer)(unsafe.Pointer(&a)) == *(*unsafe.Pointer)(unsafe.Pointer(&b))
}
