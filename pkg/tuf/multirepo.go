package tuf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tintoproject/tinto/pkg/tuf/internal/tjson"
	"github.com/tintoproject/tinto/pkg/verr"
)

// MapFile is a TAP 4 map file: which repositories to trust for which targets, and how many
// of them must agree.
//
//	{"repositories": {"main": ["https://a.example/"], "mirror": ["https://b.example/"]},
//	 "mapping": [{"paths": ["pkgs/*"], "repositories": ["main", "mirror"],
//	              "threshold": 2, "terminating": true},
//	             {"paths": ["*"], "repositories": ["main"], "threshold": 1}]}
type MapFile struct {
	Repositories map[string][]string `json:"repositories"`
	Mapping      []Mapping           `json:"mapping"`
}

// Mapping is one entry of a map file's "mapping", tried in order.
type Mapping struct {
	Paths        []string `json:"paths"`
	Repositories []string `json:"repositories"`
	Threshold    int      `json:"threshold"`
	Terminating  bool     `json:"terminating"`
}

// ParseMapFile parses a TAP 4 map file strictly (duplicate keys, unknown repositories in a
// mapping, thresholds outside 1..len(repositories) are errors).
func ParseMapFile(data []byte) (*MapFile, error) {
	if err := tjson.Valid(data); err != nil {
		return nil, verr.Invalid("map file", "%v", err)
	}
	var m MapFile
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, verr.Invalid("map file", "%v", err)
	}
	if len(m.Repositories) == 0 || len(m.Mapping) == 0 {
		return nil, verr.Invalid("map file", "no repositories or no mapping")
	}
	for i, mp := range m.Mapping {
		if len(mp.Paths) == 0 || len(mp.Repositories) == 0 {
			return nil, verr.Invalid("map file", "mapping %d: no paths or no repositories", i)
		}
		seen := map[string]bool{}
		for _, r := range mp.Repositories {
			if _, ok := m.Repositories[r]; !ok {
				return nil, verr.Invalid("map file", "mapping %d: unknown repository %q", i, r)
			}
			if seen[r] {
				return nil, verr.Invalid("map file", "mapping %d: repository %q listed twice", i, r)
			}
			seen[r] = true
		}
		if mp.Threshold < 1 || mp.Threshold > len(mp.Repositories) {
			return nil, verr.Invalid("map file", "mapping %d: threshold %d outside 1..%d", i, mp.Threshold, len(mp.Repositories))
		}
	}
	return &m, nil
}

// MultiClient answers target lookups by consensus across repositories (TAP 4). It is safe for
// concurrent use.
type MultiClient struct {
	m       *MapFile
	clients map[string]*Client
}

// NewMulti returns a client for a map file. clients holds one Client per repository named in
// the map file (the caller builds them, from the repository's trusted root and its mirror URLs).
func NewMulti(m *MapFile, clients map[string]*Client) (*MultiClient, error) {
	for name := range m.Repositories {
		if clients[name] == nil {
			return nil, fmt.Errorf("tuf: no client for repository %q", name)
		}
	}
	return &MultiClient{m: m, clients: clients}, nil
}

// Refresh refreshes every repository. A repository that fails keeps failing its lookups; the
// errors are joined.
func (mc *MultiClient) Refresh(ctx context.Context) error {
	names := make([]string, 0, len(mc.clients))
	for n := range mc.clients {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []error
	for _, n := range names {
		if err := mc.clients[n].Refresh(ctx); err != nil {
			errs = append(errs, fmt.Errorf("repository %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}

// Target looks a target up: the first mapping whose paths match decides, if at least its
// threshold of repositories list the target with identical length and hashes. A mapping without
// consensus ends the search if it is terminating (verr.Threshold); otherwise the next mapping
// is tried. It returns the agreed target and the name of a repository to download it from.
func (mc *MultiClient) Target(ctx context.Context, name string) (*TargetFile, string, error) {
	var errs []error
	for i, mp := range mc.m.Mapping {
		match := false
		for _, p := range mp.Paths {
			if matchPathPattern(name, p) {
				match = true
				break
			}
		}
		if !match {
			continue
		}
		votes := map[string][]string{} // target identity -> repositories
		found := map[string]*TargetFile{}
		for _, r := range mp.Repositories {
			tf, err := mc.clients[r].Target(ctx, name)
			if err != nil {
				errs = append(errs, fmt.Errorf("mapping %d, repository %s: %w", i, r, err))
				continue
			}
			id := targetIdentity(tf)
			votes[id] = append(votes[id], r)
			found[id] = tf
		}
		for id, rs := range votes {
			if len(rs) >= mp.Threshold {
				return found[id], rs[0], nil
			}
		}
		if mp.Terminating {
			e := vErr(verr.Threshold, "", errors.Join(errs...), "mapping %d: fewer than %d of %d repositories agree on %q", i, mp.Threshold, len(mp.Repositories), name)
			e.Artifact = name
			return nil, "", e
		}
	}
	e := vErr(verr.NotFound, "", errors.Join(errs...), "no mapping reaches consensus on %q", name)
	e.Artifact = name
	return nil, "", e
}

// Download downloads an agreed target from the named repository.
func (mc *MultiClient) Download(ctx context.Context, repo string, tf *TargetFile, w io.Writer) error {
	c := mc.clients[repo]
	if c == nil {
		return fmt.Errorf("tuf: no repository %q", repo)
	}
	return c.Download(ctx, tf, w)
}

func targetIdentity(tf *TargetFile) string {
	hs := make([]string, 0, len(tf.Hashes))
	for _, h := range tf.Hashes {
		hs = append(hs, h.Algorithm+"="+strings.ToLower(h.Hex))
	}
	sort.Strings(hs)
	return itoa(tf.Length) + "|" + strings.Join(hs, ",")
}
