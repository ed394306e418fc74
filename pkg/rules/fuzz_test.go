package rules

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tintoproject/tinto/pkg/verr"
)

// refRegexp is the reference matcher of FuzzGlob: python's fnmatch.translate, step by step,
// emitting RE2 syntax (every class member written as \x{...}, so nothing in a class is special)
// and matched by package regexp. It shares no code with Glob.
func refRegexp(pat string) (*regexp.Regexp, error) {
	p := []rune(pat)
	n := len(p)
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	lastStar := false
	esc := func(r rune) string { return fmt.Sprintf(`\x{%x}`, r) }
	for i := 0; i < n; {
		c := p[i]
		i++
		if c != '*' {
			lastStar = false
		}
		switch c {
		case '*':
			if !lastStar {
				b.WriteString(`.*`)
			}
			lastStar = true
		case '?':
			b.WriteString(`.`)
		case '[':
			j := i
			if j < n && p[j] == '!' {
				j++
			}
			if j < n && p[j] == ']' {
				j++
			}
			for j < n && p[j] != ']' {
				j++
			}
			if j >= n {
				b.WriteString(esc('['))
				continue
			}
			stuff := string(p[i:j])
			var chunks []string
			if !strings.Contains(stuff, "-") {
				chunks = []string{stuff}
			} else {
				k := i + 1
				if p[i] == '!' {
					k = i + 2
				}
				for {
					f := -1
					for x := k; x < j; x++ {
						if p[x] == '-' {
							f = x
							break
						}
					}
					if f < 0 {
						break
					}
					chunks = append(chunks, string(p[i:f]))
					i = f + 1
					k = f + 3
				}
				if last := string(p[i:j]); last != "" {
					chunks = append(chunks, last)
				} else {
					chunks[len(chunks)-1] += "-"
				}
				for k := len(chunks) - 1; k > 0; k-- {
					a, c := []rune(chunks[k-1]), []rune(chunks[k])
					if a[len(a)-1] > c[0] {
						chunks[k-1] = string(a[:len(a)-1]) + string(c[1:])
						chunks = append(chunks[:k], chunks[k+1:]...)
					}
				}
			}
			i = j + 1
			// python's class text: chunks with '\\' and '-' escaped, joined by '-', then '&', '~'
			// and '|' escaped; '!' first means negation.
			var py strings.Builder
			for k, ch := range chunks {
				if k > 0 {
					py.WriteByte('-')
				}
				py.WriteString(strings.NewReplacer(`\`, `\\`, "-", `\-`).Replace(ch))
			}
			stuff = regexp.MustCompile(`([&~|])`).ReplaceAllString(py.String(), `\$1`)
			switch {
			case stuff == "":
				b.WriteString(`[^\x00-\x{10FFFF}]`)
				continue
			case stuff == "!":
				b.WriteString(`.`)
				continue
			}
			b.WriteString("[")
			if stuff[0] == '!' {
				b.WriteString("^")
				stuff = stuff[1:]
			}
			// Re-spell python's class text for RE2: every character as \x{...}, escaped or
			// not, except an unescaped '-', which stays a range operator.
			rs := []rune(stuff)
			for x := 0; x < len(rs); x++ {
				switch {
				case rs[x] == '\\' && x+1 < len(rs):
					x++
					b.WriteString(esc(rs[x]))
				case rs[x] == '-':
					b.WriteString("-")
				default:
					b.WriteString(esc(rs[x]))
				}
			}
			b.WriteString("]")
		default:
			b.WriteString(esc(c))
		}
	}
	b.WriteString(`\z`)
	return regexp.Compile(b.String())
}

func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{
		{"*", ""}, {"*.c", "a/b.c"}, {"a?c", "abc"}, {"[!a]*", "bcd"}, {"[a-c]x", "bx"}, {"[z-a]", "a"},
		{"[!z-a]", "q"}, {"[", "["}, {"a[!", "a[!"}, {"[]]", "]"}, {"[!]]", "a"}, {"\\*", "\\x"},
		{"*a*b*c", "xaxbxc"}, {"a*a", "a"}, {"[--z]", "-"}, {"[a-]", "-"}, {"[^a]", "^"}, {"é?", "éé"},
		{"*[!.]h", "x.h"}, {"[a-z-a]", "-"}, {"[c-b-a]", "-"}, {"[b-a-]", "-"}, {"日*本", "日x本"},
		{"[^-[!-z]b日[!^]*", "ab日x"}, {"[^-[!-z]", "-"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if len(pattern) > 200 || len(name) > 200 || !utf8.ValidString(pattern) || !utf8.ValidString(name) {
			return
		}
		g, err := CompileGlob(pattern)
		if err != nil {
			t.Fatalf("CompileGlob(%q): %v", pattern, err)
		}
		re, err := refRegexp(pattern)
		if err != nil {
			t.Fatalf("reference regexp for %q: %v", pattern, err)
		}
		if got, want := g.Match(name), re.MatchString(name); got != want {
			t.Fatalf("Glob(%q).Match(%q) = %v, reference %v (%s)", pattern, name, got, want, re)
		}
	})
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{
		"MATCH\t*\tWITH\tPRODUCTS\tFROM\tx", "match\t*\tin\tsrc\twith\tmaterials\tin\tdst\tfrom\ts",
		"ALLOW\t*", "DISALLOW\t*.pem", "REQUIRE\tfoo", "CREATE\t../x", "", "MATCH", "FOO\tbar",
		"MATCH\t*\tIN\t\tWITH\tPRODUCTS\tFROM\tx", "DIſALLOW\t*",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		var fields []string
		if data != "" {
			fields = strings.Split(data, "\t")
		}
		r, err := Parse(fields)
		if err != nil {
			if !errors.Is(err, verr.ErrInvalidInput) {
				t.Fatalf("Parse(%q): error %v is not an InputError", fields, err)
			}
			return
		}
		// A parsed rule compiles, and its canonical spelling parses to the same rule.
		if _, err := Compile([]Rule{r}); err != nil {
			t.Fatalf("Compile(Parse(%q)): %v", fields, err)
		}
		r2, err := Parse(r.Fields())
		if err != nil {
			t.Fatalf("Parse(%q) (canonical of %q): %v", r.Fields(), fields, err)
		}
		r.Text, r2.Text = nil, nil
		if fmt.Sprint(r) != fmt.Sprint(r2) {
			t.Fatalf("round trip: %+v != %+v", r, r2)
		}
	})
}

// naiveRun is a literal transcription of python in-toto's verify_item_rules (one pass over the
// whole queue per rule), used to check the indexed engine without python.
func naiveRun(t testing.TB, rs []Rule, side Side, self StepArtifacts, steps func(string) (StepArtifacts, bool)) (map[string]int, int) {
	queue := map[string]bool{}
	src := self.Materials
	if side == Products {
		src = self.Products
	}
	for n := range src {
		queue[n] = true
	}
	consumed := map[string]int{}
	for i, r := range rs {
		g := MustCompileGlob(r.Pattern)
		filter := func(sp string) map[string]string { // full name -> rest
			out := map[string]string{}
			for n := range queue {
				rest := n
				if sp != "" {
					if !strings.HasPrefix(n, sp) {
						continue
					}
					rest = n[len(sp):]
				}
				if g.Match(rest) {
					out[n] = rest
				}
			}
			return out
		}
		take := map[string]bool{}
		switch r.Verb {
		case Match:
			sp := r.SrcPrefix
			if sp != "" && !strings.HasSuffix(sp, "/") {
				sp += "/"
			}
			st, ok := steps(r.DstStep)
			if !ok {
				break
			}
			dst := st.Materials
			if r.DstType == DstProducts {
				dst = st.Products
			}
			for n, rest := range filter(sp) {
				if sp != "" && strings.HasPrefix(rest, "/") {
					return consumed, i // python raises KeyError here; tinto fails the rule
				}
				dn := rest
				if r.DstPrefix != "" && !strings.HasPrefix(rest, "/") {
					dn = strings.TrimSuffix(r.DstPrefix, "/") + "/" + rest
					if strings.HasSuffix(r.DstPrefix, "/") {
						dn = r.DstPrefix + rest
					}
				}
				if d, ok := dst[dn]; ok && maps.Equal(d.Map(), src[n].Map()) {
					take[n] = true
				}
			}
		case Create, Delete, Modify, Allow:
			for n := range filter("") {
				m, inM := self.Materials[n]
				p, inP := self.Products[n]
				switch r.Verb {
				case Create:
					take[n] = inP && !inM
				case Delete:
					take[n] = inM && !inP
				case Modify:
					take[n] = inM && inP && !maps.Equal(m.Map(), p.Map())
				case Allow:
					take[n] = true
				}
			}
		case Disallow:
			if len(filter("")) > 0 {
				return consumed, i
			}
		case Require:
			if !queue[r.Pattern] {
				return consumed, i
			}
		}
		for n, ok := range take {
			if ok {
				delete(queue, n)
				consumed[n] = i
			}
		}
	}
	return consumed, -1
}

// checkAgainstNaive runs one generated case in both engines.
func checkAgainstNaive(t *testing.T, c diffCase) {
	t.Helper()
	rs, err := ParseList(c.Rules)
	if err != nil {
		t.Fatalf("%v\n%v", err, c)
	}
	side := Materials
	if c.Side == "products" {
		side = Products
	}
	steps := func(name string) (StepArtifacts, bool) {
		s, ok := c.Steps[name]
		return StepArtifacts{Materials: s["materials"], Products: s["products"]}, ok
	}
	self, _ := steps(c.Self)
	res := MustCompile(rs).Run(side, self, steps)
	wantC, wantF := naiveRun(t, rs, side, self, steps)
	failed := -1
	for k, o := range res.Outcomes {
		if o.Failed {
			failed = k
			break
		}
	}
	got := map[string]int{}
	for n, k := range res.ConsumedBy {
		if failed < 0 || k < failed {
			got[n] = k
		}
	}
	if failed != wantF || !maps.Equal(got, wantC) || (res.Err != nil) != (wantF >= 0) {
		t.Fatalf("indexed: failed=%d consumed=%v err=%v\nnaive:   failed=%d consumed=%v\n%v", failed, got, res.Err, wantF, wantC, c)
	}
	// The same case with equal sets and equal digest maps shared, as pkg/intoto's parser shares
	// them between consecutive links, gives the same result (the engine short-cuts shared maps).
	sh := sharedSteps(c.Steps)
	shSteps := func(name string) (StepArtifacts, bool) {
		s, ok := sh[name]
		return StepArtifacts{Materials: s["materials"], Products: s["products"]}, ok
	}
	shSelf, _ := shSteps(c.Self)
	run := MustCompile(rs).Run
	valid := true
	for n := range self.Materials {
		valid = valid && ValidateName(n) == nil
	}
	for n := range self.Products {
		valid = valid && ValidateName(n) == nil
	}
	if valid {
		run = MustCompile(rs).RunValidated
	}
	res2 := run(side, shSelf, shSteps)
	if !maps.Equal(res.ConsumedBy, res2.ConsumedBy) || fmt.Sprint(res.Outcomes) != fmt.Sprint(res2.Outcomes) || (res.Err == nil) != (res2.Err == nil) {
		t.Fatalf("shared maps (validated %v): consumed=%v outcomes=%v err=%v\nseparate maps: consumed=%v outcomes=%v err=%v\n%v",
			valid, res2.ConsumedBy, res2.Outcomes, res2.Err, res.ConsumedBy, res.Outcomes, res.Err, c)
	}
	// The compact consumer record holds the same facts as ConsumedBy.
	res3 := MustCompile(rs).RunWith(side, shSelf, shSteps, RunOptions{NamesValidated: valid, CompactConsumers: true})
	if res3.ConsumedBy != nil || !maps.Equal(res.ConsumedBy, res3.Consumers()) || res3.NumConsumed() != len(res.ConsumedBy) ||
		res3.Remaining != res.Remaining || fmt.Sprint(res.Outcomes) != fmt.Sprint(res3.Outcomes) || (res.Err == nil) != (res3.Err == nil) {
		t.Fatalf("compact: consumed=%v outcomes=%v err=%v\nmap: consumed=%v outcomes=%v err=%v\n%v",
			res3.Consumers(), res3.Outcomes, res3.Err, res.ConsumedBy, res.Outcomes, res.Err, c)
	}
	// Visiting the queue in another order (RunOptions.Queue) gives the same result; a Queue that
	// does not yield the whole queue is ignored.
	q := self.Materials
	if side == Products {
		q = self.Products
	}
	names := slices.Sorted(maps.Keys(q))
	rev := slices.Clone(names)
	slices.Reverse(rev)
	for k, order := range [][]string{names, rev, names[:max(0, len(names)-1)], append(slices.Clone(names), "extra")} {
		o := RunOptions{NamesValidated: valid, CompactConsumers: k%2 == 0, Queue: func(yield func(string, Digests) bool) {
			for _, n := range order {
				if !yield(n, q[n]) {
					return
				}
			}
		}}
		res4 := MustCompile(rs).RunWith(side, shSelf, shSteps, o)
		if !maps.Equal(res.ConsumedBy, res4.Consumers()) || res4.Remaining != res.Remaining ||
			fmt.Sprint(res.Outcomes) != fmt.Sprint(res4.Outcomes) || fmt.Sprint(res.Err) != fmt.Sprint(res4.Err) {
			t.Fatalf("queue order %q: consumed=%v outcomes=%v err=%v\nmap: consumed=%v outcomes=%v err=%v\n%v",
				order, res4.Consumers(), res4.Outcomes, res4.Err, res.ConsumedBy, res.Outcomes, res.Err, c)
		}
	}
	for _, q := range []Artifacts{self.Materials, self.Products} {
		for n := range q {
			k1, ok1 := res.ConsumerOf(n)
			k3, ok3 := res3.ConsumerOf(n)
			if k1 != k3 || ok1 != ok3 {
				t.Fatalf("ConsumerOf(%q): map %d %v, compact %d %v", n, k1, ok1, k3, ok3)
			}
		}
	}
}

// sharedSteps returns a copy of steps in which equal artifact sets are one map and equal digest
// maps are one map.
func sharedSteps(steps map[string]map[string]Artifacts) map[string]map[string]Artifacts {
	var digs []Digests
	var sets []Artifacts
	out := map[string]map[string]Artifacts{}
	for _, name := range slices.Sorted(maps.Keys(steps)) {
		out[name] = map[string]Artifacts{}
		for _, side := range slices.Sorted(maps.Keys(steps[name])) {
			a := steps[name][side]
			var set Artifacts
			for _, prev := range sets {
				if maps.Equal(prev, a) {
					set = prev
					break
				}
			}
			if set == nil && a != nil {
				set = make(Artifacts, len(a))
				for n, d := range a {
					i := slices.Index(digs, d)
					if i < 0 {
						i = len(digs)
						digs = append(digs, d)
					}
					set[n] = digs[i]
				}
				sets = append(sets, set)
			}
			out[name][side] = set
		}
	}
	return out
}

// TestEngineMatchesNaive compares the indexed engine with the naive transcription on many
// generated cases (no python needed).
func TestEngineMatchesNaive(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	g := newGen(*flagSeed + 100)
	for range n {
		checkAgainstNaive(t, g.diffCase())
	}
}

func FuzzRun(f *testing.F) {
	f.Add(uint64(1))
	f.Add(uint64(42))
	f.Fuzz(func(t *testing.T, seed uint64) {
		checkAgainstNaive(t, newGen(seed).diffCase())
	})
}
