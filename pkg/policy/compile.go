package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"

	"github.com/tintoproject/tinto/pkg/revocation"
)

// layoutsMode is how several layouts combine.
type layoutsMode int

const (
	layoutsAll layoutsMode = iota
	layoutsAny
	layoutsK
	layoutsNone
)

// rule is one compiled rule.
type rule struct {
	index    int // position in compiled.rules
	id       string
	src      string
	verb     Verb
	strength Strength
	subject  subjectKind
	// functionaries is set for subject "functionary": key subjects that signed links only.
	functionaries bool
	layout        string // glob over layout names ("" = any)
	step          string // glob over step names ("" = any)
	// disBit is the rule's index in compiled.disallow, or -1.
	disBit int
	// disLast is, for a DISALLOW rule whose pattern ends with a literal byte, that byte (a name
	// it matches ends with it), and -1 otherwise (see literalLast).
	disLast int
	// layoutSel and stepSel are layout and step, compiled.
	layoutSel, stepSel selector
	where              *condition
	when               *condition
	expect             []*condition
	min                int
	productOf          string
	artifacts          string
	side               string
	art                *artifactProgram
	keyids             map[string]bool
	digests            map[string]bool
	reason             string
	message            string
	// Precomputed trail text (nothing in it depends on the input).
	revSource string // "policy:<id>", the Source of the lookups a REVOKE rule answers
	// revStatus is the answer of the lookups a REVOKE rule answers, shared by every decision.
	revStatus *revocation.Status
	subjName  string   // r.subject.String()
	heldMsgs  []string // heldFor's texts for small counts
	// selectedNone is the message of a rule that selected nothing.
	selectedNone string
	// idList is []string{id}, the DecidedBy of the decisions this rule alone decides (shared
	// by them); allowedBy and deniedBy are their Reason.
	idList              []string
	allowedBy, deniedBy string
}

// compiled is the Policy implementation of the built-in language.
type compiled struct {
	id                string
	name              string
	file              string
	mode              layoutsMode
	k                 int
	unknownWarn       bool
	indeterminateWarn bool
	rules             []*rule
	hasRevoke         bool
	artifactRevoke    bool // some REVOKE rule lists artifact digests
	revokeKeys        map[string][]*rule
	// revokeDigests holds the digests REVOKE rules list, per kind (see digestKind).
	revokeDigests [3]map[string]*rule
	// revokeFilter filters ids before the map lookups: [0..2] the digests, [4] the keyids.
	revokeFilter [5]idFilter
	// disallow lists the DISALLOW rules (at most 63), which evaluator.disallowRun runs together (nil when
	// there are fewer than two).
	disallow []*rule
	// evals keeps evaluators' scratch between evaluations (see compiled.evaluator).
	evals sync.Pool
	// goodStatus is the answer of lookups nothing revokes when Input.Revocation is nil, shared
	// by every decision.
	goodStatus *revocation.Status
}

// normal is the normalised form of a policy, hashed for the PolicyID.
type normal struct {
	APIVersion    string       `json:"apiVersion"`
	Layouts       string       `json:"layouts"`
	Unknown       string       `json:"revocationUnknown"`
	Indeterminate string       `json:"indeterminate"`
	Rules         []normalRule `json:"rules"`
}

type normalRule struct {
	ID        string   `json:"id"`
	Verb      Verb     `json:"verb"`
	Strength  Strength `json:"strength"`
	Subject   string   `json:"subject"`
	Layout    string   `json:"layout,omitempty"`
	Step      string   `json:"step,omitempty"`
	Where     string   `json:"where,omitempty"`
	When      string   `json:"when,omitempty"`
	Expect    []string `json:"expect,omitempty"`
	Min       int      `json:"min,omitempty"`
	ProductOf string   `json:"productOf,omitempty"`
	Artifacts string   `json:"artifacts,omitempty"`
	Side      string   `json:"side,omitempty"`
	KeyIDs    []string `json:"keyids,omitempty"`
	Digests   []string `json:"digests,omitempty"`
	Reason    string   `json:"reason,omitempty"`
}

