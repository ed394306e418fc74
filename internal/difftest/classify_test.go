package difftest

import "testing"

// TestClassify pins the known-deviation classifier: each documented deviation is recognised in
// exactly the shape docs/intoto-deviations.md describes, and nothing else is.
func TestClassify(t *testing.T) {
	ok := Verdict{OK: true}
	deny := func(class string) Verdict { return Verdict{Class: class} }
	alt := func(v Verdict) *Verdict { return &v }
	tests := []struct {
		name     string
		c        Chain
		py, ours Verdict
		agree    bool
		dev      string
	}{
		{"both verify", Chain{}, ok, ok, true, ""},
		{"same reason", Chain{}, deny("RuleVerificationError"), deny("rule-failed"), true, ""},
		{"threshold for missing link", Chain{}, deny("LinkNotFoundError"), deny("threshold"), true, ""},
		{"python verifies, tinto denies", Chain{}, ok, deny("rule-failed"), false, ""},
		{"tinto verifies, python denies", Chain{}, deny("RuleVerificationError"), ok, false, ""},
		{"other reason", Chain{}, deny("RuleVerificationError"), deny("expired"), false, ""},
		{"usage error is never agreement", Chain{}, deny("RuleVerificationError"), deny("input"), false, ""},
		{"unknown parameter", Chain{Features: []string{"params-unknown"}}, deny("KeyError"), deny("layout-invalid"), true, ""},
		{"KeyError without unknown parameter", Chain{}, deny("KeyError"), deny("layout-invalid"), false, ""},

		{"backslash name", Chain{Features: []string{"backslash-names"}}, ok, deny("threshold"), false, DevBackslash},
		{"backslash name, python crash", Chain{Features: []string{"backslash-names"}}, deny("KeyError"), deny("missing-link"), false, DevBackslash},
		{"backslash name, wrong reason", Chain{Features: []string{"backslash-names"}}, ok, deny("rule-failed"), false, ""},
		{"backslash name, tinto verifies", Chain{Features: []string{"backslash-names"}}, deny("KeyError"), ok, false, ""},
		{"backslash require", Chain{Features: []string{"backslash-require"}}, ok, deny("layout-invalid"), false, DevBackslash},
		{"backslash prefix", Chain{Features: []string{"backslash-prefix"}}, deny("KeyError"), deny("layout-invalid"), false, DevBackslash},

		{"links disagree", Chain{Features: []string{"links-disagree-threshold-1"}}, ok, deny("link-mismatch"), false, DevLinksDisagree},
		{"links disagree, 2 of 2", Chain{Features: []string{"links-disagree-threshold-2"}}, ok, deny("link-mismatch"), false, ""},

		{"malformed link, same as without it", Chain{Features: []string{"malformed-link"}, PythonRepaired: alt(ok)},
			deny("JSONDecodeError"), ok, false, DevMalformedLink},
		{"malformed link, denied like without it", Chain{Features: []string{"malformed-link"}, PythonRepaired: alt(deny("RuleVerificationError"))},
			deny("FormatError"), deny("rule-failed"), false, DevMalformedLink},
		{"malformed link, tinto verifies what python denies without it", Chain{Features: []string{"malformed-link"}, PythonRepaired: alt(deny("RuleVerificationError"))},
			deny("FormatError"), ok, false, ""},
		{"extra bad signature", Chain{Features: []string{"extra-bad-signature"}, PythonRepaired: alt(ok)},
			deny("ThresholdVerificationError"), ok, false, DevExtraBadSignature},
		{"extra bad signature, tinto verifies what python denies when repaired", Chain{Features: []string{"extra-bad-signature"}, PythonRepaired: alt(deny("RuleVerificationError"))},
			deny("ThresholdVerificationError"), ok, false, ""},
		{"link name mismatch", Chain{Features: []string{"link-name-mismatch"}}, ok, deny("threshold"), false, DevLinkName},
		{"link name mismatch, the other link fails a rule", Chain{Features: []string{"link-name-mismatch"}, PythonRepaired: alt(deny("RuleVerificationError"))},
			ok, deny("rule-failed"), false, DevLinkName},
		{"link name mismatch, reported as such", Chain{Features: []string{"link-name-mismatch"}, PythonRepaired: alt(deny("LinkNotFoundError"))},
			ok, deny("link-mismatch"), false, DevLinkName},
		{"link name mismatch, tinto denies what python verifies without the link", Chain{Features: []string{"link-name-mismatch"}, PythonRepaired: alt(ok)},
			ok, deny("rule-failed"), false, ""},
		{"link name mismatch, tinto verifies", Chain{Features: []string{"link-name-mismatch"}}, deny("RuleVerificationError"), ok, false, ""},
		{"failed sublayout, threshold met without it", Chain{Features: []string{"sublayout-failed"}, PythonRepaired: alt(ok)},
			deny("RuleVerificationError"), ok, false, DevSublayoutFailed},
		{"failed sublayout, denied like without it", Chain{Features: []string{"sublayout-failed"}, PythonRepaired: alt(deny("RuleVerificationError"))},
			deny("LayoutExpiredError"), deny("rule-failed"), false, DevSublayoutFailed},
		{"failed sublayout, tinto verifies what python denies without it", Chain{Features: []string{"sublayout-failed"}, PythonRepaired: alt(deny("LinkNotFoundError"))},
			deny("RuleVerificationError"), ok, false, ""},
		{"parameters in a sublayout", Chain{Features: []string{"sublayout-params"}, PythonRepaired: alt(ok)},
			deny("RuleVerificationError"), ok, false, DevSublayoutParams},
		{"parameters in a sublayout, tinto denies what python verifies substituted", Chain{Features: []string{"sublayout-params"}, PythonRepaired: alt(ok)},
			ok, deny("rule-failed"), false, ""},
		{"unknown functionary", Chain{Features: []string{"unknown-functionary"}}, ok, deny("layout-invalid"), false, DevUnknownFunctionary},
		{"threshold 0", Chain{Features: []string{"threshold-0"}}, ok, deny("layout-invalid"), false, DevThresholdZero},
		{"threshold 0, other reason", Chain{Features: []string{"threshold-0"}}, ok, deny("rule-failed"), false, ""},
		{"python's failure is tinto's second", Chain{}, deny("LinkNotFoundError"), Verdict{Class: "link-mismatch", Reasons: []string{"link-mismatch", "threshold"}}, true, ""},
		{"python's failure is not among tinto's", Chain{}, deny("LinkNotFoundError"), Verdict{Class: "link-mismatch", Reasons: []string{"link-mismatch", "rule-failed"}}, false, ""},
		{"malformed link and backslash", Chain{Features: []string{"malformed-link", "backslash-require"}, PythonRepaired: alt(deny("LinkNotFoundError"))},
			deny("LinkNotFoundError"), deny("layout-invalid"), false, DevBackslash},
		{"malformed link, no second verdict", Chain{Features: []string{"malformed-link"}},
			deny("FormatError"), ok, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Agree(tt.c, tt.py, tt.ours); got != tt.agree {
				t.Errorf("Agree = %v, want %v", got, tt.agree)
			}
			if tt.agree {
				return
			}
			if got := Classify(tt.c, tt.py, tt.ours); got != tt.dev {
				t.Errorf("Classify = %q, want %q", got, tt.dev)
			}
		})
	}
}

