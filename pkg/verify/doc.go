// Package verify answers one question for a package manager, a build system or a CI job: may I
// install this artifact? It joins TUF (pkg/tuf), in-toto (pkg/intoto) and a policy
// (pkg/policy) in one call.
//
//	v, err := verify.New(trustedRoot, verify.Options{Remote: "https://repo.example.com"})
//	res, err := v.Verify(ctx, "pkgs/app-1.0.tar.gz")
//
// # What Verify checks, in order
//
//  1. TUF: a refresh from the trusted root (rollback, freeze, mix-and-match, thresholds), then
//     the target's lookup through the delegation graph.
//  2. The revocation list: the target Options.RevocationTarget ("revocations.json"), which only
//     the top-level targets role may list: a plain RevocationListDoc (TUF's signature covers it)
//     or pkg/revocation's signed DSSE list (Options.RevocationKeys), followed by
//     Options.Revocation. A revocation in any source is a revocation.
//  3. The artifact: downloaded through TUF, its length and hashes checked while it streams
//     (VerifyFile hashes a local copy instead; Download writes it into place only when allowed).
//  4. The in-toto metadata, following ITE-2 as Datadog deploys it (ITE-3): the target's
//     custom["in-toto"] lists the TUF target paths of its layouts (".layout"), links (".link")
//     and attestation bundles (".intoto.jsonl"); each layout's own target lists the layout public
//     keys (".pub") in its custom["in-toto"]. Layouts and keys must be listed by the top-level
//     targets role. Every file is fetched and verified as a TUF target before it is parsed
//     (ParseCustom; docs/integration.md is the normative description).
//  5. in-toto, once per layout (pkg/intoto.Verify): layout signatures over the received bytes
//     (every listed key, or Options.LayoutThreshold of them), expiry at Options.Now, step
//     thresholds with revoked keys never counting, artifact rules. Inspections are refused
//     unless Options.Inspections opts in.
//  6. Target binding: the target's TUF-signed hashes must equal the digests of a product of a
//     verified step. No inspection runs to prove it.
//  7. The policy (Options.Policy, or DefaultPolicy) over the verified evidence.
//
// Each phase appends a Check to the Result. A failed check is STRONG: the Decision denies
// whatever the policy says, and the check heads the Decision's trail as a rule "tinto:<check>".
// The exception is a layout that fails to verify: with several layouts the policy decides how
// they combine (DefaultPolicy requires all), so that failure is an Advisory check and appears in
// the policy's input as the layout's Failure.
//
// # Results and errors
//
// Verify returns a *Result whenever it got far enough to decide, and an error whenever the
// answer is "do not install". A denial returns both: the Result, whose Decision denies and holds
// the whole trail, and a *verr.VerificationError whose Reason names the first failed check
// (verr.Rollback, verr.Mismatch, verr.Threshold, verr.RuleFailed, verr.TargetUnbound, ...) or
// verr.PolicyDenied / verr.Revoked when the policy denied; it wraps every failure. An
// operational failure (I/O, a cancelled context, a malformed document: *verr.InputError) also
// returns a denying Result, with an error that is not a *verr.VerificationError. Unlike
// sigstore-go, which returns (nil, err) on failure, the trail is kept precisely when it denies,
// since that is when a user needs it. A Result marshals to JSON under MediaType.
//
// # Concurrency, state and time
//
// A Verifier is immutable after New and safe for concurrent use. Refreshes are serialised and
// shared by concurrent callers (Options.RefreshInterval lets a long-running process reuse fresh
// metadata). Two bounded caches (metadata bytes by signed digest, in-toto outcomes by the digests
// of everything they depend on, valid only inside the evidence's validity window) change how fast
// an outcome is reached, never the outcome. There is no package-level mutable state. Time is an
// input: Options.Now (nil means time.Now, read once per verification).
//
// # Options
//
// The zero value of every Options field is the strict choice: the default policy, a required
// revocation list, every layout key must sign, no inspections, no parameters, a refresh per
// verification. Escape hatches are named ...Unsafe.
//
// Options.Offline verifies with the TUF metadata cached in Options.CacheDir by an earlier online
// verification, fetching none (pkg/tuf's offline mode): cached metadata that no longer verifies
// at Now, has expired, is missing, or (with Options.MaxCacheAge) comes from too old an online
// refresh denies with reason verr.Freeze and a message saying it is stale. The targets are still
// read through Options.Remote (then a local directory) or Options.Fetcher.
package verify
