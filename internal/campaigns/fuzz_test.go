package campaigns

import (
	"bytes"
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/onboard-altinn/onboard/internal/orgno"
)

// FuzzParse checks the rules any upload must keep: Parse never panics; a
// refusal is an error and no rows; an accepted upload has 1 to MaxRows rows
// in line order, each within its column's bounds, valid UTF-8 without NUL
// (Postgres takes it), with a known problem or none; a row without a
// problem holds a valid organisation number, a short enough reference and
// an address or no email; and the rows without a problem, written back out
// as a comma-separated file, parse to the same rows.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"310000019\n",
		"orgnr;kunderef;epost\n310000019;k-1;a@example.com\n310 000 027;k-2\n310000018\n12345\n\n31000001X\n",
		"310000019,k-1,a@example.com\r\n310000027,\"k,2\",\r\n",
		"\xef\xbb\xbforganisasjonsnummer\tref\n310000019\tk\n",
		"310000019;k;a@example.com;extra\n",
		"310000051;" + strings.Repeat("x", 256) + "\n",
		"310000019;\"multi\nline\";a@example.com\n",
		"\"310000019\";\"k\"\"q\"\n",
		"310000019,\"a;b\",a@example.com\n",
		"\"Acme; Oslo\"\n310000019,\"Acme; Oslo\",a@example.com\n",
		";;\n310000019;k\n",
		"310000019,k,Name <a@example.com>\n",
		"\n\n   \n",
		"",
		"\x00",
		"\xff\xfe3\x001\x00",
		"310000019,\"unterminated\n",
		"a\"b,c\n310000019\n",
		"310\u00a0000\u00a0019\n",
		strings.Repeat("310000019\n", 3),
		strings.Repeat(";", 100) + "\n310000019\n",
	} {
		f.Add([]byte(s))
	}
	known := []string{"", ProblemFormat, ProblemChecksum, ProblemEmail, ProblemCustomerRef, ProblemColumns}
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := Parse(data)
		if err != nil {
			if items != nil {
				t.Fatalf("Parse refused with %v but returned %d rows", err, len(items))
			}
			if !errors.Is(err, ErrNotText) && !errors.Is(err, ErrNoRows) && !errors.Is(err, ErrTooManyRows) {
				var pe *csv.ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("Parse: error %v is neither ours nor the CSV reader's", err)
				}
			}
			return
		}
		if len(items) == 0 || len(items) > MaxRows || len(items) > len(data) {
			t.Fatalf("Parse accepted %d rows from %d bytes", len(items), len(data))
		}
		var good [][]string
		last := 0
		for _, it := range items {
			if it.Line <= last {
				t.Fatalf("line %d after line %d", it.Line, last)
			}
			last = it.Line
			for _, s := range []string{it.OrgNo, it.CustomerRef, it.Email} {
				if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
					t.Fatalf("line %d: %q is not text Postgres takes", it.Line, s)
				}
			}
			if len(it.OrgNo) > 64 || len(it.CustomerRef) > 255 || len(it.Email) > 320 {
				t.Fatalf("line %d: a column over its bound: %+v", it.Line, it)
			}
			if !slices.Contains(known, it.Problem) || it.ProblemLine != 0 {
				t.Fatalf("line %d: problem %q (line %d) before Validate", it.Line, it.Problem, it.ProblemLine)
			}
			if it.Problem != "" {
				continue
			}
			if n, err := orgno.Normalize(it.OrgNo); err != nil || n != it.OrgNo {
				t.Fatalf("line %d: organisation %q has no problem but is not valid: %v", it.Line, it.OrgNo, err)
			}
			if it.Email != "" && !validEmail(it.Email) {
				t.Fatalf("line %d: email %q has no problem but is not an address", it.Line, it.Email)
			}
			if it.CustomerRef != strings.TrimSpace(it.CustomerRef) || it.Email != strings.TrimSpace(it.Email) {
				t.Fatalf("line %d: untrimmed %+v", it.Line, it)
			}
			good = append(good, []string{it.OrgNo, it.CustomerRef, it.Email})
		}
		if len(good) == 0 {
			return
		}
		// Every field quoted, as a spreadsheet may save it: what is inside
		// the quotes (a semicolon in a reference, say) is data.
		var buf bytes.Buffer
		for _, rec := range good {
			for i, f := range rec {
				if i > 0 {
					buf.WriteByte(',')
				}
				buf.WriteString(`"` + strings.ReplaceAll(f, `"`, `""`) + `"`)
			}
			buf.WriteString("\r\n")
		}
		again, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("the good rows written back out do not parse: %v\n%s", err, buf.Bytes())
		}
		if len(again) != len(good) {
			t.Fatalf("the good rows written back out parse to %d rows, want %d\n%q", len(again), len(good), buf.Bytes())
		}
		for i, it := range again {
			if got := []string{it.OrgNo, it.CustomerRef, it.Email}; it.Problem != "" || !slices.Equal(got, good[i]) {
				t.Fatalf("row %d written back out parses to %q (problem %q), want %q\n%q", i+1, got, it.Problem, good[i], buf.Bytes())
			}
		}
	})
}

// TestParseQuotedSeparator: a semicolon or tab inside quotes on the first
// line is data, not the separator (the fuzz test found a comma-separated
// file read as semicolon-separated because its first reference held one).
func TestParseQuotedSeparator(t *testing.T) {
	for _, in := range []string{
		"310000019,\"Acme; Oslo\",a@example.com\n310000027,k-2\n",
		"310000019,\"Acme\tOslo\",a@example.com\n310000027,k-2\n",
		"\"org;nr\",ref\n310000019,\"Acme; Oslo\",a@example.com\n310000027,k-2\n",
		"310000019,\"Acme;\nOslo\",a@example.com\n310000027,k-2\n",
	} {
		items, err := Parse([]byte(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if len(items) != 2 || items[0].Problem != "" || items[0].OrgNo != "310000019" || items[0].Email != "a@example.com" ||
			!strings.HasPrefix(items[0].CustomerRef, "Acme") || items[1].Problem != "" || items[1].CustomerRef != "k-2" {
			t.Fatalf("%q parsed to %+v", in, items)
		}
	}
	// A semicolon outside quotes still makes a semicolon file, as Norwegian
	// spreadsheets save it, even with commas in its fields.
	items, err := Parse([]byte("310000019;\"Acme, Oslo\";a@example.com\n310000027;1,5\n"))
	if err != nil || len(items) != 2 || items[0].CustomerRef != "Acme, Oslo" || items[1].CustomerRef != "1,5" {
		t.Fatalf("semicolon file: %+v, %v", items, err)
	}
}
