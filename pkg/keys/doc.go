// Package keys loads the public keys that in-toto and TUF metadata are signed with, computes
// their keyids, and verifies signatures with them.
//
// # Formats
//
// A *Key is created from one of these inputs. Every loader returns a *verr.InputError for
// malformed input, an unknown key type or scheme, or a declared keyid that does not match the key:
//
//   - FromSSLib: a securesystemslib key dict embedded in a layout or a TUF root (the value of a
//     "keys" map, as decoded by pkg/cjson), including the OpenPGP key dicts that python in-toto
//     embeds for GPG functionaries.
//   - ParseSSLib: a securesystemslib JSON key file, as in-toto-keygen writes for ed25519 and
//     ecdsa keys.
//   - ParsePEM: PEM "PUBLIC KEY" (PKIX), "RSA PUBLIC KEY" (PKCS#1), "PRIVATE KEY" (PKCS#8),
//     "RSA PRIVATE KEY" (PKCS#1), "EC PRIVATE KEY" (SEC1) and "CERTIFICATE" (X.509). Private keys
//     are reduced to their public part at once; nothing private is kept.
//   - ParseOpenPGP: an armored or binary OpenPGP public key (a transferable public key with its
//     subkeys).
//   - Load: a file, with in-toto-verify's -k/-t semantics.
//
// # Algorithms and schemes
//
//   - RSA: rsassa-pss-sha256, rsassa-pss-sha384, rsassa-pss-sha512 and rsa-pkcs1v15-sha256,
//     rsa-pkcs1v15-sha384, rsa-pkcs1v15-sha512. PSS signatures are verified with any salt length
//     (securesystemslib signs with a salt as long as the digest and verifies with "auto").
//   - ECDSA: ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, for key types "ecdsa"
//     and "ecdsa-sha2-nistp256" style; keyval.public is PEM, or the hex of the uncompressed point
//     as go-tuf before v2 wrote it. Signatures are ASN.1 DER, as securesystemslib makes them;
//     any other encoding is a bad signature.
//   - Ed25519: scheme ed25519; keyval.public is the hex of the raw 32-byte key; signatures are
//     the raw 64 bytes.
//   - OpenPGP: pgp+rsa-pkcsv1.5, pgp+dsa-fips-180-2 and pgp+eddsa-ed25519, verified the way
//     securesystemslib.gpg does (see below).
//
// Schemes with MD5, SHA-1 or SHA-224 that securesystemslib also names are refused as unknown.
//
// # Keyids
//
// The keyid of a securesystemslib key is the lowercase hex SHA-256 of the canonical JSON of
//
//	{"keyid_hash_algorithms": [...], "keytype": ..., "keyval": {"public": ...}, "scheme": ...}
//
// where keyid_hash_algorithms is ["sha256", "sha512"] for every key this package creates (python
// securesystemslib and in-toto-golang both write that list). A received key dict may declare a
// keyid computed with its own keyid_hash_algorithms list, with securesystemslib's default list, or
// without the field: FromSSLib accepts a declared keyid that equals any of those three digests and
// refuses any other. The keyid of an OpenPGP key is the lowercase hex v4 fingerprint of its primary
// key; each subkey is known by its own fingerprint. An OpenPGP key dict that has a creation_time
// must declare the fingerprint computed from it and its public parameters.
//
// # OpenPGP signatures
//
// A GPG signature in an in-toto Metablock carries the signature's hashed packet data
// ("other_headers"). As securesystemslib.gpg does, the signed digest is
//
//	SHA-256(message || other_headers || 0x04 0xff || uint32be(len(other_headers)))
//
// and the signature bytes are the RSA PKCS#1 v1.5 signature, the DER encoding of the DSA (r, s),
// or the 64-byte Ed25519 signature over that digest. A signature by a subkey counts as a signature
// by its primary key (Owns). Verification never runs gpg; LoadGPG, a helper for the CLI's -g
// flag, is the only function that does, and only to export a public key.
//
// # Concurrency
//
// A *Key and a *Signer are immutable once created and safe for concurrent use. Accessors that
// return maps or slices return fresh copies.
package keys
