package rules

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// gen is a seeded generator of random rule lists and artifact sets, shared by the differential
// tests and the benchmarks' correctness checks. Names come from a small vocabulary so that
// patterns, prefixes and digests collide often.
type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) chance(p float64) bool    { return g.r.Float64() < p }

var (
	genDirs  = []string{"src", "lib", "dist", "src/sub", "a", "b", "x y", "é", "[d]", "s*", "src-x", "srcx"}
	genFiles = []string{"main.c", "util.h", "README", "a.tar.gz", "f[1].txt", "*star", "q?", "b!ang",
		"-dash", "^x", "]b", "übung.py", "x.c", "y.h", "z.pem", "key.pem", ".hidden", "a-b", "a.c.h",
		"src", "a", "b", "&~|", "[", "[]", "x[!y]", "..x", "c.", "日本.txt"}
	genURIs = []string{"https://h/", "git+ssh://host/src/", "pkg://x/"}
)

func (g *gen) name() string {
	switch {
	case g.chance(0.06):
		return g.pick(genURIs...) + g.pick(genFiles...)
	case g.chance(0.03):
		return "/" + g.pick(genDirs...) + "/" + g.pick(genFiles...)
	case g.chance(0.3):
		return g.pick(genFiles...)
	case g.chance(0.2):
		return g.pick(genDirs...) + "/" + g.pick(genDirs...) + "/" + g.pick(genFiles...)
	}
	return g.pick(genDirs...) + "/" + g.pick(genFiles...)
}

func (g *gen) digests() Digests {
	d := map[string]string{"sha256": g.pick("aa", "bb", "cc")}
	if g.chance(0.15) {
		d["sha512"] = g.pick("dd", "ee")
	}
	return MustDigests(d)
}

// mutate turns a name into a pattern that matches it (usually) or nearly matches it.
func (g *gen) mutate(name string) string {
	rs := []rune(name)
	if len(rs) == 0 {
		return "*"
	}
	k := g.r.IntN(len(rs))
	c := rs[k]
	var repl string
	switch g.r.IntN(9) {
	case 0:
		repl = "?"
	case 1:
		repl = "[" + string(c) + "]"
	case 2:
		repl = "[!" + string(c) + "]"
	case 3:
		repl = "[!x]"
	case 4:
		repl = "[a-z]"
	case 5:
		return string(rs[:k]) + "*"
	case 6:
		return "*" + string(rs[k:])
	case 7:
		return string(rs[:k]) + "*" + string(rs[min(len(rs), k+1+g.r.IntN(3)):])
	default:
		repl = "[" + string(c) + "-" + g.pick("z", "a", "]", "é") + "]"
	}
	return string(rs[:k]) + repl + string(rs[k+1:])
}

var genSpecial = []string{"*", "*", "*", "[!a]*", "?*", "[a-c]*", "*[!.]h", "s\\*", "[]]*", "[!]]*",
	"*.[ch]", "[z-a]*", "[!z-a]*", "[*", "*[", "a[!", "*/*", "**", "*?*", "[--z]*", "[a-]*", "[^a]*",
	"[&~|]*", "*.c", "*.h", "*.pem", "src/*", "lib/*", "dist/*", "*/main.c", "src/*.c", "*/*/*",
	"*\\*", "[\\]*", "*.tar.gz", "x y/*", "é/*", "[[]*", "*]", "?", "??", "*?", "[!/]*", "src*",
	"https://*", "*://*", "日本*", "*本.txt"}

func (g *gen) pattern(names []string) string {
	for {
		var p string
		switch {
		case len(names) > 0 && g.chance(0.3):
			p = names[g.r.IntN(len(names))]
		case len(names) > 0 && g.chance(0.4):
			p = g.mutate(names[g.r.IntN(len(names))])
		default:
			p = g.pick(genSpecial...)
		}
		if validatePattern("pattern", p) == "" {
			return p
		}
	}
}

func (g *gen) prefix() string {
	return g.pick("src", "src/", "lib", "dist/", "a", "src/sub", "x y", "é", "https://h", "s*")
}

