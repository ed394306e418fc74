package difftest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	intotogo "github.com/in-toto/in-toto-golang/in_toto"
)

// quietStdout sends the process's standard output to /dev/null until the returned function is
// called: in-toto-golang prints a warning to stdout for every malformed pattern it meets.
func quietStdout() func() {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return func() {}
	}
	saved := os.Stdout
	os.Stdout = devnull
	return func() {
		os.Stdout = saved
		devnull.Close()
	}
}

// verifyGolang runs in-toto-golang v0.11.0's InTotoVerify on a chain. Its panics (threshold 0,
// empty rules, a step without links in ReduceStepsMetadata) are recovered here, in the harness,
// and reported as the verdict class "panic".
func verifyGolang(c *genChain) (v Verdict) {
	defer func() {
		if r := recover(); r != nil {
			v = Verdict{Class: "panic", Msg: fmt.Sprint(r)}
		}
	}()
	if c.chain().Has("inspection") {
		// It would run the inspection command and write its link into the current directory.
		return Verdict{Class: "skipped", Msg: golangInspections}
	}
	if c.chain().Has("key-gpg") {
		return Verdict{Class: "skipped", Msg: golangOpenPGP}
	}
	return verifyGolangAt(c, c.Layout, c.LinkDir)
}

// verifyGolangAt runs in-toto-golang's InTotoVerify on the layout and link directory given,
// with the chain's keys and parameters.
func verifyGolangAt(c *genChain, layout, linkDir string) (v Verdict) {
	defer func() {
		if r := recover(); r != nil {
			v = Verdict{Class: "panic", Msg: fmt.Sprint(r)}
		}
	}()
	mb, err := intotogo.LoadMetadata(layout)
	if err != nil {
		return Verdict{Class: "error", Msg: err.Error()}
	}
	keys := map[string]intotogo.Key{}
	for _, k := range c.Keys {
		raw, err := os.ReadFile(k.SSLib)
		if err != nil {
			return Verdict{Class: "error", Msg: err.Error()}
		}
		var key intotogo.Key
		if err := json.Unmarshal(raw, &key); err != nil {
			return Verdict{Class: "error", Msg: err.Error()}
		}
		keys[key.KeyID] = key
	}
	if _, err := intotogo.InTotoVerify(mb, keys, linkDir, "", c.Params, nil, false); err != nil {
		return Verdict{Class: "error", Msg: err.Error()}
	}
	return Verdict{OK: true}
}

// chainRules returns every artifact rule of a chain's layout and sublayouts.
func chainRules(c *genChain) ([][]string, error) {
	var out [][]string
	for _, p := range append([]string{c.Layout}, c.Sublayouts...) {
		r, err := layoutRules(p)
		if err != nil {
			if len(out) > 0 && errors.Is(err, fs.ErrNotExist) {
				continue // a sublayout the chain's failure removed
			}
			return nil, err
		}
		out = append(out, r...)
	}
	return out, nil
}

