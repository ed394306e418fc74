// Package verifytest builds complete TUF + in-toto repositories for tests, benchmarks, examples
// and the demo: a TUF repository (pkg/tuf/publish) holding a sample package, its in-toto layout
// (signed by an owner key and listed with its public key as ITE-2 prescribes), the links of a
// three-step supply chain made by generated functionaries, and a revocation list. It serves the
// repository over HTTP on 127.0.0.1, and has helpers to stage each attack that the end-to-end
// tests and the demo show (tampered bytes, revoked functionaries, rollback, freeze, ...).
//
// The supply chain (see New):
//
//	clone    (alice)            products: src/f000.c ... (Options.Artifacts files)
//	build    (bob)              materials MATCH src/* FROM clone; products: build/*.o and the package
//	package  (carol, dave; 1)   materials MATCH FROM build; products: the package, unchanged
//
// Everything is generated with tinto's own code; nothing is read from disk. A Repo is not safe
// for concurrent modification, but its HTTP handler may serve concurrent requests while the Repo
// is modified (each change is swapped in atomically).
package verifytest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net"
	"net/http"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tintoproject/tinto/pkg/intoto"
	"github.com/tintoproject/tinto/pkg/keys"
	"github.com/tintoproject/tinto/pkg/revocation"
	"github.com/tintoproject/tinto/pkg/rules"
	"github.com/tintoproject/tinto/pkg/tuf/publish"
	"github.com/tintoproject/tinto/pkg/verify"
)

// Paths used by the generated repository.
const (
	LayoutPath        = "in-toto-metadata/root.layout"
	RevocationKeyPath = "in-toto-metadata/keys/revocation.pub"
	OwnerKeyPath      = "in-toto-metadata/keys/owner.pub"
	RevocationsPath   = "revocations.json"
	DefaultPackage    = "demo-app/demo-app-1.0.0.tar.gz"
)

// Options configure New. The zero value is usable. It is a plain value.
type Options struct {
	// Now is the time metadata and the layout are made at; zero means time.Now().
	Now time.Time
	// Package is the package's target path. Empty means DefaultPackage.
	Package string
	// Artifacts is the number of source files (and object files); zero means 3.
	Artifacts int
	// DSSE makes the layout and the links DSSE envelopes instead of Metablocks.
	DSSE bool
	// NoRevocationList leaves revocations.json out of the repository.
	NoRevocationList bool
	// SignedRevocations publishes the revocation list as pkg/revocation's signed DSSE list,
	// signed by a revocation key whose public key is the target RevocationKeyPath, listed in the
	// list target's custom["in-toto"].
	SignedRevocations bool
	// Bundle publishes each package's links as one attestation bundle
	// ("<LinkDir>/links.intoto.jsonl": a DSSE envelope of an ITE-6 statement with a link v0.3
	// predicate per line) instead of one .link target per link.
	Bundle bool
}

// Repo is a generated repository and the keys that made it.
type Repo struct {
	TUF   *publish.Repository
	Owner *keys.Signer
	// RevocationKey signs the revocation list when Options.SignedRevocations is set.
	RevocationKey *keys.Signer
	Functionaries map[string]*keys.Signer // alice, bob, carol, dave
	// Packages maps each package target to its contents.
	Packages map[string][]byte
	Now      time.Time
	opts     Options

	revoked    []Revocation
	revVersion int64

	mu     sync.RWMutex
	served served
}

// served is what the HTTP handler serves: metadata files and target files by path.
type served struct {
	meta    map[string][]byte
	targets map[string][]byte
}

// Revocation is one entry the repository's revocation list withdraws trust from (a plain value).
type Revocation struct {
	KeyID  string
	Reason string
	// Ref, when set, is the entry's reference string (see revocation.Entry: "layout:sha256:<hex>",
	// "link:sha256:<hex>", "artifact:sha256:<hex>", "key:<keyid>", ...) and KeyID is unused.
	Ref string
}

// Steps of the generated supply chain.
var Steps = []string{"clone", "build", "package"}

