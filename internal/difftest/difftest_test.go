package difftest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	flagChains = flag.Int("chains", 300, "number of random supply chains to generate and compare (50 with -short)")
	flagSeed   = flag.Int64("seed", 1, "seed of the first chain; chain i uses seed+i")
	flagKeep   = flag.String("keep", "", "generate the chains into this directory and keep them")
	flagPython = flag.String("python", "/usr/bin/python3", "python interpreter that has in_toto 1.3.1")
)

// manifest is what gen/gen.py writes.
type manifest struct {
	Chains  []genChain `json:"chains"`
	Seconds float64    `json:"seconds"`
	// KeygenSeconds is the time the key pool took (gpg keys included).
	KeygenSeconds float64 `json:"keygen_seconds"`
	// GPGHome is the GNUPGHOME of the run's OpenPGP keys ("" without them); GPGSkip says why
	// there are none.
	GPGHome string `json:"gpg_home"`
	GPGSkip string `json:"gpg_skip"`
	// PrivateKeys is a JSON file: keyid -> securesystemslib private key dict, for every key
	// (other than the OpenPGP ones) that signed anything in the run.
	PrivateKeys string `json:"private_keys"`
}

type genChain struct {
	Seed     int64    `json:"seed"`
	Dir      string   `json:"dir"`
	GenError string   `json:"gen_error"`
	Layout   string   `json:"layout"`
	LinkDir  string   `json:"link_dir"`
	Keys     []genKey `json:"keys"`
	// Params are the substitution parameters python verified with (nil: none).
	Params   map[string]string `json:"params"`
	Features []string          `json:"features"`
	Python   pyVerdict         `json:"python"`
	// PythonRepaired is python's verdict on the chain without the changes tinto tolerates and
	// python does not (features "malformed-link", "extra-bad-signature"), or nil.
	PythonRepaired *pyVerdict `json:"python_repaired"`
	// Sublayouts are the sublayout files of the chain (at link paths), nested ones included.
	Sublayouts []string `json:"sublayouts"`
}

type pyVerdict struct {
	OK  bool   `json:"ok"`
	Exc string `json:"exc"`
	Msg string `json:"msg"`
}

func (v *pyVerdict) verdict() Verdict { return Verdict{OK: v.OK, Class: v.Exc, Msg: v.Msg} }

type genKey struct {
	Path  string `json:"path"`
	Type  string `json:"type"` // rsa, ed25519, ecdsa, or gpg
	SSLib string `json:"sslib"`
	// GPG is an OpenPGP key's fingerprint, in the keyring GPGHome (Type "gpg").
	GPG     string `json:"gpg"`
	GPGHome string `json:"gpg_home"`
}

func (g *genChain) chain() Chain {
	c := Chain{Seed: g.Seed, Features: g.Features}
	if g.PythonRepaired != nil {
		alt := g.PythonRepaired.verdict()
		c.PythonRepaired = &alt
	}
	return c
}

func (g *genChain) pyVerdict() Verdict { return g.Python.verdict() }

// requirePython skips the test unless python's in_toto 1.3.1 is importable.
func requirePython(t testing.TB) {
	t.Helper()
	out, err := exec.Command(*flagPython, "-c", "import in_toto; print(in_toto.__version__)").CombinedOutput()
	if err != nil {
		t.Skipf("python in-toto is not importable with %s (install it: apt-get install -y in-toto): %v: %s",
			*flagPython, err, bytes.TrimSpace(out))
	}
	if v := strings.TrimSpace(string(out)); v != "1.3.1" {
		t.Logf("python in-toto is %s, the differential tests were written against 1.3.1", v)
	}
}

// generate runs gen/gen.py once for n chains starting at seed, writing into dir, and returns
// its manifest, or a description of what went wrong.
func generate(dir string, seed int64, n int) (*manifest, string) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err.Error()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err.Error()
	}
	gen, err := filepath.Abs(filepath.Join("gen", "gen.py"))
	if err != nil {
		return nil, err.Error()
	}
	cmd := exec.Command(*flagPython, gen, "--out", dir, "--seed", fmt.Sprint(seed), "--chains", fmt.Sprint(n))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Sprintf("gen.py: %v\n%s", err, stderr.String())
	}
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err.Error()
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err.Error()
	}
	// A chain the generator failed to build is reported by report; the others are compared.
	return &m, ""
}

var (
	genOnce     sync.Once
	genManifest *manifest
	genErr      string
)

