package domain

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOneLine(t *testing.T) {
	long := strings.Repeat("æ", 200) // 400 bytes
	for _, tt := range []struct{ in, want string }{
		{"550 5.1.1  user\r\nunknown\t", "550 5.1.1 user unknown"},
		{"bad \xff byte", "bad \uFFFD byte"},
		{"", ""},
		{long, strings.Repeat("æ", 150) + "…"},
	} {
		got := OneLine(tt.in)
		if got != tt.want {
			t.Errorf("OneLine(%.40q) = %.40q, want %.40q", tt.in, got, tt.want)
		}
		if !utf8.ValidString(got) || len(got) > maxErrorText+len("…") {
			t.Errorf("OneLine(%.40q) = %.40q: not one valid line of at most %d bytes", tt.in, got, maxErrorText)
		}
	}
}
