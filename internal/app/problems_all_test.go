package app_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// problemLink is the href of the link with testid on p ("" when none).
func problemLink(p page, testid string) string {
	m := regexp.MustCompile(`href="([^"]*)"[^>]*data-testid="` + regexp.QuoteMeta(testid) + `"`).FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// TestProblemsShowAll: the Problems page is a triage summary: each section
// its count and first 20 rows, and "Show all" where there are more: the
// onboarding list's filter for failed, the section's own view, 50 a page,
// for stuck. The pages of the view are the whole section, each row once.
func TestProblemsShowAll(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	viewer, _ := e.dashStaff("vera@example.com", "viewer")
	const nStuck, nFailed = 110, 25
	orgs := distinctOrgs(3000, nStuck+nFailed)
	stuck, failed := map[string]bool{}, map[string]bool{}
	for i, org := range orgs {
		status, set := "requesting", stuck
		if i >= nStuck {
			status, set = "failed", failed
		}
		r := e.dashSeed(dashRow{orgNo: org, kind: "standard", status: status, created: time.Now().Add(-2 * time.Hour)})
		if _, err := e.db.Pool.Exec(ctx, `UPDATE onboardings SET status_at = now() - interval '1 hour' - $2 * interval '1 second'
			WHERE id = $1`, r.id, i); err != nil {
			t.Fatal(err)
		}
		set[r.id] = true
	}

	p := viewer.get(e.web.URL + problemsPath)
	if p.status != http.StatusOK {
		t.Fatalf("problems: %d\n%s", p.status, p.body)
	}
	for section, want := range map[string]int{"stuck": nStuck, "failed": nFailed} {
		if n, rows := countOf(t, p, "problems-"+section), len(problemRows(t, p, section)); n != want || rows != 20 {
			t.Errorf("%s: count %d and %d rows, want %d and 20", section, n, rows, want)
		}
	}
	for _, words := range []string{"Viser de første 20 av 110.", ">Vis alle 110<", ">Vis alle 25<"} {
		if !strings.Contains(p.body, words) {
			t.Errorf("the page does not say %q", words)
		}
	}
	if got := problemLink(p, "all-failed"); got != "/admin/onboardings?status=failed" {
		t.Errorf("failed's Show all: %q, want the list's filter", got)
	}
	if problemLink(p, "all-notusable") != "" || problemLink(p, "all-mail") != "" {
		t.Error("a section with all its rows shown has no Show all")
	}
	next := problemLink(p, "all-stuck")
	if next != "/admin/problems?section=stuck" {
		t.Fatalf("stuck's Show all: %q, want its own view", next)
	}

	// The failed onboardings, all of them, in the list.
	list := viewer.get(e.web.URL + problemLink(p, "all-failed"))
	for id := range failed {
		if !regexp.MustCompile(`href="/admin/onboardings/` + id + `"`).MatchString(list.body) {
			t.Errorf("the list of failed lacks %s", id)
		}
	}

	// The stuck ones, page by page: 50, 50, 10, each once.
	seen := map[string]bool{}
	var sizes []int
	for pages := 0; next != "" && pages < 5; pages++ {
		v := viewer.get(e.web.URL + next)
		if v.status != http.StatusOK {
			t.Fatalf("%s: %d\n%s", next, v.status, v.body)
		}
		if countOf(t, v, "problems-stuck") != nStuck {
			t.Errorf("%s: count %d", next, countOf(t, v, "problems-stuck"))
		}
		if problemLink(v, "problems-back") != "/admin/problems#stuck" || (pages > 0) != (problemLink(v, "prev-page") != "") {
			t.Errorf("%s: the way back %q, previous %q", next, problemLink(v, "problems-back"), problemLink(v, "prev-page"))
		}
		rows := problemRows(t, v, "stuck")
		sizes = append(sizes, len(rows))
		for id := range rows {
			if seen[id] || !stuck[id] {
				t.Errorf("%s: %s twice or not stuck", next, id)
			}
			seen[id] = true
		}
		next = problemLink(v, "next-page")
	}
	if len(seen) != nStuck || len(sizes) != 3 || sizes[0] != 50 || sizes[2] != 10 {
		t.Errorf("the stuck view's pages held %v rows, %d different; want 50, 50, 10", sizes, len(seen))
	}

	for _, bad := range []string{"?section=stuck&page=4", "?section=nope", "?section=stuck&page=0", "?section=stuck&page=x"} {
		if res := viewer.get(e.web.URL + problemsPath + bad); res.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, res.status)
		}
	}
}