// chains generates the chains selected by the flags once per test binary.
func chains(t *testing.T) *manifest {
	t.Helper()
	requirePython(t)
	genOnce.Do(func() {
		// The generator's directory must outlive the first test that asks for it.
		dir := *flagKeep
		if dir == "" {
			d, err := os.MkdirTemp("", "tinto-difftest-chains-")
			if err != nil {
				genErr = err.Error()
				return
			}
			dir = d
			cleanups = append(cleanups, func() { os.RemoveAll(d) })
		}
		n := *flagChains
		if testing.Short() && !flagSet("chains") {
			n = 50
		}
		genManifest, genErr = generate(dir, *flagSeed, n)
	})
	if genErr != "" {
		t.Fatal(genErr)
	}
	return genManifest
}

// cleanups run after all tests.
var cleanups []func()

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// tintoBinary builds cmd/tinto once per test binary.
func tintoBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tinto-difftest-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "tinto")
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goTool); err != nil {
			goTool = "go"
		}
		out, err := exec.Command(goTool, "build", "-o", buildPath, "github.com/tintoproject/tinto/cmd/tinto").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/tinto: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if buildPath != "" {
		os.RemoveAll(filepath.Dir(buildPath))
	}
	for _, f := range cleanups {
		f()
	}
	os.Exit(code)
}

// failureLineRE finds the reason at the start of each failure line of the CLI's explanation,
// such as `    threshold (step "lint-2"): ...`, of each rejected candidate's line, such as
// `    build.1a2b3c4d.link: rule-failed (step "build"): sublayout ... failed: ...`, and of the
// further failures of a sublayout, which the CLI prints on lines of their own, indented like
// the first (`    threshold (step "pack-2"): ...`). A sublayout is a candidate link of a step, so
// its failures are the step's: python raises the first of them in its order (every step's
// links and thresholds before any sublayout), tinto reports them all.
var failureLineRE = regexp.MustCompile(`(?m)^\s*(?:\S+\.link: )?([a-z][a-z-]*)(?: \(|:)`)

// failureReasons returns every known reason at the start of a failure line in msg.
func failureReasons(msg string) []string {
	var out []string
	for _, m := range failureLineRE.FindAllStringSubmatch(msg, -1) {
		if reasonRE.MatchString(m[1]) && reasonRE.FindString(m[1]) == m[1] {
			out = append(out, m[1])
		}
	}
	return out
}

// failedRE finds the CLI's summary line "tinto intoto verify: FAILED (<reason>)".
var failedRE = regexp.MustCompile(`FAILED \(([a-z-]+)\)`)

// reasonRE finds a verr.Reason anywhere in the CLI's output (a fallback).
var reasonRE = regexp.MustCompile(`\b(bad-signature|threshold|unknown-key|expired|layout-invalid|missing-link|link-mismatch|rule-failed|inspection|certificate|revoked|mismatch|bad-metadata)\b`)

// verifyCLI runs `tinto intoto verify` on a chain and returns its verdict.
func verifyCLI(bin string, c *genChain) Verdict {
	return verifyCLIAt(bin, c, c.Layout, c.LinkDir)
}

// verifyCLIAt runs `tinto intoto verify` on the layout and link directory given, with the
// chain's keys and parameters.
func verifyCLIAt(bin string, c *genChain, layout, linkDir string) Verdict {
	args := []string{"intoto", "verify", "-l", layout, "--link-dir", linkDir}
	gpgHome := ""
	for _, k := range c.Keys {
		if k.Type == "gpg" {
			args = append(args, "-g", k.GPG)
			gpgHome = k.GPGHome
		}
	}
	if gpgHome != "" {
		args = append(args, "--gpg-home", gpgHome)
	}
	for _, k := range c.Keys {
		if k.Type != "gpg" {
			args = append(args, "-k", k.Path)
		}
	}
	for _, k := range c.Keys {
		if k.Type != "gpg" {
			args = append(args, "-t", k.Type)
		}
	}
	names := make([]string, 0, len(c.Params))
	for k := range c.Params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		args = append(args, "--param", k+"="+c.Params[k])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	msg := strings.TrimSpace(stderr.String() + stdout.String())
	var ee *exec.ExitError
	switch {
	case err == nil:
		return Verdict{OK: true}
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		class := "error"
		if m := failedRE.FindStringSubmatch(msg); m != nil {
			class = m[1]
		} else if m := reasonRE.FindString(msg); m != "" {
			class = m
		}
		return Verdict{Class: class, Msg: msg, Reasons: failureReasons(msg)}
	case errors.As(err, &ee) && ee.ExitCode() == 2:
		return Verdict{Class: "input", Msg: msg}
	default:
		return Verdict{Class: "error", Msg: fmt.Sprintf("%v: %s", err, msg)}
	}
}

