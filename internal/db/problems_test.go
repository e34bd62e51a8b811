package db_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestProblemRules: which onboardings each section of the Problems page
// holds, and why a stuck one is stuck, on a fixed clock.
func TestProblemRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	q := db.ProblemQuery{StuckAfter: 15 * time.Minute, OverdueAfter: time.Hour, ExpiredAfter: 181 * 24 * time.Hour, Limit: 10, Now: now}
	orgs := []string{"310000019", "310000027", "310000035", "310000043", "310000051", "310000078", "310000086", "310000094", "310000108", "310000116", "310000124"}
	type want struct {
		notUsable, failed bool
		stuck             string
	}
	var cases []problemCase
	for i, c := range []struct {
		name      string
		status    string
		statusAge time.Duration  // how long ago the status was entered
		nextCheck *time.Duration // how long ago the next check was due (nil: none)
		usable    *bool
		want      want
	}{
		{name: "requesting, young", status: "requesting", statusAge: 14 * time.Minute},
		{name: "requesting, old", status: "requesting", statusAge: 16 * time.Minute, want: want{stuck: db.StuckRequesting}},
		{name: "accepted, old", status: "accepted", statusAge: time.Hour, want: want{stuck: db.StuckAccepted}},
		{name: "pending, old, checked on time", status: "pending", statusAge: 30 * 24 * time.Hour, nextCheck: ptr(-time.Hour)},
		{name: "pending past Altinn's lifetime", status: "pending", statusAge: 182 * 24 * time.Hour, nextCheck: ptr(-time.Hour), want: want{stuck: db.StuckExpired}},
		{name: "pending, check overdue", status: "pending", statusAge: time.Hour, nextCheck: ptr(61 * time.Minute), want: want{stuck: db.StuckOverdue}},
		{name: "pending, check a little late", status: "pending", statusAge: time.Hour, nextCheck: ptr(59 * time.Minute)},
		{name: "connected, not usable", status: "connected", statusAge: time.Hour, usable: ptr(false), want: want{notUsable: true}},
		{name: "connected, usable", status: "connected", statusAge: time.Hour, usable: ptr(true)},
		{name: "failed", status: "failed", statusAge: time.Hour, want: want{failed: true}},
		{name: "rejected is the customer's answer", status: "rejected", statusAge: time.Hour, nextCheck: ptr(2 * time.Hour)},
	} {
		o, err := d.CreateOnboarding(ctx, newOnboarding(fmt.Sprintf("problem-ref-%09d", i), orgs[i]))
		if err != nil {
			t.Fatal(err)
		}
		var next *time.Time
		if c.nextCheck != nil {
			at := now.Add(-*c.nextCheck)
			next = &at
		}
		if _, err := d.Pool.Exec(ctx, `UPDATE onboardings SET status = $2, status_at = $3, next_check_at = $4, usable = $5 WHERE id = $1`,
			o.ID, c.status, now.Add(-c.statusAge), next, c.usable); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, problemCase{id: o.ID, name: c.name, notUsable: c.want.notUsable, failed: c.want.failed, stuck: c.want.stuck})
	}
	p, err := d.Problems(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	in := func(list []domain.Onboarding, id string) bool {
		for _, o := range list {
			if o.ID == id {
				return true
			}
		}
		return false
	}
	stuck := map[string]string{}
	for _, s := range p.Stuck {
		stuck[s.ID] = s.Reason
	}
	for _, c := range cases {
		if got := in(p.NotUsable, c.id); got != c.notUsable {
			t.Errorf("%s: not usable %v, want %v", c.name, got, c.notUsable)
		}
		if got := in(p.Failed, c.id); got != c.failed {
			t.Errorf("%s: failed %v, want %v", c.name, got, c.failed)
		}
		if stuck[c.id] != c.stuck {
			t.Errorf("%s: stuck %q, want %q", c.name, stuck[c.id], c.stuck)
		}
	}
	if p.NotUsableCount != len(p.NotUsable) || p.FailedCount != len(p.Failed) || p.StuckCount != len(p.Stuck) ||
		p.StuckCount != 4 || p.WebhookCount != 0 || p.MailCount != 0 || p.Total() != 6 {
		t.Errorf("counts: %+v", p)
	}

	// Refused mail: listed until a later message to the customer goes out.
	mail := func(id, outcome string) {
		if err := d.AddEvent(ctx, domain.Event{OnboardingID: id, Kind: domain.EventMail, Cause: domain.CauseSystem,
			Operation: domain.MailReminder, ToStatus: outcome, Message: "550 no such user"}); err != nil {
			t.Fatal(err)
		}
	}
	mail(cases[0].id, domain.MailRefused)
	mail(cases[1].id, domain.MailRefused)
	mail(cases[1].id, domain.MailFailed) // a try that failed settles nothing
	mail(cases[2].id, domain.MailRefused)
	mail(cases[2].id, domain.MailSent) // the address was fixed
	if p, err = d.Problems(ctx, q); err != nil || p.MailCount != 2 || len(p.Mail) != 2 ||
		p.Mail[0].Reason != "550 no such user" || p.Mail[0].Message != domain.MailReminder {
		t.Fatalf("refused mail (%v): %+v", err, p.Mail)
	}
	for _, m := range p.Mail {
		if m.OnboardingID == cases[2].id {
			t.Errorf("a refusal followed by a sent message is listed")
		}
	}

	// The limit bounds the rows, not the count.
	q.Limit = 1
	if p, err = d.Problems(ctx, q); err != nil || len(p.Stuck) != 1 || p.StuckCount != 4 {
		t.Errorf("limited to 1: %d stuck rows of %d (%v)", len(p.Stuck), p.StuckCount, err)
	}

	// A section's own view reads that section only, a page at a time: the
	// pages of one row are the whole section's rows in order, and its count.
	q.Limit = 100
	all, err := d.Problems(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	for _, section := range db.ProblemSections {
		want, count := problemIDs(all, section)
		var got []string
		for off := 0; off <= len(want); off++ {
			one, err := d.Problems(ctx, db.ProblemQuery{StuckAfter: q.StuckAfter, OverdueAfter: q.OverdueAfter,
				ExpiredAfter: q.ExpiredAfter, Now: q.Now, Limit: 1, Section: section, Offset: off})
			if err != nil {
				t.Fatalf("%s from %d: %v", section, off, err)
			}
			ids, n := problemIDs(one, section)
			got = append(got, ids...)
			if n != count || one.Total() != count {
				t.Errorf("%s from %d: count %d, total %d, want %d in that section only", section, off, n, one.Total(), count)
			}
		}
		if !slices.Equal(got, want) || (len(want) == 0 && section != db.SectionWebhooks) {
			t.Errorf("%s a row a page: %v, want %v (some: the test has no webhooks only)", section, got, want)
		}
	}
	if _, err := d.Problems(ctx, db.ProblemQuery{Section: "nope"}); err == nil {
		t.Error("an unknown section should be an error")
	}
}

// problemIDs is one section's row ids, in order, and its count.
func problemIDs(p *db.Problems, section string) ([]string, int) {
	var ids []string
	switch section {
	case db.SectionWebhooks:
		for _, w := range p.Webhooks {
			ids = append(ids, strconv.FormatInt(w.ID, 10))
		}
		return ids, p.WebhookCount
	case db.SectionNotUsable:
		for _, o := range p.NotUsable {
			ids = append(ids, o.ID)
		}
		return ids, p.NotUsableCount
	case db.SectionFailed:
		for _, o := range p.Failed {
			ids = append(ids, o.ID)
		}
		return ids, p.FailedCount
	case db.SectionStuck:
		for _, o := range p.Stuck {
			ids = append(ids, o.ID)
		}
		return ids, p.StuckCount
	default:
		for _, m := range p.Mail {
			ids = append(ids, strconv.FormatInt(m.EventID, 10))
		}
		return ids, p.MailCount
	}
}

type problemCase struct {
	id, name, stuck   string
	notUsable, failed bool
}

// TestProblemSectionPagesShareTheirStatements: paging through a section's
// own view does not make a statement per page. pgx prepares and keeps every
// text it runs, on every connection, and Postgres a plan of each (hundreds
// of KB for the stuck section): a visitor stepping through page=1..N would
// fill both. The pool here has one connection, so every page runs where the
// count of prepared statements is read.
func TestProblemSectionPagesShareTheirStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, err := db.Open(ctx, dbtest.NewURL(t)+"&pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	prepared := func() int {
		var n int
		if err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_prepared_statements`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, section := range db.ProblemSections {
		q := db.ProblemQuery{StuckAfter: 15 * time.Minute, OverdueAfter: time.Hour, ExpiredAfter: 181 * 24 * time.Hour,
			Limit: 50, Section: section}
		if _, err := d.Problems(ctx, q); err != nil {
			t.Fatal(err)
		}
		after := prepared()
		for page := 2; page <= 6; page++ {
			q.Offset = (page - 1) * 50
			if _, err := d.Problems(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if n := prepared(); n != after {
			t.Errorf("section %s: %d prepared statements after five more pages, %d after the first", section, n, after)
		}
	}
}
