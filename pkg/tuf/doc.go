// Package tuf is a client for The Update Framework (TUF) 1.0 client workflow (specification
// section 5, version 1.0.31).
//
// # Model
//
// Trusted is the trusted-metadata state machine, apart from the network: it starts from trusted
// root bytes and accepts, in order, new root versions, a timestamp, a snapshot and targets roles,
// checking each against what it already trusts. Client is the updater around it: it fetches
// metadata through a Fetcher, keeps verified metadata in a cache (a directory or memory), looks
// targets up through the delegation graph and downloads them.
//
//	c, err := tuf.New(trustedRoot, tuf.Options{
//		Fetcher:      &tuf.HTTPFetcher{},
//		MetadataBase: "https://repo.example/metadata/",
//		TargetsBase:  "https://repo.example/targets/",
//		CacheDir:     cacheDir,
//	})
//	err = c.Refresh(ctx)
//	tf, err := c.Target(ctx, "app-1.2.tar.gz")
//	err = c.DownloadFile(ctx, tf, "app-1.2.tar.gz")
//
// # Verification
//
//   - Signatures are checked over the canonical JSON form (securesystemslib/OLPC canonical JSON)
//     of the "signed" value exactly as received, computed by a strict scanner (duplicate keys,
//     invalid UTF-8, trailing data and non-integer numbers are refused). No Go struct is ever
//     re-encoded to check a signature, so unrecognised fields and integers of any size are covered
//     by the signature as they were sent.
//   - A threshold counts distinct keys (by key material), not keyids. Duplicate signatures by one
//     keyid make the metadata invalid.
//   - Keys are parsed and signatures verified by pkg/keys. Key types: ed25519; ecdsa with
//     ecdsa-sha2-nistp256/384/521 (PEM, the curve the scheme names); rsa with
//     rsassa-pss-sha256/384/512 and rsa-pkcs1v15-sha256/384/512. Keyids are taken as the metadata
//     declares them, never recomputed. A key of unknown type or scheme, or that does not parse,
//     does not make the metadata listing it invalid: its signatures count as missing.
//   - spec_version must have major version 1.
//   - Root rotation: each new root must be signed by a threshold of the old and of the new root
//     keys and have version old+1; at most Options.MaxRootRotations (32) versions per refresh.
//   - Timestamp, snapshot and targets: rollback of any version (including the versions listed in
//     timestamp and snapshot), expiry (freeze), and consistency between timestamp, snapshot and
//     targets (mix-and-match: versions, lengths and hashes) are all checked.
//   - Delegations: pre-order depth-first search with path patterns (python fnmatch per "/"
//     segment), hex path_hash_prefixes, TAP 15 succinct hash bins, terminating delegations, at
//     most Options.MaxDelegations (32) roles per lookup. A role reached through a second delegator
//     is verified again against that delegator's keys and threshold (the "diamond" case).
//   - Hashes: every hash with a supported algorithm (sha256, sha512, sha384, sha224) must match;
//     unsupported algorithms are ignored when at least one supported algorithm is listed, and a
//     file with no supported algorithm is refused.
//
// # Errors
//
// Every failure of the evidence is a *verr.VerificationError whose Reason says what failed; the
// mapping lives in errors.go. Rollback, Freeze, MixAndMatch and EndlessData also match
// verr.ErrSecurity. Fetch failures are operational errors (ErrNotExist for missing files).
//
// # Limits
//
// A metadata file is limited to the length that timestamp or snapshot gives it, or else to the
// defaults (root 512 KiB, timestamp 16 KiB, snapshot 32 MiB, targets roles 64 MiB; see Limits).
// A target is limited to its signed length, and is streamed: memory does not grow with its size.
//
// # Cache and offline use
//
// With Options.CacheDir set, verified metadata is written there atomically (temporary file,
// fsync, rename), so a crash never leaves a partial file, and a file is only written after it
// verified. Offline mode (Options.Offline) fetches nothing: the cached metadata must verify
// exactly as in an online refresh and be unexpired at Now, and, with Options.MaxCacheAge, the last
// online refresh must be recent enough. Otherwise Refresh fails with a verr.Freeze error that says
// the data is stale.
//
// # Concurrency
//
// Client is safe for concurrent use; Refresh may be called again on a long-lived client. Trusted
// is not safe for concurrent use. Fetcher implementations must be safe for concurrent use.
package tuf