// caseKw returns a keyword in a random case, as layouts may spell it.
func (g *gen) caseKw(kw string) string {
	switch g.r.IntN(4) {
	case 0:
		return strings.ToLower(kw)
	case 1:
		b := []byte(kw)
		for i := range b {
			if g.chance(0.5) && 'A' <= b[i] && b[i] <= 'Z' {
				b[i] += 'a' - 'A'
			}
		}
		return string(b)
	}
	return kw
}

func (g *gen) rule(names []string, steps []string) []string {
	verb := g.pick("MATCH", "MATCH", "MATCH", "CREATE", "DELETE", "MODIFY", "ALLOW", "ALLOW", "DISALLOW", "REQUIRE")
	v := g.caseKw(verb)
	if verb == "REQUIRE" {
		if len(names) > 0 && g.chance(0.7) {
			return []string{v, names[g.r.IntN(len(names))]}
		}
		return []string{v, g.name()}
	}
	if verb != "MATCH" {
		return []string{v, g.pattern(names)}
	}
	f := []string{v, g.pattern(names)}
	if g.chance(0.35) {
		f = append(f, g.caseKw("IN"), g.prefix())
	}
	f = append(f, g.caseKw("WITH"), g.caseKw(g.pick("MATERIALS", "PRODUCTS")))
	if g.chance(0.35) {
		f = append(f, g.caseKw("IN"), g.prefix())
	}
	return append(f, g.caseKw("FROM"), g.pick(steps...))
}

// diffCase is one rule evaluation: a rule list, a side, and the links of the steps involved.
type diffCase struct {
	Rules [][]string                      `json:"rules"`
	Side  string                          `json:"side"`
	Self  string                          `json:"self"`
	Steps map[string]map[string]Artifacts `json:"steps"`
}

func (g *gen) artifacts(names []string, p float64) Artifacts {
	a := Artifacts{}
	for _, n := range names {
		if g.chance(p) {
			a[n] = g.digests()
		}
	}
	return a
}

// derive returns artifacts that correspond to some of src's names under prefix changes, with
// equal digests most of the time.
func (g *gen) derive(src Artifacts) Artifacts {
	out := Artifacts{}
	for n, d := range src {
		if !g.chance(0.6) {
			continue
		}
		m := n
		if g.chance(0.45) {
			pre := g.pick("src/", "lib/", "dist/", "a/", "src/sub/", "x y/", "é/")
			if i := strings.IndexByte(m, '/'); i > 0 && g.chance(0.5) {
				if g.chance(0.5) {
					m = m[i+1:] // strip the first directory
				} else {
					m = pre + m[i+1:] // replace it
				}
			} else {
				m = pre + m
			}
		}
		if validatePattern("name", m) != "" || checkName(m) != "" {
			continue
		}
		if g.chance(0.8) {
			out[m] = d
		} else {
			out[m] = g.digests()
		}
	}
	for i := g.r.IntN(3); i > 0; i-- {
		out[g.name()] = g.digests()
	}
	return out
}

func (g *gen) diffCase() diffCase {
	pool := make([]string, 0, 24)
	for i := g.r.IntN(24); i > 0; i-- {
		pool = append(pool, g.name())
	}
	self := "build"
	mats := g.artifacts(pool, 0.5)
	prods := Artifacts{}
	for _, n := range pool {
		if g.chance(0.55) {
			if d, ok := mats[n]; ok && g.chance(0.6) {
				prods[n] = d
			} else {
				prods[n] = g.digests()
			}
		}
	}
	steps := map[string]map[string]Artifacts{self: {"materials": mats, "products": prods}}
	for _, s := range []string{"fetch", "test"} {
		if g.chance(0.8) {
			base := prods
			if g.chance(0.5) {
				base = mats
			}
			steps[s] = map[string]Artifacts{"materials": g.derive(base), "products": g.derive(base)}
		}
	}
	names := append([]string(nil), pool...)
	rules := [][]string{}
	for i := g.r.IntN(9); i > 0; i-- {
		rules = append(rules, g.rule(names, []string{"fetch", "test", "build", "nope"}))
	}
	for i := g.r.IntN(4); i > 0; i-- {
		if r := g.coherentMatch(steps, self); r != nil {
			k := g.r.IntN(len(rules) + 1)
			rules = append(rules[:k], append([][]string{r}, rules[k:]...)...)
		}
	}
	if g.chance(0.5) {
		rules = append(rules, []string{"DISALLOW", g.pick("*", "*", "src/*", "*.c")})
	}
	side := "materials"
	if g.chance(0.5) {
		side = "products"
	}
	return diffCase{Rules: rules, Side: side, Self: self, Steps: steps}
}

