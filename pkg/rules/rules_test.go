package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/tintoproject/tinto/pkg/verr"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      []string
		want    Rule // Text is not compared
		wantErr string
	}{
		{in: []string{"ALLOW", "*"}, want: Rule{Verb: Allow, Pattern: "*"}},
		{in: []string{"disallow", "*.pem"}, want: Rule{Verb: Disallow, Pattern: "*.pem"}},
		{in: []string{"Create", "dist/*"}, want: Rule{Verb: Create, Pattern: "dist/*"}},
		{in: []string{"DELETE", "tmp/*"}, want: Rule{Verb: Delete, Pattern: "tmp/*"}},
		{in: []string{"MODIFY", "VERSION"}, want: Rule{Verb: Modify, Pattern: "VERSION"}},
		{in: []string{"REQUIRE", "go.mod"}, want: Rule{Verb: Require, Pattern: "go.mod"}},
		{in: []string{"MATCH", "*", "WITH", "PRODUCTS", "FROM", "build"},
			want: Rule{Verb: Match, Pattern: "*", DstType: DstProducts, DstStep: "build"}},
		{in: []string{"match", "*.c", "in", "src", "with", "materials", "from", "Build"},
			want: Rule{Verb: Match, Pattern: "*.c", SrcPrefix: "src", DstType: DstMaterials, DstStep: "Build"}},
		{in: []string{"MATCH", "*", "WITH", "products", "IN", "out/", "FROM", "b"},
			want: Rule{Verb: Match, Pattern: "*", DstType: DstProducts, DstPrefix: "out/", DstStep: "b"}},
		{in: []string{"MATCH", "*", "IN", "a", "WITH", "PRODUCTS", "IN", "b", "FROM", "s"},
			want: Rule{Verb: Match, Pattern: "*", SrcPrefix: "a", DstType: DstProducts, DstPrefix: "b", DstStep: "s"}},
		// An empty prefix is no prefix (as in python).
		{in: []string{"MATCH", "*", "IN", "", "WITH", "PRODUCTS", "FROM", "s"},
			want: Rule{Verb: Match, Pattern: "*", DstType: DstProducts, DstStep: "s"}},
		// Keywords are case-insensitive; patterns and step names keep their case.
		{in: []string{"mAtCh", "X*", "WiTh", "PrOdUcTs", "fRoM", "Step"},
			want: Rule{Verb: Match, Pattern: "X*", DstType: DstProducts, DstStep: "Step"}},

		{in: nil, wantErr: "empty rule"},
		{in: []string{}, wantErr: "empty rule"},
		{in: []string{"ALLOW"}, wantErr: "exactly one argument"},
		{in: []string{"ALLOW", "a", "b"}, wantErr: "exactly one argument"},
		{in: []string{"ALLOWED", "a"}, wantErr: `unknown keyword "ALLOWED"`},
		{in: []string{"DIſALLOW", "a"}, wantErr: "unknown keyword"}, // python's lower() keeps 'ſ'
		{in: []string{"MATCH", "*"}, wantErr: "MATCH rules have the form"},
		{in: []string{"MATCH", "*", "WITH", "PRODUCTS", "FROM"}, wantErr: "MATCH rules have the form"},
		{in: []string{"MATCH", "*", "FROM", "s", "WITH", "PRODUCTS"}, wantErr: "MATCH rules have the form"},
		{in: []string{"MATCH", "*", "WITH", "ARTIFACTS", "FROM", "s"}, wantErr: "MATERIALS or PRODUCTS"},
		{in: []string{"MATCH", "*", "İN", "a", "WITH", "PRODUCTS", "FROM", "s"}, wantErr: "MATCH rules have the form"},
		{in: []string{"ALLOW", ""}, wantErr: "empty pattern"},
		{in: []string{"ALLOW", "../*"}, wantErr: "segment is '..'"},
		{in: []string{"DISALLOW", "./secret"}, wantErr: "segment is '.'"},
		{in: []string{"DISALLOW", "a//b"}, wantErr: "empty path segment"},
		{in: []string{"DISALLOW", "dir/"}, wantErr: "empty path segment"},
		{in: []string{"ALLOW", "a\x00b"}, wantErr: "NUL"},
		{in: []string{"ALLOW", "\xff"}, wantErr: "UTF-8"},
		{in: []string{"ALLOW", strings.Repeat("*", MaxPatternLen+1)}, wantErr: "limit"},
		{in: []string{"REQUIRE", "*/../x"}, wantErr: "REQUIRE name"},
		{in: []string{"MATCH", "*", "IN", "../src", "WITH", "PRODUCTS", "FROM", "s"}, wantErr: "source prefix"},
		{in: []string{"MATCH", "*", "WITH", "PRODUCTS", "IN", "a\\b", "FROM", "s"}, wantErr: "destination prefix"},
		{in: []string{"MATCH", "*", "WITH", "PRODUCTS", "IN", "/", "FROM", "s"}, wantErr: "destination prefix"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, " "), func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				var ie *verr.InputError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) = %+v, %v; want InputError containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got.Text, "\x00") != strings.Join(tt.in, "\x00") {
				t.Errorf("Text = %q, want %q", got.Text, tt.in)
			}
			got.Text = nil
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestRuleString(t *testing.T) {
	r, _ := Parse([]string{"match", "*", "in", "src", "with", "products", "from", "b"})
	if got := r.String(); got != "match * in src with products from b" {
		t.Errorf("String() = %q", got)
	}
	r.Text = nil
	if got := r.String(); got != "MATCH * IN src WITH PRODUCTS FROM b" {
		t.Errorf("canonical String() = %q", got)
	}
}

