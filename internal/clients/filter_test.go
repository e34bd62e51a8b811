package clients

import "testing"

func TestFilterMatch(t *testing.T) {
	t.Parallel()
	kyst := Client{Name: "KYSTBAKERIET AS", OrgNo: "310000027"}
	added := Client{Name: "NORDLYS TRANSPORT AS", OrgNo: "310000035", Delegated: true}
	tests := []struct {
		name  string
		f     Filter
		c     Client
		match bool
	}{
		{"no filter", Filter{}, kyst, true},
		{"name, any case", Filter{Query: "kystbak"}, kyst, true},
		{"name elsewhere", Filter{Query: "nordlys"}, kyst, false},
		{"number", Filter{Query: "310000027"}, kyst, true},
		{"number as written", Filter{Query: "310 000 027"}, kyst, true},
		{"part of a number", Filter{Query: "0027"}, kyst, true},
		{"another number", Filter{Query: "310000035"}, kyst, false},
		{"spaces only", Filter{Query: "   "}, kyst, true},
		{"added only", Filter{Show: ShowDelegated}, kyst, false},
		{"added only, added", Filter{Show: ShowDelegated}, added, true},
		{"not added", Filter{Show: ShowNot}, added, false},
		{"not added, and the name", Filter{Show: ShowNot, Query: "kyst"}, kyst, true},
		{"added, but not the name", Filter{Show: ShowDelegated, Query: "kyst"}, added, false},
	}
	for _, tt := range tests {
		if got := tt.f.Match(tt.c); got != tt.match {
			t.Errorf("%s: Match(%+v) = %v, want %v", tt.name, tt.c, got, tt.match)
		}
	}
}
