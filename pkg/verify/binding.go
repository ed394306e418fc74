package verify

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"

	"github.com/tintoproject/tinto/pkg/verr"
)

// product is one product of a verified step, for target binding.
type product struct {
	layout, step, name string
	digests            map[string]string
}

// bind finds a product of a verified supply chain whose digests equal the target's signed hashes.
// Two digest sets are equal when they share at least one algorithm that this package trusts
// (sha256, sha384, sha512) and agree on every algorithm they share. No inspection runs: the
// evidence is the signed link alone.
func bind(t *Target, chains []*chainResult) (*Binding, error) {
	var best *product
	n := 0
	for _, c := range chains {
		n += len(c.products)
		seen := map[int]bool{}
		for alg, h := range t.Hashes {
			if !trustedAlgs[alg] {
				continue
			}
			for _, i := range c.byDigest[alg+":"+h] {
				if seen[i] {
					continue
				}
				seen[i] = true
				p := &c.products[i]
				if _, ok := sameDigests(t.Hashes, p.digests); ok && (best == nil || less(p, best)) {
					best = p
				}
			}
		}
	}
	if best != nil {
		algs, _ := sameDigests(t.Hashes, best.digests)
		return &Binding{Layout: best.layout, Step: best.step, Artifact: best.name, Algorithms: algs}, nil
	}
	return nil, &verr.VerificationError{Reason: verr.TargetUnbound, Artifact: t.Name,
		Msg: fmt.Sprintf("no product of the verified supply chain has the target's hashes (%d products compared)", n)}
}

// less orders products by layout, step, name, so that the binding reported is deterministic.
func less(a, b *product) bool {
	if a.layout != b.layout {
		return a.layout < b.layout
	}
	if a.step != b.step {
		return a.step < b.step
	}
	return a.name < b.name
}

var trustedAlgs = map[string]bool{"sha256": true, "sha384": true, "sha512": true}

func sameDigests(a, b map[string]string) ([]string, bool) {
	var shared []string
	for alg, x := range a {
		y, ok := b[alg]
		if !ok {
			continue
		}
		if x != y {
			return nil, false
		}
		if trustedAlgs[alg] {
			shared = append(shared, alg)
		}
	}
	sort.Strings(shared)
	return shared, len(shared) > 0
}

// checkLocalFile checks a local file against a target's signed length and hashes.
func checkLocalFile(path string, t *Target) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return verr.Invalid("artifact "+path, "not a regular file")
	}
	if fi.Size() != t.Length {
		return &verr.VerificationError{Reason: verr.Mismatch, Artifact: t.Name,
			Msg: fmt.Sprintf("local file is %d bytes, the target's signed length is %d", fi.Size(), t.Length)}
	}
	hs := map[string]hash.Hash{}
	var ws []io.Writer
	for alg := range t.Hashes {
		var h hash.Hash
		switch alg {
		case "sha256":
			h = sha256.New()
		case "sha384":
			h = sha512.New384()
		case "sha512":
			h = sha512.New()
		default:
			continue
		}
		hs[alg] = h
		ws = append(ws, h)
	}
	if len(hs) == 0 {
		return &verr.VerificationError{Reason: verr.Mismatch, Artifact: t.Name, Msg: "the target has no hash this verifier supports"}
	}
	if _, err := io.Copy(io.MultiWriter(ws...), io.LimitReader(f, t.Length+1)); err != nil {
		return err
	}
	for alg, h := range hs {
		if got := hex.EncodeToString(h.Sum(nil)); got != t.Hashes[alg] {
			return &verr.VerificationError{Reason: verr.Mismatch, Artifact: t.Name,
				Msg: fmt.Sprintf("local file's %s is %s, the signed one is %s", alg, got, t.Hashes[alg])}
		}
	}
	return nil
}
