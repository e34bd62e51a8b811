package views

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

// benchRender renders c once to check it holds every want, then again and
// again, reporting the bytes and allocations of one render.
func benchRender(b *testing.B, c templ.Component, want ...string) {
	b.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		b.Fatal(err)
	}
	for _, w := range want {
		if !strings.Contains(buf.String(), w) {
			b.Fatalf("the page lacks %q:\n%s", w, buf.String())
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		buf.Reset()
		if err := c.Render(context.Background(), &buf); err != nil {
			b.Fatal(err)
		}
	}
}

func benchAdminPage(title string) AdminPage {
	return AdminPage{Page: Page{Lang: "nb", Title: title, Sim: true, LangURL: "/lang/en?next=%2Fadmin",
		CSSURL: "/static/style.css", LogoURL: "/static/logo.svg", LogoType: "image/svg+xml",
		DesignCSSURLs: []string{"/static/designsystemet/index.css", "/static/designsystemet/theme.css"}},
		StaffEmail: "kari@vendor.example", StaffRole: "operator", CSRF: "c3JmLXRva2VuLXRoYXQtaXMtbG9uZy1lbm91Z2g", LogoutURL: "/admin/logout"}
}

// BenchmarkOnboardingListPage renders the dashboard's front page as staff
// get it: the counts of every status, the filter form and a page of 50
// onboardings (the default page size), in bokmål.
func BenchmarkOnboardingListPage(b *testing.B) {
	statuses := []string{"requesting", "pending", "accepted", "connected", "rejected", "expired", "failed", "revoked"}
	m := OnboardingList{AdminPage: benchAdminPage("Tilkoblinger"), Action: "/admin", Statuses: statuses,
		UsabilityFilters: []string{"usable", "not_usable", "not_checked"}, AllURL: "/admin",
		CSVURL: "/admin/onboardings.csv", ResetURL: "/admin", NewURL: "/admin/onboardings/new",
		NextURL: "/admin?after=2026-12-01T10%3A00%3A00Z%2C9f1c", Filter: ListFilterForm{Kind: "standard"}, Filtered: true}
	for i, s := range statuses {
		n := (i + 1) * 123_457
		m.Counts = append(m.Counts, StatusCount{Status: s, Count: n, URL: "/admin?status=" + s})
		m.Total += n
	}
	for i := range 50 {
		s := statuses[i%len(statuses)]
		m.Rows = append(m.Rows, OnboardingRow{ID: fmt.Sprintf("9f1c%04d-1f0e-4b8a-9d3c-2a1b0c9d8e7f", i),
			URL: fmt.Sprintf("/admin/onboardings/9f1c%04d-1f0e-4b8a-9d3c-2a1b0c9d8e7f", i), Created: "1. des. 2026 10:00",
			OrgNo: "923 609 016", OrgName: "Bakeriet Nordlys AS", ProductName: "Regnskap", Kind: "standard", Status: s,
			Escalated: i%7 == 0, CustomerRef: fmt.Sprintf("K-%06d", i), ErrorCode: map[bool]string{true: "AUTH-00004"}[s == "failed"],
			NotUsable: s == "connected" && i%3 == 0})
	}
	benchRender(b, OnboardingListPage(m), "Bakeriet Nordlys AS", "K-000049", "/admin?status=revoked")
}

// BenchmarkStatusPage renders the customer's status page (/status/{ref})
// in the browser that started the onboarding: waiting for the customer's
// approval at Altinn, with the link there, the refresh toggle and the
// vendor's contact, in bokmål.
func BenchmarkStatusPage(b *testing.B) {
	m := Outcome{
		Page: Page{Lang: "nb", Title: "Status", Sim: true, LangURL: "/lang/en?next=%2Fstatus%2Fabc",
			CSSURL: "/static/style.css", LogoURL: "/static/logo.svg", LogoType: "image/svg+xml",
			DesignCSSURLs: []string{"/static/designsystemet/index.css", "/static/designsystemet/theme.css"},
			Vendor:        "Smart Cloud AS", Support: Support{Email: "support@example.com", Phone: "+47 22 00 00 00"}},
		Ref: "q8Xv2lQ0cU5nJm3aT1yBzw", Status: "pending", Detail: true, OrgNo: "923 609 016",
		OrgName: "Bakeriet Nordlys AS", ProductName: "Regnskap", ByCustomer: true, StartURL: "/onboard/standard",
		Vendor: "Smart Cloud AS", ConfirmURL: "https://sim.example/authfront/ui/auth/vendorrequest?id=5f9b6b3e-1f0e-4b8a-9d3c-2a1b0c9d8e7f",
		CSRF: "c3JmLXRva2VuLXRoYXQtaXMtbG9uZy1lbm91Z2g", RefreshURL: "/status/q8Xv2lQ0cU5nJm3aT1yBzw",
		CheckedAt: "i dag 10:02", AltinnURL: "https://www.altinn.no/", BackURL: "https://vendor.example/",
		AutoRefresh: true, RefreshSeconds: 5, RefreshToggleURL: "/status/q8Xv2lQ0cU5nJm3aT1yBzw?refresh=off",
	}
	benchRender(b, OutcomePage(m), "Bakeriet Nordlys AS", "vendorrequest?id=5f9b6b3e")
}
