package handlers

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func TestCSVSafe(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"ACME AS", "ACME AS"},
		{"kunde-1", "kunde-1"}, // a hyphen inside is no trigger
		{"a=b", "a=b"},
		{"12345", "12345"},
		{"2025-05-01T10:00:00Z", "2025-05-01T10:00:00Z"},
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-1", "'-1"}, // negative numbers too: "-2+3" is a formula
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t'=1"},
		{"\r=1", "'\r'=1"},
		{"a;=b", "a;'=b"},
		{"a,=b", "a,'=b"},
		{"a\t=b", "a\t'=b"},
		{"a\n=b", "a\n'=b"},
		{"a\r\n=b", "a\r\n'=b"},
		{`a;"=b`, `a;"'=b`},
		{"a;;+b", "a;;'+b"},
		{"a; =b", "a;' =b"}, // a spreadsheet may trim the space
		{"a;\u00a0=b", "a;'\u00a0=b"},
		{"  =1", "'  =1"},
		{"a; b", "a; b"},
		{"a; \u00a0 @x; -1", "a;' \u00a0 @x;' -1"},
		{" x", " x"},
		{`ACME;=cmd|' /C calc'!A0`, `ACME;'=cmd|' /C calc'!A0`},
		{`=cmd|' /C calc'!A0;@x`, `'=cmd|' /C calc'!A0;'@x`},
		{"æøå;=x", "æøå;'=x"},
	} {
		if got := csvSafe(tc.in); got != tc.want {
			t.Errorf("csvSafe(%q) = %q, want %q", tc.in, got, tc.want)
		}
		assertNoFormula(t, tc.in, csvSafe(tc.in))
	}
}

// assertNoFormula splits a cell's CSV line as spreadsheets might (on any
// one of the separators, ignoring quotes, a quote stripped) and wants no
// piece to start a formula.
func assertNoFormula(t *testing.T, in, out string) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write([]string{"x", out, "y"}); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	for _, sep := range []string{";", ",", "\t", "\r", "\n", "\r\n", `"`} {
		for _, piece := range strings.Split(buf.String(), sep) {
			piece = strings.TrimLeft(piece, "\" \u00a0")
			if piece != "" && strings.ContainsRune("=+-@\t\r", rune(piece[0])) {
				t.Errorf("%q: split on %q, %q starts a formula", in, sep, piece)
			}
		}
	}
}

func FuzzCSVSafe(f *testing.F) {
	for _, s := range []string{"=1+1", "a;=b", "\t\r=x", `ACME;=cmd|' /C calc'!A0`, `;"=`, "x; =1", "x;\u00a0=12", " \xc2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := csvSafe(s)
		if strings.ReplaceAll(out, "'", "") != strings.ReplaceAll(s, "'", "") {
			t.Fatalf("csvSafe(%q) = %q changed more than apostrophes", s, out)
		}
		assertNoFormula(t, s, out)
	})
}
