package campaigns

import (
	"bytes"
	"fmt"
	"testing"
)

// upload is a campaign file of n rows as a Norwegian spreadsheet saves it:
// a header, then organisation number (with spaces in every tenth),
// customer reference and email, separated by semicolons.
func upload(n int) []byte {
	var b bytes.Buffer
	b.WriteString("organisasjonsnummer;kundenummer;e-post\r\n")
	for i := range n {
		org := benchOrg(i)
		if i%10 == 0 {
			org = org[:3] + " " + org[3:6] + " " + org[6:]
		}
		fmt.Fprintf(&b, "%s;K-%06d;post%d@kunde%d.no\r\n", org, i, i, i)
	}
	return b.Bytes()
}

// benchOrg is a valid organisation number (mod-11 check digit) for i.
func benchOrg(i int) string {
	weights := []int{3, 2, 7, 6, 5, 4, 3, 2}
	for base := 91000000 + i*7; ; base++ {
		s := fmt.Sprintf("%08d", base)
		sum := 0
		for j, w := range weights {
			sum += int(s[j]-'0') * w
		}
		switch d := 11 - sum%11; d {
		case 10:
			continue
		case 11:
			return s + "0"
		default:
			return s + string(rune('0'+d))
		}
	}
}

// BenchmarkParse reads a campaign upload of 10,000 rows (the size
// bench/campaign sends) and validates it, as Service.Create does before
// anything is stored.
func BenchmarkParse(b *testing.B) {
	data := upload(10_000)
	items, err := Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	Validate(items, nil)
	for _, it := range items {
		if it.Problem != "" {
			b.Fatalf("line %d: %s (%s)", it.Line, it.Problem, it.OrgNo)
		}
	}
	if len(items) != 10_000 {
		b.Fatalf("%d rows, want 10000", len(items))
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		items, _ := Parse(data)
		Validate(items, nil)
	}
}