// verbSubjects says which subjects each verb applies to.
var verbSubjects = map[Verb][]subjectKind{
	VerbAllow:    {subjTarget, subjLayout, subjStep, subjLink, subjAttestation, subjKey, subjArtifact},
	VerbDeny:     {subjTarget, subjLayout, subjStep, subjLink, subjAttestation, subjKey, subjArtifact},
	VerbRequire:  {subjTarget, subjLayout, subjStep, subjLink, subjAttestation, subjKey, subjArtifact},
	VerbRevoke:   {subjKey, subjLayout, subjLink, subjAttestation, subjArtifact},
	VerbMatch:    {subjStep},
	VerbCreate:   {subjStep},
	VerbDelete:   {subjStep},
	VerbModify:   {subjStep},
	VerbDisallow: {subjStep},
}

// fieldVerbs says which verbs may use each optional field (nil: all verbs).
var fieldVerbs = map[string][]Verb{
	"when":      {VerbAllow, VerbDeny},
	"expect":    {VerbRequire},
	"min":       {VerbRequire},
	"productOf": {VerbRequire},
	"artifacts": {VerbMatch, VerbCreate, VerbDelete, VerbModify, VerbDisallow},
	"side":      {VerbMatch, VerbCreate, VerbDelete, VerbModify, VerbDisallow},
	"keyids":    {VerbRevoke},
	"digests":   {VerbRevoke},
	"reason":    {VerbRevoke},
}

func isArtifactVerb(v Verb) bool {
	switch v {
	case VerbMatch, VerbCreate, VerbDelete, VerbModify, VerbDisallow:
		return true
	}
	return false
}

// compile checks a parsed document and compiles it. Diagnostics go to d; the result is nil when
// there is an error.
func compile(doc *document, opts *Options, d *diags) *compiled {
	c := &compiled{file: d.file, name: doc.name.v}
	n := normal{APIVersion: APIVersion}
	if !doc.apiVersion.set {
		d.add(SevError, 1, 1, CodeVersion, "missing apiVersion (want %q)", APIVersion)
	} else if doc.apiVersion.v != APIVersion {
		d.add(SevError, doc.apiVersion.p.line, doc.apiVersion.p.col, CodeVersion, "unsupported apiVersion %q (want %q)", doc.apiVersion.v, APIVersion)
	}
	if doc.kind.set && doc.kind.v != Kind {
		d.add(SevError, doc.kind.p.line, doc.kind.p.col, CodeVersion, "kind must be %q, not %q", Kind, doc.kind.v)
	}
	switch v := doc.layoutsRequire; {
	case !v.set || v.v == "all":
		c.mode, n.Layouts = layoutsAll, "all"
	case v.v == "any":
		c.mode, n.Layouts = layoutsAny, "any"
	case v.v == "none":
		c.mode, n.Layouts = layoutsNone, "none"
	default:
		k, err := strconv.Atoi(v.v)
		if err != nil || k < 1 || k > 1000 {
			d.add(SevError, v.p.line, v.p.col, CodeBadValue, "layouts.require must be all, any, none or a number k >= 1, not %q", v.v)
		}
		c.mode, c.k, n.Layouts = layoutsK, k, strconv.Itoa(k)
	}
	c.unknownWarn = denyOrWarn(doc.revocationUnknown, "revocation.unknown", d)
	c.indeterminateWarn = denyOrWarn(doc.indeterminate, "indeterminate", d)
	n.Unknown, n.Indeterminate = "deny", "deny"
	if c.unknownWarn {
		n.Unknown = "warn"
	}
	if c.indeterminateWarn {
		n.Indeterminate = "warn"
	}

	envs, err := opts.envs()
	if err != nil {
		d.add(SevError, 0, 0, CodeCEL, "CEL environment: %v", err)
		return nil
	}
	ids := map[string]bool{"layouts": true, "revocation": true}
	for i := range doc.rules {
		rd := &doc.rules[i]
		r, nr := compileRule(rd, envs, opts, d)
		if r == nil {
			continue
		}
		if ids[r.id] {
			p := rd.id.p
			if !rd.id.set {
				p = rd.p
			}
			d.add(SevError, p.line, p.col, CodeDuplicate, "duplicate rule id %q", r.id)
		}
		ids[r.id] = true
		if r.verb == VerbRevoke {
			c.hasRevoke = true
		}
		c.rules = append(c.rules, r)
		n.Rules = append(n.Rules, nr)
	}
	checkShadowed(doc, c, d)
	if opts.LayoutSteps != nil {
		checkSteps(doc, opts.LayoutSteps, d)
	}
	if d.list.HasErrors() {
		return nil
	}
	b, err := json.Marshal(n)
	if err != nil {
		d.add(SevError, 0, 0, CodeSyntax, "normalising: %v", err)
		return nil
	}
	c.prepare()
	sum := sha256.Sum256(b)
	c.id = "sha256:" + hex.EncodeToString(sum[:])
	return c
}

