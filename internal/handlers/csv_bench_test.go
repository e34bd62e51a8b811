package handlers

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/domain"
)

// BenchmarkCSVExport writes 1,000 rows of the onboardings export
// (csvRecord, each cell through csvSafe, then encoding/csv), as
// onboardingCSV streams them: connected and pending onboardings with a
// customer reference and a name, every tenth failed with Altinn's error
// text.
func BenchmarkCSVExport(b *testing.B) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	rows := make([]*domain.Onboarding, 1000)
	for i := range rows {
		ref, name, req, su := fmt.Sprintf("K-%06d", i), "Bakeriet Nordlys AS", "5f9b6b3e-1f0e-4b8a-9d3c-2a1b0c9d8e7f", "7a1c2b3d-1f0e-4b8a-9d3c-2a1b0c9d8e7f"
		o := &domain.Onboarding{ID: fmt.Sprintf("9f1c%04d-1f0e-4b8a-9d3c-2a1b0c9d8e7f", i), Ref: "q8Xv2lQ0cU5nJm3aT1yBzw",
			CreatedAt: at, UpdatedAt: at.Add(time.Minute), Product: "standard", Kind: domain.KindStandard,
			SystemID: "310000001_regnskap", OrgNo: "923609016", ExternalRef: "923609016", CustomerRef: &ref,
			Status: domain.StatusConnected, AltinnRequestID: &req, SystemUserID: &su, CheckedAt: &at, ConnectedAt: &at, OrgName: &name}
		switch i % 10 {
		case 0:
			code, msg := "AUTH-00002", "The system user request is invalid: rights not registered on the system"
			o.Status, o.SystemUserID, o.ConnectedAt, o.ErrorCode, o.ErrorMessage = domain.StatusFailed, nil, nil, &code, &msg
		case 1, 2, 3:
			o.Status, o.SystemUserID, o.ConnectedAt = domain.StatusPending, nil, nil
		}
		rows[i] = o
	}
	b.ReportAllocs()
	for b.Loop() {
		w := csv.NewWriter(bufio.NewWriter(io.Discard))
		if err := w.Write(csvHeader); err != nil {
			b.Fatal(err)
		}
		for _, o := range rows {
			if err := w.Write(csvRecord(o)); err != nil {
				b.Fatal(err)
			}
		}
		w.Flush()
	}
}
