// Package rules implements in-toto artifact rules: parsing, fnmatch globs, artifact-name
// validation, and an engine that applies a step's rules to its artifacts.
//
// The semantics are those of python in-toto 1.3.1 (the reference implementation), checked by a
// differential test against it; the few deliberate differences are listed in docs/rules.md.
//
// # Rules
//
// A rule is a list of strings, as in a layout's expected_materials and expected_products:
//
//	MATCH <pattern> [IN <source-prefix>] WITH (MATERIALS|PRODUCTS) [IN <destination-prefix>] FROM <step>
//	CREATE <pattern>
//	DELETE <pattern>
//	MODIFY <pattern>
//	ALLOW <pattern>
//	DISALLOW <pattern>
//	REQUIRE <name>
//
// Keywords are case-insensitive. Parse turns the strings into a Rule; an empty rule, an unknown
// keyword, a wrong number of fields, or a pattern, prefix or name that could dodge a rule is an
// *verr.InputError.
//
// # Patterns
//
// Patterns are python fnmatch patterns (see Glob): `*` matches anything, `/` included; `?` one
// character; `[seq]` and `[!seq]` one character in or not in seq; a backslash is an ordinary
// character. Matching is case-sensitive and covers the whole name.
//
// # Names
//
// Artifact names are opaque strings and are never rewritten. ValidateName rejects the names
// that could be read as another name: empty, `.` or `..` path segments, backslashes, NUL bytes
// and invalid UTF-8. ITE-4 URIs (`scheme://...`) are opaque apart from `.` and `..` segments.
//
// # Evaluation
//
// Compile turns a step's rule list into a Program once; Program.Run applies it to one link's
// artifacts. The queue starts with every artifact of the chosen side; rules apply in order, and
// a consumed artifact leaves the queue. DISALLOW fails when its pattern matches an artifact still
// in the queue, REQUIRE when its name is not in the queue; artifacts left over are fine. The
// Result records which rule consumed each artifact and, for each rule, how many artifacts it
// matched and consumed, whether it failed, and whether it applied at all.
//
// Because each artifact's fate depends only on its own name and digests, Run handles the
// artifacts one at a time: an index of the rules' literal prefixes, suffixes and exact names
// yields the few rules that can match a name, in rule order, and the first that consumes it
// ends the search. The cost is close to linear in the number of artifacts, not artifacts times
// rules. Run checks every queue name with ValidateName; RunWith with RunOptions.NamesValidated
// (or RunValidated) skips that check for a caller that already made it (pkg/intoto, while
// parsing links), and RunOptions.CompactConsumers keeps which rule consumed each artifact in a
// list instead of the Result.ConsumedBy map (Result.ConsumerOf and Result.Consumers read both). Digest maps that are the same
// map (a parser may share them between a step's products and the next step's materials) are
// equal without being compared.
//
// Program, Glob and Rule values are immutable and safe for concurrent use. The package has no
// mutable package-level state.
package rules
