package verify

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"sort"

	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/verr"
)

// bind finds a product of a verified supply chain whose digests equal the target's signed hashes.
// Two digest sets are equal when they share at least one algorithm that this package trusts
// (sha256, sha384, sha512) and agree on every algorithm they share. No inspection runs: the
// evidence is the signed link alone.
//
// A product named like the target (its full path or its base name, as a build step names what it
// produces) is preferred and found by lookup; otherwise every product is compared, one map
// lookup each. When several products qualify, the one of the first layout (by name), of its
// latest step (the final product: a package step's output rather than the build step's same
// file), with the first name, is reported.
func bind(t *Target, chains []*chainResult) (*Binding, error) {
	algs := targetAlgs(t.Hashes)
	var best *candidate
	consider := func(sp *stepProducts, name string) {
		c := &candidate{Binding{Layout: sp.layout, Step: sp.step, Artifact: name}, sp.order}
		if best == nil || c.less(best) {
			best = c
		}
	}
	for _, c := range chains {
		for i := range c.products {
			sp := &c.products[i]
			for _, name := range []string{t.Name, path.Base(t.Name)} {
				if d, ok := sp.artifacts[name]; ok && matches(algs, t.Hashes, d) {
					consider(sp, name)
				}
			}
		}
	}
	if best == nil {
		for _, c := range chains {
			for i := range c.products {
				sp := &c.products[i]
				for name, d := range sp.artifacts {
					if matches(algs, t.Hashes, d) {
						consider(sp, name)
					}
				}
			}
		}
	}
	if best != nil {
		b := best.Binding
		b.Algorithms, _ = sameDigests(t.Hashes, productDigests(chains, &b))
		return &b, nil
	}
	n := 0
	for _, c := range chains {
		for _, sp := range c.products {
			n += len(sp.artifacts)
		}
	}
	return nil, &verr.VerificationError{Reason: verr.TargetUnbound, Artifact: t.Name,
		Msg: fmt.Sprintf("no product of the verified supply chain has the target's hashes (%d products compared)", n)}
}

// targetAlgs lists the trusted algorithms of a target's hashes, strongest-first order fixed.
func targetAlgs(h map[string]string) []string {
	var out []string
	for _, a := range []string{"sha256", "sha512", "sha384"} {
		if _, ok := h[a]; ok {
			out = append(out, a)
		}
	}
	return out
}

// matches is sameDigests' fast path: a product matches when it has at least one of algs, agrees
// on every one of algs it has, and agrees on every other algorithm both sides have.
func matches(algs []string, target map[string]string, d rules.Digests) bool {
	shared := false
	for _, a := range algs {
		if x, ok := d.Get(a); ok {
			if x != target[a] {
				return false
			}
			shared = true
		}
	}
	if !shared {
		return false
	}
	_, ok := sameDigests(target, d.Map())
	return ok
}

func productDigests(chains []*chainResult, b *Binding) map[string]string {
	for _, c := range chains {
		for _, sp := range c.products {
			if sp.layout == b.Layout && sp.step == b.Step {
				return sp.artifacts[b.Artifact].Map()
			}
		}
	}
	return nil
}

// candidate is a product that matches, with its step's position for the preference order.
type candidate struct {
	Binding
	order int
}

func (a *candidate) less(b *candidate) bool {
	if a.Layout != b.Layout {
		return a.Layout < b.Layout
	}
	if a.order != b.order {
		return a.order > b.order
	}
	return a.Artifact < b.Artifact
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