func denyOrWarn(v sval, field string, d *diags) bool {
	if !v.set || v.v == "deny" {
		return false
	}
	if v.v == "warn" {
		return true
	}
	d.add(SevError, v.p.line, v.p.col, CodeBadValue, "%s must be deny or warn, not %q", field, v.v)
	return false
}

func compileRule(rd *ruleDoc, envs [numSubjects]*cel.Env, opts *Options, d *diags) (*rule, normalRule) {
	r := &rule{id: rd.id.v, src: Pos{File: d.file, Line: rd.p.line, Col: rd.p.col}.String()}
	if r.id == "" {
		r.id = fmt.Sprintf("rules[%d]", rd.index)
	}
	ok := true
	if !rd.verb.set {
		d.add(SevError, rd.p.line, rd.p.col, CodeMissingField, "rule %s: missing verb", r.id)
		return nil, normalRule{}
	}
	r.verb = Verb(rd.verb.v)
	subs, known := verbSubjects[r.verb]
	if !known {
		d.add(SevError, rd.verb.p.line, rd.verb.p.col, CodeBadValue, "rule %s: unknown verb %q", r.id, rd.verb.v)
		return nil, normalRule{}
	}
	if !rd.subject.set {
		d.add(SevError, rd.p.line, rd.p.col, CodeMissingField, "rule %s: missing subject", r.id)
		return nil, normalRule{}
	}
	subj, known := parseSubject(rd.subject.v)
	if !known {
		d.add(SevError, rd.subject.p.line, rd.subject.p.col, CodeBadValue, "rule %s: unknown subject %q (want target, layout, step, link, attestation, key, functionary or artifact)", r.id, rd.subject.v)
		return nil, normalRule{}
	}
	r.subject = subj
	r.functionaries = rd.subject.v == "functionary"
	applies := false
	for _, s := range subs {
		applies = applies || s == subj
	}
	if !applies {
		var names []string
		for _, s := range subs {
			names = append(names, s.String())
		}
		d.add(SevError, rd.subject.p.line, rd.subject.p.col, CodeVerbSubject, "rule %s: verb %s does not apply to subject %s (it applies to %s)", r.id, r.verb, rd.subject.v, strings.Join(names, ", "))
		ok = false
	}
	for f, p := range rd.present {
		vs, limited := fieldVerbs[f]
		if !limited {
			continue
		}
		allowed := false
		for _, v := range vs {
			allowed = allowed || v == r.verb
		}
		if !allowed {
			d.add(SevError, p.line, p.col, CodeUselessField, "rule %s: field %q has no meaning for verb %s", r.id, f, r.verb)
			ok = false
		}
	}
	r.strength = Strong
	if rd.strength.set {
		s, known := parseStrength(rd.strength.v)
		if !known {
			d.add(SevError, rd.strength.p.line, rd.strength.p.col, CodeBadValue, "rule %s: unknown strength %q (want STRONG, PREFERRED, MEDIUM or WEAK)", r.id, rd.strength.v)
			ok = false
		}
		r.strength = s
		if r.verb == VerbRevoke && s != Strong {
			d.add(SevError, rd.strength.p.line, rd.strength.p.col, CodeBadValue, "rule %s: revocations are always STRONG", r.id)
			ok = false
		}
	}
	for _, g := range []sval{rd.layout, rd.step} {
		if g.set {
			if _, err := path.Match(g.v, ""); err != nil {
				d.add(SevError, g.p.line, g.p.col, CodeBadValue, "rule %s: bad pattern %q: %v", r.id, g.v, err)
				ok = false
			}
		}
	}
	r.layout, r.step = rd.layout.v, rd.step.v
	if r.step != "" && (subj == subjTarget || subj == subjLayout || subj == subjAttestation) {
		d.add(SevError, rd.step.p.line, rd.step.p.col, CodeVerbSubject, "rule %s: a %s subject has no step", r.id, subj)
		ok = false
	}
	if r.layout != "" && (subj == subjTarget && rd.productOf.v == "" || subj == subjAttestation) {
		d.add(SevError, rd.layout.p.line, rd.layout.p.col, CodeVerbSubject, "rule %s: a %s subject has no layout", r.id, subj)
		ok = false
	}
	env := envs[subj]
	cond := func(s sval, what string) *condition {
		if !s.set {
			return nil
		}
		prg, errs := compileCEL(env, s.v)
		if errs != nil {
			for _, ce := range errs {
				line, col := s.p.line, s.p.col
				if s.block && ce.line >= 1 {
					line, col = s.p.line+ce.line, s.indent+ce.col+1
				} else if ce.line == 1 {
					col += ce.col + s.quote
				} else if ce.line > 1 {
					line, col = line+ce.line-1, ce.col+1
				}
				d.add(SevError, line, col, CodeCEL, "rule %s: %s: %s", r.id, what, ce.msg)
			}
			ok = false
			return nil
		}
		return &condition{text: s.v, src: Pos{File: d.file, Line: s.p.line, Col: s.p.col}.String(), prg: prg}
	}
	r.where = cond(rd.where, "where")
	r.when = cond(rd.when, "when")
	for i, e := range rd.expect {
		if c := cond(e, fmt.Sprintf("expect[%d]", i)); c != nil {
			r.expect = append(r.expect, c)
		}
	}
	r.min = rd.min.v
	r.productOf = rd.productOf.v
	if rd.productOf.set && subj != subjTarget {
		d.add(SevError, rd.productOf.p.line, rd.productOf.p.col, CodeVerbSubject, "rule %s: productOf applies to the target subject only", r.id)
		ok = false
	}
	_, hasMin := rd.present["min"]
	if r.verb == VerbRequire && len(rd.expect) == 0 && !hasMin && !rd.productOf.set {
		d.add(SevError, rd.p.line, rd.p.col, CodeMissingField, "rule %s: REQUIRE needs expect, min or productOf", r.id)
		ok = false
	}
	if isArtifactVerb(r.verb) {
		r.side = "products"
		if rd.side.set {
			if rd.side.v != "products" && rd.side.v != "materials" {
				d.add(SevError, rd.side.p.line, rd.side.p.col, CodeBadValue, "rule %s: side must be materials or products, not %q", r.id, rd.side.v)
				ok = false
			}
			r.side = rd.side.v
		}
		if !rd.artifacts.set {
			d.add(SevError, rd.p.line, rd.p.col, CodeMissingField, "rule %s: %s needs artifacts (the rest of the in-toto rule, e.g. \"*.pem\")", r.id, r.verb)
			ok = false
		} else {
			r.artifacts = rd.artifacts.v
			prog, err := compileArtifactRule(r.verb, rd.artifacts.v)
			if err != nil {
				d.add(SevError, rd.artifacts.p.line, rd.artifacts.p.col, CodeArtifactRule, "rule %s: %v", r.id, err)
				ok = false
			}
			r.art = prog
		}
	}
	if r.verb == VerbRevoke {
		if len(rd.keyids) == 0 && len(rd.digests) == 0 {
			d.add(SevError, rd.p.line, rd.p.col, CodeMissingField, "rule %s: REVOKE needs keyids or digests", r.id)
			ok = false
		}
		if len(rd.keyids) > 0 && subj != subjKey {
			d.add(SevError, rd.keyids[0].p.line, rd.keyids[0].p.col, CodeVerbSubject, "rule %s: keyids revoke keys (subject key or functionary), not %s", r.id, subj)
			ok = false
		}
		if len(rd.digests) > 0 && subj == subjKey {
			d.add(SevError, rd.digests[0].p.line, rd.digests[0].p.col, CodeVerbSubject, "rule %s: a key is revoked by keyids, not digests", r.id)
			ok = false
		}
		if rd.where.set {
			d.add(SevError, rd.where.p.line, rd.where.p.col, CodeUselessField, "rule %s: REVOKE lists what it revokes; where has no meaning", r.id)
			ok = false
		}
		r.keyids = map[string]bool{}
		for _, k := range rd.keyids {
			r.keyids[strings.ToLower(k.v)] = true
		}
		r.digests = map[string]bool{}
		for _, dg := range rd.digests {
			if !validDigestRef(dg.v) {
				d.add(SevError, dg.p.line, dg.p.col, CodeBadValue, "rule %s: digest must be \"alg:hex\", not %q", r.id, dg.v)
				ok = false
			}
			r.digests[strings.ToLower(dg.v)] = true
		}
		r.reason = rd.reason.v
	}
	r.message = rd.message.v
	if !ok {
		return nil, normalRule{}
	}
	nr := normalRule{ID: r.id, Verb: r.verb, Strength: r.strength, Subject: subj.String(), Layout: r.layout, Step: r.step,
		Where: rd.where.v, When: rd.when.v, Min: r.min, ProductOf: r.productOf, Artifacts: r.artifacts, Side: r.side, Reason: r.reason}
	for _, e := range rd.expect {
		nr.Expect = append(nr.Expect, e.v)
	}
	for _, k := range rd.keyids {
		nr.KeyIDs = append(nr.KeyIDs, strings.ToLower(k.v))
	}
	for _, k := range rd.digests {
		nr.Digests = append(nr.Digests, strings.ToLower(k.v))
	}
	if subj == subjKey && rd.subject.v == "functionary" {
		nr.Subject = "functionary"
	}
	return r, nr
}

