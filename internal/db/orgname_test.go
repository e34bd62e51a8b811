package db_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestOrgNameStoredAndSearchedByPrefix: a name given to CreateOnboarding
// (and ImportOnboarding) is stored, "" stores NULL, and the list's search
// finds names by their start, ignoring case, with LIKE's wildcards taken
// literally, while org numbers and refs match as before.
func TestOrgNameStoredAndSearchedByPrefix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	names := map[string]string{ // org number → name ("" = none)
		"310000019": "LUNEFULL HANDLEKRAFTIG TIGER AS",
		"310000027": "Lunefull Bakeri AS",
		"310000035": "ØYA DATA AS",
		"310000043": "100% RIKTIG AS",
		"310000051": "1000 FISK AS",
		"310000078": "A_B REGNSKAP AS",
		"310000086": "AXB REGNSKAP AS",
		"310000094": "",
		"310000108": `BACK\SLASH AS`,
	}
	for org, name := range names {
		n := newOnboarding("ref-"+org+"-aaaaaa", org)
		n.OrgName = name
		o, err := d.CreateOnboarding(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if name == "" && o.OrgName != nil {
			t.Errorf("%s: stored %q for no name, want NULL", org, *o.OrgName)
		}
		if name != "" && (o.OrgName == nil || *o.OrgName != name) {
			t.Errorf("%s: stored %v, want %q", org, o.OrgName, name)
		}
	}
	imp := newOnboarding("ref-imported-aaaaaaa", "310000116")
	imp.OrgName = "IMPORTERT AS"
	if o, err := d.ImportOnboarding(ctx, imp, "8c4a1e9e-3a6f-4d7e-9a51-8b1f7e2c9d10"); err != nil || o.OrgName == nil || *o.OrgName != "IMPORTERT AS" {
		t.Fatalf("import: %v, %v", o, err)
	}
	if o, err := d.OnboardingByRef(ctx, "ref-310000019-aaaaaa"); err != nil || o.OrgName == nil || *o.OrgName != names["310000019"] {
		t.Fatalf("read back: %+v, %v", o, err)
	}

	for _, tc := range []struct {
		q    string
		want []string // org numbers
	}{
		{"lunefull", []string{"310000019", "310000027"}},
		{"LUNEFULL", []string{"310000019", "310000027"}},
		{"  Lunefull   handle ", []string{"310000019"}},
		{"lunefull handlekraftig tiger as", []string{"310000019"}},
		{"øya", []string{"310000035"}},
		{"Øya d", []string{"310000035"}},
		{"100%", []string{"310000043"}},
		{"100", []string{"310000043", "310000051"}},
		{"a_b", []string{"310000078"}},
		{"a%b", nil},
		{`back\s`, []string{"310000108"}},
		{"tiger", nil}, // a prefix, not a substring
		{"lu", nil},    // too short for a name
		{"importert", []string{"310000116"}},
		{"310 000 019", []string{"310000019"}}, // org numbers as before
		{"ref-310000027-aaaaaa", []string{"310000027"}},
	} {
		t.Run(tc.q, func(t *testing.T) {
			page, err := d.ListOnboardings(ctx, db.ListFilter{Query: tc.q})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range page.Items {
				got = append(got, o.OrgNo)
			}
			slices.Sort(got)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("search %q (-want +got):\n%s", tc.q, d)
			}
			counts, err := d.CountByStatus(ctx, db.ListFilter{Query: tc.q})
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, n := range counts {
				total += n
			}
			if total != len(tc.want) {
				t.Errorf("counts %v, want %d in all", counts, len(tc.want))
			}
			n := 0
			if err := d.EachOnboarding(ctx, db.ListFilter{Query: tc.q}, func(*domain.Onboarding) error { n++; return nil }); err != nil || n != len(tc.want) {
				t.Errorf("export: %d rows, %v; want %d", n, err, len(tc.want))
			}
		})
	}
}

// TestOrgNamePrefixUsesTheIndex: with enough named rows, a rare prefix is
// answered from onboardings_org_name_prefix, not by reading the table.
func TestOrgNamePrefixUsesTheIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	if _, err := d.Pool.Exec(ctx, `
		INSERT INTO onboardings (ref, product, kind, system_id, org_no, external_ref, status, lang, org_name)
		SELECT 'ref-' || lpad(i::text, 16, '0'), 'standard', 'standard', '991825827_smartcloud',
			lpad((300000000 + i)::text, 9, '0'), lpad((300000000 + i)::text, 9, '0'), 'connected', 'nb',
			CASE WHEN i % 3 > 0 THEN 'FIRMA ' || md5(i::text) || ' AS' END
		FROM generate_series(1, 20000) i`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Pool.Exec(ctx, `ANALYZE onboardings`); err != nil {
		t.Fatal(err)
	}
	var plan string
	rows, err := d.Pool.Query(ctx, `EXPLAIN SELECT id FROM onboardings WHERE lower(org_name) LIKE lower($1) || '%'`, "firma c4ca42")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan += line + "\n"
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan, "onboardings_org_name_prefix") || !strings.Contains(plan, "~>=~") {
		t.Errorf("the prefix search does not range-scan the index:\n%s", plan)
	}
}
