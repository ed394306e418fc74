package tuf

import (
	"bytes"
	"context"
	"io"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf/internal/tjson"
	"github.com/tintoproject/tinto/pkg/tuf/publish"
)

// TestLargeUnsortedTargets: a large targets role whose signed members are not in sorted order
// (as go-tuf writes them) goes through the in-place path on a cold start and the bound path on
// a warm start, and reads the right fields both times.
func TestLargeUnsortedTargets(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r, err := publish.New(publish.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1500; i++ {
		n := "pkg/" + strconv.Itoa(i)
		r.AddTarget("targets", n, []byte(n), map[string]any{"i": i})
	}
	if err := r.Publish(); err != nil {
		t.Fatal(err)
	}
	orig := r.Metadata("targets")
	env, err := tjson.ParseEnvelope(orig)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(env.Members))
	for k := range env.Members {
		keys = append(keys, k)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	var b bytes.Buffer
	b.WriteString(`{"signatures": `)
	b.Write(env.Signatures)
	b.WriteString(",\n \"signed\": {")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",\n  ")
		}
		sp := env.Members[k]
		b.WriteString(strconv.Quote(k) + ": ")
		b.Write(env.Signed[sp[0]:sp[1]])
	}
	b.WriteString("}}\n")
	reordered := b.Bytes()
	if len(reordered) < bindThreshold {
		t.Fatalf("only %d bytes", len(reordered))
	}
	fetch := FetcherFunc(func(ctx context.Context, loc string, limit int64) (io.ReadCloser, error) {
		if loc == "metadata/1.targets.json" {
			return io.NopCloser(bytes.NewReader(reordered)), nil
		}
		d, ok := r.Lookup(loc)
		if !ok {
			return nil, ErrNotExist
		}
		return io.NopCloser(bytes.NewReader(d)), nil
	})
	dir := t.TempDir()
	for run := 0; run < 2; run++ {
		c, err := New(r.TrustedRoot(), Options{Fetcher: fetch, MetadataBase: "metadata/", TargetsBase: "targets/",
			CacheDir: dir, Now: func() time.Time { return now.Add(time.Hour) }})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := c.Refresh(ctx); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		tf, err := c.Target(ctx, "pkg/1234")
		if err != nil || tf.Length != 8 || string(tf.Custom) == "" {
			t.Fatalf("run %d: %+v %v", run, tf, err)
		}
		if info, _ := c.Info(); info.TargetsVersion != 1 || info.TopLevelTargets != 1500 {
			t.Fatalf("run %d: info %+v", run, info)
		}
	}
}
