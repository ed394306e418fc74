package policy

import (
	"strings"
	"testing"
)

// TestDiagnostics checks the class and file:line:col of each kind of diagnostic.
func TestDiagnostics(t *testing.T) {
	tests := []struct {
		name, src string
		steps     []string
		want      string // "line:col code", the first diagnostic
	}{
		{"unknown top field", header + "rulez: []\n", nil, "3:1 unknown-field"},
		{"unknown rule field", header + "rules:\n  - verb: DENY\n    subject: target\n    wen: 'true'\n", nil, "6:5 unknown-field"},
		{"missing apiVersion", "kind: Policy\nrules: []\n", nil, "1:1 api-version"},
		{"bad kind", "apiVersion: tinto.dev/policy/v1\nkind: Layout\n", nil, "2:7 api-version"},
		{"duplicate yaml key", header + "rules: []\nrules: []\n", nil, "4:1 duplicate"},
		{"duplicate rule id", header + "rules:\n  - {id: a, verb: DENY, subject: target}\n  - {id: a, verb: DENY, subject: layout}\n", nil, "5:10 duplicate"},
		{"unknown verb", header + "rules:\n  - {verb: PERMIT, subject: target}\n", nil, "4:12 bad-value"},
		{"unknown subject", header + "rules:\n  - {verb: DENY, subject: repo}\n", nil, "4:27 bad-value"},
		{"verb/subject", header + "rules:\n  - {verb: REVOKE, subject: target, digests: ['sha256:00112233']}\n", nil, "4:29 verb-subject"},
		{"field for another verb", header + "rules:\n  - {verb: DENY, subject: target, expect: ['true']}\n", nil, "4:35 unused-field"},
		{"cel flow", header + "rules:\n  - {verb: DENY, subject: target, when: 'target.size > 1'}\n", nil, "4:48 cel"},
		{"cel block", header + "rules:\n  - verb: DENY\n    subject: target\n    when: |\n      true &&\n      target.nme == 'x'\n", nil, "8:13 cel"},
		{"cel not bool", header + "rules:\n  - {verb: DENY, subject: target, when: 'target.length'}\n", nil, "4:41 cel"},
		{"cel out of scope", header + "rules:\n  - {verb: DENY, subject: target, when: 'step.name == \"x\"'}\n", nil, "4:42 cel"},
		{"unknown step", header + "rules:\n  - {verb: DENY, subject: step, step: compile}\n", []string{"build"}, "4:39 unknown-step"},
		{"unknown FROM step", header + "rules:\n  - {verb: MATCH, subject: step, artifacts: '* WITH PRODUCTS FROM compile'}\n", []string{"build"}, "4:45 unknown-step"},
		{"shadowed", header + "rules:\n  - {id: a, verb: DENY, subject: key}\n  - {id: b, verb: ALLOW, strength: MEDIUM, subject: key}\n", nil, "5:5 shadowed"},
		{"bad artifact rule", header + "rules:\n  - {verb: MATCH, subject: step, artifacts: 'x'}\n", nil, "4:45 artifact-rule"},
		{"alias", header + "x: &a 1\nrules: *a\n", nil, "3:4 syntax"},
		{"json duplicate", "{\"apiVersion\": \"tinto.dev/policy/v1\",\n \"apiVersion\": \"x\"}", nil, "2:2 syntax"},
		{"json unknown", "{\"apiVersion\": \"tinto.dev/policy/v1\",\n \"rulez\": []}", nil, "2:2 unknown-field"},
		{"not a mapping", "- a\n- b\n", nil, "1:1 syntax"},
		{"empty", "", nil, "1:1 syntax"},
		{"min not int", header + "rules:\n  - {verb: REQUIRE, subject: step, min: many}\n", nil, "4:41 bad-value"},
		{"layouts require", header + "layouts: {require: most}\nrules: []\n", nil, "3:20 bad-value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := Check([]byte(tt.src), Options{File: "p.yaml", LayoutSteps: tt.steps})
			if len(ds) == 0 {
				t.Fatalf("no diagnostic, want %s", tt.want)
			}
			got := ""
			for _, d := range ds {
				got += d.String() + "\n"
				if strings.HasPrefix(tt.want, itoa(d.Pos.Line)+":"+itoa(d.Pos.Col)+" ") && strings.HasSuffix(tt.want, " "+d.Code) {
					return
				}
			}
			t.Errorf("want %s, got:\n%s", tt.want, got)
		})
	}
}
