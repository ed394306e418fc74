package policy

import (
	"fmt"
	"time"

	"github.com/tintoproject/tinto/pkg/rules"

	"github.com/tintoproject/tinto/pkg/revocation"
)

// Input is the verified evidence a policy decides over. Every field holds facts that were
// verified before the policy runs (signatures, thresholds, hashes); a policy never re-verifies
// and never sees unverified data.
//
// Input is a plain, JSON-friendly value. pkg/verify maps the results of pkg/tuf and pkg/intoto
// into it. An Input must not be modified while an evaluation that uses it is running, nor
// afterwards while a Decision made from it is used (a built-in Decision refers to the Input's
// evidence and builds its trail from it when read); apart from that it is safe to share between
// concurrent evaluations.
type Input struct {
	// Target is the TUF-verified artifact. Nil when the decision is not about a TUF target.
	Target *Target `json:"target,omitempty"`
	// Layouts holds the in-toto evidence, one entry per layout that was verified for the target.
	Layouts []Layout `json:"layouts,omitempty"`
	// Attestations are verified attestations (ITE-6 statements) that are not links of a layout.
	Attestations []Attestation `json:"attestations,omitempty"`
	// Params are the parameters given to the verification (in-toto parameter substitution and
	// policy parameters). Nil means none.
	Params map[string]string `json:"params,omitempty"`
	// Time is the evaluation time. The zero value is an error: time is an input and the policy
	// never reads the wall clock.
	Time time.Time `json:"time"`
	// Revocation answers revocation lookups. Nil means no revocation source is configured: only
	// the policy's own REVOKE rules are consulted, and they are then authoritative (see the
	// package documentation).
	Revocation revocation.Checker `json:"-"`
}

// Prepare is Layout.Prepare for every layout of the Input; it stops at the first invalid name.
func (in *Input) Prepare() error {
	for i := range in.Layouts {
		if err := in.Layouts[i].Prepare(); err != nil {
			return err
		}
	}
	return nil
}

// Target is a TUF target: its name, length, hashes and custom metadata, as signed by TUF.
type Target struct {
	Name   string            `json:"name"`
	Length int64             `json:"length"`
	Hashes map[string]string `json:"hashes"` // algorithm -> lowercase hex
	// Custom is the target's custom metadata as a decoded JSON value (map[string]any, []any,
	// string, float64 or json.Number, bool, nil). Nil when absent.
	Custom any `json:"custom,omitempty"`
}

// Layout is the verified evidence of one in-toto layout.
type Layout struct {
	// Name identifies the layout (for example its TUF target path).
	Name string `json:"name"`
	// Digest is "sha256:<hex>" of the layout document as received.
	Digest string `json:"digest"`
	// Version is the layout's version when known (from its TUF target custom metadata or the
	// layout itself), 0 otherwise. It is used to look up superseded layouts.
	Version int64     `json:"version,omitempty"`
	Expires time.Time `json:"expires"`
	// Signers are the keyids whose signatures on the layout verified and counted.
	Signers []string `json:"signers"`
	// Threshold is how many distinct layout signers are required; 0 means 1. Signers whose keys
	// are revoked do not count.
	Threshold int `json:"threshold,omitempty"`
	// Keys are the functionary keys the layout declares, by keyid.
	Keys  []Key  `json:"keys,omitempty"`
	Steps []Step `json:"steps"`
	// Rules holds the result of every artifact rule of every step, in layout order.
	Rules []RuleResult `json:"rules,omitempty"`
	// Failure is non-empty when pkg/intoto reported that this layout did not verify (the text of
	// its error). Such a layout never satisfies a policy; it is kept so that the trail can say why.
	Failure string `json:"failure,omitempty"`

	// prepared records what Prepare checked (nil: not prepared).
	prepared *prepared
}

// prepared is what Layout.Prepare recorded: the steps slice whose artifact names it validated,
// and those names.
type prepared struct {
	steps  *Step // &Steps[0] (nil when there were none)
	nsteps int   // len(Steps)
	// names[2*k+side] lists the artifact names (in map order) of side side (0 products, 1
	// materials) of the layout's k-th link (steps and links in order).
	names [][]string
}

