package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tintoproject/tinto/pkg/verify"
	"github.com/tintoproject/tinto/pkg/verify/verifytest"
	"github.com/tintoproject/tinto/pkg/verr"
)

// TestInstaller runs the installer against a generated repository served on 127.0.0.1: it
// installs the sample package and refuses a tampered one, leaving nothing behind.
func TestInstaller(t *testing.T) {
	now := time.Now()
	r, err := verifytest.New(verifytest.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := r.Serve()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	v, err := verify.New(r.TrustedRoot(), verify.Options{Remote: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	var out bytes.Buffer
	ctx := context.Background()

	if err := install(ctx, v, verifytest.DefaultPackage, dest, &out); err != nil {
		t.Fatalf("install: %v\n%s", err, out.String())
	}
	got, err := os.ReadFile(filepath.Join(dest, "demo-app-1.0.0.tar.gz"))
	if err != nil || !bytes.Equal(got, r.Packages[verifytest.DefaultPackage]) {
		t.Fatalf("installed file: %v", err)
	}

	// The mirror now serves tampered bytes: refused, and the installed copy is untouched.
	r.Tamper(verifytest.DefaultPackage, bytes.Repeat([]byte("x"), len(got)))
	out.Reset()
	err = install(ctx, v, verifytest.DefaultPackage, dest, &out)
	if !errors.Is(err, verr.Mismatch) || !strings.Contains(out.String(), "refusing to install") {
		t.Fatalf("tampered package: err %v\n%s", err, out.String())
	}
	again, _ := os.ReadFile(filepath.Join(dest, "demo-app-1.0.0.tar.gz"))
	if !bytes.Equal(again, got) {
		t.Fatal("a refused install changed the installed file")
	}
	entries, _ := os.ReadDir(dest)
	if len(entries) != 1 {
		t.Fatalf("leftovers in %s: %v", dest, entries)
	}
	t.Log(out.String())
}
