package db_test

import (
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/onboard-altinn/onboard/internal/db"
)

// TestIsUUID: the loop accepts exactly what the pattern it replaced did.
func TestIsUUID(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	cases := []string{"", "9b2f7f5e-0000-4000-8000-000000000000", "9B2F7F5E-ABCD-4000-8000-00000000000F",
		"9b2f7f5e-0000-4000-8000-00000000000", "9b2f7f5e-0000-4000-8000-0000000000000", "9b2f7f5e00000-4000-8000-000000000000",
		"9b2f7f5g-0000-4000-8000-000000000000", "{9b2f7f5e-0000-4000-8000-00000000000}", "9b2f7f5e-0000-4000-8000-00000000000\n",
		"9b2f7f5e-0000-4000-8000-0000000000é"}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789abcdefABCDEFgG-x\n"
	for range 20000 {
		b := []byte("9b2f7f5e-0000-4000-8000-000000000000")
		for range 1 + r.IntN(2) {
			b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
		}
		cases = append(cases, string(b), string(b[:r.IntN(len(b))]))
	}
	for _, s := range cases {
		if got, want := db.IsUUID(s), re.MatchString(s); got != want {
			t.Errorf("IsUUID(%q) = %v, the pattern says %v", s, got, want)
		}
	}
}
