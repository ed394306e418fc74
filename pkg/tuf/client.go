package tuf

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf/internal/names"
	"github.com/tintoproject/tinto/pkg/verr"
)

// Default limits. A metadata file whose length is given by timestamp or snapshot is limited to
// that length; otherwise to these. Targets are always limited to their signed length.
const (
	DefaultMaxRootBytes      = 512 << 10 // 512 KiB per root version
	DefaultMaxTimestampBytes = 16 << 10  // 16 KiB
	DefaultMaxSnapshotBytes  = 32 << 20  // 32 MiB when timestamp gives no length
	DefaultMaxTargetsBytes   = 64 << 20  // 64 MiB per targets role when snapshot gives no length
	DefaultMaxRootRotations  = 32
	DefaultMaxDelegations    = 32 // roles visited per target lookup
)

// Limits bound what the client downloads. A zero field means its default.
type Limits struct {
	Root, Timestamp, Snapshot, Targets int64
}

func (l Limits) withDefaults() Limits {
	if l.Root <= 0 {
		l.Root = DefaultMaxRootBytes
	}
	if l.Timestamp <= 0 {
		l.Timestamp = DefaultMaxTimestampBytes
	}
	if l.Snapshot <= 0 {
		l.Snapshot = DefaultMaxSnapshotBytes
	}
	if l.Targets <= 0 {
		l.Targets = DefaultMaxTargetsBytes
	}
	return l
}

// Options configure a Client. The zero value of every field is the strict (or default) choice.
type Options struct {
	// Fetcher retrieves metadata and targets. Required.
	Fetcher Fetcher
	// MetadataBase is prepended to metadata file names ("https://repo.example/metadata/",
	// "metadata/" for a DirFetcher). A missing trailing "/" is added.
	MetadataBase string
	// TargetsBase is prepended to target paths. A missing trailing "/" is added.
	TargetsBase string
	// CacheDir is where verified metadata is kept (root.json, timestamp.json, snapshot.json,
	// targets.json, <quoted role>.json), written atomically. Empty means memory only.
	CacheDir string
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// MaxRootRotations bounds root versions fetched per refresh; zero means 32.
	MaxRootRotations int
	// MaxDelegations bounds roles visited per target lookup; zero means 32.
	MaxDelegations int
	// Limits bound downloads; zero fields mean the defaults.
	Limits Limits
	// Offline makes Refresh use only the cache: nothing is fetched. The cached metadata must
	// verify and be unexpired at Now (and satisfy MaxCacheAge); otherwise Refresh fails with a
	// verr.Freeze error saying the data is stale.
	Offline bool
	// MaxCacheAge, when positive, also bounds the age of the cached metadata in offline mode:
	// the last successful online refresh (recorded in the cache) must be at most this old.
	MaxCacheAge time.Duration
	// NoTargetHashPrefix downloads targets by their plain path even when the repository uses
	// consistent snapshots. The zero value uses "<dir>/<hash>.<base>" as the specification says.
	NoTargetHashPrefix bool
}

// Client is a TUF client. It is safe for concurrent use: Refresh, Target and Download may be
// called from several goroutines, and Refresh may be called again at any time. Refresh and
// Target (which may fetch delegated roles) are serialised; Download runs concurrently.
type Client struct {
	opts   Options
	limits Limits

	mu        sync.Mutex
	rootBytes []byte
	state     *Trusted
	mem       map[string][]byte // the memory cache when CacheDir is empty
	bindings  map[string]*Binding
}