// outcome is the comparison for one chain: py is the reference implementation's verdict
// (python in-toto, or in-toto-golang in TestDifferentialGolang), ours is tinto's.
type outcome struct {
	c         *genChain
	py, ours  Verdict
	deviation string
}

func (o outcome) String() string {
	return fmt.Sprintf("chain seed %d (dir %s)\n  features: %s\n  python: ok=%v %s: %s\n  tinto:  ok=%v %s: %s",
		o.c.Seed, o.c.Dir, strings.Join(o.c.Features, " "),
		o.py.OK, o.py.Class, firstLine(o.py.Msg), o.ours.OK, o.ours.Class, firstLine(o.ours.Msg))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// runAll verifies every chain with verify, concurrently, and returns the outcomes in order.
func runAll(m *manifest, verify func(*genChain) Verdict) []outcome {
	out := make([]outcome, len(m.Chains))
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < max(2, runtime.GOMAXPROCS(0)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				c := &m.Chains[i]
				o := outcome{c: c, py: c.pyVerdict()}
				if c.GenError == "" {
					o.ours = verify(c)
				}
				out[i] = o
			}
		}()
	}
	for i := range m.Chains {
		work <- i
	}
	close(work)
	wg.Wait()
	return out
}

// TestDifferentialPython generates random supply chains with python in-toto, verifies each with
// python in-toto (in the generator's process) and with `tinto intoto verify`, and fails on any
// disagreement that is not a documented deviation.
//
//	go test ./internal/difftest/ -run Python -args -chains=2000 -seed=77
func TestDifferentialPython(t *testing.T) {
	m := chains(t)
	bin := tintoBinary(t)
	start := time.Now()
	outs := runAll(m, func(c *genChain) Verdict { return verifyCLI(bin, c) })
	t.Logf("python generated and verified %d chains in %.1fs (keys: %.1fs)", len(m.Chains), m.Seconds, m.KeygenSeconds)
	if m.GPGSkip != "" {
		t.Logf("no OpenPGP keys in the chains: %s", m.GPGSkip)
	}
	t.Logf("tinto verified %d chains in %v", len(outs), time.Since(start).Round(time.Millisecond))
	report(t, "python", outs, func(o *outcome) {
		o.deviation = Classify(o.c.chain(), o.py, o.ours)
	}, Agree)
}

// report tallies outcomes, logs a summary and fails the test on unexplained disagreements.
func report(t *testing.T, ref string, outs []outcome, classify func(*outcome), agree func(c Chain, py, ours Verdict) bool) {
	t.Helper()
	var agreed, passed, bad int
	devs := map[string]int{}
	classes := map[string]int{}
	for i := range outs {
		o := &outs[i]
		if o.c.GenError != "" {
			t.Errorf("chain %d: the generator failed: %s", o.c.Seed, o.c.GenError)
			continue
		}
		if o.py.OK {
			passed++
		}
		classes[o.py.Class+" -> "+o.ours.Class]++
		if agree(o.c.chain(), o.py, o.ours) {
			agreed++
			continue
		}
		classify(o)
		if o.deviation != "" {
			devs[o.deviation]++
			continue
		}
		bad++
		if bad <= 25 {
			t.Errorf("disagreement on %s", o)
		}
	}
	keys := make([]string, 0, len(classes))
	for k := range classes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %-50s %d", strings.TrimPrefix(k, " "), classes[k])
	}
	t.Logf("%d chains: %d verified by %s; %d agree with tinto, %d documented deviations or exclusions %v, %d disagreements\nverdicts (%s -> tinto):%s",
		len(outs), passed, ref, agreed, sumCounts(devs), devs, bad, ref, b.String())
	if bad > 25 {
		t.Errorf("... and %d more disagreements", bad-25)
	}
	// A comparison is only as good as its mix: the generator must produce chains that verify
	// and chains that do not.
	if n := len(outs); n >= 50 && (passed < n/20 || passed > n-n/20) {
		t.Errorf("%s verified %d of %d chains: the generated mix is degenerate", ref, passed, n)
	}
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// flagSet reports whether the named flag was given on the command line.
func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
