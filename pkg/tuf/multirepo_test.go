package tuf_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/tintoproject/tinto/pkg/tuf"
	"github.com/tintoproject/tinto/pkg/verr"
)

func TestMultiRepositoryConsensus(t *testing.T) {
	ctx := context.Background()
	a, b := newSim(t), newSim(t)
	// Both list shared.txt identically; only a lists only-a.txt; they disagree on diff.txt.
	for _, s := range []*sim{a, b} {
		if err := s.repo.AddTarget("targets", "pkgs/shared.txt", []byte("same"), nil); err != nil {
			t.Fatal(err)
		}
	}
	a.repo.AddTarget("targets", "pkgs/diff.txt", []byte("version A"), nil)
	b.repo.AddTarget("targets", "pkgs/diff.txt", []byte("version B"), nil)
	a.repo.AddTarget("targets", "other/only-a.txt", []byte("a"), nil)
	a.publish()
	b.publish()
	m, err := tuf.ParseMapFile([]byte(`{
	  "repositories": {"a": ["https://a.example/"], "b": ["https://b.example/"]},
	  "mapping": [
	    {"paths": ["pkgs/*"], "repositories": ["a", "b"], "threshold": 2, "terminating": true},
	    {"paths": ["*/*"], "repositories": ["a"], "threshold": 1}
	  ]}`))
	if err != nil {
		t.Fatal(err)
	}
	mc, err := tuf.NewMulti(m, map[string]*tuf.Client{"a": a.client(), "b": b.client()})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	tf, repo, err := mc.Target(ctx, "pkgs/shared.txt")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := mc.Download(ctx, repo, tf, &buf); err != nil || buf.String() != "same" {
		t.Fatalf("download %q %v", buf.String(), err)
	}
	_, _, err = mc.Target(ctx, "pkgs/diff.txt")
	wantReason(t, err, verr.Threshold)
	if _, _, err := mc.Target(ctx, "other/only-a.txt"); err != nil {
		t.Fatal(err)
	}
	_, _, err = mc.Target(ctx, "none")
	wantReason(t, err, verr.NotFound)
}

func TestParseMapFileRejects(t *testing.T) {
	for _, bad := range []string{
		`{}`,
		`{"repositories": {"a": []}, "mapping": [{"paths": ["*"], "repositories": ["b"], "threshold": 1}]}`,
		`{"repositories": {"a": []}, "mapping": [{"paths": ["*"], "repositories": ["a"], "threshold": 2}]}`,
		`{"repositories": {"a": []}, "mapping": [{"paths": ["*"], "repositories": ["a", "a"], "threshold": 1}]}`,
		`{"repositories": {"a": [], "a": []}, "mapping": []}`,
	} {
		if _, err := tuf.ParseMapFile([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
