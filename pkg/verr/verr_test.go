package verr

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestIsAndAs(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		reason   Reason
		security bool
		input    bool
	}{
		{"rollback", New(Rollback, "version 3 < 5"), Rollback, true, false},
		{"freeze", New(Freeze, "expired"), Freeze, true, false},
		{"mix and match", New(MixAndMatch, "x"), MixAndMatch, true, false},
		{"endless data", New(EndlessData, "x"), EndlessData, true, false},
		{"fast forward", New(FastForward, "x"), FastForward, true, false},
		{"bad signature", New(BadSignature, "x"), BadSignature, false, false},
		{"wrapped twice", fmt.Errorf("outer: %w", fmt.Errorf("mid: %w", New(Threshold, "1 of 2"))), Threshold, false, false},
		{"joined", errors.Join(io.EOF, New(RuleFailed, "DISALLOW *")), RuleFailed, false, false},
		{"input", Invalid("layout", "duplicate key"), "", false, true},
		{"operational", io.ErrUnexpectedEOF, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := ReasonOf(tt.err)
			if ok != (tt.reason != "") || r != tt.reason {
				t.Errorf("ReasonOf = %q, %v; want %q", r, ok, tt.reason)
			}
			if tt.reason != "" && !errors.Is(tt.err, tt.reason) {
				t.Errorf("errors.Is(err, %s) = false", tt.reason)
			}
			if tt.reason != "" && errors.Is(tt.err, Expired) && tt.reason != Expired {
				t.Errorf("errors.Is(err, Expired) = true for %s", tt.reason)
			}
			if got := errors.Is(tt.err, ErrSecurity); got != tt.security {
				t.Errorf("errors.Is(err, ErrSecurity) = %v, want %v", got, tt.security)
			}
			if got := errors.Is(tt.err, ErrInvalidInput); got != tt.input {
				t.Errorf("errors.Is(err, ErrInvalidInput) = %v, want %v", got, tt.input)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	e := &VerificationError{Reason: RuleFailed, Step: "build", Rule: "DISALLOW *", Artifact: "a.pem", Msg: "artifact is disallowed", Err: io.EOF}
	want := `rule-failed (step "build", rule "DISALLOW *", artifact "a.pem"): artifact is disallowed: EOF`
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, io.EOF) {
		t.Error("cause is not unwrapped")
	}
	ie := &InputError{What: "layout", Offset: 12, Msg: "duplicate key"}
	if got := ie.Error(); got != "invalid layout at offset 12: duplicate key" {
		t.Errorf("InputError.Error() = %q", got)
	}
}

func ExampleVerificationError() {
	err := fmt.Errorf("refresh: %w", New(Rollback, "timestamp version 4 is lower than the trusted 7"))
	var ve *VerificationError
	if errors.As(err, &ve) {
		fmt.Println("denied:", ve.Reason)
	}
	fmt.Println("attack:", errors.Is(err, ErrSecurity))
	fmt.Println("rollback:", errors.Is(err, Rollback))
	// Output:
	// denied: rollback
	// attack: true
	// rollback: true
}
