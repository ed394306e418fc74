package verify

import (
	"context"
	"io"
	"os"
	"strings"

	"github.com/tintoproject/tinto/pkg/tuf"
)

// tufRepository adapts a *tuf.Client to Repository.
type tufRepository struct{ c *tuf.Client }

// newTUFRepository builds the pkg/tuf client for Options.Remote: an HTTP(S) URL, or a local
// directory with metadata/ and targets/ below it.
func newTUFRepository(trustedRoot []byte, opts *Options) (Repository, error) {
	to := tuf.Options{CacheDir: opts.CacheDir, Now: opts.Now, Offline: opts.Offline, MaxCacheAge: opts.MaxCacheAge}
	if opts.Fetcher != nil {
		base := ""
		if opts.Remote != "" {
			base = strings.TrimSuffix(opts.Remote, "/") + "/"
		}
		to.Fetcher = opts.Fetcher
		to.MetadataBase, to.TargetsBase = base+"metadata/", base+"targets/"
	} else if r := opts.Remote; strings.HasPrefix(r, "http://") || strings.HasPrefix(r, "https://") {
		base := strings.TrimSuffix(r, "/")
		to.Fetcher = &tuf.HTTPFetcher{UserAgent: "tinto-verify"}
		to.MetadataBase, to.TargetsBase = base+"/metadata/", base+"/targets/"
	} else {
		to.Fetcher = tuf.DirFetcher{Dir: r}
		to.MetadataBase, to.TargetsBase = "metadata/", "targets/"
	}
	if opts.CacheDir != "" {
		if err := os.MkdirAll(opts.CacheDir, 0o700); err != nil {
			return nil, err
		}
	}
	c, err := tuf.New(trustedRoot, to)
	if err != nil {
		return nil, err
	}
	return &tufRepository{c: c}, nil
}

// NewRepository adapts a pkg/tuf client to the Repository interface, for Options.Repository
// (for example a client with its own fetcher, multi-repository setup or offline mode).
func NewRepository(c *tuf.Client) Repository { return &tufRepository{c: c} }

func (r *tufRepository) Refresh(ctx context.Context) error { return r.c.Refresh(ctx) }

func (r *tufRepository) Target(ctx context.Context, name string) (*Target, error) {
	tf, err := r.c.Target(ctx, name)
	if err != nil {
		return nil, err
	}
	return targetOf(tf, false), nil
}

func (r *tufRepository) TopLevelTarget(ctx context.Context, name string) (*Target, error) {
	tf, err := r.c.TopLevelTarget(ctx, name)
	if err != nil {
		return nil, err
	}
	return targetOf(tf, true), nil
}

func (r *tufRepository) Fetch(ctx context.Context, t *Target, w io.Writer) error {
	tf, ok := t.impl.(*tuf.TargetFile)
	if !ok {
		// A Target this adapter did not make: look it up again rather than trust its fields.
		var err error
		if tf, err = r.c.Target(ctx, t.Name); err != nil {
			return err
		}
	}
	return r.c.Download(ctx, tf, w)
}

func targetOf(tf *tuf.TargetFile, top bool) *Target {
	return &Target{Name: tf.Name, Length: tf.Length, Hashes: tf.HashMap(), Custom: tf.Custom, TopLevel: top, impl: tf}
}
