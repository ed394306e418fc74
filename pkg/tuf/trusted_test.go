package tuf_test

import (
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf"
	"github.com/tintoproject/tinto/pkg/tuf/publish"
	"github.com/tintoproject/tinto/pkg/verr"
)

// TestTrustedStateMachine drives tuf.Trusted directly, without a network: the order of
// updates is fixed and every step checks against what is already trusted.
func TestTrustedStateMachine(t *testing.T) {
	now := t0.Add(time.Hour)
	r, err := publish.New(publish.Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(); err != nil {
		t.Fatal(err)
	}
	v1 := map[string][]byte{}
	for k, v := range r.Files {
		v1[k] = v
	}
	r.MarkDirty("targets")
	if err := r.Publish(); err != nil {
		t.Fatal(err)
	}
	type step func(tr *tuf.Trusted) error
	ts := func(b []byte) step { return func(tr *tuf.Trusted) error { return tr.UpdateTimestamp(b) } }
	sn := func(b []byte) step { return func(tr *tuf.Trusted) error { return tr.UpdateSnapshot(b, false) } }
	tg := func(b []byte) step {
		return func(tr *tuf.Trusted) error { return tr.UpdateDelegatedTargets(b, "targets", "root") }
	}
	for _, c := range []struct {
		name  string
		steps []step
		want  verr.Reason // "" for success of the last step; "-" for an operational error
	}{
		{"full", []step{ts(r.Files["timestamp.json"]), sn(r.Files["2.snapshot.json"]), tg(r.Files["2.targets.json"])}, ""},
		{"snapshot before timestamp", []step{sn(r.Files["2.snapshot.json"])}, "-"},
		{"targets before snapshot", []step{ts(r.Files["timestamp.json"]), tg(r.Files["2.targets.json"])}, "-"},
		{"timestamp rollback", []step{ts(r.Files["timestamp.json"]), ts(v1["timestamp.json"])}, verr.Rollback},
		{"snapshot not the listed one", []step{ts(r.Files["timestamp.json"]), sn(v1["1.snapshot.json"])}, verr.MixAndMatch},
		{"targets not the listed version", []step{ts(r.Files["timestamp.json"]), sn(r.Files["2.snapshot.json"]), tg(v1["1.targets.json"])}, verr.MixAndMatch},
		{"timestamp as snapshot", []step{ts(r.Files["timestamp.json"]), func(tr *tuf.Trusted) error { return tr.UpdateSnapshot(r.Files["timestamp.json"], true) }}, verr.BadMetadata},
		{"root not version+1", []step{func(tr *tuf.Trusted) error { return tr.UpdateRoot(r.Files["1.root.json"]) }}, verr.Rollback},
		{"root after timestamp", []step{ts(r.Files["timestamp.json"]), func(tr *tuf.Trusted) error { return tr.UpdateRoot(r.Files["1.root.json"]) }}, "-"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, err := tuf.NewTrusted(r.TrustedRoot(), now)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range c.steps {
				err = s(tr)
				if i < len(c.steps)-1 && err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			switch c.want {
			case "":
				if err != nil {
					t.Fatal(err)
				}
			case "-":
				if _, ok := verr.ReasonOf(err); err == nil || ok {
					t.Fatalf("got %v, want an operational error", err)
				}
			default:
				wantReason(t, err, c.want)
			}
		})
	}
}