func TestParseListJoinsErrors(t *testing.T) {
	_, err := ParseList([][]string{{"ALLOW", "*"}, {"BOGUS", "x"}, {}})
	if err == nil || !strings.Contains(err.Error(), "rule 1") || !strings.Contains(err.Error(), "rule 2") {
		t.Fatalf("err = %v", err)
	}
	if !errors.Is(err, verr.ErrInvalidInput) {
		t.Errorf("not an InputError: %v", err)
	}
}

func TestCompileRejectsBadRules(t *testing.T) {
	for _, r := range []Rule{
		{Verb: "COPY", Pattern: "*"},
		{Verb: Match, Pattern: "*", DstType: "products", DstStep: "s"}, // DstType must be upper case
		{Verb: Allow, Pattern: "*", DstStep: "s"},
		{Verb: Allow, Pattern: "a/../b"},
		{Verb: Require, Pattern: "a/"},
	} {
		if _, err := Compile([]Rule{r}); !errors.Is(err, verr.ErrInvalidInput) {
			t.Errorf("Compile(%+v) = %v, want an InputError", r, err)
		}
	}
}

func TestValidateName(t *testing.T) {
	good := []string{"a", "a/b/c.txt", "/abs/path", ".hidden", "a/.hidden", "..x", "x..", "a/...",
		"x y", "é/日本.txt", "f[1]*?.txt", "https://example.com/a/b", "git+https://h/r.git@v1",
		"file:///abs/x", "https://h//a", "pkg:npm/left-pad@1.0", "a:b", "%2e%2e"}
	bad := []string{"", ".", "..", "./a", "a/./b", "a/..", "../a", "a//b", "a/", "/", "//a",
		"a\\b", "..\\x", "a\x00b", "\xff", "https://h/../x", "https://h/a/%2e%2E/x", "https://h/.",
		"C:\\x", "a/b/"}
	for _, n := range good {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", n, err)
		}
	}
	for _, n := range bad {
		err := ValidateName(n)
		var ie *verr.InputError
		if !errors.As(err, &ie) {
			t.Errorf("ValidateName(%q) = %v, want an InputError", n, err)
		}
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pat, name string
		want      bool
	}{
		{"*", "", true},
		{"*", "a/b/c", true},         // * crosses '/'
		{"src/*", "src/a/b.c", true}, // and so does it here
		{"*.c", "a/b/c.c", true},
		{"*.c", "a.h", false},
		{"?", "é", true}, // one code point
		{"?", "ab", false},
		{"a?c", "a/c", true},
		{"[abc]", "b", true},
		{"[!abc]", "b", false},
		{"[!abc]", "d", true},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[]]", "]", true},   // ']' first is a member
		{"[!]]", "]", false}, // ... also after '!'
		{"[!]]", "a", true},
		{"[", "[", true},      // unterminated '[' is literal
		{"a[!", "a[!", true},  // likewise
		{"[z-a]", "a", false}, // reversed range: matches nothing
		{"[!z-a]", "q", true}, // negated empty: any character
		{"[^a]", "^", true},   // '^' is not negation
		{"[a-]", "-", true},   // trailing '-' is literal
		{"[--0]", "/", true},  // range '-'..'0'
		{"\\*", "\\x", true},  // backslash is a literal; * still a wildcard
		{"\\*", "*", false},   // no escaping
		{"[\\]", "\\", true},  // backslash in a set
		{"A*", "a", false},    // case-sensitive
		{"a*a", "a", false},   // the two literals cannot overlap
		{"*a*b*c*", "xaxbxcx", true},
		{"*a*b*c", "abcab", false},
		{"日*本", "日本", true},
		{"*[!.]h", "x.h", false},
		{"*[!.]h", "xyh", true},
		// fnmatch.translate's hyphen handling: after dropping the reversed range '^'-'[', the
		// set text is "!-z", which re reads as a negated set of '-' and 'z'.
		{"[^-[!-z]", "-", false},
		{"[^-[!-z]", "z", false},
		{"[^-[!-z]", "a", true},
		{"[z-a-b]", "b", true}, // "z-a" dropped: '-' and 'b' remain
		{"[z-a-b]", "-", true},
		{"[z-a-b]", "c", false},
		{"[b-a-]", "-", true},
		{"[b-a-]", "b", false},
	}
	for _, tt := range tests {
		g, err := CompileGlob(tt.pat)
		if err != nil {
			t.Fatalf("CompileGlob(%q): %v", tt.pat, err)
		}
		if got := g.Match(tt.name); got != tt.want {
			t.Errorf("Glob(%q).Match(%q) = %v, want %v", tt.pat, tt.name, got, tt.want)
		}
	}
}