func validDigestRef(s string) bool {
	alg, h, ok := strings.Cut(s, ":")
	if !ok || alg == "" || len(h) < 8 {
		return false
	}
	_, err := hex.DecodeString(h)
	return err == nil
}

// checkShadowed reports rules that can never change the decision because an earlier STRONG DENY
// rule with the same selection (no condition, or the same condition) always wins over them.
func checkShadowed(doc *document, c *compiled, d *diags) {
	for j, rj := range c.rules {
		for i := 0; i < j; i++ {
			ri := c.rules[i]
			if ri.strength != Strong || ri.verb != VerbDeny || ri.subject != rj.subject {
				continue
			}
			if ri.layout != rj.layout || ri.step != rj.step || condText(ri.where) != condText(rj.where) {
				continue
			}
			if ri.when != nil && (rj.when == nil || ri.when.text != rj.when.text) {
				continue
			}
			if rj.verb == VerbRevoke {
				continue
			}
			p := ruleDocPos(doc, rj)
			d.add(SevWarning, p.line, p.col, CodeShadowed, "rule %s is shadowed by the earlier STRONG DENY rule %s (%s): whenever %s selects anything, %s has already denied", rj.id, ri.id, ri.src, rj.id, ri.id)
			break
		}
	}
}

func condText(c *condition) string {
	if c == nil {
		return ""
	}
	return c.text
}

