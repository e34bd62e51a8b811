package db_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// listRow is one onboarding inserted for the list tests, with what the
// tests compute their expectations from.
type listRow struct {
	id, ref, kind, orgNo, externalRef, status string
	escalated                                 bool
	requestID, systemUserID, customerRef      string // "" = NULL
	created                                   time.Time
}

var listBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// seedList inserts n onboardings and returns them newest first, the order
// the list promises. Rows come in threes with one created_at, so the id
// tiebreak decides their order, and every status, kind and searchable
// column varies.
func seedList(t *testing.T, d *db.DB, n int) []listRow {
	t.Helper()
	ctx := context.Background()
	statuses := []string{string(domain.StatusConnected), string(domain.StatusPending), string(domain.StatusExpired), string(domain.StatusRejected),
		string(domain.StatusFailed), string(domain.StatusCancelled), string(domain.StatusConnected)}
	rows := make([]listRow, n)
	for i := range rows {
		r := listRow{
			ref:     fmt.Sprintf("ref-%016d", i),
			kind:    "standard",
			orgNo:   fmt.Sprintf("%09d", 310000000+i),
			status:  statuses[i%len(statuses)],
			created: listBase.Add(time.Duration(i/3) * time.Minute),
		}
		r.externalRef = r.orgNo
		if i%4 == 0 {
			r.kind = "agent"
		}
		if i%9 == 0 {
			r.externalRef = fmt.Sprintf("EXT-%d", i)
		}
		r.escalated = i%5 == 1
		if i%10 == 3 {
			r.customerRef = fmt.Sprintf("kunde %d", i)
		}
		if r.status != string(domain.StatusFailed) {
			r.requestID = uuid.NewString()
		}
		if r.status == string(domain.StatusConnected) {
			r.systemUserID = uuid.NewString()
		}
		err := d.Pool.QueryRow(ctx, `
			INSERT INTO onboardings (ref, product, kind, system_id, org_no, external_ref, status, escalated,
				altinn_request_id, system_user_id, customer_ref, created_at)
			VALUES ($1, 'regnskap', $2, '991825827_regnskap', $3, $4, $5, $6,
				NULLIF($7, '')::uuid, NULLIF($8, '')::uuid, NULLIF($9, ''), $10)
			RETURNING id`,
			r.ref, r.kind, r.orgNo, r.externalRef, r.status, r.escalated,
			r.requestID, r.systemUserID, r.customerRef, r.created).Scan(&r.id)
		if err != nil {
			t.Fatalf("insert row %d: %v", i, err)
		}
		rows[i] = r
	}
	slices.SortFunc(rows, func(a, b listRow) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return strings.Compare(b.id, a.id) // lower-case uuid text sorts as the uuid does
	})
	return rows
}

func idsOf(rows []listRow, keep func(listRow) bool) []string {
	ids := []string{}
	for _, r := range rows {
		if keep(r) {
			ids = append(ids, r.id)
		}
	}
	return ids
}

// listAll follows cursors from the first page to the last and returns the
// ids in the order seen, failing on an overlong page or a page loop.
func listAll(t *testing.T, d *db.DB, f db.ListFilter) (ids []string, pages int) {
	t.Helper()
	ids = []string{}
	for {
		p, err := d.ListOnboardings(context.Background(), f)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		if f.Limit > 0 && len(p.Items) > f.Limit {
			t.Fatalf("page %d has %d items, limit %d", pages, len(p.Items), f.Limit)
		}
		if p.Next != "" && len(p.Items) == 0 {
			t.Fatalf("page %d is empty but has a next cursor", pages)
		}
		for _, o := range p.Items {
			ids = append(ids, o.ID)
		}
		if p.Next == "" {
			return ids, pages
		}
		if pages > 1000 {
			t.Fatal("more than 1000 pages: the cursor does not advance")
		}
		f.After = p.Next
	}
}