// globPair returns a pattern and a name over a small alphabet of glob metacharacters.
func (g *gen) globPair() (string, string) {
	const palpha = "ab/*?[]!-\\^éz.日"
	const nalpha = "ab/[]!-\\^éz.*?日"
	rnd := func(alpha string, n int) string {
		rs := []rune(alpha)
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteRune(rs[g.r.IntN(len(rs))])
		}
		return b.String()
	}
	name := rnd(nalpha, g.r.IntN(9))
	var pat string
	switch g.r.IntN(4) {
	case 3: // bracket-heavy: fnmatch.translate's hyphen and ']' corner cases
		pat = "[" + rnd("az!^[]-b-", 1+g.r.IntN(7)) + rnd(palpha, g.r.IntN(4))
		if g.chance(0.5) {
			name = rnd("az!^[]-b", 1+g.r.IntN(3))
		}
	case 0:
		pat = rnd(palpha, g.r.IntN(10))
	case 1:
		pat = g.mutate(name)
	default:
		pat = g.mutate(g.mutate(name))
	}
	return pat, name
}

// coherentMatch builds a MATCH rule whose prefixes map an artifact of the step onto an artifact
// of another step (same rest after the prefixes), so that prefixed MATCH rules consume often.
func (g *gen) coherentMatch(steps map[string]map[string]Artifacts, self string) []string {
	var selfNames []string
	for _, side := range []string{"materials", "products"} {
		for n := range steps[self][side] {
			selfNames = append(selfNames, n)
		}
	}
	var dests [][3]string // step, type, name
	for s, sides := range steps {
		for side, a := range sides {
			for n := range a {
				dests = append(dests, [3]string{s, side, n})
			}
		}
	}
	if len(selfNames) == 0 || len(dests) == 0 {
		return nil
	}
	slices.Sort(selfNames)
	slices.SortFunc(dests, func(a, b [3]string) int { return strings.Compare(a[0]+a[1]+a[2], b[0]+b[1]+b[2]) })
	for range 20 {
		n := selfNames[g.r.IntN(len(selfNames))]
		d := dests[g.r.IntN(len(dests))]
		m := d[2]
		// the longest common suffix that starts after a '/' (or is a whole name)
		rest := ""
		for k := len(n) - 1; k >= 0; k-- {
			cand := n[k:]
			if !strings.HasSuffix(m, cand) {
				break
			}
			if k == 0 || n[k-1] == '/' {
				if len(m) == len(cand) || m[len(m)-len(cand)-1] == '/' {
					rest = cand
				}
			}
		}
		if rest == "" {
			continue
		}
		sp, dp := n[:len(n)-len(rest)], m[:len(m)-len(rest)]
		if sp == "" && dp == "" {
			continue
		}
		if g.chance(0.5) {
			sp, dp = strings.TrimSuffix(sp, "/"), strings.TrimSuffix(dp, "/")
		}
		if validatePrefix(sp) != "" || validatePrefix(dp) != "" {
			continue
		}
		pat := "*"
		if g.chance(0.4) {
			pat = g.mutate(rest)
		}
		if validatePattern("pattern", pat) != "" {
			continue
		}
		f := []string{"MATCH", pat}
		if sp != "" {
			f = append(f, "IN", sp)
		}
		f = append(f, "WITH", strings.ToUpper(d[1]))
		if dp != "" {
			f = append(f, "IN", dp)
		}
		return append(f, "FROM", d[0])
	}
	return nil
}

func (c diffCase) String() string {
	return fmt.Sprintf("side=%s rules=%q steps=%v", c.Side, c.Rules, c.Steps)
}