// New builds and publishes the repository with one package (Options.Package).
func New(opts Options) (*Repo, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	opts.Now = opts.Now.UTC().Truncate(time.Second)
	if opts.Package == "" {
		opts.Package = DefaultPackage
	}
	if opts.Artifacts <= 0 {
		opts.Artifacts = 3
	}
	t, err := publish.New(publish.Options{Now: opts.Now})
	if err != nil {
		return nil, err
	}
	r := &Repo{TUF: t, Functionaries: map[string]*keys.Signer{}, Packages: map[string][]byte{}, Now: opts.Now, opts: opts}
	if r.Owner, err = keys.GenerateEd25519(nil); err != nil {
		return nil, err
	}
	for _, n := range []string{"alice", "bob", "carol", "dave"} {
		if r.Functionaries[n], err = keys.GenerateEd25519(nil); err != nil {
			return nil, err
		}
	}
	pub, err := r.Owner.Key.MarshalSSLib()
	if err != nil {
		return nil, err
	}
	layout, err := r.signedLayout(opts.Now.Add(365 * 24 * time.Hour))
	if err != nil {
		return nil, err
	}
	if err := t.AddTarget("targets", OwnerKeyPath, pub, nil); err != nil {
		return nil, err
	}
	if err := t.AddTarget("targets", LayoutPath, layout, map[string]any{"in-toto": []any{OwnerKeyPath}}); err != nil {
		return nil, err
	}
	if !opts.NoRevocationList {
		if err := r.writeRevocations(); err != nil {
			return nil, err
		}
	}
	if err := r.AddPackage(opts.Package, opts.Artifacts); err != nil {
		return nil, err
	}
	return r, r.Publish()
}

// PackageBase returns the base name of a package target, the name its build step produces.
func PackageBase(target string) string { return path.Base(target) }

// Layout returns the layout the repository's owner signs: three steps, every rule strict.
func (r *Repo) Layout(expires time.Time) *intoto.Layout {
	f := r.Functionaries
	l := intoto.NewLayout(expires.Add(-365*24*time.Hour), 365*24*time.Hour, f["alice"].Key, f["bob"].Key, f["carol"].Key, f["dave"].Key)
	l.Expires = expires.UTC().Truncate(time.Second)
	l.ExpiresText = l.Expires.Format(intoto.ExpiresFormat)
	l.Readme = "tinto demo supply chain: clone, build, package"
	l.Steps = []intoto.Step{
		{Name: "clone", Threshold: 1, PubKeys: []string{f["alice"].Key.KeyID},
			ExpectedCommand:  []string{"git", "clone"},
			ExpectedProducts: [][]string{{"CREATE", "src/*"}, {"DISALLOW", "*"}}},
		{Name: "build", Threshold: 1, PubKeys: []string{f["bob"].Key.KeyID},
			ExpectedCommand:   []string{"make", "dist"},
			ExpectedMaterials: [][]string{{"MATCH", "src/*", "WITH", "PRODUCTS", "FROM", "clone"}, {"DISALLOW", "*"}},
			ExpectedProducts:  [][]string{{"CREATE", "build/*"}, {"CREATE", "*.tar.gz"}, {"DISALLOW", "*"}}},
		{Name: "package", Threshold: 1, PubKeys: []string{f["carol"].Key.KeyID, f["dave"].Key.KeyID},
			ExpectedCommand:   []string{"release"},
			ExpectedMaterials: [][]string{{"MATCH", "*", "WITH", "PRODUCTS", "FROM", "build"}, {"DISALLOW", "*"}},
			ExpectedProducts:  [][]string{{"MATCH", "*.tar.gz", "WITH", "PRODUCTS", "FROM", "build"}, {"DISALLOW", "*"}}},
	}
	return l
}

func (r *Repo) signedLayout(expires time.Time) ([]byte, error) {
	return r.sign(r.Layout(expires).Signed(), r.Owner)
}

func (r *Repo) sign(signed map[string]any, s ...*keys.Signer) ([]byte, error) {
	if r.opts.DSSE {
		return intoto.SignDSSEValue(signed, s...)
	}
	return intoto.SignMetablock(signed, s...)
}

// SetLayout replaces the layout target (for example an expired or differently signed one).
func (r *Repo) SetLayout(data []byte) error {
	return r.TUF.AddTarget("targets", LayoutPath, data, map[string]any{"in-toto": []any{OwnerKeyPath}})
}

