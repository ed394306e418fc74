package tuf_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf"
	"github.com/tintoproject/tinto/pkg/tuf/publish"
)

// A repository written with pkg/tuf/publish, served from memory, and read with a Client.
func Example() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	repo, _ := publish.New(publish.Options{Now: now})
	_ = repo.AddTarget("targets", "app-1.0.tar.gz", []byte("app bytes"), map[string]any{"in-toto": []any{"root.layout"}})
	_ = repo.Publish()

	client, err := tuf.New(repo.TrustedRoot(), tuf.Options{
		Fetcher: tuf.FetcherFunc(func(ctx context.Context, loc string, limit int64) (io.ReadCloser, error) {
			b, ok := repo.Lookup(loc) // "metadata/..." or "targets/..."
			if !ok {
				return nil, tuf.ErrNotExist
			}
			return io.NopCloser(bytes.NewReader(b)), nil
		}),
		MetadataBase: "metadata/",
		TargetsBase:  "targets/",
		Now:          func() time.Time { return now.Add(time.Hour) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := client.Refresh(ctx); err != nil {
		fmt.Println(err)
		return
	}
	tf, err := client.Target(ctx, "app-1.0.tar.gz")
	if err != nil {
		fmt.Println(err)
		return
	}
	var buf bytes.Buffer
	if err := client.Download(ctx, tf, &buf); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tf.Name, tf.Length, buf.String())
	// Output: app-1.0.tar.gz 9 app bytes
}
