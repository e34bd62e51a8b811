package orgno

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		err            error
	}{
		{name: "valid", in: "314248295", want: "314248295"},
		{name: "spaces as written", in: "314 248 295", want: "314248295"},
		{name: "leading and trailing space", in: "  314248295\t", want: "314248295"},
		{name: "non-breaking spaces", in: "314\u00a0248\u00a0295", want: "314248295"},
		{name: "Brønnøysundregistrene", in: "974760673", want: "974760673"},
		{name: "check digit 0 (remainder 0)", in: "000000000", want: "000000000"},
		{name: "wrong check digit", in: "314248296", err: ErrCheckDigit},
		{name: "check digit would be 10", in: "100000010", err: ErrCheckDigit},
		{name: "too short", in: "31424829", err: ErrLength},
		{name: "too long", in: "3142482950", err: ErrLength},
		{name: "letters", in: "31424829a", err: ErrCharacters},
		{name: "dashes", in: "314-248-295", err: ErrCharacters},
		{name: "script", in: "<script>alert(1)</script>", err: ErrCharacters},
		{name: "empty", in: "", err: ErrEmpty},
		{name: "only spaces", in: "   ", err: ErrEmpty},
		{name: "unicode digits are not digits", in: "３14248295", err: ErrCharacters},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Normalize(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			if got != tt.want {
				t.Fatalf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	if got := Format("314248295"); got != "314 248 295" {
		t.Fatalf("Format = %q", got)
	}
}
