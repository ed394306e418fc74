package main

import (
	"fmt"

	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/verify"
)

// loadRevocationSources reads the revocation lists given to tinto policy eval, in order, into one
// checker (a revocation in any of them is a revocation, see revocation.Chain). Each file is
// either a plain list ({"_type": "tinto/revocations", "entries": [...]}, the format of a
// repository's revocations.json) or pkg/revocation's signed DSSE list, which must verify with one
// of keyFiles. It returns nil when lists is empty. Any problem (an unreadable or malformed file,
// a signed list with no key given, a signature that does not verify) is an error: a revocation
// source that cannot be read must not make things look unrevoked.
func loadRevocationSources(lists, keyFiles []string) (revocation.Checker, error) {
	if len(lists) == 0 {
		if len(keyFiles) > 0 {
			return nil, fmt.Errorf("--revocation-key needs a signed list given with --revocations")
		}
		return nil, nil
	}
	var ks []*keys.Key
	for _, p := range keyFiles {
		data, err := readFileLimited(p, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("--revocation-key: %w", err)
		}
		k, err := verify.ParseKey(data)
		if err != nil {
			return nil, fmt.Errorf("--revocation-key %s: %w", p, err)
		}
		ks = append(ks, k)
	}
	var chain revocation.Chain
	for _, p := range lists {
		data, err := readFileLimited(p, revocation.MaxListBytes)
		if err != nil {
			return nil, fmt.Errorf("--revocations: %w", err)
		}
		var c revocation.Checker
		if revocation.IsSignedList(data) {
			if len(ks) == 0 {
				return nil, fmt.Errorf("--revocations %s is a signed list: give the key(s) that may sign it with --revocation-key", p)
			}
			c, err = revocation.ParseList(data, revocation.ListOptions{Keys: ks, Name: p})
		} else {
			c, err = verify.ParseRevocationList(p, data)
		}
		if err != nil {
			return nil, fmt.Errorf("--revocations %s: %w", p, err)
		}
		chain = append(chain, c)
	}
	return chain, nil
}
