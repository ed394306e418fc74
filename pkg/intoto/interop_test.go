package intoto

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	golang "github.com/in-toto/in-toto-golang/in_toto"

	"github.com/tintoproject/tinto/pkg/keys"
)

// TestInTotoGolangLinks: links recorded by in-toto-golang's InTotoRun, as Metablocks and as
// DSSE envelopes, verify with tinto against a layout made by tinto's builders.
func TestInTotoGolangLinks(t *testing.T) {
	for _, dsse := range []bool{false, true} {
		owner, fn := mustKey(t), mustKey(t)
		pemKey, err := fn.MarshalPrivatePEM()
		if err != nil {
			t.Fatal(err)
		}
		var gk golang.Key
		if err := gk.LoadKeyReaderDefaults(bytes.NewReader(pemKey)); err != nil {
			t.Fatal(err)
		}
		if gk.KeyID != fn.Key.KeyID {
			t.Fatalf("keyids differ: in-toto-golang %s, tinto %s", gk.KeyID, fn.Key.KeyID)
		}
		work, links := t.TempDir(), t.TempDir()
		if err := os.WriteFile(filepath.Join(work, "foo.c"), []byte("int main;"), 0o644); err != nil {
			t.Fatal(err)
		}
		src := filepath.Join(work, "foo.c")
		md, err := golang.InTotoRun("build", work, []string{src}, []string{src}, nil, gk,
			[]string{"sha256"}, nil, []string{work + string(filepath.Separator)}, false, false, dsse)
		if err != nil {
			t.Fatal(err)
		}
		if err := md.Dump(filepath.Join(links, LinkFileName("build", gk.KeyID))); err != nil {
			t.Fatal(err)
		}
		l := NewLayout(time.Now(), time.Hour, fn.Key)
		l.Steps = []Step{{Name: "build", Threshold: 1, PubKeys: []string{fn.Key.KeyID},
			ExpectedMaterials: [][]string{{"ALLOW", "foo.c"}, {"DISALLOW", "*"}},
			ExpectedProducts:  [][]string{{"MATCH", "foo.c", "WITH", "MATERIALS", "FROM", "build"}, {"DISALLOW", "*"}}}}
		layout := mustSign(t, l.Signed(), owner)
		res, err := Verify(context.Background(), layout, Options{LayoutKeys: []*keys.Key{owner.Key}, Links: DirLinks(links)})
		if err != nil {
			t.Fatalf("dsse=%v: %v", dsse, err)
		}
		want := FormatMetablock
		if dsse {
			want = FormatDSSE
		}
		if got := res.Steps[0].Links[0].Format; got != want {
			t.Fatalf("format %s, want %s", got, want)
		}
	}
}
