package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf"
	"github.com/tintoproject/tinto/pkg/verr"
)

const tufUsage = `usage: tinto tuf COMMAND [flags]

commands:
  init --root ROOT.json --repo URL|DIR   trust ROOT.json and remember the repository (no network)
  refresh                                update the trusted metadata (the TUF client workflow)
  info TARGET                            print a target's length, hashes and custom metadata
  download [-o FILE | --dir DIR] TARGET...   download and verify targets
  conformance-client ...                 the tuf-conformance CLIENT-CLI protocol (see docs/conformance.md)

common flags (after the command):
  --cache DIR   metadata cache (default $TINTO_TUF_CACHE, else the user cache dir + tinto/tuf)
  --json        machine-readable output
  --offline     use only the cache (must be unexpired; see --max-age)

A repository is an http(s) URL or a directory, holding metadata/ and targets/.
Exit codes: 0 ok, 1 the metadata or target failed verification, 2 usage or operational error.
`

// tufConfig is what init records in the cache directory.
type tufConfig struct {
	Repo string `json:"repo"`
}

const tufConfigFile = "tinto-tuf.json"

func runTUF(e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stderr, tufUsage)
		if len(args) == 0 {
			return exitError
		}
		return exitOK
	}
	switch args[0] {
	case "init":
		return tufInit(e, args[1:])
	case "refresh":
		return tufRefresh(e, args[1:])
	case "info":
		return tufInfo(e, args[1:])
	case "download":
		return tufDownload(e, args[1:])
	case "conformance-client":
		return tufConformance(e, args[1:])
	case "gen-test-repo": // hidden: writes a sample repository for tests and experiments
		return tufGenTestRepo(e, args[1:])
	}
	fmt.Fprintf(e.stderr, "tinto tuf: unknown command %q\n", args[0])
	fmt.Fprint(e.stderr, tufUsage)
	return exitError
}

// tufFlags are the flags every subcommand shares.
type tufFlags struct {
	cache   string
	json    bool
	offline bool
	maxAge  time.Duration
}

func newTUFFlagSet(e *env, name string, f *tufFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("tinto tuf "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&f.cache, "cache", "", "metadata cache `DIR`")
	fs.BoolVar(&f.json, "json", false, "JSON output")
	fs.BoolVar(&f.offline, "offline", false, "use only the cache")
	fs.DurationVar(&f.maxAge, "max-age", 0, "with --offline: fail if the last online refresh is older than `DURATION`")
	return fs
}

func (f *tufFlags) cacheDir(e *env) (string, error) {
	if f.cache != "" {
		return f.cache, nil
	}
	if d := e.getenv("TINTO_TUF_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory: use --cache: %w", err)
	}
	return filepath.Join(d, "tinto", "tuf"), nil
}

func tufFail(e *env, err error) int {
	fmt.Fprintf(e.stderr, "tinto tuf: %v\n", err)
	var ve *verr.VerificationError
	if errors.As(err, &ve) {
		return exitDenied
	}
	return exitError
}

