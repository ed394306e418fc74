package tuf_test

// One test per attack in the TUF specification's security section (1.5.2), each run against the
// repository simulator (sim_test.go) and each denied with its specific reason.

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/tuf"
	"github.com/tintoproject/tinto/pkg/tuf/publish"
	"github.com/tintoproject/tinto/pkg/verr"
)

func TestAttackArbitraryInstallation(t *testing.T) {
	ctx := context.Background()
	t.Run("target content replaced", func(t *testing.T) {
		s := newSim(t)
		tf := s.repo.Roles["targets"].Targets["file.txt"]
		s.serve("targets/"+tf.Hashes["sha256"]+".file.txt", []byte("GENUINE content"))
		_, err := fetchTarget(ctx, s.client(), "file.txt")
		wantReason(t, err, verr.Mismatch)
	})
	t.Run("targets metadata signed by an untrusted key", func(t *testing.T) {
		s := newSim(t)
		attacker, _ := publish.GenerateEd25519(nil)
		if err := s.repo.AddTarget("targets", "file.txt", []byte("malicious"), nil); err != nil {
			t.Fatal(err)
		}
		b, err := s.repo.SignRole("targets", []*publish.Signer{attacker})
		if err != nil {
			t.Fatal(err)
		}
		s.serve("metadata/1.targets.json", b)
		_, err = fetchTarget(ctx, s.client(), "file.txt")
		wantReason(t, err, verr.BadSignature)
	})
}

func TestAttackRollback(t *testing.T) {
	ctx := context.Background()
	t.Run("timestamp", func(t *testing.T) {
		s := newSim(t)
		old := s.repo.Files["timestamp.json"]
		c := s.client()
		s.publish("targets")
		if err := c.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		s.serve("metadata/timestamp.json", old)
		err := c.Refresh(ctx)
		wantReason(t, err, verr.Rollback)
		wantSecurity(t, err)
	})
	t.Run("targets version listed in snapshot", func(t *testing.T) {
		s := newSim(t)
		s.publish("targets")
		c := s.client()
		if err := c.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		// An attacker holding the snapshot and timestamp keys lists the older targets.
		s.repo.Roles["targets"].Version--
		s.publish()
		err := c.Refresh(ctx)
		wantReason(t, err, verr.Rollback)
	})
}

func TestAttackIndefiniteFreeze(t *testing.T) {
	s := newSim(t)
	s.repo.Roles["timestamp"].Expires = t0.Add(24 * time.Hour)
	s.publish()
	c := s.client()
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The repository (or a man in the middle) keeps serving the same metadata; time passes.
	s.now = t0.Add(48 * time.Hour)
	err := c.Refresh(context.Background())
	wantReason(t, err, verr.Freeze)
	wantSecurity(t, err)
}

func TestAttackEndlessData(t *testing.T) {
	ctx := context.Background()
	t.Run("timestamp", func(t *testing.T) {
		s := newSim(t)
		s.serve("metadata/timestamp.json", bytes.Repeat([]byte(" "), tuf.DefaultMaxTimestampBytes+1))
		err := s.client().Refresh(ctx)
		wantReason(t, err, verr.EndlessData)
		wantSecurity(t, err)
	})
	t.Run("target", func(t *testing.T) {
		s := newSim(t)
		tf := s.repo.Roles["targets"].Targets["file.txt"]
		s.serve("targets/"+tf.Hashes["sha256"]+".file.txt", append([]byte("genuine content"), bytes.Repeat([]byte("x"), 1<<20)...))
		_, err := fetchTarget(ctx, s.client(), "file.txt")
		wantReason(t, err, verr.EndlessData)
	})
	t.Run("snapshot longer than timestamp says", func(t *testing.T) {
		s := newSim(t)
		b := s.repo.Files["1.snapshot.json"]
		s.serve("metadata/1.snapshot.json", append(append([]byte(nil), b...), bytes.Repeat([]byte(" "), 1<<16)...))
		err := s.client().Refresh(ctx)
		wantReason(t, err, verr.EndlessData)
	})
}

