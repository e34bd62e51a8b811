package password

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pw   string
		want error
	}{
		{"empty", "", ErrTooShort},
		{"eleven", "abcdefghijk", ErrTooShort},
		{"twelve", "abcdefghijkl", nil},
		{"twelve letters, more bytes", "æøåæøåæøåæøå", nil},
		{"eleven letters in twenty-two bytes", "æøåæøåæøåæø", ErrTooShort},
		{"a passphrase", "correct horse battery staple", nil},
		{"MaxLen bytes", strings.Repeat("a", MaxLen), nil},
		{"one byte over", strings.Repeat("a", MaxLen+1), ErrTooLong},
		{"over in multi-byte letters", strings.Repeat("ø", MaxLen/2+1), ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := Check(tt.pw); !errors.Is(err, tt.want) {
				t.Fatalf("Check(%q…): %v, want %v", tt.pw[:min(len(tt.pw), 20)], err, tt.want)
			}
		})
	}
}
