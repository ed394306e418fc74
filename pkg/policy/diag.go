package policy

import (
	"fmt"
	"strings"
)

// Severity of a diagnostic.
type Severity string

// The severities. An Error makes the policy unusable; a Warning (for example a rule shadowed by
// an earlier STRONG rule) does not.
const (
	SevError   Severity = "error"
	SevWarning Severity = "warning"
)

// Pos is a position in a policy file. Line and Col are 1-based; 0 means unknown.
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// String returns "file:line:col".
func (p Pos) String() string {
	f := p.File
	if f == "" {
		f = "policy"
	}
	if p.Line == 0 {
		return f
	}
	return fmt.Sprintf("%s:%d:%d", f, p.Line, p.Col)
}

// Diagnostic classes (the Code of a Diagnostic). They are stable strings.
const (
	CodeSyntax       = "syntax"        // the file is not valid YAML/JSON, or exceeds a limit
	CodeVersion      = "api-version"   // missing or unsupported apiVersion/kind
	CodeUnknownField = "unknown-field" // a field the schema does not have
	CodeDuplicate    = "duplicate"     // a duplicate key or rule id
	CodeBadValue     = "bad-value"     // a value of the wrong type or out of range
	CodeVerbSubject  = "verb-subject"  // a verb used with a subject it does not apply to
	CodeCEL          = "cel"           // a CEL syntax or type error
	CodeUnknownStep  = "unknown-step"  // a reference to a step the given layout does not have
	CodeShadowed     = "shadowed"      // a rule shadowed by an earlier STRONG rule
	CodeArtifactRule = "artifact-rule" // an artifact rule that does not parse
	CodeMissingField = "missing-field" // a required field is absent
	CodeUselessField = "unused-field"  // a field that has no effect for this verb/subject
)

// Diagnostic is one problem found when loading or checking a policy.
type Diagnostic struct {
	Pos      Pos      `json:"pos"`
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Msg      string   `json:"msg"`
}

// String returns "file:line:col: severity: msg [code]".
func (d Diagnostic) String() string {
	return fmt.Sprintf("%s: %s: %s [%s]", d.Pos, d.Severity, d.Msg, d.Code)
}

// Diagnostics is a list of diagnostics. As an error it reports every error diagnostic.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == SevError {
			return true
		}
	}
	return false
}

// Error implements error.
func (ds Diagnostics) Error() string {
	var b strings.Builder
	n := 0
	for _, d := range ds {
		if d.Severity != SevError {
			continue
		}
		if n > 0 {
			b.WriteString("\n")
		}
		b.WriteString(d.String())
		n++
	}
	return b.String()
}

type diags struct {
	file string
	data []byte
	list Diagnostics
}

func (d *diags) add(sev Severity, line, col int, code, format string, args ...any) {
	d.list = append(d.list, Diagnostic{Pos: Pos{File: d.file, Line: line, Col: col}, Severity: sev, Code: code, Msg: fmt.Sprintf(format, args...)})
}
