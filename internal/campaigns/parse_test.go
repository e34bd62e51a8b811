package campaigns

import (
	"errors"
	"strings"
	"testing"

	"github.com/onboard-altinn/onboard/internal/db"
)

func problems(items []db.NewCampaignItem) map[int]string {
	m := map[int]string{}
	for _, it := range items {
		if it.Problem != "" {
			m[it.Line] = it.Problem
		}
	}
	return m
}

// TestParseReportsEveryBadRow: each kind of bad row is kept with its line
// and problem, never dropped, and the good ones come through as typed.
func TestParseReportsEveryBadRow(t *testing.T) {
	in := "orgnr;kunderef;epost\n" + // a header (line 1)
		"310000019;k-1;a@example.com\n" + // good
		"310 000 027;k-2\n" + // good, spaces dropped
		"310000018\n" + // wrong check digit
		"12345\n" + // too short
		"\n" + // blank: skipped
		"31000001X\n" + // not digits
		"310000019;k-dup\n" + // duplicate of line 2
		"310000035;k-5;not an email\n" + // bad email
		"310000043;k;a@example.com;extra\n" + // four columns
		"310000051;" + strings.Repeat("x", 256) + "\n" + // reference too long
		"310000078\n" // connected already
	items, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	Validate(items, map[string]bool{"310000078": true})
	want := map[int]string{4: ProblemChecksum, 5: ProblemFormat, 7: ProblemFormat, 8: ProblemDuplicate,
		9: ProblemEmail, 10: ProblemColumns, 11: ProblemCustomerRef, 12: ProblemConnected}
	got := problems(items)
	for line, p := range want {
		if got[line] != p {
			t.Errorf("line %d: problem %q, want %q", line, got[line], p)
		}
	}
	for line, p := range got {
		if want[line] == "" {
			t.Errorf("line %d: unexpected problem %q", line, p)
		}
	}
	if len(items) != 10 {
		t.Errorf("%d rows, want 10 (the header and the blank line are not rows)", len(items))
	}
	if items[1].OrgNo != "310000027" || items[1].CustomerRef != "k-2" {
		t.Errorf("row 2 = %+v", items[1])
	}
	for _, it := range items {
		if it.Line == 8 && it.ProblemLine != 2 {
			t.Errorf("the duplicate points at line %d, want 2", it.ProblemLine)
		}
	}
}

// TestParseSeparatorsAndEncodings: commas, tabs, a byte order mark and a
// pasted list without a header all read the same.
func TestParseSeparatorsAndEncodings(t *testing.T) {
	for name, in := range map[string]string{
		"comma":  "310000019,ref,a@example.com\n310000027,,\n",
		"tab":    "310000019\tref\ta@example.com\n310000027\n",
		"bom":    "\xef\xbb\xbforg,ref,email\r\n310000019,ref,a@example.com\r\n310000027\r\n",
		"pasted": "310000019;ref;a@example.com\n  310000027  \n",
	} {
		items, err := Parse([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(items) != 2 || items[0].OrgNo != "310000019" || items[0].CustomerRef != "ref" ||
			items[0].Email != "a@example.com" || items[1].OrgNo != "310000027" || len(problems(items)) != 0 {
			t.Errorf("%s: %+v", name, items)
		}
	}
}

func TestParseRefusesWhatIsNotAList(t *testing.T) {
	for name, c := range map[string]struct {
		in   string
		want error
	}{
		"empty":      {"", ErrNoRows},
		"only blank": {"\n\n ;; \n", ErrNoRows},
		"header":     {"orgnr;ref\n", ErrNoRows},
		"binary":     {"\xff\xfe\x00\x01", ErrNotText},
		"too many":   {strings.Repeat("310000019\n", MaxRows+1), ErrTooManyRows},
	} {
		if _, err := Parse([]byte(c.in)); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}