func tufInit(e *env, args []string) int {
	var f tufFlags
	fs := newTUFFlagSet(e, "init", &f)
	root := fs.String("root", "", "trusted root.json `FILE`")
	repo := fs.String("repo", "", "repository `URL|DIR` (holding metadata/ and targets/)")
	if _, err := parseInterspersed(fs, args); err != nil {
		return exitError
	}
	if *root == "" || *repo == "" {
		fmt.Fprintln(e.stderr, "tinto tuf init: --root and --repo are required")
		return exitError
	}
	dir, err := f.cacheDir(e)
	if err != nil {
		return tufFail(e, err)
	}
	b, err := os.ReadFile(*root)
	if err != nil {
		return tufFail(e, err)
	}
	if _, err := tuf.NewTrusted(b, time.Now()); err != nil {
		return tufFail(e, fmt.Errorf("%s: %w", *root, err))
	}
	r := *repo
	if !isURL(r) {
		if r, err = filepath.Abs(r); err != nil {
			return tufFail(e, err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return tufFail(e, err)
	}
	cfg, _ := json.Marshal(tufConfig{Repo: r})
	if err := os.WriteFile(filepath.Join(dir, tufConfigFile), append(cfg, '\n'), 0o644); err != nil {
		return tufFail(e, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "root.json"), b, 0o644); err != nil {
		return tufFail(e, err)
	}
	if f.json {
		writeJSON(e.stdout, map[string]any{"version": 1, "cache": dir, "repo": r})
	} else {
		fmt.Fprintf(e.stdout, "initialised %s for %s\n", dir, r)
	}
	return exitOK
}

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

// tufClient builds a client from the cache directory's configuration.
func tufClient(e *env, f *tufFlags) (*tuf.Client, error) {
	dir, err := f.cacheDir(e)
	if err != nil {
		return nil, err
	}
	var cfg tufConfig
	b, err := os.ReadFile(filepath.Join(dir, tufConfigFile))
	if err != nil {
		return nil, fmt.Errorf("%s is not initialised (run tinto tuf init): %w", dir, err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil || cfg.Repo == "" {
		return nil, fmt.Errorf("%s: invalid configuration", filepath.Join(dir, tufConfigFile))
	}
	root, err := os.ReadFile(filepath.Join(dir, "root.json"))
	if err != nil {
		return nil, err
	}
	opts := tuf.Options{CacheDir: dir, Offline: f.offline, MaxCacheAge: f.maxAge}
	if isURL(cfg.Repo) {
		base := strings.TrimSuffix(cfg.Repo, "/")
		opts.Fetcher = &tuf.HTTPFetcher{UserAgent: "tinto"}
		opts.MetadataBase, opts.TargetsBase = base+"/metadata/", base+"/targets/"
	} else {
		opts.Fetcher = tuf.DirFetcher{Dir: cfg.Repo}
		opts.MetadataBase, opts.TargetsBase = "metadata/", "targets/"
	}
	return tuf.New(root, opts)
}

func tufRefresh(e *env, args []string) int {
	var f tufFlags
	fs := newTUFFlagSet(e, "refresh", &f)
	if _, err := parseInterspersed(fs, args); err != nil {
		return exitError
	}
	c, err := tufClient(e, &f)
	if err != nil {
		return tufFail(e, err)
	}
	if err := c.Refresh(context.Background()); err != nil {
		return tufFail(e, err)
	}
	info, err := c.Info()
	if err != nil {
		return tufFail(e, err)
	}
	if f.json {
		writeJSON(e.stdout, map[string]any{
			"version":   1,
			"root":      map[string]any{"version": info.RootVersion, "expires": info.RootExpires},
			"timestamp": map[string]any{"version": info.TimestampVersion, "expires": info.TimestampExpires},
			"snapshot":  map[string]any{"version": info.SnapshotVersion, "expires": info.SnapshotExpires},
			"targets": map[string]any{"version": info.TargetsVersion, "expires": info.TargetsExpires,
				"count": info.TopLevelTargets},
			"offline": f.offline,
		})
		return exitOK
	}
	mode := ""
	if f.offline {
		mode = " (offline, from the cache)"
	}
	fmt.Fprintf(e.stdout, "refreshed%s: root v%d, timestamp v%d, snapshot v%d, targets v%d (%d targets)\n",
		mode, info.RootVersion, info.TimestampVersion, info.SnapshotVersion, info.TargetsVersion, info.TopLevelTargets)
	return exitOK
}

func targetJSON(tf *tuf.TargetFile) map[string]any {
	m := map[string]any{"name": tf.Name, "length": tf.Length, "hashes": tf.HashMap()}
	if tf.Custom != nil {
		m["custom"] = json.RawMessage(tf.Custom)
	}
	return m
}

func tufInfo(e *env, args []string) int {
	var f tufFlags
	fs := newTUFFlagSet(e, "info", &f)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitError
	}
	if len(pos) != 1 {
		fmt.Fprintln(e.stderr, "usage: tinto tuf info [--json] TARGET")
		return exitError
	}
	c, err := tufClient(e, &f)
	if err != nil {
		return tufFail(e, err)
	}
	ctx := context.Background()
	if err := c.Refresh(ctx); err != nil {
		return tufFail(e, err)
	}
	tf, err := c.Target(ctx, pos[0])
	if err != nil {
		return tufFail(e, err)
	}
	if f.json {
		m := targetJSON(tf)
		m["version"] = 1
		writeJSON(e.stdout, m)
		return exitOK
	}
	fmt.Fprintf(e.stdout, "target: %s\nlength: %d\n", tf.Name, tf.Length)
	algs := make([]string, 0, len(tf.Hashes))
	for _, h := range tf.Hashes {
		algs = append(algs, h.Algorithm+":"+h.Hex)
	}
	sort.Strings(algs)
	for _, a := range algs {
		fmt.Fprintf(e.stdout, "hash:   %s\n", a)
	}
	if tf.Custom != nil {
		var v any
		_ = json.Unmarshal(tf.Custom, &v)
		cb, _ := json.Marshal(v)
		fmt.Fprintf(e.stdout, "custom: %s\n", cb)
	}
	return exitOK
}

func tufDownload(e *env, args []string) int {
	var f tufFlags
	fs := newTUFFlagSet(e, "download", &f)
	out := fs.String("o", "", "write the (single) target to `FILE`")
	dir := fs.String("dir", ".", "write targets into `DIR` under their base names")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitError
	}
	if len(pos) == 0 || (*out != "" && len(pos) != 1) {
		fmt.Fprintln(e.stderr, "usage: tinto tuf download [--json] [-o FILE | --dir DIR] TARGET...")
		return exitError
	}
	c, err := tufClient(e, &f)
	if err != nil {
		return tufFail(e, err)
	}
	ctx := context.Background()
	if err := c.Refresh(ctx); err != nil {
		return tufFail(e, err)
	}
	var results []any
	for _, name := range pos {
		tf, err := c.Target(ctx, name)
		if err != nil {
			return tufFail(e, err)
		}
		dst := *out
		if dst == "" {
			base := filepath.Base(filepath.FromSlash(name))
			if base == "." || base == ".." || base == string(filepath.Separator) || base == "" {
				return tufFail(e, fmt.Errorf("target %q has no usable file name: use -o", name))
			}
			dst = filepath.Join(*dir, base)
		}
		if err := downloadWithProgress(ctx, e, c, tf, dst); err != nil {
			return tufFail(e, err)
		}
		if f.json {
			m := targetJSON(tf)
			m["path"] = dst
			results = append(results, m)
		} else {
			fmt.Fprintf(e.stdout, "%s -> %s (%d bytes, verified)\n", name, dst, tf.Length)
		}
	}
	if f.json {
		writeJSON(e.stdout, map[string]any{"version": 1, "downloaded": results})
	}
	return exitOK
}

// downloadWithProgress downloads into a temporary file next to dst, renamed over dst only once
// verified, showing a progress bar on a terminal.
func downloadWithProgress(ctx context.Context, e *env, c *tuf.Client, tf *tuf.TargetFile, dst string) error {
	d := filepath.Dir(dst)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(d, ".tinto-download-*")
	if err != nil {
		return err
	}
	var w io.Writer = tmp
	var bar *progress
	if e.isTTY {
		bar = &progress{w: e.stderr, name: tf.Name, total: tf.Length}
		w = io.MultiWriter(tmp, bar)
	}
	err = c.Download(ctx, tf, w)
	if bar != nil {
		bar.done()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// progress draws a one-line progress bar.
type progress struct {
	w     io.Writer
	name  string
	total int64
	n     int64
	last  time.Time
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if now := time.Now(); now.Sub(p.last) > 100*time.Millisecond || p.n == p.total {
		p.last = now
		p.draw()
	}
	return len(b), nil
}

func (p *progress) draw() {
	pct := 100.0
	if p.total > 0 {
		pct = float64(p.n) * 100 / float64(p.total)
	}
	const width = 30
	fill := int(pct * width / 100)
	if fill > width {
		fill = width
	}
	fmt.Fprintf(p.w, "\r%-30.30s [%s%s] %5.1f%% %s/%s", p.name, strings.Repeat("=", fill),
		strings.Repeat(" ", width-fill), pct, size(p.n), size(p.total))
}

func (p *progress) done() {
	p.draw()
	fmt.Fprintln(p.w)
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

func writeJSON(w io.Writer, v any) {
	b, _ := json.MarshalIndent(v, "", "  ")
	w.Write(append(b, '\n'))
}
