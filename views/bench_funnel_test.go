package views

import (
	"testing"
	"time"
)

// benchFunnel is the funnel page of two years (the longest period), in
// bokmål: 731 days of bars and the same in the numbers table.
func benchFunnel() AdminFunnel {
	first := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	days := make([]FunnelDayCount, 731)
	for i := range days {
		days[i] = FunnelDayCount{Date: first.AddDate(0, 0, i), Started: 900 + i*7%600, Connected: 700 + i*5%500}
	}
	m := AdminFunnel{AdminPage: benchAdminPage("Trakt"), From: "2024-06-01", To: "2026-05-31",
		Median: "1 d 12 t", P90: "2 d 17 t", Imported: 12, Chart: NewFunnelChart(days)}
	for _, k := range []string{"started", "sent", "returned", "accepted", "connected", "rejected", "expired"} {
		m.Steps = append(m.Steps, FunnelStep{Key: "admin.funnel." + k, Count: 654_321, Percent: 71})
	}
	return m
}

// BenchmarkFunnelPage renders the funnel of two years.
func BenchmarkFunnelPage(b *testing.B) {
	benchRender(b, AdminFunnelPage(benchFunnel()), `data-date="2026-05-31"`, "31. mai 2026")
}