// Prepare checks every artifact name of every link of the layout (materials and products) with
// rules.ValidateName once, and records in the Layout that they are valid and what they are, so
// that evaluations do not check them again and scan the lists instead of the maps: the DISALLOW
// rules and the other artifact rules, which fail on an invalid name, otherwise check each name
// they see at every evaluation. It is for evidence that is built once and evaluated several
// times (several policies or engines, or layouts whose verification a caller caches and puts in
// the Input of each decision); for one evaluation it only moves the work.
//
// Call Prepare when the evidence is built, before it is shared (it writes to the Layout; copies
// of the Layout made afterwards share what it recorded). It returns the first invalid name's
// error and records nothing then: evaluations check every name, and the rules that see an
// invalid name fail exactly as without Prepare. After Prepare the layout's steps, links and
// artifact maps must not be modified (evidence must not be modified while evaluations use it
// anyway); replacing the Steps slice voids what Prepare recorded. A Layout written as a literal
// is never prepared: its names are checked at every evaluation.
func (l *Layout) Prepare() error {
	l.prepared = nil
	nlink, nname := 0, 0
	for si := range l.Steps {
		for _, k := range l.Steps[si].Links {
			nlink++
			nname += len(k.Materials) + len(k.Products)
		}
	}
	p := &prepared{nsteps: len(l.Steps), names: make([][]string, 0, 2*nlink)}
	all := make([]string, 0, nname)
	for si := range l.Steps {
		s := &l.Steps[si]
		for ki := range s.Links {
			k := &s.Links[ki]
			for _, m := range [2]map[string]Digests{k.Products, k.Materials} {
				start := len(all)
				for name := range m {
					if err := rules.ValidateName(name); err != nil {
						return fmt.Errorf("policy: layout %s, step %s: artifact %q: %w", l.Name, s.Name, name, err)
					}
					all = append(all, name)
				}
				p.names = append(p.names, all[start:len(all):len(all)])
			}
		}
	}
	if p.nsteps > 0 {
		p.steps = &l.Steps[0]
	}
	l.prepared = p
	return nil
}

// Prepared reports whether l carries the record of a successful Prepare that still applies to
// its Steps (a copy of a prepared Layout is prepared; replacing Steps cancels the record).
// pkg/verify prepares the evidence of a chain it reuses from its cache.
func (l *Layout) Prepared() bool { return l.namesValidated() }

// namesValidated reports whether Prepare validated the artifact names of l.Steps.
func (l *Layout) namesValidated() bool {
	p := l.prepared
	if p == nil || p.nsteps != len(l.Steps) {
		return false
	}
	return p.nsteps == 0 || p.steps == &l.Steps[0]
}

// preparedNames returns the names Prepare listed for side side of the layout's k-th link, if it
// did and their number is n (the side's map's length now).
func (l *Layout) preparedNames(k, side, n int) ([]string, bool) {
	if !l.namesValidated() || 2*k+side >= len(l.prepared.names) {
		return nil, false
	}
	names := l.prepared.names[2*k+side]
	return names, len(names) == n
}

// Key describes a public key by its id and type (never the key material itself).
type Key struct {
	KeyID   string `json:"keyid"`
	KeyType string `json:"keytype,omitempty"`
	Scheme  string `json:"scheme,omitempty"`
	// Issuer and Serial are set for X.509 certificate functionaries (RFC 4514 issuer name and
	// decimal serial number); they are used for CRL lookups.
	Issuer string `json:"issuer,omitempty"`
	Serial string `json:"serial,omitempty"`
}

// Step is one step of a layout with the links that were verified for it.
type Step struct {
	Name string `json:"name"`
	// Functionaries are the keyids the layout authorises for this step.
	Functionaries []string `json:"functionaries"`
	Threshold     int      `json:"threshold"`
	// Command is the expected command from the layout (informational).
	Command []string `json:"command,omitempty"`
	Links   []Link   `json:"links"`
}

// Link is one verified link (or ITE-6 link attestation) of a step.
type Link struct {
	// KeyID is the functionary whose signature on this link verified.
	KeyID string `json:"keyid"`
	// Digest is "sha256:<hex>" of the link document as received.
	Digest    string             `json:"digest"`
	Materials map[string]Digests `json:"materials"`
	Products  map[string]Digests `json:"products"`
	Command   []string           `json:"command,omitempty"`
}

// Digests maps a hash algorithm to a lowercase hex digest. It is pkg/rules' type, so that the
// artifact rules run over the evidence without copying it.
type Digests = rules.Digests

// RuleResult is the outcome of one artifact rule of a layout step, as pkg/intoto ran it.
type RuleResult struct {
	Step string `json:"step"`
	// Side is "materials" or "products".
	Side string `json:"side"`
	// Rule is the rule as written in the layout, for example "MATCH * WITH PRODUCTS FROM build".
	Rule string `json:"rule"`
	Verb string `json:"verb"`
	// OK reports whether the rule passed.
	OK bool `json:"ok"`
	// Consumed are the artifacts this rule consumed from the queue.
	Consumed []string `json:"consumed,omitempty"`
	// Failure explains a failed rule ("" when OK).
	Failure string `json:"failure,omitempty"`
}

// Attestation is a verified in-toto statement that is not a layout's link.
type Attestation struct {
	// Digest is "sha256:<hex>" of the envelope's payload as received.
	Digest        string `json:"digest,omitempty"`
	PredicateType string `json:"predicate_type"`
	// Predicate is the decoded JSON predicate (map[string]any, ...).
	Predicate any `json:"predicate,omitempty"`
	// Subjects are the statement's subjects: name -> digests.
	Subjects map[string]Digests `json:"subjects,omitempty"`
	// Signer is the keyid whose signature verified.
	Signer string `json:"signer"`
}
