// Package intoto verifies in-toto supply chains: a signed layout, and the signed links (or ITE-6
// attestations with a link predicate) that record what each step of the chain consumed and
// produced. It is compatible with python in-toto 1.3.1 (the reference implementation) and
// in-toto-golang v0.11.0 documents; every deliberate difference is listed in
// docs/intoto-deviations.md.
//
// # Documents
//
// A layout or link arrives in one of three containers (Format):
//
//   - a Metablock, {"signed": {...}, "signatures": [{"keyid", "sig"}...]}, as python in-toto
//     and in-toto-golang write it. A signature is checked over the canonical JSON (package
//     cjson) of the "signed" value exactly as received: unknown fields and integers of any
//     size are kept, nothing is re-encoded from Go structs. OpenPGP signatures
//     ({"keyid", "signature", "other_headers"}) are checked by package keys.
//   - a DSSE envelope (ITE-5) with payloadType "application/vnd.in-toto+json" whose payload is
//     a layout or a link. Signatures are checked over the DSSE pre-authentication encoding.
//   - a DSSE envelope whose payload is an ITE-6 statement ("https://in-toto.io/Statement/v*")
//     with predicate type "https://in-toto.io/attestation/link/v0.3" (materials as resource
//     descriptors, products are the subjects) or ".../link/v0.2" (the predicate is the link).
//
// Every document is parsed strictly: duplicate object keys, invalid UTF-8, trailing data,
// documents over Options.Limits, and fields of the wrong type are *verr.InputError. Nothing in
// this package panics on any input.
//
// # Verification
//
// Verify checks, in this order, stopping at the first failing stage but reporting every
// failure within a stage:
//
//  1. The layout's signatures. Only Options.LayoutKeys count (signatures by other keys are
//     ignored). With Options.LayoutThreshold zero every given key must have signed (python's
//     rule); otherwise that many distinct given keys must have. Keys the revocation checker
//     does not report Good (or NotRevocable) do not count. Failure: verr.BadSignature (all
//     keys required) or verr.Threshold (k of n).
//     Every signature (layout and links) is checked with keys.Key.VerifyAt at the verification
//     time: a signature by an OpenPGP key or subkey that had expired by then does not count
//     (verr.Expired, inside the signature or threshold failure).
//  2. Validation (Validate), before anything is evaluated: names, thresholds >= 1, referenced
//     keys, rule syntax, certificate roots. Failure: verr.LayoutInvalid.
//  3. Expiry, against Options.Now (never the wall clock when Now is set). Failure: verr.Expired.
//  4. Parameter substitution (Options.Params), with python's "{NAME}" syntax; an unknown or
//     unsupported field is verr.LayoutInvalid.
//  5. Every step's links. For each functionary keyid K in the step's pubkeys (and each subkey
//     of K listed in the layout), the file LinkFileName(step, K) = "<step>.<K[:8]>.link" is
//     read from Options.Links, in any of the three containers. A link counts when it is
//     signed by K, names the step, and K is not revoked; a step with certificate constraints
//     also counts links "<step>.*.link" signed with an X.509 certificate that chains to one
//     of the layout's root CAs and meets a constraint for the root it actually chains to.
//     The threshold counts distinct keys (subkeys count as their main key). Links that do not
//     count are recorded (StepResult.Rejected). A link whose "_type" is "layout" is a
//     sublayout: it is verified recursively (same options, the functionary's key as its only
//     layout key, links from the subdirectory SublayoutDir(step, K)) and stands for the
//     summary link python in-toto computes. The links that count must report equal materials
//     and products. Failures: verr.MissingLink (fewer link files than the threshold),
//     verr.Threshold (not enough valid ones; when every candidate failed for one reason other
//     than a bad signature, that reason instead: verr.Revoked, verr.Unknown, verr.Certificate,
//     or whatever a sublayout failed with), verr.LinkMismatch. Every step is checked and every failure kept (errors.Join).
//  6. Every step's artifact rules (package rules), compiled once per verification, materials
//     then products, in layout order, against the agreed link of each step, exactly as python
//     in-toto's verify_item_rules. Failure: verr.RuleFailed, with Step, Rule and Artifact.
//  7. Inspections. By default (InspectionsPrerecorded) no command is ever run: each inspection
//     needs a prerecorded inspection link "<inspection>.<keyid8>.link", signed by a key the
//     layout authorises (the inspection's "pubkeys" if it has any, a tinto extension; otherwise
//     the layout keys that verified the layout). InspectionsRunUnsafe runs the command as python
//     in-toto does, without a shell, in a fresh temporary directory, with a timeout and a
//     minimal environment. Failure: verr.Inspection, whose message says how to opt in.
//  8. Every inspection's artifact rules, which may refer to steps and inspections.
//
// Python in-toto's command alignment check only warns; its warnings are in Result.Warnings.
//
// # Results and errors
//
// Verify returns a *Result of verified facts and a nil error, or a non-nil error: a
// *verr.VerificationError whose Reason says why the evidence does not verify (when several
// checks failed, the first one's reason, with all of them joined in Err), a *verr.InputError for
// a malformed layout, or an operational error. The Result returned with an error shows what was
// checked; its Verified field is false.
//
// # Fixtures
//
// GenerateChain, SignMetablock, SignDSSE, SignLink, Layout.Signed, Link.Signed and
// Link.Statement build and sign documents for tests, benchmarks and demos, in python in-toto's
// file naming (Chain.WriteDir).
//
// # Concurrency
//
// Every function in this package is safe for concurrent use. Layout, Link, Envelope and Result
// values are not modified after they are returned; callers must not modify them either (the
// Artifacts maps of links are shared between the links of one verification).
package intoto
