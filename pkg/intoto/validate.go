package intoto

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

// Validate checks a parsed layout before anything is evaluated. Every problem is reported (joined)
// in one *verr.VerificationError with Reason verr.LayoutInvalid:
//
//   - step and inspection names are non-empty, unique across steps and inspections, and usable
//     as a file name component (no "/", "\", NUL, not "." or "..");
//   - every threshold is at least 1;
//   - every keyid in a step's (or inspection's) pubkeys is a key of the layout, or a subkey
//     listed under one;
//   - every artifact rule parses (rules.Parse);
//   - every root named by a certificate constraint is in "rootcas" (or is "*").
//
// Key dictionaries and "expires" are checked by ParseLayout.
func Validate(l *Layout) error {
	var errs []error
	bad := func(item, format string, args ...any) {
		errs = append(errs, &verr.VerificationError{Reason: verr.LayoutInvalid, Step: item, Msg: fmt.Sprintf(format, args...)})
	}
	seen := map[string]bool{}
	checkName := func(kind, name string) {
		switch {
		case name == "":
			bad(name, "%s name is empty", kind)
		case name == "." || name == "..", strings.ContainsAny(name, "/\\\x00"):
			bad(name, "%s name %q cannot be used in a link file name (path separators and dot names are refused)", kind, name)
		case seen[name]:
			bad(name, "%s name %q is not unique: step and inspection names must be unique within a layout", kind, name)
		}
		seen[name] = true
	}
	checkKeys := func(item string, ids []string) {
		for _, id := range ids {
			if _, ok := l.Keys[id]; ok {
				continue
			}
			if _, ok := l.Subkeys[id]; ok {
				continue
			}
			bad(item, "functionary key %q is not in the layout's keys", id)
		}
	}
	checkRules := func(item, field string, rs [][]string) {
		for _, r := range rs {
			if _, err := rules.Parse(r); err != nil {
				errs = append(errs, &verr.VerificationError{Reason: verr.LayoutInvalid, Step: item, Rule: strings.Join(r, " "), Msg: field, Err: err})
			}
		}
	}
	for _, s := range l.Steps {
		checkName("step", s.Name)
		if s.Threshold < 1 {
			bad(s.Name, "threshold %d: a step needs a threshold of at least 1", s.Threshold)
		}
		checkKeys(s.Name, s.PubKeys)
		checkRules(s.Name, "expected_materials", s.ExpectedMaterials)
		checkRules(s.Name, "expected_products", s.ExpectedProducts)
		for _, cc := range s.CertConstraints {
			for _, r := range cc.Roots {
				if r == "*" {
					continue
				}
				if _, ok := l.RootCAs[r]; !ok {
					bad(s.Name, "certificate constraint names root %q, which is not in the layout's rootcas", r)
				}
			}
		}
	}
	for _, in := range l.Inspections {
		checkName("inspection", in.Name)
		if in.Threshold < 1 {
			bad(in.Name, "threshold %d: an inspection needs a threshold of at least 1", in.Threshold)
		}
		checkKeys(in.Name, in.PubKeys)
		checkRules(in.Name, "expected_materials", in.ExpectedMaterials)
		checkRules(in.Name, "expected_products", in.ExpectedProducts)
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return &verr.VerificationError{Reason: verr.LayoutInvalid, Role: "layout", Msg: fmt.Sprintf("%d problems", len(errs)), Err: errors.Join(errs...)}
}
