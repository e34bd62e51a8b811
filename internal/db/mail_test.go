package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/db/dbtest"
	"github.com/onboard-altinn/onboard/internal/domain"
)

// TestMailQueueOnceAndRefused: a message is queued once per (onboarding,
// message, seq); a refused one is listed by RefusedMail with its onboarding,
// recipient and error, and its outcome is on the timeline.
func TestMailQueueOnceAndRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := dbtest.New(t)
	o, err := d.CreateOnboarding(ctx, newOnboarding("mail-ref-00000000001", "310000019"))
	if err != nil {
		t.Fatal(err)
	}
	m := db.MailMessage{OnboardingID: o.ID, Message: domain.MailLink, To: "a@example.com", Lang: "nb",
		Subject: "s", Text: "t", HTML: "<p>t</p>"}
	now := time.Now()
	id, err := db.QueueMail(ctx, d.Pool, m, now)
	if err != nil || id == 0 {
		t.Fatalf("queue: %d %v", id, err)
	}
	if again, err := db.QueueMail(ctx, d.Pool, m, now); err != nil || again != 0 {
		t.Fatalf("queued twice: %d %v", again, err)
	}
	ev := domain.Event{Kind: domain.EventMail, Cause: domain.CauseSystem, Operation: domain.MailLink,
		ToStatus: domain.MailRefused, Message: "550 no such user"}
	if ok, err := d.RecordMailOutcome(ctx, id, domain.MailRefused, "550 no such user", now, ev); err != nil || !ok {
		t.Fatalf("record: %v %v", ok, err)
	}
	if ok, err := d.RecordMailOutcome(ctx, id, domain.MailSent, "", now, ev); err != nil || ok {
		t.Fatalf("a final message was recorded again: %v %v", ok, err)
	}
	got, err := d.RefusedMail(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].OnboardingID != o.ID || got[0].Ref != o.Ref || got[0].OrgNo != "310000019" ||
		got[0].To != "a@example.com" || got[0].Message != domain.MailLink || got[0].Error != "550 no such user" {
		t.Fatalf("refused mail = %+v", got)
	}
	evs, err := d.Events(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Kind != domain.EventMail || last.ToStatus != domain.MailRefused || last.Operation != domain.MailLink {
		t.Fatalf("last event = %+v", last)
	}
}