func TestPlainGlob(t *testing.T) {
	for p, want := range map[string]bool{
		"*": true, "src/*.go": true, "a?b": true, "[ab]*": true, "[!x]y": true,
		`a\*`: false, "[]]": false, "[!]]": false, "[": false, "a]": false, "[^a]": false,
		"[a-c]": false, "[]": false, "[!]": false,
	} {
		if got := plainGlob(p); got != want {
			t.Errorf("plainGlob(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestFailureReasons pins the parsing of the CLI's failure lines, nested sublayout failures
// included (seeds 20238 and 21944 of -seed=20000 -chains=3000).
func TestFailureReasons(t *testing.T) {
	msg := `tinto intoto verify: FAILED (threshold)
  threshold (step "sign-2"): the step needs 1 link(s) validly signed by distinct authorised functionaries, found 0
    sign-2.0a9c25b8.link: invalid link sign-2.0a9c25b8.link: invalid JSON at offset 0: unexpected end of input
    sign-2.f94306bf.link: rule-failed (step "sign-2"): sublayout sign-2.f94306bf failed: rule-failed (step "gen-0", rule "DISALLOW *", artifact "a.py"): ...
threshold (step "pack-2"): the step needs 1 link(s): pack-2.31f683a0.link: bad-signature: no signature by key 31f6
    linkdir/x.y1.deadbeef.link: expired (layout): the layout expired at ...`
	got := failureReasons(msg)
	want := []string{"threshold", "rule-failed", "threshold", "expired"}
	if len(got) != len(want) {
		t.Fatalf("failureReasons = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("failureReasons = %q, want %q", got, want)
		}
	}
}
