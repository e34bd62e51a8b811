package campaigns

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/orgno"
)

// Problems a row can have; the report shows each in words.
const (
	ProblemFormat      = "format"       // not nine digits
	ProblemChecksum    = "checksum"     // nine digits, but the mod-11 check digit is wrong
	ProblemDuplicate   = "duplicate"    // the same organisation on an earlier line
	ProblemConnected   = "connected"    // already connected to the product
	ProblemEmail       = "email"        // an email that is not an address
	ProblemCustomerRef = "customer_ref" // a customer reference over 255 characters
	ProblemColumns     = "columns"      // more than three columns
)

// MaxRows is the most rows one campaign takes.
const MaxRows = 50000

// ErrTooManyRows is returned for an upload over MaxRows rows.
var ErrTooManyRows = fmt.Errorf("campaigns: more than %d rows", MaxRows)

// ErrNoRows is returned for an upload with no rows at all.
var ErrNoRows = errors.New("campaigns: no rows")

// ErrNotText is returned for an upload that is not UTF-8 text (or holds a
// NUL byte, which no text has and Postgres refuses).
var ErrNotText = errors.New("campaigns: not UTF-8 text")

// Parse reads an upload or a pasted list: one organisation a line,
// optionally followed by a customer reference and an email, separated by
// commas, semicolons (what Norwegian spreadsheets save) or tabs. A header
// line is recognised and skipped, as are blank lines. Spaces inside an
// organisation number ("910 000 007") are dropped. Every row is checked
// for its own problems here; ConnectedOrgs and duplicates are settled by
// Validate. Line numbers are the upload's own, counting from 1.
func Parse(data []byte) ([]db.NewCampaignItem, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a spreadsheet's byte order mark
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return nil, ErrNotText
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = separator(data)
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	r.LazyQuotes = true
	r.ReuseRecord = true
	var items []db.NewCampaignItem
	first := true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("campaigns: %w", err)
		}
		line, _ := r.FieldPos(0)
		if blank(rec) {
			continue
		}
		if first && isHeader(rec[0]) {
			first = false
			continue
		}
		first = false
		if len(items) == MaxRows {
			return nil, ErrTooManyRows
		}
		items = append(items, row(line, rec))
	}
	if len(items) == 0 {
		return nil, ErrNoRows
	}
	return items, nil
}

// separator guesses the upload's separator from its first record that is
// not blank: a semicolon when it has one, else a tab when it has one, else
// a comma. What is inside double quotes does not count, so a comma-separated
// file whose first reference is "Acme; Oslo" stays comma-separated; a record
// ends at a line break outside quotes.
func separator(data []byte) rune {
	semicolons, tabs, text, quoted := 0, 0, false, false
	for _, b := range data {
		switch {
		case b == '"':
			quoted = !quoted
			text = true
		case quoted:
		case b == '\n':
			if text {
				return pick(semicolons, tabs)
			}
			semicolons, tabs = 0, 0
		case b == ';':
			semicolons++
			text = true
		case b == '\t':
			tabs++
		case b != ' ' && b != '\r':
			text = true
		}
	}
	return pick(semicolons, tabs)
}

func pick(semicolons, tabs int) rune {
	switch {
	case semicolons > 0:
		return ';'
	case tabs > 0:
		return '\t'
	}
	return ','
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// isHeader reports whether a first cell names the column rather than
// holding an organisation number.
func isHeader(cell string) bool {
	for _, r := range strings.TrimSpace(cell) {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

func row(line int, rec []string) db.NewCampaignItem {
	it := db.NewCampaignItem{Line: line}
	it.OrgNo = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, rec[0])
	_, orgErr := orgno.Normalize(it.OrgNo)
	if len(rec) > 1 {
		it.CustomerRef = strings.TrimSpace(rec[1])
	}
	if len(rec) > 2 {
		it.Email = strings.TrimSpace(rec[2])
	}
	// Keep what was typed within the column's bounds, for the report.
	if len(it.OrgNo) > 64 {
		it.OrgNo = truncate(it.OrgNo, 64)
	}
	switch {
	case len(rec) > 3 && !blank(rec[3:]):
		it.Problem = ProblemColumns
	case errors.Is(orgErr, orgno.ErrCheckDigit):
		it.Problem = ProblemChecksum
	case orgErr != nil:
		it.Problem = ProblemFormat
	case len(it.CustomerRef) > 255:
		it.Problem = ProblemCustomerRef
	case it.Email != "" && !validEmail(it.Email):
		it.Problem = ProblemEmail
	}
	if len(it.CustomerRef) > 255 {
		it.CustomerRef = truncate(it.CustomerRef, 255)
	}
	if len(it.Email) > 320 {
		it.Email = truncate(it.Email, 320)
	}
	return it
}

// validEmail accepts a bare address (no display name), as a mailing needs:
// what net/mail reads as exactly that address. A plain one (plainAddress)
// is that without parsing it, which takes most of a big upload's time.
func validEmail(s string) bool {
	if plainAddress(s) {
		return true
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}

// plainAddress reports whether s is a dot-atom of letters, digits, - _ and
// +, an @ and another such dot-atom: an address net/mail always reads as
// itself (FuzzPlainAddress).
func plainAddress(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && dotAtom(s[:at]) && dotAtom(s[at+1:])
}

// dotAtom reports whether s is atoms of [A-Za-z0-9_+-], one dot between
// each two.
func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if s[i-1] == '.' {
				return false
			}
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '+':
		default:
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// Validate settles the problems that depend on more than the row: an
// organisation on an earlier line, or one already connected to the
// product. Earlier problems are kept.
func Validate(items []db.NewCampaignItem, connected map[string]bool) {
	seen := make(map[string]int, len(items))
	for i := range items {
		it := &items[i]
		if it.Problem != "" {
			continue
		}
		if line, dup := seen[it.OrgNo]; dup {
			it.Problem, it.ProblemLine = ProblemDuplicate, line
			continue
		}
		seen[it.OrgNo] = it.Line
		if connected[it.OrgNo] {
			it.Problem = ProblemConnected
		}
	}
}
