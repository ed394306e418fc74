package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTUFOverHTTP runs tinto tuf init/refresh/info/download against a repository written by
// "tinto tuf gen-test-repo" and served by a plain static file server on 127.0.0.1.
func TestTUFOverHTTP(t *testing.T) {
	dir := t.TempDir()
	runTinto := func(wantCode int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
		if code := run(e, args); code != wantCode {
			t.Fatalf("tinto %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, wantCode, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}
	runTinto(0, "tuf", "gen-test-repo", "--rollback", dir)
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(dir, "repo"))))
	defer srv.Close()
	cache := filepath.Join(dir, "cache")
	runTinto(0, "tuf", "init", "--cache", cache, "--root", filepath.Join(dir, "root.json"), "--repo", srv.URL)
	if out := runTinto(0, "tuf", "refresh", "--cache", cache); !strings.Contains(out, "timestamp v2") {
		t.Fatalf("refresh: %s", out)
	}
	if out := runTinto(0, "tuf", "info", "--cache", cache, "--json", "hello.txt"); !strings.Contains(out, `"in-toto"`) {
		t.Fatalf("info: %s", out)
	}
	dst := filepath.Join(dir, "tool.bin")
	runTinto(0, "tuf", "download", "--cache", cache, "-o", dst, "team/tool.bin")
	if b, _ := os.ReadFile(dst); string(b) != "tool v2\n" {
		t.Fatalf("downloaded %q", b)
	}
	// On a terminal, a progress bar goes to stderr; otherwise nothing does.
	var out, errb bytes.Buffer
	tty := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, isTTY: true}
	if code := run(tty, []string{"tuf", "download", "--cache", cache, "--dir", dir, "hello.txt"}); code != 0 {
		t.Fatalf("download on a TTY: %d %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "100.0%") {
		t.Errorf("no progress bar on a TTY: %q", errb.String())
	}
	// The server now serves the previous publication: rollback, exit 1.
	old := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(dir, "repo-old"))))
	defer old.Close()
	runTinto(0, "tuf", "init", "--cache", filepath.Join(dir, "c2"), "--root", filepath.Join(dir, "root.json"), "--repo", old.URL)
	// Point the warm cache at the old server.
	cfg := filepath.Join(cache, tufConfigFile)
	if err := os.WriteFile(cfg, []byte(`{"repo":"`+old.URL+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := runTinto(1, "tuf", "refresh", "--cache", cache); !strings.Contains(out, "rollback") {
		t.Fatalf("rollback: %s", out)
	}
}