// New returns a client that trusts trustedRoot. If the cache holds a newer root that verifies
// (signed by a threshold of its own keys, as the cache is trusted storage) the client starts
// from it. New does no network I/O.
func New(trustedRoot []byte, opts Options) (*Client, error) {
	if opts.Fetcher == nil && !opts.Offline {
		return nil, errors.New("tuf: Options.Fetcher is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxRootRotations <= 0 {
		opts.MaxRootRotations = DefaultMaxRootRotations
	}
	if opts.MaxDelegations <= 0 {
		opts.MaxDelegations = DefaultMaxDelegations
	}
	if opts.MetadataBase != "" && !strings.HasSuffix(opts.MetadataBase, "/") {
		opts.MetadataBase += "/"
	}
	if opts.TargetsBase != "" && !strings.HasSuffix(opts.TargetsBase, "/") {
		opts.TargetsBase += "/"
	}
	c := &Client{opts: opts, limits: opts.Limits.withDefaults(), mem: map[string][]byte{}, bindings: map[string]*Binding{}}
	if opts.CacheDir != "" {
		if b, err := os.ReadFile(filepath.Join(opts.CacheDir, bindingsFile)); err == nil {
			if json.Unmarshal(b, &c.bindings) != nil || c.bindings == nil {
				c.bindings = map[string]*Binding{}
			}
		}
	}
	given, err := NewTrusted(trustedRoot, opts.Now())
	if err != nil {
		return nil, err
	}
	c.rootBytes = trustedRoot
	if cached := c.loadLocal(RoleRoot); cached != nil {
		if ct, err := NewTrusted(cached, opts.Now()); err == nil && ct.Root().Version > given.Root().Version {
			c.rootBytes = cached
		}
	}
	return c, nil
}

func (c *Client) loadLocal(role string) []byte {
	if c.opts.CacheDir == "" {
		return c.mem[role]
	}
	b, err := os.ReadFile(filepath.Join(c.opts.CacheDir, names.Quote(role)+".json"))
	if err != nil {
		return nil
	}
	return b
}

func (c *Client) persist(role string, raw []byte) error {
	if c.opts.CacheDir == "" {
		c.mem[role] = raw
		return nil
	}
	return writeFileAtomic(filepath.Join(c.opts.CacheDir, names.Quote(role)+".json"), raw)
}

// writeFileAtomic writes data to a temporary file in the same directory and renames it over
// path, so a reader sees the old or the new content, never a mixture.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := writeTemp(filepath.Dir(path), data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// writeTemp writes data to a new temporary file in dir, synced, and returns its name.
func writeTemp(dir string, data []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

const refreshedFile = ".tinto-refreshed"

// Refresh runs the TUF client workflow: root rotation, timestamp, snapshot and top-level
// targets. Delegated roles are loaded on demand by Target. On failure the client keeps no
// top-level state (lookups fail until a Refresh succeeds), but newer verified roots are kept.
func (c *Client) Refresh(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = nil
	now := c.opts.Now()
	t, err := NewTrusted(c.rootBytes, now)
	if err != nil {
		return err
	}
	if c.opts.Offline {
		return c.refreshOffline(t, now)
	}
	if c.opts.CacheDir != "" && c.loadLocal(RoleRoot) == nil {
		if err := c.persist(RoleRoot, c.rootBytes); err != nil {
			return err
		}
	}
	if err := c.updateRoot(ctx, t); err != nil {
		return err
	}
	if err := c.updateTimestamp(ctx, t); err != nil {
		return err
	}
	if err := c.updateSnapshot(ctx, t); err != nil {
		return err
	}
	if err := c.loadTargets(ctx, t, RoleTargets, RoleRoot); err != nil {
		return err
	}
	c.state = t
	if c.opts.CacheDir != "" {
		_ = writeFileAtomic(filepath.Join(c.opts.CacheDir, refreshedFile), []byte(now.UTC().Format(time.RFC3339)+"\n"))
	}
	return nil
}

func (c *Client) refreshOffline(t *Trusted, now time.Time) error {
	stale := func(err error) error {
		return vErr(verr.Freeze, "", err, "offline: the cached metadata is stale or incomplete; refresh online")
	}
	if c.opts.MaxCacheAge > 0 {
		b := c.loadLocal(refreshedFile)
		if c.opts.CacheDir != "" {
			b, _ = os.ReadFile(filepath.Join(c.opts.CacheDir, refreshedFile))
		}
		last, err := time.Parse(time.RFC3339, strings.TrimSpace(string(b)))
		if err != nil {
			return stale(errors.New("no record of an online refresh"))
		}
		if age := now.Sub(last); age > c.opts.MaxCacheAge {
			return stale(fmt.Errorf("last online refresh %s ago (limit %s)", age.Round(time.Second), c.opts.MaxCacheAge))
		}
	}
	for _, step := range []struct {
		role   string
		update func(b []byte) error
	}{
		{RoleTimestamp, t.UpdateTimestamp},
		{RoleSnapshot, func(b []byte) error { return t.UpdateSnapshot(b, true) }},
		{RoleTargets, func(b []byte) error {
			return t.UpdateDelegatedTargetsBound(b, RoleTargets, RoleRoot, c.bindings[RoleTargets])
		}},
	} {
		b := c.loadLocal(step.role)
		if b == nil {
			return stale(fmt.Errorf("%s is not in the cache", step.role))
		}
		if err := step.update(b); err != nil {
			return stale(err)
		}
	}
	c.state = t
	return nil
}

func (c *Client) updateRoot(ctx context.Context, t *Trusted) error {
	start := t.Root().Version
	for v := start + 1; v <= start+int64(c.opts.MaxRootRotations); v++ {
		raw, err := readAll(ctx, c.opts.Fetcher, RoleRoot, c.opts.MetadataBase+itoa(v)+".root.json", c.limits.Root)
		if errors.Is(err, ErrNotExist) {
			break
		}
		if err != nil {
			return err
		}
		if err := t.UpdateRoot(raw); err != nil {
			return err
		}
		if err := c.persist(RoleRoot, raw); err != nil {
			return err
		}
		c.rootBytes = raw
	}
	return nil
}

func (c *Client) updateTimestamp(ctx context.Context, t *Trusted) error {
	if local := c.loadLocal(RoleTimestamp); local != nil {
		_ = t.UpdateTimestamp(local) // a bad or expired local copy only loses its rollback protection role
	}
	raw, err := readAll(ctx, c.opts.Fetcher, RoleTimestamp, c.opts.MetadataBase+"timestamp.json", c.limits.Timestamp)
	if err != nil {
		return err
	}
	if err := t.UpdateTimestamp(raw); err != nil {
		if errors.Is(err, errEqualVersion) {
			return nil
		}
		return err
	}
	return c.persist(RoleTimestamp, raw)
}

func (c *Client) updateSnapshot(ctx context.Context, t *Trusted) error {
	if local := c.loadLocal(RoleSnapshot); local != nil {
		if err := t.UpdateSnapshot(local, true); err == nil {
			return nil
		}
	}
	meta := t.Timestamp().Meta["snapshot.json"]
	limit := c.limits.Snapshot
	if meta.Length != nil {
		limit = *meta.Length
	}
	name := "snapshot.json"
	if t.Root().ConsistentSnapshot {
		name = itoa(meta.Version) + ".snapshot.json"
	}
	raw, err := readAll(ctx, c.opts.Fetcher, RoleSnapshot, c.opts.MetadataBase+name, limit)
	if err != nil {
		return err
	}
	if err := t.UpdateSnapshot(raw, false); err != nil {
		return err
	}
	return c.persist(RoleSnapshot, raw)
}

func (c *Client) loadTargets(ctx context.Context, t *Trusted, role, delegator string) error {
	if t.roles[role] != nil {
		if t.HasRole(role, delegator) {
			return nil
		}
		if err := t.ReverifyDelegated(role, delegator); err != nil {
			return err
		}
		c.bind(t, role)
		return nil
	}
	if local := c.loadLocal(role); local != nil {
		if err := t.UpdateDelegatedTargetsBound(local, role, delegator, c.bindings[role]); err == nil {
			c.bind(t, role)
			return nil
		}
	}
	if c.opts.Offline {
		return vErr(verr.Freeze, role, nil, "offline: %s is not in the cache", role)
	}
	meta, ok := t.Snapshot().Meta[role+".json"]
	if !ok {
		return errMixAndMatch(role, "snapshot does not list %s.json", role)
	}
	limit := c.limits.Targets
	if meta.Length != nil {
		limit = *meta.Length
	}
	name := names.Quote(role) + ".json"
	if t.Root().ConsistentSnapshot {
		name = itoa(meta.Version) + "." + name
	}
	raw, err := readAll(ctx, c.opts.Fetcher, role, c.opts.MetadataBase+name, limit)
	if err != nil {
		return err
	}
	if c.opts.CacheDir != "" && len(raw) >= bindThreshold {
		// A large role: keep the received bytes in a temporary file in the cache, canonicalise
		// the buffer in place (no second copy in memory), and move the file into place only once
		// the role is trusted.
		tmp, err := writeTemp(c.opts.CacheDir, raw)
		if err != nil {
			return err
		}
		err = t.UpdateDelegatedTargetsInPlace(raw, role, delegator)
		if errors.Is(err, errNeedsCopy) {
			var fresh []byte
			if fresh, err = os.ReadFile(tmp); err == nil {
				err = t.UpdateDelegatedTargets(fresh, role, delegator)
			}
		}
		if err == nil {
			err = os.Rename(tmp, filepath.Join(c.opts.CacheDir, names.Quote(role)+".json"))
		}
		if err != nil {
			os.Remove(tmp)
			return err
		}
		c.bind(t, role)
		return nil
	}
	if err := t.UpdateDelegatedTargets(raw, role, delegator); err != nil {
		return err
	}
	if err := c.persist(role, raw); err != nil {
		return err
	}
	c.bind(t, role)
	return nil
}

const bindingsFile = ".tinto-bindings.json"

// bind records (and persists) the binding of a role just trusted, if it is worth one.
func (c *Client) bind(t *Trusted, role string) {
	b := t.Binding(role)
	old := c.bindings[role]
	if b == nil {
		if old != nil {
			delete(c.bindings, role)
			c.saveBindings()
		}
		return
	}
	if old != nil && old.SHA256 == b.SHA256 && len(old.Via) == len(b.Via) {
		same := true
		for k, v := range b.Via {
			same = same && old.Via[k] == v
		}
		if same {
			return
		}
	}
	c.bindings[role] = b
	c.saveBindings()
}

func (c *Client) saveBindings() {
	if c.opts.CacheDir == "" {
		return
	}
	if b, err := json.Marshal(c.bindings); err == nil {
		_ = writeFileAtomic(filepath.Join(c.opts.CacheDir, bindingsFile), b)
	}
}

var errNotRefreshed = errors.New("tuf: no trusted metadata: Refresh has not succeeded")

// Info returns facts about the trusted top-level metadata after a successful
// Refresh.
func (c *Client) Info() (*Info, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == nil {
		return nil, errNotRefreshed
	}
	t := c.state
	info := &Info{
		RootVersion:      t.Root().Version,
		RootExpires:      t.Root().Expires,
		TimestampVersion: t.Timestamp().Version,
		TimestampExpires: t.Timestamp().Expires,
		SnapshotVersion:  t.Snapshot().Version,
		SnapshotExpires:  t.Snapshot().Expires,
	}
	if tg := t.Targets(RoleTargets); tg != nil {
		info.TargetsVersion = tg.Version
		info.TargetsExpires = tg.Expires
		info.TopLevelTargets = tg.Targets.count()
	}
	return info, nil
}

// Info summarises the trusted top-level metadata.
type Info struct {
	RootVersion, TimestampVersion, SnapshotVersion, TargetsVersion int64
	RootExpires, TimestampExpires, SnapshotExpires, TargetsExpires time.Time
	// TopLevelTargets counts the targets listed directly in the top-level targets role.
	TopLevelTargets int
}

// Target looks a target up: a pre-order depth-first search of the delegation graph from the
// top-level targets role, fetching delegated roles as needed (specification 5.6.7). It returns
// a verr.NotFound error when no trusted role lists the target.
func (c *Client) Target(ctx context.Context, name string) (*TargetFile, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.state
	if t == nil {
		return nil, errNotRefreshed
	}
	type visit struct{ role, parent string }
	stack := []visit{{RoleTargets, RoleRoot}}
	visited := map[visit]bool{}
	budget := c.opts.MaxDelegations
	for budget > 0 && len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if visited[v] {
			continue
		}
		if err := c.loadTargets(ctx, t, v.role, v.parent); err != nil {
			return nil, err
		}
		tg := t.Targets(v.role)
		tf, err := tg.Targets.lookup(name)
		if err != nil {
			return nil, err
		}
		if tf != nil {
			return tf, nil
		}
		visited[v] = true
		budget--
		if tg.Delegations == nil {
			continue
		}
		var children []visit
		for _, child := range tg.Delegations.rolesFor(name) {
			children = append(children, visit{child.name, v.role})
			if child.terminating {
				stack = stack[:0]
				break
			}
		}
		for i := len(children) - 1; i >= 0; i-- {
			stack = append(stack, children[i])
		}
	}
	return nil, errNotFound(name, "no trusted role lists %q", name)
}

// Download fetches a target (from Target) and writes it to w, checking the length and every
// supported hash while streaming: memory use is constant in the target's size. On error, what
// was written to w must be discarded (DownloadFile does that for files).
func (c *Client) Download(ctx context.Context, tf *TargetFile, w io.Writer) error {
	c.mu.Lock()
	t := c.state
	c.mu.Unlock()
	if t == nil {
		return errNotRefreshed
	}
	loc := c.opts.TargetsBase + tf.Name
	if t.Root().ConsistentSnapshot && !c.opts.NoTargetHashPrefix && len(tf.Hashes) > 0 {
		dir, base := "", tf.Name
		if i := strings.LastIndexByte(tf.Name, '/'); i >= 0 {
			dir, base = tf.Name[:i+1], tf.Name[i+1:]
		}
		loc = c.opts.TargetsBase + dir + tf.Hashes[0].Hex + "." + base
	}
	if c.opts.Fetcher == nil {
		// Offline without a Fetcher: metadata comes from the cache, targets from nowhere.
		return fmt.Errorf("tuf: offline and no Fetcher: target %q cannot be downloaded", tf.Name)
	}
	rc, err := c.opts.Fetcher.Fetch(ctx, loc, tf.Length)
	if err != nil {
		var tl *tooLongError
		if errors.As(err, &tl) {
			return errEndless("", tf.Length)
		}
		return err
	}
	defer rc.Close()
	return VerifyStream(ctxReader{ctx, rc}, tf, w)
}

// VerifyStream copies r to w, failing as soon as more than tf.Length bytes arrive
// (verr.EndlessData), and checks the length and every supported hash at the end
// (verr.Mismatch). Hash algorithms this client does not implement are ignored when at least one
// supported algorithm is listed; a target with no supported algorithm is refused.
func VerifyStream(r io.Reader, tf *TargetFile, w io.Writer) error {
	type hv struct {
		alg  string
		want []byte
		h    hash.Hash
	}
	var hs []hv
	var ws []io.Writer
	for _, h := range tf.Hashes {
		d := hashFor(h.Algorithm)
		if d == nil {
			continue
		}
		want, err := hex.DecodeString(h.Hex)
		if err != nil {
			return errMismatch(tf.Name, "%s hash is not hex", h.Algorithm)
		}
		hs = append(hs, hv{h.Algorithm, want, d})
		ws = append(ws, d)
	}
	if len(hs) == 0 {
		return errMismatch(tf.Name, "no supported hash algorithm")
	}
	ws = append(ws, w)
	n, err := io.Copy(io.MultiWriter(ws...), io.LimitReader(r, tf.Length+1))
	if err != nil {
		return err
	}
	if n > tf.Length {
		e := errEndless("", tf.Length)
		e.(*verr.VerificationError).Artifact = tf.Name
		return e
	}
	if n != tf.Length {
		return errMismatch(tf.Name, "length %d, expected %d", n, tf.Length)
	}
	for _, h := range hs {
		if got := h.h.Sum(nil); string(got) != string(h.want) {
			return errMismatch(tf.Name, "%s hash mismatch", h.alg)
		}
	}
	return nil
}

// DownloadFile downloads a target into path atomically: into a temporary file next to it,
// renamed over path only once length and hashes are verified. Nothing is left behind on error.
func (c *Client) DownloadFile(ctx context.Context, tf *TargetFile, path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".download-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = c.Download(ctx, tf, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// VerifyFile reports whether the file at path already holds the target (length and hashes).
func VerifyFile(path string, tf *TargetFile) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return VerifyStream(f, tf, io.Discard) == nil
}

type childRole struct {
	name        string
	terminating bool
}

// rolesFor returns the delegated roles trusted for target, in order (specification 5.6.7.2).
func (d *Delegations) rolesFor(target string) []childRole {
	if s := d.SuccinctRoles; s != nil {
		return []childRole{{s.binFor(target), false}}
	}
	var out []childRole
	var sum string
	for _, r := range d.Roles {
		ok := false
		if r.PathHashPrefixes != nil {
			if sum == "" {
				h := sha256.Sum256([]byte(target))
				sum = hex.EncodeToString(h[:])
			}
			for _, p := range r.PathHashPrefixes {
				if strings.HasPrefix(sum, strings.ToLower(p)) {
					ok = true
					break
				}
			}
		} else {
			for _, p := range r.Paths {
				if matchPathPattern(target, p) {
					ok = true
					break
				}
			}
		}
		if ok {
			out = append(out, childRole{r.Name, r.Terminating})
		}
	}
	return out
}

// QuoteName quotes a role or target name for use as one URL path segment or file name, the way
// TUF clients and repositories do (python's urllib.parse.quote(name, safe="")).
func QuoteName(name string) string { return names.Quote(name) }
