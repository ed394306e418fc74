package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tintoproject/tinto/pkg/verr"
)

// TestExplainIndentsEveryLine checks that a failure whose text spans several lines (the joined
// failures of a sublayout) is printed with every line indented under its parent.
func TestExplainIndentsEveryLine(t *testing.T) {
	inner := errors.Join(
		verr.New(verr.Threshold, "step %q: 0 of 1 links", "pack-2"),
		verr.New(verr.BadSignature, "link pack-3.abcd.link"),
	)
	err := verr.Wrap(verr.LinkMismatch, fmt.Errorf("sublayout build failed: %w", inner), "step %q", "build")
	var buf bytes.Buffer
	explain(&buf, err)
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(lines) < 4 {
		t.Fatalf("want at least 4 lines, got:\n%s", buf.String())
	}
	if !strings.HasPrefix(lines[0], "tinto intoto verify: FAILED (") {
		t.Errorf("first line %q", lines[0])
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "  ") {
			t.Errorf("line not indented: %q\nall:\n%s", l, buf.String())
		}
	}
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "    ") || !strings.Contains(last, "bad-signature") {
		t.Errorf("the sublayout's second failure should be indented under it: %q", last)
	}
}
