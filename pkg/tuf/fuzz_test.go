package tuf

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseMetadata feeds arbitrary bytes to the metadata parser for every role type, and to
// the trusted state machine as a root: never a panic, and a parsed file is internally valid.
func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte(`{"signed":{"_type":"targets","spec_version":"1.0.31","version":1,"expires":"2030-01-01T00:00:00Z","targets":{"a":{"length":1,"hashes":{"sha256":"00"}}},"delegations":{"keys":{},"roles":[{"name":"d","keyids":[],"threshold":1,"paths":["*"]}]}},"signatures":[]}`))
	f.Add([]byte(`{"signed":{"_type":"root","spec_version":"1.0","version":1,"expires":"2030-01-01T00:00:00Z","consistent_snapshot":true,"keys":{},"roles":{"root":{"keyids":[],"threshold":1},"timestamp":{"keyids":[],"threshold":1},"snapshot":{"keyids":[],"threshold":1},"targets":{"keyids":[],"threshold":1}}},"signatures":[]}`))
	f.Add([]byte(`{"signed":{"_type":"timestamp","spec_version":"1.0.0","version":2,"expires":"2030-01-01T00:00:00Z","meta":{"snapshot.json":{"version":1,"length":10,"hashes":{"sha256":"ab"}}}},"signatures":[{"keyid":"a","sig":"00"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range []string{RoleRoot, RoleTimestamp, RoleSnapshot, RoleTargets} {
			p, err := parseMetadata(typ, typ, data)
			if err != nil {
				continue
			}
			if p.common.Version <= 0 {
				t.Fatalf("accepted version %d", p.common.Version)
			}
			if p.targets != nil {
				if names, err := p.targets.Targets.names(); err == nil {
					for _, n := range names {
						_, _ = p.targets.Targets.lookup(n)
					}
				}
				if d := p.targets.Delegations; d != nil {
					_ = d.rolesFor("a/b")
				}
			}
		}
		_, _ = NewTrusted(data, time.Unix(0, 0))
		// In place and from a copy must read the same targets role.
		p1, err1 := parseMetadata(RoleTargets, RoleTargets, data)
		p2, err2 := parseMetadataMode(RoleTargets, RoleTargets, append([]byte(nil), data...), true)
		if errors.Is(err2, errNeedsCopy) {
			return
		}
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("copy: %v, in place: %v", err1, err2)
		}
		if err1 != nil {
			return
		}
		if p1.common.Version != p2.common.Version || p1.common.ExpiresRaw != p2.common.ExpiresRaw ||
			p1.targets.Targets.count() != p2.targets.Targets.count() {
			t.Fatalf("copy and in-place parses differ")
		}
		if names, err := p1.targets.Targets.names(); err == nil {
			for _, n := range names {
				a, _ := p1.targets.Targets.lookup(n)
				b, _ := p2.targets.Targets.lookup(n)
				if (a == nil) != (b == nil) || (a != nil && (a.Length != b.Length || len(a.Hashes) != len(b.Hashes))) {
					t.Fatalf("target %q differs", n)
				}
			}
		}
	})
}

// FuzzMatchPathPattern checks the fnmatch implementation against simple identities and that
// it never panics or hangs on hostile patterns.
func FuzzMatchPathPattern(f *testing.F) {
	f.Add("a/b.txt", "a/*.txt")
	f.Add("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "*a*a*a*a*a*a*a*a*a*a*a*c")
	f.Add("x]", "[]]*")
	f.Add("b", "[!a]")
	f.Fuzz(func(t *testing.T, target, pattern string) {
		if !utf8.ValidString(target) || !utf8.ValidString(pattern) {
			if matchPathPattern(target, pattern) {
				t.Fatal("invalid UTF-8 matched")
			}
			return
		}
		got := matchPathPattern(target, pattern)
		if !strings.ContainsAny(pattern, "*?[") && got != (target == pattern) {
			t.Fatalf("literal pattern %q vs %q: %v", pattern, target, got)
		}
		if strings.Count(target, "/") == strings.Count(pattern, "/") && !strings.ContainsAny(target, "*?[") {
			// every "*" segment pattern matches any segment
			star := strings.Repeat("*/", strings.Count(target, "/")) + "*"
			if !matchPathPattern(target, star) {
				t.Fatalf("%q does not match %q", target, star)
			}
		}
	})
}

func TestMatchPathPattern(t *testing.T) {
	for _, c := range []struct {
		target, pattern string
		want            bool
	}{
		{"a/b.txt", "a/*.txt", true},
		{"a/c/b.txt", "a/*.txt", false},
		{"a/b.txt", "*", false},
		{"b.txt", "*", true},
		{"file-1.tgz", "file-?.tgz", true},
		{"file-1.tgz", "file-[0-9].tgz", true},
		{"file-a.tgz", "file-[!0-9].tgz", true},
		{"file-1.tgz", "file-[!0-9].tgz", false},
		{"]", "[]]", true},
		{"[", "[", true},
		{`a\b`, `a\b`, true},
		{"targets/foo", "targets/*", true},
		{"", "", true},
		{"x", "", false},
	} {
		if got := matchPathPattern(c.target, c.pattern); got != c.want {
			t.Errorf("match(%q, %q) = %v, want %v", c.target, c.pattern, got, c.want)
		}
	}
}
