package difftest

import (
	"slices"
)

// Verdict is one implementation's answer for one chain.
type Verdict struct {
	// OK is true when the implementation verified the chain.
	OK bool
	// Class says why it did not. For python in-toto it is the exception class name
	// ("RuleVerificationError", "KeyError", ...). For tinto it is the verr.Reason text
	// ("rule-failed", ...), "input" for a *verr.InputError (exit code 2) or "error" for any other
	// failure. For in-toto-golang it is "error" or "panic".
	Class string
	// Msg is the implementation's explanation.
	Msg string
	// Reasons are all the reasons tinto reported (it checks every step of a stage and reports
	// every failure; Class is the first). Empty for the other implementations.
	Reasons []string
}

// Chain describes a generated chain for the classifier.
type Chain struct {
	Seed int64
	// Features are the generator's tags for what the chain contains (see gen/gen.py), such as
	// "synthetic", "match-in", "threshold-1-of-2", "failure-disagree".
	Features []string
	// PythonRepaired is python's verdict on the chain as tinto reads it: the malformed link
	// file removed ("malformed-link"), the bad extra signature dropped ("extra-bad-signature"),
	// the link that names another step removed ("link-name-mismatch"), the sublayout that fails
	// on its own removed ("sublayout-failed"), the sublayout with its parameters substituted
	// ("sublayout-params"). Nil when the chain has none of these.
	PythonRepaired *Verdict
}

// Has reports whether the chain has feature f.
func (c Chain) Has(f string) bool { return slices.Contains(c.Features, f) }

// pythonReasons maps each python in-toto exception class to the tinto reasons that describe the
// same failure. Python stops at the first failure in a fixed order (layout signatures, expiry,
// links, signatures and thresholds, rules), and so does tinto's CLI summary.
var pythonReasons = map[string][]string{
	"SignatureVerificationError": {"bad-signature", "threshold", "unknown-key"},
	"LayoutExpiredError":         {"expired"},
	"LinkNotFoundError":          {"missing-link", "threshold"},
	"ThresholdVerificationError": {"threshold", "missing-link", "link-mismatch", "bad-signature"},
	"RuleVerificationError":      {"rule-failed"},
}

// Agree reports whether python's and tinto's verdicts on chain c agree: both verified, or both
// denied for corresponding reasons.
func Agree(c Chain, py, ours Verdict) bool {
	if py.OK || ours.OK {
		return py.OK == ours.OK
	}
	// A "{NAME}" placeholder without a parameter: python's str.format raises KeyError, tinto
	// reports the layout as invalid.
	if c.Has("params-unknown") && py.Class == "KeyError" && ours.Class == "layout-invalid" {
		return true
	}
	// python stops at the first failure in its order (all steps' links and thresholds, then all
	// steps' link agreement, then rules); tinto reports every failure of a stage in step order,
	// so python's failure may be any of tinto's, not necessarily the first (deviation 23).
	for _, r := range pythonReasons[py.Class] {
		if r == ours.Class || slices.Contains(ours.Reasons, r) {
			return true
		}
	}
	return false
}

