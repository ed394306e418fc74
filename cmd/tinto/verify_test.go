package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestVerifyProgress(t *testing.T) {
	var b bytes.Buffer
	p := vfyNewProgress(&b)
	for _, done := range []int64{0, 10, 10, 50, 100} {
		p.update("demo-app/demo-app-1.0.0.tar.gz", done, 100)
	}
	out := b.String()
	if !strings.Contains(out, " 50%") || !strings.HasSuffix(out, "100%\n") {
		t.Fatalf("progress output %q", out)
	}
	if strings.Count(out, " 10%") != 1 {
		t.Fatalf("an unchanged percentage was redrawn: %q", out)
	}
}

func TestVerifyParams(t *testing.T) {
	var p vfyParams
	for _, s := range []string{"A=1", "B=x=y", "C="} {
		if err := p.Set(s); err != nil {
			t.Fatal(err)
		}
	}
	if p["A"] != "1" || p["B"] != "x=y" || p["C"] != "" {
		t.Fatalf("%v", p)
	}
	for _, bad := range []string{"A=2", "noequals", "=v"} {
		if err := p.Set(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestVerifyOutPath(t *testing.T) {
	dir := t.TempDir()
	if _, err := vfyOutPath(dir, "a/b.tar.gz"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"../x", "/etc/passwd", "a/../../x", "a//b", ""} {
		if _, err := vfyOutPath(dir, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
