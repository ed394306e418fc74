package rules_test

import (
	"errors"
	"fmt"

	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

func ExampleParse() {
	r, err := rules.Parse([]string{"match", "*.py", "in", "src", "with", "products", "from", "fetch"})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Verb, r.Pattern, r.SrcPrefix, r.DstType, r.DstStep)

	_, err = rules.Parse([]string{"ALLOW", "../etc/*"})
	fmt.Println(errors.Is(err, verr.ErrInvalidInput))
	// Output:
	// MATCH *.py src PRODUCTS fetch
	// true
}

func ExampleGlob_Match() {
	g := rules.MustCompileGlob("src/*.[ch]")
	fmt.Println(g.Match("src/main.c"), g.Match("src/lib/util.h"), g.Match("src/README"))
	// Output: true true false
}

func ExampleValidateName() {
	for _, n := range []string{"dist/app.tar.gz", "dist/../secret", "https://example.com/a.tar.gz"} {
		fmt.Println(n, rules.ValidateName(n) == nil)
	}
	// Output:
	// dist/app.tar.gz true
	// dist/../secret false
	// https://example.com/a.tar.gz true
}

func ExampleProgram_Run() {
	// The product rules of a "build" step: its sources must come unchanged from "fetch", it may
	// create files under dist/, and nothing else.
	p, err := rules.CompileList([][]string{
		{"MATCH", "*", "IN", "src", "WITH", "PRODUCTS", "IN", "src", "FROM", "fetch"},
		{"CREATE", "dist/*"},
		{"DISALLOW", "*"},
	})
	if err != nil {
		panic(err)
	}
	sha := func(s string) rules.Digests { return rules.SHA256(s) }
	fetch := rules.StepArtifacts{Products: rules.Artifacts{"src/main.c": sha("aa")}}
	build := rules.StepArtifacts{
		Materials: rules.Artifacts{"src/main.c": sha("aa")},
		Products:  rules.Artifacts{"src/main.c": sha("aa"), "dist/app": sha("bb"), "backdoor.sh": sha("cc")},
	}
	steps := func(name string) (rules.StepArtifacts, bool) {
		if name == "fetch" {
			return fetch, true
		}
		return rules.StepArtifacts{}, false
	}
	res := p.Run(rules.Products, build, steps)
	fmt.Println("src/main.c consumed by rule", res.ConsumedBy["src/main.c"])
	fmt.Println("dist/app consumed by rule", res.ConsumedBy["dist/app"])
	for _, o := range res.Outcomes {
		fmt.Printf("%s: matched %d, consumed %d, failed %v\n", o.Rule, o.Matched, o.Consumed, o.Failed)
	}
	fmt.Println(res.Err)
	// Output:
	// src/main.c consumed by rule 0
	// dist/app consumed by rule 1
	// MATCH * IN src WITH PRODUCTS IN src FROM fetch: matched 1, consumed 1, failed false
	// CREATE dist/*: matched 1, consumed 1, failed false
	// DISALLOW *: matched 1, consumed 0, failed true
	// rule-failed (rule "DISALLOW *", artifact "backdoor.sh"): "backdoor.sh" is disallowed: no earlier rule consumed it
}

func ExampleProgram_RunWith() {
	p, err := rules.CompileList([][]string{{"CREATE", "dist/*"}, {"ALLOW", "*.md"}, {"DISALLOW", "*"}})
	if err != nil {
		panic(err)
	}
	sha := func(s string) rules.Digests { return rules.SHA256(s) }
	build := rules.StepArtifacts{Products: rules.Artifacts{"dist/app": sha("aa"), "README.md": sha("bb")}}
	// The names were checked with rules.ValidateName already (as a link parser does), and which
	// rule consumed each artifact is kept in a list rather than in the ConsumedBy map.
	res := p.RunWith(rules.Products, build, nil, rules.RunOptions{NamesValidated: true, CompactConsumers: true})
	k, ok := res.ConsumerOf("README.md")
	fmt.Println("README.md consumed by rule", k, ok)
	fmt.Println("consumed:", res.NumConsumed(), "map:", res.ConsumedBy == nil, len(res.Consumers()))
	fmt.Println(res.Err)
	// Output:
	// README.md consumed by rule 1 true
	// consumed: 2 map: true 2
	// <nil>
}