// TestGlobHostile checks that hostile patterns are bounded: over-long ones are rejected, and the
// longest accepted one with thousands of stars finishes against a long name (no backtracking
// explosion; the test would time out otherwise).
func TestGlobHostile(t *testing.T) {
	if _, err := CompileGlob(strings.Repeat("a", MaxPatternLen+1)); !errors.Is(err, verr.ErrInvalidInput) {
		t.Fatalf("over-long pattern: %v", err)
	}
	pat := strings.Repeat("*a", MaxPatternLen/2-1) + "*b"
	g := MustCompileGlob(pat)
	if g.Match(strings.Repeat("a", 100000)) {
		t.Fatal("matched")
	}
	pat = strings.Repeat("*?", MaxPatternLen/2)
	if MustCompileGlob(pat).Match(strings.Repeat("x", 1000)) {
		t.Fatal("matched")
	}
}

type stepMap map[string]StepArtifacts

func (m stepMap) get(name string) (StepArtifacts, bool) { s, ok := m[name]; return s, ok }

func sha(s string) Digests { return MustDigests(map[string]string{"sha256": s}) }

func TestRun(t *testing.T) {
	fetch := StepArtifacts{Products: Artifacts{"foo.py": sha("1"), "lib/x.py": sha("2"), "README": sha("3")}}
	self := StepArtifacts{
		Materials: Artifacts{"foo.py": sha("1"), "lib/x.py": sha("2"), "README": sha("3"), "tmp.o": sha("4"), "VERSION": sha("5")},
		Products:  Artifacts{"foo.py": sha("1"), "lib/x.py": sha("9"), "README": sha("3"), "VERSION": sha("6"), "out/app": sha("7"), "out/app.sig": sha("8")},
	}
	steps := stepMap{"fetch": fetch, "build": self}
	tests := []struct {
		name     string
		side     Side
		rules    [][]string
		consumed map[string]int
		failed   int // index of the first failing rule, -1 for none
		na       []int
	}{
		{"match all", Materials, [][]string{{"MATCH", "*", "WITH", "PRODUCTS", "FROM", "fetch"}, {"DISALLOW", "*.py"}},
			map[string]int{"foo.py": 0, "lib/x.py": 0, "README": 0}, -1, nil},
		{"match hash mismatch", Products, [][]string{{"MATCH", "*", "WITH", "PRODUCTS", "FROM", "fetch"}, {"DISALLOW", "lib/*"}},
			map[string]int{"foo.py": 0, "README": 0}, 1, nil},
		{"match in prefix", Materials, [][]string{{"MATCH", "*", "IN", "lib", "WITH", "PRODUCTS", "IN", "lib/", "FROM", "fetch"}},
			map[string]int{"lib/x.py": 0}, -1, nil},
		{"match prefix only under prefix", Materials, [][]string{{"MATCH", "*.py", "IN", "lib", "WITH", "PRODUCTS", "FROM", "fetch"}},
			map[string]int{}, -1, nil}, // lib/x.py -> x.py matches but is not in fetch
		{"match missing step", Materials, [][]string{{"MATCH", "*", "WITH", "PRODUCTS", "FROM", "nope"}},
			map[string]int{}, -1, nil},
		{"create delete modify", Products, [][]string{{"CREATE", "out/*"}, {"MODIFY", "*"}, {"DELETE", "*"}, {"ALLOW", "*"}},
			map[string]int{"out/app": 0, "out/app.sig": 0, "lib/x.py": 1, "VERSION": 1, "foo.py": 3, "README": 3}, -1, nil},
		{"delete on materials", Materials, [][]string{{"DELETE", "*"}, {"DISALLOW", "tmp.o"}},
			map[string]int{"tmp.o": 0}, -1, []int{1}},
		{"first rule wins", Products, [][]string{{"ALLOW", "out/app"}, {"CREATE", "out/*"}},
			map[string]int{"out/app": 0, "out/app.sig": 1}, -1, nil},
		{"disallow fails", Products, [][]string{{"ALLOW", "*.py"}, {"DISALLOW", "*"}},
			map[string]int{"foo.py": 0, "lib/x.py": 0}, 1, nil},
		{"require present", Products, [][]string{{"REQUIRE", "VERSION"}, {"ALLOW", "VERSION"}, {"REQUIRE", "VERSION"}},
			map[string]int{"VERSION": 1}, 2, nil},
		{"require absent", Materials, [][]string{{"REQUIRE", "out/app"}}, map[string]int{}, 0, nil},
		{"leftovers are fine", Products, [][]string{{"ALLOW", "foo.py"}}, map[string]int{"foo.py": 0}, -1, nil},
		{"no rules", Products, nil, map[string]int{}, -1, nil},
		{"not applicable", Products, [][]string{{"ALLOW", "*.rs"}, {"DISALLOW", "*.exe"}}, map[string]int{}, -1, []int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := CompileList(tt.rules)
			if err != nil {
				t.Fatal(err)
			}
			res := p.Run(tt.side, self, steps.get)
			if fmt.Sprint(res.ConsumedBy) != fmt.Sprint(tt.consumed) {
				t.Errorf("ConsumedBy = %v, want %v", res.ConsumedBy, tt.consumed)
			}
			failed := -1
			for i, o := range res.Outcomes {
				if o.Failed {
					failed = i
					break
				}
			}
			if failed != tt.failed {
				t.Errorf("first failed rule = %d, want %d (%+v)", failed, tt.failed, res.Outcomes)
			}
			if (res.Err != nil) != (tt.failed >= 0) {
				t.Errorf("Err = %v", res.Err)
			}
			if res.Err != nil {
				var ve *verr.VerificationError
				if !errors.As(res.Err, &ve) || ve.Reason != verr.RuleFailed || ve.Rule != strings.Join(tt.rules[tt.failed], " ") || ve.Artifact == "" {
					t.Errorf("Err = %#v", res.Err)
				}
			}
			for _, i := range tt.na {
				if !res.Outcomes[i].NotApplicable {
					t.Errorf("rule %d: not marked not applicable: %+v", i, res.Outcomes[i])
				}
			}
			queue := self.Materials
			if tt.side == Products {
				queue = self.Products
			}
			if res.Remaining != len(queue)-len(res.ConsumedBy) {
				t.Errorf("Remaining = %d", res.Remaining)
			}
		})
	}
}