// layoutRules returns every artifact rule of a generated layout.
func layoutRules(path string) ([][]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Signed struct {
			Steps []struct {
				Materials [][]string `json:"expected_materials"`
				Products  [][]string `json:"expected_products"`
			} `json:"steps"`
		} `json:"signed"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	var out [][]string
	for _, s := range doc.Signed.Steps {
		out = append(out, s.Materials...)
		out = append(out, s.Products...)
	}
	return out, nil
}

// Known defects of in-toto-golang v0.11.0 that make its verdict on a chain meaningless; chains
// that exercise one are excluded from the comparison (and counted, by class):
const (
	// MATCH ... IN <prefix> does not filter the queue by the source prefix: TrimPrefix is a no-op
	// on names outside the prefix, so they are matched as if the prefix were absent.
	golangMatchIn = "golang-match-in-prefix-unfiltered"
	// Its glob matcher is path.Match's, not fnmatch: a backslash escapes, a malformed class is an
	// error (no match) rather than a literal "[", and "[^x]" negates.
	golangGlob = "golang-glob-not-fnmatch"
	// It cleans artifact names and patterns with path.Clean before matching ("a/" == "a").
	golangClean = "golang-path-clean"
	// It supports only the rsassa-pss-sha256 scheme for RSA keys, and so ignores links signed
	// with rsa-pkcs1v15-sha256 and the other schemes securesystemslib supports.
	golangRSAScheme = "golang-rsa-scheme-unsupported"
	// Its parameter substitution is a plain string replacement of "{NAME}": "{{" is not a
	// literal brace and an unknown "{NAME}" stays in the rule instead of being an error.
	golangParams = "golang-params-not-str-format"
	// It runs the layout's inspection commands (in the current directory, recording it, and
	// writes the inspection links there); tinto only reads prerecorded inspection links by
	// default. Chains with an inspection are not given to in-toto-golang at all.
	golangInspections = "golang-runs-inspections"
	// It panics on a validly signed layout with a threshold-0 step (recovered by verifyGolang).
	golangThresholdZero = "golang-panics-threshold-0"
	// It takes the first link of a step in map iteration order, so with several links a step's
	// reference link (and so the verdict when links disagree) varies from run to run.
	golangMapOrder = "golang-threshold-map-order"
	// It has no OpenPGP keys: chains with a gpg functionary or layout key are not given to it.
	golangOpenPGP = "golang-no-openpgp"
)

// golangExclusion returns why in-toto-golang's verdict on chain c is not comparable, or "".
func golangExclusion(c *genChain) string {
	if c.chain().Has("inspection") {
		return golangInspections
	}
	if c.chain().Has("key-gpg") {
		return golangOpenPGP
	}
	if c.chain().Has("threshold-0") {
		return golangThresholdZero
	}
	rules, err := chainRules(c)
	if err != nil {
		return ""
	}
	for _, r := range rules {
		if len(r) > 2 && strings.EqualFold(r[0], "MATCH") && strings.EqualFold(r[2], "IN") {
			return golangMatchIn
		}
	}
	for _, r := range rules {
		if len(r) > 1 && !plainGlob(r[1]) {
			return golangGlob
		}
	}
	for _, r := range rules {
		if len(r) > 1 && (strings.HasSuffix(r[1], "/") || strings.Contains(r[1], "//")) {
			return golangClean
		}
	}
	if ch := c.chain(); ch.Has("params-unknown") || ch.Has("params-literal-braces") {
		return golangParams
	}
	for _, f := range c.Features {
		if strings.HasPrefix(f, "rsa-scheme-") {
			return golangRSAScheme
		}
	}
	for _, f := range c.Features {
		if strings.HasPrefix(f, "threshold-") && c.chain().Has("failure-disagree") || strings.HasPrefix(f, "links-disagree-threshold-") {
			return golangMapOrder
		}
	}
	return ""
}

// TestDifferentialGolang verifies the python-generated chains with in-toto-golang v0.11.0 and
// with `tinto intoto verify`, and compares the two verdicts (allow or deny: in-toto-golang's
// errors are untyped), except on the chains that exercise a known defect of in-toto-golang
// (see golangExclusion), which are counted by class. It also logs how often in-toto-golang
// agrees with python in-toto, as a check of the harness.
func TestDifferentialGolang(t *testing.T) {
	m := chains(t)
	restore := quietStdout()
	golang := runAll(m, verifyGolang)
	restore()
	pyAgree, compared, subAgree, subCompared := 0, 0, 0, 0
	for i := range golang {
		// Python aborts on a malformed link file; in-toto-golang, like tinto, skips it.
		if golangExclusion(golang[i].c) == "" && golang[i].c.GenError == "" && !golang[i].c.chain().Has("malformed-link") {
			compared++
			sub := golang[i].c.chain().Has("sublayout")
			if sub {
				subCompared++
			}
			if golang[i].ours.OK == golang[i].py.OK {
				pyAgree++
				if sub {
					subAgree++
				}
			} else if testing.Verbose() {
				t.Logf("in-toto-golang and python in-toto disagree on %s", golang[i])
			}
		}
	}
	t.Logf("in-toto-golang agrees with python in-toto on %d of %d comparable chains (with a sublayout: %d of %d)",
		pyAgree, compared, subAgree, subCompared)
	bin := tintoBinary(t)
	ours := runAll(m, func(c *genChain) Verdict { return verifyCLI(bin, c) })
	outs := make([]outcome, len(golang))
	for i := range golang {
		// In this comparison "py" is in-toto-golang's verdict and "ours" is tinto's.
		outs[i] = outcome{c: golang[i].c, py: golang[i].ours, ours: ours[i].ours}
	}
	report(t, "in-toto-golang", outs, func(o *outcome) {
		o.deviation = golangExclusion(o.c)
		if o.deviation == "" {
			// tinto's own deliberate deviations (docs/intoto-deviations.md) apply here too.
			o.deviation = Classify(o.c.chain(), o.py, o.ours)
		}
	}, func(_ Chain, g, ours Verdict) bool { return g.OK == ours.OK })
}

// plainGlob reports whether pattern means the same to fnmatch and to in-toto-golang's matcher:
// no backslash, and every "[" opens a well-formed class "[abc]" or "[!abc]" of plain characters
// (no "]", "[", "^" or "-" inside, no ranges), and no stray "]".
func plainGlob(pattern string) bool {
	if strings.Contains(pattern, `\`) {
		return false
	}
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case ']':
			return false
		case '[':
			j := i + 1
			if j < len(pattern) && pattern[j] == '!' {
				j++
			}
			k := j
			for k < len(pattern) && pattern[k] != ']' {
				if strings.IndexByte("[^-", pattern[k]) >= 0 {
					return false
				}
				k++
			}
			if k == len(pattern) || k == j {
				return false
			}
			i = k
		}
	}
	return true
}