// Deviation names of the deliberate differences from python in-toto that differential testing
// finds. Each is described, with its reason, in docs/intoto-deviations.md, section "Found by
// differential testing", under a heading that contains the name.
const (
	// DevBackslash: tinto rejects artifact names, REQUIRE names and MATCH prefixes that contain
	// a backslash (pkg/rules.ValidateName); python in-toto accepts them (and, when it re-joins a
	// MATCH ... IN prefix, rewrites the backslash to "/", which can make it crash with KeyError).
	DevBackslash = "backslash"
	// DevLinksDisagree: when a step has more valid links than its threshold and they disagree
	// on materials or products, tinto denies (verr.LinkMismatch); python in-toto only compares
	// links when the threshold is above 1, and otherwise uses the first link in the order of
	// the step's pubkeys, ignoring the others.
	DevLinksDisagree = "links-disagree"
	// DevMalformedLink: a malformed file under an authorised functionary's link name. python
	// in-toto aborts verification when it cannot load it (JSONDecodeError, FormatError,
	// AttributeError, ...); tinto records the candidate as rejected and goes on, so the step
	// still passes when enough other valid links meet its threshold (deviation 14).
	DevMalformedLink = "malformed-link"
	// DevExtraBadSignature: a link with a bad signature before a good one by the same keyid.
	// python in-toto checks only the first signature whose keyid matches and rejects the link;
	// tinto accepts the link because one signature by the key verifies (deviation 4).
	DevExtraBadSignature = "extra-bad-signature"
	// DevLinkName: a link whose signed "name" is not its step's name. python in-toto does not
	// look; tinto does not count the link (deviation 13).
	DevLinkName = "link-name-mismatch"
	// DevUnknownFunctionary: a step's pubkeys lists a keyid the layout has no key for. python
	// in-toto treats it as a functionary nobody can be; tinto rejects the layout (deviation 8).
	DevUnknownFunctionary = "unknown-functionary"
	// DevThresholdZero: a step with threshold 0. python in-toto accepts it; tinto rejects the
	// layout (deviation 7).
	DevThresholdZero = "threshold-0"
	// DevSublayoutFailed: a functionary's link is a sublayout that fails verification. python
	// in-toto aborts (verify_sublayouts raises the sublayout's exception) even when the step's
	// threshold is met without it; tinto does not count the link, as any other invalid
	// candidate, and the step passes if enough other links count (deviation 14).
	DevSublayoutFailed = "sublayout-failed"
	// DevSublayoutParams: the substitution parameters reach sublayouts in tinto, not in python
	// in-toto (deviation 17); tinto's verdict must equal python's on the chain whose sublayout
	// has the parameters substituted.
	DevSublayoutParams = "sublayout-params"
)

// Classify returns the name of the deliberate deviation that explains a disagreement between
// python in-toto (py) and tinto (ours) on chain c, or "" if none does. It is only meaningful
// when Agree(c, py, ours) is false.
//
// Keep this function in step with docs/intoto-deviations.md, "Found by differential testing".
func Classify(c Chain, py, ours Verdict) string {
	// docs/intoto-deviations.md, "malformed-link", "extra-bad-signature", "link-name-mismatch":
	// python stopped at the malformed file, or counted a link differently from tinto, so its
	// verdict says nothing about the chain tinto saw; tinto's verdict must be python's verdict on
	// the chain as tinto reads it (which the generator also computes), up to the other
	// deviations. The deviations below only make tinto stricter.
	if c.PythonRepaired != nil {
		repaired := Chain{Seed: c.Seed, Features: slices.DeleteFunc(slices.Clone(c.Features), func(f string) bool {
			return f == "malformed-link" || f == "extra-bad-signature" || f == "sublayout-failed" || f == "sublayout-params"
		})}
		alt := *c.PythonRepaired
		if Agree(repaired, alt, ours) {
			switch {
			case c.Has("malformed-link"):
				return DevMalformedLink
			case c.Has("extra-bad-signature"):
				return DevExtraBadSignature
			case c.Has("sublayout-failed"):
				return DevSublayoutFailed
			case c.Has("sublayout-params"):
				return DevSublayoutParams
			}
			return DevLinkName
		}
		return Classify(repaired, alt, ours)
	}
	if ours.OK {
		return ""
	}
	// docs/intoto-deviations.md, "backslash": a REQUIRE name or MATCH prefix with a backslash
	// makes the layout invalid; an artifact name with a backslash makes its link invalid, so the
	// link does not count and the step lacks links.
	if (c.Has("backslash-require") || c.Has("backslash-prefix")) && ours.Class == "layout-invalid" {
		return DevBackslash
	}
	if c.Has("backslash-names") && (ours.Class == "threshold" || ours.Class == "missing-link") {
		return DevBackslash
	}
	// docs/intoto-deviations.md, "link-name-mismatch": the link does not count (tinto names
	// the reason link-mismatch).
	if c.Has("link-name-mismatch") && (ours.Class == "link-mismatch" || ours.Class == "threshold" || ours.Class == "missing-link") {
		return DevLinkName
	}
	// docs/intoto-deviations.md, "unknown-functionary".
	if c.Has("unknown-functionary") && ours.Class == "layout-invalid" {
		return DevUnknownFunctionary
	}
	// docs/intoto-deviations.md, "threshold-0".
	if c.Has("threshold-0") && ours.Class == "layout-invalid" {
		return DevThresholdZero
	}
	// docs/intoto-deviations.md, "links-disagree".
	if c.Has("links-disagree-threshold-1") && ours.Class == "link-mismatch" {
		return DevLinksDisagree
	}
	return ""
}
