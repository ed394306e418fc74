package names

import "testing"

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"targets": "targets", "a/b": "a%2Fb", "../x": "..%2Fx", "?": "%3F", "#": "%23",
		"sp ace": "sp%20ace", "é": "%C3%A9", "a_b-c.d~": "a_b-c.d~",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %q, want %q", in, got, want)
		}
	}
}
