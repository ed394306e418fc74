package publish_test

import (
	"fmt"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf/publish"
)

// A repository with a target carrying custom metadata, published twice: the first versions
// stay available (for a rollback demonstration, serve them again).
func Example() {
	r, _ := publish.New(publish.Options{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	_ = r.AddTarget("targets", "app.tar.gz", []byte("v1"), map[string]any{"in-toto": []any{"root.layout"}})
	_ = r.Publish()
	_ = r.AddTarget("targets", "app.tar.gz", []byte("v2"), nil)
	_ = r.Publish()
	for _, f := range []string{"1.root.json", "1.targets.json", "2.targets.json", "2.snapshot.json", "timestamp.json"} {
		_, ok := r.Files[f]
		fmt.Println(f, ok)
	}
	fmt.Println(r.Roles["timestamp"].Version)
	// Output:
	// 1.root.json true
	// 1.targets.json true
	// 2.targets.json true
	// 2.snapshot.json true
	// timestamp.json true
	// 2
}
