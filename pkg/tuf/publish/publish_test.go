package publish_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf/publish"
)

func TestPublishWritesVersions(t *testing.T) {
	r, err := publish.New(publish.Options{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.AddTarget("targets", "a/b.txt", []byte("hello"), map[string]any{"in-toto": []any{"root.layout"}}); err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(); err != nil {
		t.Fatal(err)
	}
	if err := r.AddTarget("targets", "c.txt", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"1.root.json", "root.json", "timestamp.json", "1.snapshot.json", "2.snapshot.json", "1.targets.json", "2.targets.json"} {
		if r.Files[f] == nil {
			t.Errorf("missing %s", f)
		}
	}
	var md struct {
		Signed struct {
			Version int `json:"version"`
		} `json:"signed"`
	}
	if err := json.Unmarshal(r.Metadata("targets"), &md); err != nil || md.Signed.Version != 2 {
		t.Fatalf("targets version %d, %v", md.Signed.Version, err)
	}
	dir := t.TempDir()
	if err := r.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "targets", "a", "b.txt")); err != nil || string(b) != "hello" {
		t.Fatalf("target: %q %v", b, err)
	}
}