// SignLayout signs a layout with the given signers, as Metablock or DSSE per Options.DSSE.
func (r *Repo) SignLayout(l *intoto.Layout, s ...*keys.Signer) ([]byte, error) {
	return r.sign(l.Signed(), s...)
}

func digest(b []byte) rules.Digests {
	s := sha256.Sum256(b)
	return rules.SHA256(hex.EncodeToString(s[:]))
}

// Chain holds the links of one package, by file name. It is a plain value.
type Chain struct {
	Links map[string][]byte // "<step>.<keyid8>.link" -> document
	// Statements are the same links as DSSE envelopes of ITE-6 statements (link predicate
	// v0.3), in the order they were made, for attestation bundles.
	Statements [][]byte
}

// LinkDir is the directory of a package's links inside the repository.
func LinkDir(pkg string) string { return "in-toto-metadata/" + pkg }

// ChainOptions alter a generated supply chain, to stage in-toto failures. A plain value.
type ChainOptions struct {
	// Mutate, when set, may change each link before it is signed. The artifact maps are shared
	// between links: replace them (maps.Clone), never modify them in place.
	Mutate func(l *intoto.Link)
	// Signers, when set, replaces the functionaries that sign a step's link (by name: alice,
	// bob, carol, dave, or "owner").
	Signers map[string][]string
	// Omit leaves the links of these steps out.
	Omit []string
}

// MakeChain runs the supply chain for a package (n sources) and returns its links and contents.
// The package step is signed by carol and by dave.
func (r *Repo) MakeChain(pkg string, n int) (*Chain, []byte, error) {
	return r.MakeChainWith(pkg, n, ChainOptions{})
}

// MakeChainWith is MakeChain with alterations.
func (r *Repo) MakeChainWith(pkg string, n int, co ChainOptions) (*Chain, []byte, error) {
	base := PackageBase(pkg)
	src := rules.Artifacts{}
	objs := rules.Artifacts{}
	var tarball strings.Builder
	for i := 0; i < n; i++ {
		c := []byte(fmt.Sprintf("/* %s source %d */\nint f%d(void) { return %d; }\n", base, i, i, i))
		src[fmt.Sprintf("src/f%03d.c", i)] = digest(c)
		o := []byte(fmt.Sprintf("OBJ %s %d", base, i))
		objs[fmt.Sprintf("build/f%03d.o", i)] = digest(o)
		tarball.Write(o)
	}
	pkgData := []byte("tinto demo package " + pkg + "\n" + tarball.String())
	buildProducts := maps.Clone(objs)
	buildProducts[base] = digest(pkgData)
	links := []struct {
		l  intoto.Link
		by []string
	}{
		{intoto.Link{Name: "clone", Command: []string{"git", "clone"}, Materials: rules.Artifacts{}, Products: src}, []string{"alice"}},
		{intoto.Link{Name: "build", Command: []string{"make", "dist"}, Materials: src, Products: buildProducts}, []string{"bob"}},
		{intoto.Link{Name: "package", Command: []string{"release"}, Materials: buildProducts, Products: rules.Artifacts{base: digest(pkgData)}}, []string{"carol", "dave"}},
	}
	c := &Chain{Links: map[string][]byte{}}
	for _, l := range links {
		if slices.Contains(co.Omit, l.l.Name) {
			continue
		}
		if co.Mutate != nil {
			co.Mutate(&l.l)
		}
		if by, ok := co.Signers[l.l.Name]; ok {
			l.by = by
		}
		for _, who := range l.by {
			s := r.Functionaries[who]
			if who == "owner" {
				s = r.Owner
			}
			doc, err := r.sign(l.l.Signed(), s)
			if err != nil {
				return nil, nil, err
			}
			c.Links[intoto.LinkFileName(l.l.Name, s.Key.KeyID)] = doc
			if r.opts.Bundle {
				st, err := l.l.Statement(intoto.PredicateLinkV03)
				if err != nil {
					return nil, nil, err
				}
				env, err := intoto.SignDSSEValue(st, s)
				if err != nil {
					return nil, nil, err
				}
				c.Statements = append(c.Statements, env)
			}
		}
	}
	return c, pkgData, nil
}

// AddPackage makes a package's supply chain and adds the package and its links as targets.
func (r *Repo) AddPackage(pkg string, n int) error {
	c, data, err := r.MakeChain(pkg, n)
	if err != nil {
		return err
	}
	return r.AddPackageWith(pkg, data, c)
}

