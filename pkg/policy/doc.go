// Package policy decides, from verified evidence, whether an artifact may be installed.
//
// A Policy is compiled once (Load) and evaluated many times, concurrently, over an Input that
// holds only verified facts: the TUF target, the in-toto evidence of each layout (steps, links,
// signers, the result of every artifact rule), attestations, parameters, the evaluation time and
// a revocation.Checker. Evaluate returns a Decision: Allow or Deny, warnings, the PolicyID (the
// digest of the compiled policy), the evaluation time, and a trail with one entry per rule. The
// whole trail is returned also when the decision denies; it marshals to JSON under MediaType.
//
// # The language
//
// A policy is a YAML or JSON document:
//
//	apiVersion: tinto.dev/policy/v1      # required
//	kind: Policy                         # optional; must be Policy
//	name: org-default                    # optional
//	layouts: {require: all}              # all (default), any, none, or k (k of n)
//	revocation: {unknown: deny}          # deny (default) or warn
//	indeterminate: deny                  # deny (default) or warn
//	rules:
//	  - id: bound                        # optional; defaults to rules[i]
//	    verb: REQUIRE                    # ALLOW DENY REQUIRE REVOKE MATCH CREATE DELETE MODIFY DISALLOW
//	    strength: STRONG                 # STRONG (default) PREFERRED MEDIUM WEAK
//	    subject: target                  # target layout step link attestation key|functionary artifact
//	    productOf: package
//
// A rule selects subjects of its kind (optionally filtered by the globs layout and step and by
// the CEL expression where), then:
//
//   - ALLOW votes allow when its condition (when, CEL; absent = true) holds for a selected
//     subject; DENY votes deny likewise (and is "satisfied" when it does not fire);
//   - REQUIRE holds when every selected subject meets every expect expression (CEL), at least
//     min subjects are selected, and, for the target, the target's hash equals a product of step
//     productOf in every selected layout (target binding); otherwise it votes deny;
//   - MATCH, CREATE, DELETE, MODIFY and DISALLOW (subject step) run one in-toto artifact rule
//     ("artifacts": the rule after its verb) with pkg/rules over each link of each selected
//     step, on side products (default) or materials; a failure votes deny;
//   - subject functionary is subject key restricted to the keys that signed links;
//   - REVOKE (always STRONG) withdraws trust from keys (keyids; subject key or functionary,
//     scoped by step/layout globs) or from layouts, links, attestations and artifacts (digests,
//     "alg:hex").
//
// A rule that selects nothing is not applicable, and is reported as such, never as passed.
//
// CEL conditions are type-checked at load against the subject's type (Target, Layout, Step,
// Link, Attestation, KeySubject, ArtifactSubject, with their JSON field names) plus params
// (map(string, string)) and now (timestamp); they must be bool, and each evaluation is bounded by
// CostLimit. An evaluation error is Indeterminate: a deny vote at the rule's strength unless the
// policy says indeterminate: warn.
//
// # Combination
//
// Two implicit STRONG rules come first in every trail: "revocation" (every revocable thing in the
// evidence is looked up; see below) and "layouts" (each layout is satisfied when it verified, has
// not expired, is not revoked, its signature threshold and every step's threshold are met by keys
// that are not revoked, and all its artifact rules passed; the layouts combine as all, any, or k
// of n; all with no layout denies). Then:
//
//  1. A deny vote by a WEAK rule becomes a warning: a WEAK rule never denies.
//  2. The highest strength that voted decides. At that strength, deny beats allow. A failing
//     STRONG rule therefore always denies, and nothing overrides it.
//  3. With no vote at all, the decision allows only if some rule was satisfied; a policy of which
//     nothing applied denies.
//
// Every entry whose vote lost names the deciding rules in OverriddenBy. The effect does not depend
// on the order of the rules.
//
// # Revocation
//
// The evaluation looks up the target's hashes (artifact), each layout (digest, name, version), its
// signers (key), its X.509 functionaries (certificate), each link (link) and its signer
// (functionary, scoped to layout and step), and each attestation and its signer. Every material
// and product is also matched against the artifact digests of the policy's REVOKE rules. A lookup is
// answered by the policy's REVOKE rules first, then by Input.Revocation; with no checker the
// REVOKE rules are authoritative (anything they do not list is Good). A revoked layout, link,
// attestation or artifact denies (STRONG). A revoked key is excluded from every threshold, so it
// denies exactly when the threshold is then not met. Unknown (or a checker error) denies unless
// the policy says revocation: {unknown: warn}. Every lookup appears in the "revocation" entry.
//
// # Diagnostics
//
// Load reports every problem with file:line:col: syntax and limits, unknown fields, wrong value
// types, verbs used with subjects they do not apply to, CEL syntax and type errors, invalid
// artifact rules, references to steps the layout does not have (Options.LayoutSteps), and, as
// warnings, rules shadowed by an earlier STRONG DENY rule.
//
// Every exported function is safe for concurrent use; a compiled Policy is immutable. The other
// exported types (Input, Decision, TrailEntry, Evidence, Lookup, Diagnostic, ...) are plain
// values: safe for concurrent reads, not for concurrent modification.
package policy