func TestRunDisallowReportsFirstName(t *testing.T) {
	p := MustCompile(mustParseList(t, [][]string{{"DISALLOW", "*"}}))
	res := p.Run(Products, StepArtifacts{Products: Artifacts{"c": {}, "a": {}, "b": {}}}, nil)
	o := res.Outcomes[0]
	if !o.Failed || o.Artifact != "a" || o.Matched != 3 || !strings.Contains(o.Msg, "3 artifacts") {
		t.Fatalf("%+v", o)
	}
	if !errors.Is(res.Err, verr.RuleFailed) {
		t.Fatalf("Err = %v", res.Err)
	}
}

func TestRunRejectsBadNames(t *testing.T) {
	p := MustCompile(mustParseList(t, [][]string{{"ALLOW", "*"}}))
	res := p.Run(Products, StepArtifacts{Products: Artifacts{"ok": {}, "a/../b": {}, "x//y": {}}}, nil)
	var ve *verr.VerificationError
	if !errors.As(res.Err, &ve) || ve.Artifact != "a/../b" || !errors.Is(res.Err, verr.ErrInvalidInput) {
		t.Fatalf("Err = %v", res.Err)
	}
	if _, ok := res.ConsumedBy["a/../b"]; ok {
		t.Fatal("a rejected name was consumed")
	}
	res = p.Run(Side(7), StepArtifacts{}, nil)
	if res.Err == nil {
		t.Fatal("invalid side accepted")
	}
}