func TestAttackExtraneousDependencies(t *testing.T) {
	// A delegated role trusted only for "a/*" lists a target outside its paths: the client must
	// not install it.
	s := newSim(t)
	if _, err := s.repo.Delegate("targets", publish.DelegatedRole{Name: "a", Paths: []string{"a/*"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.repo.AddTarget("a", "a/ok", []byte("ok"), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.repo.AddTarget("a", "b/extra", []byte("extra"), nil); err != nil {
		t.Fatal(err)
	}
	s.publish()
	c := s.client()
	if _, err := fetchTarget(context.Background(), c, "a/ok"); err != nil {
		t.Fatal(err)
	}
	_, err := c.Target(context.Background(), "b/extra")
	wantReason(t, err, verr.NotFound)
}

func TestAttackFastForward(t *testing.T) {
	ctx := context.Background()
	s := newSim(t)
	c := s.client()
	// The timestamp key is compromised: the attacker publishes timestamp version 1000.
	s.repo.Roles["timestamp"].Version = 999
	s.publish()
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	// The repository goes on with version 3: without recovery the client refuses it.
	s.repo.Roles["timestamp"].Version = 2
	s.publish()
	err := c.Refresh(ctx)
	wantReason(t, err, verr.Rollback)
	// Recovery: rotate the timestamp key (root v2). The fast-forwarded timestamp no longer
	// verifies under the new root, so it stops counting for rollback protection.
	old := s.repo.Roles["timestamp"].Signers[0].KeyID
	if _, err := s.repo.AddKey("timestamp"); err != nil {
		t.Fatal(err)
	}
	s.repo.RemoveKey("timestamp", old)
	s.repo.Roles["timestamp"].Version = 3
	s.publish()
	if err := c.Refresh(ctx); err != nil {
		t.Fatalf("after key rotation: %v", err)
	}
}

func TestAttackMixAndMatch(t *testing.T) {
	ctx := context.Background()
	t.Run("snapshot not the one timestamp lists", func(t *testing.T) {
		s := newSim(t)
		s.publish("targets")
		// Serve snapshot v1's bytes where v2 is expected.
		s.serve("metadata/2.snapshot.json", s.repo.Files["1.snapshot.json"])
		err := s.client().Refresh(ctx)
		wantReason(t, err, verr.MixAndMatch)
		wantSecurity(t, err)
	})
	t.Run("targets version differs from snapshot", func(t *testing.T) {
		s := newSim(t)
		s.publish("targets")
		s.serve("metadata/2.targets.json", s.repo.Files["1.targets.json"])
		err := s.client().Refresh(ctx)
		wantReason(t, err, verr.MixAndMatch)
	})
}

func TestAttackSlowRetrieval(t *testing.T) {
	t.Run("fetcher", func(t *testing.T) {
		s := newSim(t)
		s.slow = func(ctx context.Context, location string) error {
			if strings.HasSuffix(location, "timestamp.json") {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err := s.client().Refresh(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want context.DeadlineExceeded", err)
		}
	})
	t.Run("http trickle", func(t *testing.T) {
		s := newSim(t)
		h := s.repo.Handler()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "timestamp.json") {
				w.WriteHeader(200)
				w.Write([]byte("{"))
				w.(http.Flusher).Flush()
				<-r.Context().Done() // stall after one byte
				return
			}
			h.ServeHTTP(w, r)
		}))
		defer srv.Close()
		c, err := tuf.New(s.repo.TrustedRoot(), tuf.Options{
			Fetcher:      &tuf.HTTPFetcher{Attempts: 1},
			MetadataBase: srv.URL + "/metadata/",
			TargetsBase:  srv.URL + "/targets/",
			Now:          func() time.Time { return s.now },
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		err = c.Refresh(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want context.DeadlineExceeded", err)
		}
	})
}

func TestAttackKeyCompromiseBelowThreshold(t *testing.T) {
	s := newSim(t)
	if _, err := s.repo.AddKey("targets"); err != nil {
		t.Fatal(err)
	}
	s.repo.Roles["targets"].Threshold = 2
	s.publish("targets")
	c := s.client()
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	// One of the two targets keys is compromised: the attacker re-signs targets v2 with it.
	stolen := s.repo.Roles["targets"].Signers[0]
	if err := s.repo.AddTarget("targets", "file.txt", []byte("malicious"), nil); err != nil {
		t.Fatal(err)
	}
	b, err := s.repo.SignRole("targets", []*publish.Signer{stolen})
	if err != nil {
		t.Fatal(err)
	}
	s.serve("metadata/2.targets.json", b)
	_, err = fetchTarget(context.Background(), s.client(), "file.txt")
	wantReason(t, err, verr.Threshold)
}

func TestAttackDelegatedRoleConfusion(t *testing.T) {
	ctx := context.Background()
	t.Run("role signed by another role's key", func(t *testing.T) {
		s := newSim(t)
		a, err := s.repo.Delegate("targets", publish.DelegatedRole{Name: "a", Paths: []string{"a/*"}})
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.repo.Delegate("targets", publish.DelegatedRole{Name: "b", Paths: []string{"b/*"}})
		if err != nil {
			t.Fatal(err)
		}
		_ = a
		if err := s.repo.AddTarget("a", "a/x", []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
		s.publish()
		// b's key holder forges role a.
		if err := s.repo.AddTarget("a", "a/x", []byte("forged"), nil); err != nil {
			t.Fatal(err)
		}
		forged, err := s.repo.SignRole("a", b.Signers)
		if err != nil {
			t.Fatal(err)
		}
		s.serve("metadata/1.a.json", forged)
		c := s.client()
		if err := c.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		_, err = c.Target(ctx, "a/x")
		wantReason(t, err, verr.BadSignature)
	})
	t.Run("diamond", func(t *testing.T) {
		// parent-a and parent-b both delegate "release", with different keys. release is signed
		// by parent-a's key only: trusted via parent-a, not via parent-b, even once cached.
		s := newSim(t)
		for _, p := range []struct{ name, path string }{{"parent-a", "team-a/*"}, {"parent-b", "team-b/*"}} {
			if _, err := s.repo.Delegate("targets", publish.DelegatedRole{Name: p.name, Paths: []string{p.path}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.repo.Delegate("parent-a", publish.DelegatedRole{Name: "release", Paths: []string{"team-a/*"}}); err != nil {
			t.Fatal(err)
		}
		other, _ := publish.GenerateEd25519(nil)
		if _, err := s.repo.Delegate("parent-b", publish.DelegatedRole{Name: "release", Paths: []string{"team-b/*"}, Signers: []*publish.Signer{other}}); err != nil {
			t.Fatal(err)
		}
		if err := s.repo.AddTarget("release", "team-a/root.json", []byte("trusted A"), nil); err != nil {
			t.Fatal(err)
		}
		if err := s.repo.AddTarget("release", "team-b/root.json", []byte("malicious B"), nil); err != nil {
			t.Fatal(err)
		}
		s.publish()
		c := s.client()
		got, err := fetchTarget(ctx, c, "team-a/root.json")
		if err != nil || string(got) != "trusted A" {
			t.Fatalf("team-a: %q %v", got, err)
		}
		_, err = c.Target(ctx, "team-b/root.json")
		wantReason(t, err, verr.BadSignature)
	})
}