func TestListPagesAreDisjointCompleteAndOrdered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	rows := seedList(t, d, 130)

	first, err := d.ListOnboardings(ctx, db.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Items) != db.DefaultListLimit || first.Next == "" {
		t.Fatalf("first page with the default limit: %d items, next %q; want %d and a cursor",
			len(first.Items), first.Next, db.DefaultListLimit)
	}

	var sizes []int
	var got []string
	f := db.ListFilter{Limit: 50}
	for {
		p, err := d.ListOnboardings(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(p.Items))
		for _, o := range p.Items {
			got = append(got, o.ID)
		}
		if p.Next == "" {
			break
		}
		f.After = p.Next
	}
	if diff := cmp.Diff([]int{50, 50, 30}, sizes); diff != "" {
		t.Errorf("page sizes (-want +got):\n%s", diff)
	}
	// Equal to every row in (created_at DESC, id DESC) order means the pages
	// are complete, disjoint and ordered, across the rows sharing a created_at.
	if diff := cmp.Diff(idsOf(rows, func(listRow) bool { return true }), got); diff != "" {
		t.Errorf("ids over all pages (-want +got):\n%s", diff)
	}

	// A page boundary that falls inside a group of equal created_at: 130 rows
	// in threes, pages of 4.
	small, pages := listAll(t, d, db.ListFilter{Limit: 4})
	if pages != 33 {
		t.Errorf("pages of 4 over 130 rows: %d pages, want 33", pages)
	}
	if diff := cmp.Diff(got, small); diff != "" {
		t.Errorf("pages of 4 (-want +got):\n%s", diff)
	}

	// The last page is exactly full: no empty page after it.
	full, err := d.ListOnboardings(ctx, db.ListFilter{Limit: 130})
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Items) != 130 || full.Next != "" {
		t.Errorf("limit 130 over 130 rows: %d items, next %q; want 130 and no cursor", len(full.Items), full.Next)
	}
}