// AddPackageWith adds a package target with the given contents and links (ITE-2: the package's
// custom["in-toto"] lists the layout and every link).
func (r *Repo) AddPackageWith(pkg string, data []byte, c *Chain) error {
	list := []any{LayoutPath}
	if r.opts.Bundle {
		p := LinkDir(pkg) + "/links.intoto.jsonl"
		if err := r.TUF.AddTarget("targets", p, bytes.Join(c.Statements, []byte("\n")), nil); err != nil {
			return err
		}
		r.Packages[pkg] = data
		return r.TUF.AddTarget("targets", pkg, data, map[string]any{"in-toto": append(list, p)})
	}
	names := make([]string, 0, len(c.Links))
	for n := range c.Links {
		names = append(names, n)
	}
	sortStrings(names)
	for _, n := range names {
		p := LinkDir(pkg) + "/" + n
		if err := r.TUF.AddTarget("targets", p, c.Links[n], nil); err != nil {
			return err
		}
		list = append(list, p)
	}
	r.Packages[pkg] = data
	return r.TUF.AddTarget("targets", pkg, data, map[string]any{"in-toto": list})
}

// Publish publishes every change (new versions of targets, snapshot, timestamp) and serves it.
func (r *Repo) Publish() error {
	if err := r.TUF.Publish(); err != nil {
		return err
	}
	r.mu.Lock()
	r.served = served{meta: maps.Clone(r.TUF.Files), targets: maps.Clone(r.TUF.TargetFiles)}
	r.mu.Unlock()
	return nil
}

// TrustedRoot returns the root a client bootstraps from (1.root.json).
func (r *Repo) TrustedRoot() []byte { return r.TUF.TrustedRoot() }

// Served (a plain value) is a copy of what the repository serves now; Restore serves it again (a rollback or
// freeze attack replays an earlier copy).
type Served struct{ s served }

// Snapshot returns what is served now.
func (r *Repo) Snapshot() Served {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return Served{served{meta: maps.Clone(r.served.meta), targets: maps.Clone(r.served.targets)}}
}

// Restore serves s (for example an older Snapshot: a rollback attack).
func (r *Repo) Restore(s Served) {
	r.mu.Lock()
	r.served = served{meta: maps.Clone(s.s.meta), targets: maps.Clone(s.s.targets)}
	r.mu.Unlock()
}

// Tamper serves data in place of the target file at path (every form of its URL), without
// changing the signed metadata: a mirror or man-in-the-middle attack.
func (r *Repo) Tamper(target string, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.served.targets = maps.Clone(r.served.targets)
	dir, base := path.Split(target)
	for p := range r.served.targets {
		if p == target || (strings.HasPrefix(p, dir) && strings.HasSuffix(p, "."+base) && !strings.Contains(strings.TrimPrefix(p, dir), "/")) {
			r.served.targets[p] = data
		}
	}
}

// TamperMetadata serves data in place of a metadata file (for example "timestamp.json").
func (r *Repo) TamperMetadata(name string, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.served.meta = maps.Clone(r.served.meta)
	r.served.meta[name] = data
}

// ServeHTTP serves metadata/<file> and targets/<path>.
func (r *Repo) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.RLock()
	s := r.served
	r.mu.RUnlock()
	p := strings.TrimPrefix(req.URL.Path, "/")
	var b []byte
	var ok bool
	switch {
	case strings.HasPrefix(p, "metadata/"):
		b, ok = s.meta[strings.TrimPrefix(p, "metadata/")]
	case strings.HasPrefix(p, "targets/"):
		b, ok = s.targets[strings.TrimPrefix(p, "targets/")]
	}
	if !ok {
		http.NotFound(w, req)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(b)
}

// Server is the repository served on 127.0.0.1. Close may be called from any goroutine.
type Server struct {
	URL string
	srv *http.Server
	ln  net.Listener
}

// Serve serves the repository on 127.0.0.1 on a random port until Close.
func (r *Repo) Serve() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), srv: &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}, ln: ln}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// WriteDir writes the published repository (metadata/ and targets/) under dir.
func (r *Repo) WriteDir(dir string) error { return r.TUF.WriteDir(dir) }