func ruleDocPos(doc *document, r *rule) pos {
	for _, rd := range doc.rules {
		if rd.id.v == r.id || fmt.Sprintf("rules[%d]", rd.index) == r.id {
			return rd.p
		}
	}
	return pos{}
}

// checkSteps reports references to steps the given layout does not have.
func checkSteps(doc *document, steps []string, d *diags) {
	have := map[string]bool{}
	for _, s := range steps {
		have[s] = true
	}
	check := func(id string, v sval, glob bool) {
		if !v.set {
			return
		}
		if glob {
			for _, s := range steps {
				if m, _ := path.Match(v.v, s); m {
					return
				}
			}
		} else if have[v.v] {
			return
		}
		d.add(SevError, v.p.line, v.p.col, CodeUnknownStep, "rule %s: the layout has no step %q (it has %s)", id, v.v, strings.Join(steps, ", "))
	}
	for _, rd := range doc.rules {
		id := rd.id.v
		if id == "" {
			id = fmt.Sprintf("rules[%d]", rd.index)
		}
		check(id, rd.step, true)
		check(id, rd.productOf, false)
		if rd.artifacts.set {
			f := strings.Fields(rd.artifacts.v)
			for i := 0; i+1 < len(f); i++ {
				if f[i] == "FROM" {
					check(id, sval{v: f[i+1], p: rd.artifacts.p, set: true}, false)
				}
			}
		}
	}
}