func TestListLimitIsCapped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	_, err := d.Pool.Exec(ctx, `
		INSERT INTO onboardings (ref, product, kind, system_id, org_no, external_ref, status)
		SELECT 'ref-' || lpad(i::text, 16, '0'), 'regnskap', 'standard', '991825827_regnskap',
			(310000000 + i)::text, (310000000 + i)::text, 'connected'
		FROM generate_series(1, 520) AS i`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.ListOnboardings(ctx, db.ListFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != db.MaxListLimit || p.Next == "" {
		t.Fatalf("limit 100000: %d items, next %q; want %d and a cursor", len(p.Items), p.Next, db.MaxListLimit)
	}
	rest, err := d.ListOnboardings(ctx, db.ListFilter{Limit: 100000, After: p.Next})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Items) != 20 || rest.Next != "" {
		t.Fatalf("second page: %d items, next %q; want 20 and no cursor", len(rest.Items), rest.Next)
	}
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	d := dbtest.New(t)
	rows := seedList(t, d, 130)
	// created_at runs from listBase to listBase+43m in steps of a minute.
	from, to := listBase.Add(10*time.Minute), listBase.Add(20*time.Minute)
	inRange := func(r listRow) bool { return !r.created.Before(from) && r.created.Before(to) }

	for _, tt := range []struct {
		name   string
		filter db.ListFilter
		want   func(listRow) bool
	}{
		{"status", db.ListFilter{Status: domain.StatusPending}, func(r listRow) bool { return r.status == string(domain.StatusPending) }},
		{"expired status", db.ListFilter{Status: domain.StatusExpired}, func(r listRow) bool { return r.status == string(domain.StatusExpired) }},
		{"status with no rows", db.ListFilter{Status: domain.StatusRevoked}, func(listRow) bool { return false }},
		{"kind agent", db.ListFilter{Kind: "agent"}, func(r listRow) bool { return r.kind == "agent" }},
		{"kind standard", db.ListFilter{Kind: "standard"}, func(r listRow) bool { return r.kind == "standard" }},
		{"escalated", db.ListFilter{Escalated: true}, func(r listRow) bool { return r.escalated }},
		{"created from (inclusive)", db.ListFilter{CreatedFrom: from}, func(r listRow) bool { return !r.created.Before(from) }},
		{"created to (exclusive)", db.ListFilter{CreatedTo: to}, func(r listRow) bool { return r.created.Before(to) }},
		{"created between", db.ListFilter{CreatedFrom: from, CreatedTo: to}, inRange},
		{"created between, another time zone", db.ListFilter{CreatedFrom: from.In(time.FixedZone("CET", 3600)),
			CreatedTo: to.In(time.FixedZone("CET", 3600))}, inRange},
		{"all together", db.ListFilter{Status: domain.StatusConnected, Kind: "standard", Escalated: true, CreatedFrom: listBase,
			CreatedTo: to}, func(r listRow) bool {
			return r.status == string(domain.StatusConnected) && r.kind == "standard" && r.escalated && r.created.Before(to)
		}},
		{"filter and search", db.ListFilter{Kind: "agent", Query: "EXT-36"}, func(r listRow) bool { return r.externalRef == "EXT-36" }},
		{"filter excludes the search hit", db.ListFilter{Kind: "standard", Query: "EXT-36"}, func(listRow) bool { return false }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := idsOf(rows, tt.want)
			if len(want) == 0 && !strings.Contains(tt.name, "no rows") && !strings.Contains(tt.name, "excludes") {
				t.Fatal("the test data has no row for this filter")
			}
			// Pages of 7 so most filters cross several page boundaries.
			f := tt.filter
			f.Limit = 7
			got, _ := listAll(t, d, f)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListSearch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	rows := seedList(t, d, 130)
	find := func(keep func(listRow) bool) listRow {
		t.Helper()
		for _, r := range rows {
			if keep(r) {
				return r
			}
		}
		t.Fatal("no such row in the test data")
		return listRow{}
	}
	plain := find(func(r listRow) bool { return r.externalRef == r.orgNo && r.status == string(domain.StatusConnected) })
	custom := find(func(r listRow) bool { return r.externalRef != r.orgNo })
	withCustomerRef := find(func(r listRow) bool { return r.customerRef != "" })
	cancelled := find(func(r listRow) bool { return r.status == string(domain.StatusCancelled) && r.requestID != "" })

	spaced := plain.orgNo[:3] + " " + plain.orgNo[3:6] + " " + plain.orgNo[6:]
	for _, tt := range []struct {
		name, query string
		want        []string
	}{
		{"organisation number", plain.orgNo, []string{plain.id}},
		{"organisation number with spaces", spaced, []string{plain.id}},
		{"organisation number with non-breaking spaces", strings.ReplaceAll(spaced, " ", "\u00a0"), []string{plain.id}},
		{"organisation number with a custom external ref", custom.orgNo, []string{custom.id}},
		{"Altinn request id", plain.requestID, []string{plain.id}},
		{"Altinn request id in upper case", strings.ToUpper(plain.requestID), []string{plain.id}},
		{"Altinn request id of a cancelled onboarding", cancelled.requestID, []string{cancelled.id}},
		{"onboarding id", plain.id, []string{plain.id}},
		{"system user id", plain.systemUserID, []string{plain.id}},
		{"external ref", custom.externalRef, []string{custom.id}},
		{"customer ref", withCustomerRef.customerRef, []string{withCustomerRef.id}},
		{"return ref", plain.ref, []string{plain.id}},
		{"surrounding blanks", "  " + plain.ref + "\t", []string{plain.id}},
		{"only blanks searches nothing", "   ", idsOf(rows, func(listRow) bool { return true })},
		{"a uuid nobody has", uuid.NewString(), []string{}},
		{"part of an organisation number", plain.orgNo[:6], []string{}},
		{"part of a ref", plain.ref[:10], []string{}},
		{"SQL in the query is just text", "' OR '1'='1", []string{}},
		{"a uuid that is not quite one", plain.id + "0", []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := d.ListOnboardings(ctx, db.ListFilter{Query: tt.query, Limit: db.MaxListLimit})
			if err != nil {
				t.Fatal(err)
			}
			got := []string{}
			for _, o := range p.Items {
				got = append(got, o.ID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("search %q (-want +got):\n%s", tt.query, diff)
			}
		})
	}
}

func TestListBadCursor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	seedList(t, d, 3)
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tt := range []struct{ name, cursor string }{
		{"not base64", "!!!"},
		{"padded base64", base64.URLEncoding.EncodeToString([]byte("12,3"))},
		{"no separator", enc("1772366400000000")},
		{"time not a number", enc("yesterday,3f1c2a4e-8d0b-4c1a-9a57-2b1f0e6d7c88")},
		{"id not a uuid", enc("1772366400000000,42")},
		{"id with SQL", enc("1772366400000000,'; DROP TABLE onboardings; --")},
		{"empty parts", enc(",")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := d.ListOnboardings(ctx, db.ListFilter{After: tt.cursor})
			if !errors.Is(err, db.ErrBadCursor) {
				t.Fatalf("cursor %q: err = %v, want ErrBadCursor", tt.cursor, err)
			}
		})
	}
	// A well-formed cursor past the last row is not an error: an empty page.
	p, err := d.ListOnboardings(ctx, db.ListFilter{After: enc("0,00000000-0000-0000-0000-000000000000")})
	if err != nil || len(p.Items) != 0 || p.Next != "" {
		t.Fatalf("cursor before every row: %d items, next %q, err %v; want an empty last page", len(p.Items), p.Next, err)
	}
}

func TestCountByStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	rows := seedList(t, d, 130)
	to := listBase.Add(20 * time.Minute)
	count := func(keep func(listRow) bool) map[domain.Status]int {
		m := map[domain.Status]int{}
		for _, s := range domain.Statuses {
			m[s] = 0
		}
		for _, r := range rows {
			if keep(r) {
				m[domain.Status(r.status)]++
			}
		}
		return m
	}
	for _, tt := range []struct {
		name   string
		filter db.ListFilter
		want   map[domain.Status]int
	}{
		{"all", db.ListFilter{}, count(func(listRow) bool { return true })},
		{"status, cursor and limit are ignored", db.ListFilter{Status: domain.StatusPending, After: "not even a cursor", Limit: 1},
			count(func(listRow) bool { return true })},
		{"kind", db.ListFilter{Kind: "agent"}, count(func(r listRow) bool { return r.kind == "agent" })},
		{"escalated", db.ListFilter{Escalated: true}, count(func(r listRow) bool { return r.escalated })},
		{"created to", db.ListFilter{CreatedTo: to}, count(func(r listRow) bool { return r.created.Before(to) })},
		{"escalated agents before", db.ListFilter{Kind: "agent", Escalated: true, CreatedTo: to},
			count(func(r listRow) bool { return r.kind == "agent" && r.escalated && r.created.Before(to) })},
		{"search", db.ListFilter{Query: "EXT-36"}, count(func(r listRow) bool { return r.externalRef == "EXT-36" })},
		{"nothing matches", db.ListFilter{Query: "nobody"}, count(func(listRow) bool { return false })},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := d.CountByStatus(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEachOnboarding(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	rows := seedList(t, d, 130)

	t.Run("visits every match in list order, ignoring cursor and limit", func(t *testing.T) {
		var got []string
		f := db.ListFilter{Kind: "standard", After: "ignored", Limit: 5}
		err := d.EachOnboarding(ctx, f, func(o *domain.Onboarding) error {
			got = append(got, o.ID)
			if o.Kind != "standard" || o.Ref == "" || o.CreatedAt.IsZero() {
				return fmt.Errorf("row not filled in or not filtered: %+v", o)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(idsOf(rows, func(r listRow) bool { return r.kind == "standard" }), got); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
	})

	t.Run("stops at fn's error and returns it", func(t *testing.T) {
		stop := errors.New("client went away")
		calls := 0
		err := d.EachOnboarding(ctx, db.ListFilter{}, func(*domain.Onboarding) error {
			calls++
			if calls == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || calls != 3 {
			t.Fatalf("err = %v after %d calls; want the fn's error after 3", err, calls)
		}
		// The connection went back to the pool in a usable state.
		if _, err := d.ListOnboardings(ctx, db.ListFilter{Limit: 1}); err != nil {
			t.Fatalf("list after a stopped export: %v", err)
		}
	})

	t.Run("no match calls fn never", func(t *testing.T) {
		err := d.EachOnboarding(ctx, db.ListFilter{Status: domain.StatusRevoked}, func(*domain.Onboarding) error {
			return errors.New("called")
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