func TestRunConcurrent(t *testing.T) {
	g := newGen(5)
	c := g.diffCase()
	c.Rules = append(c.Rules, []string{"ALLOW", "*"})
	p, err := CompileList(c.Rules)
	if err != nil {
		t.Fatal(err)
	}
	self := StepArtifacts{Materials: c.Steps[c.Self]["materials"], Products: c.Steps[c.Self]["products"]}
	steps := func(name string) (StepArtifacts, bool) {
		s, ok := c.Steps[name]
		return StepArtifacts{Materials: s["materials"], Products: s["products"]}, ok
	}
	want := fmt.Sprint(p.Run(Products, self, steps).ConsumedBy)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := fmt.Sprint(p.Run(Products, self, steps).ConsumedBy); got != want {
				t.Errorf("concurrent run differs")
			}
		}()
	}
	wg.Wait()
}

func mustParseList(t *testing.T, l [][]string) []Rule {
	t.Helper()
	rs, err := ParseList(l)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestResultJSON(t *testing.T) {
	p := MustCompile(mustParseList(t, [][]string{{"ALLOW", "a"}, {"DISALLOW", "*"}}))
	res := p.Run(Products, StepArtifacts{Products: Artifacts{"a": sha("1"), "b": sha("2")}}, nil)
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"side":"products","outcomes":[{"rule":"ALLOW a","verb":"ALLOW","matched":1,"consumed":1,"not_applicable":false,"failed":false},` +
		`{"rule":"DISALLOW *","verb":"DISALLOW","matched":1,"consumed":0,"not_applicable":false,"failed":true,"msg":"\"b\" is disallowed: no earlier rule consumed it","artifact":"b"}],` +
		`"consumed_by":{"a":0},"remaining":1}`
	if string(b) != want {
		t.Errorf("JSON:\n%s\nwant\n%s", b, want)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil || back.Side != Products {
		t.Errorf("round trip: %v %v", err, back.Side)
	}
}

func TestMatchPrefixInsideURIFails(t *testing.T) {
	p := MustCompile(mustParseList(t, [][]string{{"MATCH", "*", "IN", "pkg:", "WITH", "PRODUCTS", "FROM", "fetch"}}))
	self := StepArtifacts{Products: Artifacts{"pkg://x/y": sha("1")}}
	steps := stepMap{"fetch": {Products: Artifacts{"/x/y": sha("1"), "pkg://x/y": sha("1")}}}
	res := p.Run(Products, self, steps.get)
	var ve *verr.VerificationError
	if !errors.As(res.Err, &ve) || ve.Artifact != "pkg://x/y" || len(res.ConsumedBy) != 0 {
		t.Fatalf("Err = %v, consumed %v", res.Err, res.ConsumedBy)
	}
}

// TestRunQueueParallel checks RunOptions.Queue on a queue large enough for the parallel
// pipeline: any visiting order gives the result of the map walk.
func TestRunQueueParallel(t *testing.T) {
	p := MustCompile(mustParseList(t, [][]string{
		{"MATCH", "src/*", "WITH", "PRODUCTS", "FROM", "fetch"}, {"CREATE", "bin/*"}, {"MODIFY", "doc/*"},
		{"ALLOW", "x/*"}, {"DISALLOW", "*"}}))
	n := parallelMin + 5000
	self := StepArtifacts{Materials: Artifacts{}, Products: Artifacts{}}
	fetch := StepArtifacts{Materials: Artifacts{}, Products: Artifacts{}}
	var order []string
	for i := range n {
		dir := []string{"src", "bin", "doc", "x", "y"}[i%5]
		name := fmt.Sprintf("%s/f%06d", dir, i)
		d := sha(fmt.Sprintf("%04x", i%7))
		self.Products[name] = d
		if i%3 != 0 {
			self.Materials[name] = sha(fmt.Sprintf("%04x", i%5))
			fetch.Products[name] = d
		}
		order = append(order, name)
	}
	steps := stepMap{"fetch": fetch}.get
	want := p.run(Products, self, steps, 2, RunOptions{})
	for _, procs := range []int{1, 2, 4} {
		for _, ord := range [][]string{order, order[:n-1]} {
			got := p.run(Products, self, steps, procs, RunOptions{CompactConsumers: true, Queue: func(yield func(string, Digests) bool) {
				for _, name := range ord {
					if !yield(name, self.Products[name]) {
						return
					}
				}
			}})
			if !maps.Equal(want.ConsumedBy, got.Consumers()) || want.Remaining != got.Remaining ||
				fmt.Sprint(want.Outcomes) != fmt.Sprint(got.Outcomes) || fmt.Sprint(want.Err) != fmt.Sprint(got.Err) {
				t.Fatalf("procs %d, queue of %d: outcomes %v err %v; want %v err %v", procs, len(ord), got.Outcomes, got.Err, want.Outcomes, want.Err)
			}
		}
	}
}