func sortStrings(s []string) { sort.Strings(s) }

// Revoke adds keyid (a functionary) to the revocation list and republishes.
func (r *Repo) Revoke(keyid, reason string) error {
	r.revoked = append(r.revoked, Revocation{KeyID: keyid, Reason: reason})
	if err := r.writeRevocations(); err != nil {
		return err
	}
	return r.Publish()
}

// RevokeRef adds any revocation entry (a pkg/revocation reference string) to the revocation
// list and republishes.
func (r *Repo) RevokeRef(ref, reason string) error {
	r.revoked = append(r.revoked, Revocation{Ref: ref, Reason: reason})
	if err := r.writeRevocations(); err != nil {
		return err
	}
	return r.Publish()
}

func (r *Repo) writeRevocations() error {
	var entries []revocation.Entry
	for _, rv := range r.revoked {
		ref := rv.Ref
		if ref == "" {
			ref = "functionary:" + rv.KeyID
		}
		entries = append(entries, revocation.Entry{Ref: ref, Reason: rv.Reason})
	}
	if r.opts.SignedRevocations {
		if r.RevocationKey == nil {
			k, err := keys.GenerateEd25519(nil)
			if err != nil {
				return err
			}
			pub, err := k.Key.MarshalSSLib()
			if err != nil {
				return err
			}
			if err := r.TUF.AddTarget("targets", RevocationKeyPath, pub, nil); err != nil {
				return err
			}
			r.RevocationKey = k
		}
		r.revVersion++
		b, err := revocation.SignList(revocation.ListDocument{Type: revocation.ListType, Version: r.revVersion,
			Issued: r.Now, NextUpdate: r.Now.Add(365 * 24 * time.Hour), Entries: entries}, r.RevocationKey)
		if err != nil {
			return err
		}
		return r.TUF.AddTarget("targets", RevocationsPath, b, map[string]any{"in-toto": []any{RevocationKeyPath}})
	}
	b, err := verify.MarshalRevocationList(entries)
	if err != nil {
		return err
	}
	return r.TUF.AddTarget("targets", RevocationsPath, b, nil)
}

// Files returns every file the repository serves now, by URL path ("metadata/1.root.json",
// "targets/demo-app/<sha256>.demo-app-1.0.0.tar.gz", ...): the input of an in-memory fetcher.
func (r *Repo) Files() map[string][]byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[string][]byte, len(r.served.meta)+len(r.served.targets))
	for n, b := range r.served.meta {
		out["metadata/"+n] = b
	}
	for n, b := range r.served.targets {
		out["targets/"+n] = b
	}
	return out
}

// Unrevoke empties the revocation list and republishes.
func (r *Repo) Unrevoke() error {
	r.revoked = nil
	if err := r.writeRevocations(); err != nil {
		return err
	}
	return r.Publish()
}

// AddLayout publishes a second root layout at layoutPath, signed by a new owner key published at
// keyPath, and lists it (with the first layout and the links) in pkg's custom["in-toto"]. With
// expires in the past, the layout is expired. It returns the new owner.
func (r *Repo) AddLayout(pkg, layoutPath, keyPath string, expires time.Time) (*keys.Signer, error) {
	owner, err := keys.GenerateEd25519(nil)
	if err != nil {
		return nil, err
	}
	pub, err := owner.Key.MarshalSSLib()
	if err != nil {
		return nil, err
	}
	doc, err := r.SignLayout(r.Layout(expires), owner)
	if err != nil {
		return nil, err
	}
	if err := r.TUF.AddTarget("targets", keyPath, pub, nil); err != nil {
		return nil, err
	}
	if err := r.TUF.AddTarget("targets", layoutPath, doc, map[string]any{"in-toto": []any{keyPath}}); err != nil {
		return nil, err
	}
	tf := r.TUF.Roles["targets"].Targets[pkg]
	if tf == nil {
		return nil, fmt.Errorf("verifytest: no package %q", pkg)
	}
	list := append([]any{layoutPath}, tf.Custom["in-toto"].([]any)...)
	if err := r.TUF.AddTarget("targets", pkg, tf.Data, map[string]any{"in-toto": list}); err != nil {
		return nil, err
	}
	return owner, r.Publish()
}
