package app_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onboard-altinn/onboard/internal/db"
	"github.com/onboard-altinn/onboard/internal/domain"
)

const testWebhookSecret = "whsec-test-0123456789abcdef0123456789abcdef"

// verifySignature is the README's recipe for receivers ("Webhooks"), written
// from the README and not from the service's code: split the header on
// commas into t and v1, refuse a t more than five minutes from now, and
// compare HMAC-SHA256(secret, "<t>.<raw body>") in hex, in constant time.
func verifySignature(secret []byte, header string, body []byte, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("no timestamp")
	}
	if d := now.Unix() - t; d > 300 || d < -300 {
		return errors.New("timestamp more than 5 minutes away")
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range sigs {
		if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no v1 signature matches")
}

// received is one POST the vendor's endpoint got.
type received struct {
	at     time.Time
	header http.Header
	body   []byte
	code   int
}

// vendorEndpoint is the vendor's product receiving events. answer says
// what to answer to an event it has seen `seen` times before.
type vendorEndpoint struct {
	mu     sync.Mutex
	got    []received
	answer func(seen int) int
	srv    *httptest.Server
}

func newVendorEndpoint(t *testing.T, answer func(seen int) int) *vendorEndpoint {
	v := &vendorEndpoint{answer: answer}
	v.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v.mu.Lock()
		seen := 0
		for _, g := range v.got {
			if g.header.Get("Onboard-Event-Id") == r.Header.Get("Onboard-Event-Id") {
				seen++
			}
		}
		code := v.answer(seen)
		v.got = append(v.got, received{at: time.Now(), header: r.Header.Clone(), body: body, code: code})
		v.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(v.srv.Close)
	return v
}

func (v *vendorEndpoint) url() string { return v.srv.URL + "/onboard-events" }

func (v *vendorEndpoint) requests() []received {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.got)
}

func always(code int) func(int) int { return func(int) int { return code } }

// webhookEnv is the whole service with webhooks to the endpoints, on a
// short backoff so retries take milliseconds.
func webhookEnv(t *testing.T, eps ...*vendorEndpoint) *env {
	t.Helper()
	var urls []string
	for _, ep := range eps {
		urls = append(urls, ep.url())
	}
	e := newEnv(t, map[string]string{
		"ONBOARD_WEBHOOK_URLS":   strings.Join(urls, ","),
		"ONBOARD_WEBHOOK_SECRET": testWebhookSecret,
	})
	e.app.Webhooks.RetryBase, e.app.Webhooks.RetryMax = 50*time.Millisecond, 200*time.Millisecond
	return e
}

func (e *env) deliveries(o *domain.Onboarding) []db.WebhookDelivery {
	e.t.Helper()
	ds, err := e.db.WebhookDeliveries(context.Background(), o.ID, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

// waitDeliveries waits until the onboarding has want deliveries and done
// holds for every one of them.
func (e *env) waitDeliveries(o *domain.Onboarding, want int, done func(db.WebhookDelivery) bool) []db.WebhookDelivery {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds := e.deliveries(o)
		ok := len(ds) == want
		for _, d := range ds {
			ok = ok && done(d)
		}
		if ok {
			return ds
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("after 30 s: %d deliveries, want %d in the state asked for: %+v", len(ds), want, ds)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func delivered(d db.WebhookDelivery) bool { return d.Status == db.WebhookDelivered }

// waitJobStates waits until River's webhook jobs (for one delivery, or all
// with deliveryID 0), oldest first, are in the states want: River finishes
// a job just after its worker has recorded the attempt.
func (e *env) waitJobStates(deliveryID int64, want ...string) {
	e.t.Helper()
	e.waitJobStatesOneOf(deliveryID, want)
}

// waitJobStatesOneOf waits until the webhook jobs' states are one of wants.
func (e *env) waitJobStatesOneOf(deliveryID int64, wants ...[]string) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var states []string
		rows, err := e.db.Pool.Query(context.Background(), `
			SELECT state::text FROM river_job
			WHERE kind = 'webhook_delivery' AND ($1 = 0 OR (args->>'delivery_id')::bigint = $1)
			ORDER BY id`, deliveryID)
		if err != nil {
			e.t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				e.t.Fatal(err)
			}
			states = append(states, s)
		}
		if rows.Err() != nil {
			e.t.Fatal(rows.Err())
		}
		for _, want := range wants {
			if slices.Equal(states, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("webhook jobs %v, want one of %v", states, wants)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// statusChanges are the onboarding's status changes from its history, as
// "previous>status" ("" before the first).
func (e *env) statusChanges(o *domain.Onboarding) []string {
	var out []string
	for _, ev := range e.events(o) {
		if ev.Kind == domain.EventCreated || ev.Kind == domain.EventStatus {
			out = append(out, ev.FromStatus+">"+ev.ToStatus)
		}
	}
	return out
}

// webhookBody is an event as a receiver decodes it.
type webhookBody struct {
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	Created time.Time      `json:"created"`
	Data    map[string]any `json:"data"`
}

func decodeWebhook(t *testing.T, body []byte) webhookBody {
	t.Helper()
	var b webhookBody
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	return b
}

func TestWebhooksDeliverEveryStatusChangeOncePerURL(t *testing.T) {
	t.Parallel()
	a, b := newVendorEndpoint(t, always(http.StatusOK)), newVendorEndpoint(t, always(http.StatusNoContent))
	e := webhookEnv(t, a, b)
	e.startJobs()
	br := e.browser()
	e.returnTo(br, e.decide(br, e.startFlow(br, "standard", org), "approve").location)
	o := e.onboardingForOrg(org)
	if o.Status != domain.StatusConnected {
		t.Fatalf("status %q, want connected", o.Status)
	}
	changes := e.statusChanges(o)
	// One event per status change, and one when the connected customer
	// proved usable (usability_test.go has those).
	ds := e.waitDeliveries(o, 2*(len(changes)+1), delivered)
	for _, d := range ds {
		if d.Attempts != 1 {
			t.Errorf("delivery %d to %s: %d attempts, want 1", d.ID, d.URL, d.Attempts)
		}
	}

	var eventIDs []string
	for _, ep := range []*vendorEndpoint{a, b} {
		var reqs []received
		for _, r := range ep.requests() {
			if decodeWebhook(t, r.body).Type == "onboarding.status_changed" {
				reqs = append(reqs, r)
			}
		}
		if len(reqs) != len(changes) {
			t.Fatalf("%s got %d requests for %d status changes", ep.url(), len(reqs), len(changes))
		}
		var got, ids []string
		for _, r := range reqs {
			if err := verifySignature([]byte(testWebhookSecret), r.header.Get("Onboard-Signature"), r.body, r.at); err != nil {
				t.Errorf("signature: %v (%s)", err, r.header.Get("Onboard-Signature"))
			}
			ev := decodeWebhook(t, r.body)
			if ev.Type != "onboarding.status_changed" || r.header.Get("Onboard-Event-Id") != ev.ID ||
				r.header.Get("Content-Type") != "application/json" || r.header.Get("Onboard-Event-Type") != ev.Type {
				t.Errorf("event %s: type %q, headers %v", ev.ID, ev.Type, r.header)
			}
			prev, _ := ev.Data["previous_status"].(string)
			got = append(got, prev+">"+ev.Data["status"].(string))
			ids = append(ids, ev.ID)
		}
		// Deliveries are concurrent jobs: compare as sets, each exactly once.
		slices.Sort(got)
		want := slices.Sorted(slices.Values(changes))
		if !slices.Equal(got, want) {
			t.Errorf("%s got the changes %v, want %v", ep.url(), got, want)
		}
		slices.Sort(ids)
		if len(slices.Compact(slices.Clone(ids))) != len(ids) {
			t.Errorf("%s got an event twice: %v", ep.url(), ids)
		}
		if eventIDs == nil {
			eventIDs = ids
		} else if !slices.Equal(eventIDs, ids) {
			t.Errorf("the endpoints got different events: %v and %v", eventIDs, ids)
		}
	}

	// The last event carries the onboarding as it is now.
	var last webhookBody
	for _, r := range a.requests() {
		if ev := decodeWebhook(t, r.body); ev.Type == "onboarding.status_changed" && ev.Data["status"] == string(domain.StatusConnected) {
			last = ev
		}
	}
	want := map[string]any{
		"id": o.ID, "ref": o.Ref, "product": o.Product, "kind": string(o.Kind), "org_no": o.OrgNo, "external_ref": o.ExternalRef,
		"customer_ref": nil, "status": "connected", "previous_status": changes[len(changes)-1][:strings.Index(changes[len(changes)-1], ">")],
		"escalated": false, "system_user_id": *o.SystemUserID, "altinn_request_id": *o.AltinnRequestID,
	}
	if len(last.Data) != len(want) {
		t.Errorf("data has %d fields, want %d: %v", len(last.Data), len(want), last.Data)
	}
	for k, v := range want {
		if last.Data[k] != v {
			t.Errorf("data.%s = %v, want %v", k, last.Data[k], v)
		}
	}
	if time.Since(last.Created) > time.Minute || last.Created.After(time.Now()) {
		t.Errorf("created %v is not the time of the change", last.Created)
	}

	// The recipe refuses a changed body, an old timestamp and another secret.
	r := a.requests()[0]
	sig := r.header.Get("Onboard-Signature")
	changed := []byte(strings.Replace(string(r.body), `"status": "`, `"status": "x`, 1))
	if verifySignature([]byte(testWebhookSecret), sig, changed, r.at) == nil {
		t.Error("a changed body verifies")
	}
	if verifySignature([]byte(testWebhookSecret), sig, r.body, r.at.Add(6*time.Minute)) == nil {
		t.Error("a signature six minutes old verifies")
	}
	if verifySignature([]byte("another-secret-0123456789abcdef0123"), sig, r.body, r.at) == nil {
		t.Error("a signature verifies with another secret")
	}

	metrics := e.browser().get(e.web.URL + "/metrics").body
	if want := `onboard_webhook_attempts_total{outcome="delivered"} ` + strconv.Itoa(2*(len(changes)+1)) + "\n"; !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %s", want)
	}
	if !strings.Contains(metrics, "onboard_webhook_failures_total 0\n") {
		t.Error("/metrics lacks onboard_webhook_failures_total 0")
	}
}

func TestWebhooksRetryUntilDelivered(t *testing.T) {
	t.Parallel()
	// The endpoint fails twice for every event, then takes it.
	ep := newVendorEndpoint(t, func(seen int) int {
		if seen < 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	e := webhookEnv(t, ep)
	e.startJobs()
	e.startFlow(e.browser(), "standard", org)
	o := e.onboardingForOrg(org)
	changes := e.statusChanges(o)
	ds := e.waitDeliveries(o, len(changes), delivered)
	for _, d := range ds {
		var codes []int
		for _, a := range d.Recent {
			codes = append(codes, a.StatusCode)
		}
		if d.Attempts != 3 || !slices.Equal(codes, []int{200, 500, 500}) || d.Recent[1].Error != "HTTP 500" {
			t.Errorf("delivery %d: %d attempts, codes (newest first) %v; want 3: 500, 500, 200", d.ID, d.Attempts, codes)
		}
	}
	byEvent := map[string]int{}
	for _, r := range ep.requests() {
		byEvent[r.header.Get("Onboard-Event-Id")]++
		if err := verifySignature([]byte(testWebhookSecret), r.header.Get("Onboard-Signature"), r.body, r.at); err != nil {
			t.Errorf("a retry's signature: %v", err)
		}
	}
	if len(byEvent) != len(changes) {
		t.Fatalf("%d events received, want %d", len(byEvent), len(changes))
	}
	for id, n := range byEvent {
		if n != 3 {
			t.Errorf("event %s received %d times, want 3", id, n)
		}
	}
}

func TestWebhooksGiveUpAfterMaxAge(t *testing.T) {
	t.Parallel()
	ep := newVendorEndpoint(t, always(http.StatusServiceUnavailable))
	e := webhookEnv(t, ep)
	e.startFlow(e.browser(), "standard", org)
	o := e.onboardingForOrg(org)
	changes := e.statusChanges(o)
	// The events are two days old before their first attempt (ONBOARD_WEBHOOK_MAX_AGE is 48h).
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE webhook_deliveries SET retry_since = now() - interval '48 hours 1 minute'`); err != nil {
		t.Fatal(err)
	}
	e.startJobs()
	ds := e.waitDeliveries(o, len(changes), func(d db.WebhookDelivery) bool { return d.Status == db.WebhookFailed })
	for _, d := range ds {
		if d.Attempts != 1 || d.NextAttemptAt != nil || *d.LastStatusCode != 503 {
			t.Errorf("failed delivery: %+v", d)
		}
	}
	// Ended, not left to retry.
	cancelled := make([]string, len(changes))
	for i := range cancelled {
		cancelled[i] = "cancelled"
	}
	e.waitJobStates(0, cancelled...)
	if m := e.browser().get(e.web.URL + "/metrics").body; !strings.Contains(m, "onboard_webhook_failures_total "+strconv.Itoa(len(changes))+"\n") {
		t.Errorf("/metrics does not count %d failures", len(changes))
	}
	// The dashboard says so.
	b, _ := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	if p := b.get(e.web.URL + "/admin/onboardings/" + o.ID); strings.Count(p.body, `data-status="failed"`) != len(changes) {
		t.Errorf("detail page does not show %d failed deliveries:\n%s", len(changes), p.body)
	}
}

var (
	deliveryRE  = regexp.MustCompile(`data-testid="webhook-delivery" data-id="([0-9]+)" data-status="([a-z]+)" data-attempts="([0-9]+)"`)
	redeliverRE = regexp.MustCompile(`<form method="post" action="(/admin/onboardings/[0-9a-f-]+/webhooks/[0-9]+/redeliver)">`)
)

func TestWebhooksRedeliverFromTheDashboard(t *testing.T) {
	t.Parallel()
	ep := newVendorEndpoint(t, always(http.StatusOK))
	e := webhookEnv(t, ep)
	e.startJobs()
	e.startFlow(e.browser(), "standard", org)
	o := e.onboardingForOrg(org)
	changes := e.statusChanges(o)
	e.waitDeliveries(o, len(changes), delivered)
	path := e.web.URL + "/admin/onboardings/" + o.ID

	// A viewer sees the deliveries and their attempts, and may not redeliver.
	viewer, _ := e.dashStaff("vera@example.com", string(domain.RoleViewer))
	vp := viewer.get(path)
	if got := deliveryRE.FindAllStringSubmatch(vp.body, -1); len(got) != len(changes) || got[0][2] != "delivered" {
		t.Fatalf("viewer's detail page lists %v, want %d delivered\n%s", got, len(changes), vp.body)
	}
	if !strings.Contains(vp.body, `data-testid="webhook-attempt" data-status-code="200"`) || strings.Contains(vp.body, `data-testid="redeliver"`) {
		t.Fatalf("viewer's detail page: attempts missing or redeliver offered\n%s", vp.body)
	}
	id := deliveryRE.FindStringSubmatch(vp.body)[1]
	redeliver := path + "/webhooks/" + id + "/redeliver"
	b, olga := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	jobs := func() int {
		var n int
		if err := e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = 'webhook_delivery'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	audit, sent, before, queued := e.dashCount("audit_log"), len(ep.requests()), e.deliveries(o), jobs()
	if res := viewer.post(redeliver, url.Values{"_csrf": {csrfOf(t, vp)}}); res.status != http.StatusForbidden {
		t.Fatalf("viewer redeliver: %d, want 403", res.status)
	}
	// Without the CSRF token nobody may.
	if res := b.post(redeliver, url.Values{}); res.status != http.StatusForbidden && res.status != http.StatusBadRequest {
		t.Fatalf("redeliver without CSRF: %d", res.status)
	}
	// A redeliver resets the delivery and queues its job before it
	// answers, so what a refused one did shows now: no delivery changed, no
	// delivery job queued, nothing audited or sent.
	if e.dashCount("audit_log") != audit || len(ep.requests()) != sent || jobs() != queued || !reflect.DeepEqual(e.deliveries(o), before) {
		t.Fatalf("a refused redeliver was audited, sent something, queued %d delivery jobs or changed a delivery: %+v, was %+v",
			jobs()-queued, e.deliveries(o), before)
	}

	// An operator redelivers one delivery: the same event goes out again.
	detail := b.get(path)
	forms := redeliverRE.FindAllStringSubmatch(detail.body, -1)
	if len(forms) != len(changes) || !strings.HasSuffix(forms[0][1], "/webhooks/"+id+"/redeliver") {
		t.Fatalf("operator's redeliver forms: %v", forms)
	}
	res := b.post(e.web.URL+forms[0][1], url.Values{"_csrf": {csrfOf(t, detail)}})
	if want := "/admin/onboardings/" + o.ID + "?done=redeliver#webhooks"; res.status != http.StatusSeeOther || res.location != want {
		t.Fatalf("redeliver: %d Location %q, want 303 to %q\n%s", res.status, res.location, want, res.body)
	}
	deliveryID, _ := strconv.ParseInt(id, 10, 64)
	ds := e.waitDeliveries(o, len(changes), func(d db.WebhookDelivery) bool {
		return d.Status == db.WebhookDelivered && (d.ID != deliveryID || d.Attempts == 2)
	})
	var eventID string
	for _, d := range ds {
		if d.ID == deliveryID {
			eventID = d.EventID
		}
	}
	n := 0
	for _, r := range ep.requests() {
		if r.header.Get("Onboard-Event-Id") == eventID {
			n++
			if err := verifySignature([]byte(testWebhookSecret), r.header.Get("Onboard-Signature"), r.body, r.at); err != nil {
				t.Errorf("redelivery signature: %v", err)
			}
		}
	}
	if n != 2 || len(ep.requests()) != sent+1 {
		t.Fatalf("event %s received %d times (%d requests in all, %d before); want twice, one more request", eventID, n, len(ep.requests()), sent)
	}
	entry := e.dashStaffActed(o, olga, "webhook.redeliver")
	if entry.Detail["delivery_id"] != float64(deliveryID) || entry.Detail["event_id"] != eventID ||
		entry.Detail["from"] != "delivered" || entry.Detail["url"] != ep.url() {
		t.Fatalf("audit detail: %v", entry.Detail)
	}
	if p := b.get(path + "?done=redeliver"); !strings.Contains(p.body, `data-testid="done"`) ||
		!strings.Contains(p.body, `data-testid="audit-row" data-action="webhook.redeliver" data-actor="olga@example.com"`) {
		t.Errorf("detail page after the redeliver lacks the notice or the audit row")
	}

	// Another onboarding's delivery, or none at all, is not found here.
	other := dashOrgNos(1)[0]
	e.startFlow(e.browser(), "standard", other)
	od := e.waitDeliveries(e.onboardingForOrg(other), len(changes), delivered)
	for _, p := range []string{strconv.FormatInt(od[0].ID, 10), "999999", "x1"} {
		if res := b.post(path+"/webhooks/"+p+"/redeliver", url.Values{"_csrf": {csrfOf(t, detail)}}); res.status != http.StatusNotFound {
			t.Errorf("redeliver %s on this onboarding: %d, want 404", p, res.status)
		}
	}
}

// TestWebhooksRedeliverReplacesAWaitingRetry redelivers a delivery whose next
// retry is an hour away: it is sent now, once, and the waiting retry is
// cancelled rather than left to send it again.
func TestWebhooksRedeliverReplacesAWaitingRetry(t *testing.T) {
	t.Parallel()
	ep := newVendorEndpoint(t, func(seen int) int {
		if seen == 0 {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	e := webhookEnv(t, ep)
	e.app.Webhooks.RetryBase, e.app.Webhooks.RetryMax = time.Hour, time.Hour
	e.startJobs()
	e.startFlow(e.browser(), "standard", org)
	o := e.onboardingForOrg(org)
	changes := e.statusChanges(o)
	ds := e.waitDeliveries(o, len(changes), func(d db.WebhookDelivery) bool {
		return d.Status == db.WebhookPending && d.Attempts == 1 && d.NextAttemptAt != nil
	})
	if time.Until(*ds[0].NextAttemptAt) < 50*time.Minute {
		t.Fatalf("next attempt %v, want an hour on", ds[0].NextAttemptAt)
	}
	b, _ := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	detail := b.get(e.web.URL + "/admin/onboardings/" + o.ID)
	target := ds[0].ID
	res := b.post(e.web.URL+"/admin/onboardings/"+o.ID+"/webhooks/"+strconv.FormatInt(target, 10)+"/redeliver",
		url.Values{"_csrf": {csrfOf(t, detail)}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("redeliver: %d\n%s", res.status, res.body)
	}
	e.waitDeliveries(o, len(changes), func(d db.WebhookDelivery) bool {
		if d.ID == target {
			return d.Status == db.WebhookDelivered && d.Attempts == 2
		}
		return d.Status == db.WebhookPending && d.Attempts == 1 // the others keep waiting
	})
	// The waiting retry was cancelled and the new job completed; or, when
	// River had not yet stored the failed attempt's retry (its job still
	// "running" as staff clicked), that job was brought forward and completed.
	e.waitJobStatesOneOf(target, []string{"cancelled", "completed"}, []string{"completed"})
	if n := len(ep.requests()); n != len(changes)+1 {
		t.Fatalf("%d requests, want one per delivery and one redelivery", n)
	}
}

func TestWebhooksOffStoresNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.startJobs()
	b := e.browser()
	e.returnTo(b, e.decide(b, e.startFlow(b, "standard", org), "approve").location)
	o := e.onboardingForOrg(org)
	for _, table := range []string{"webhook_events", "webhook_deliveries", "webhook_attempts", "river_job WHERE kind = 'webhook_delivery'"} {
		if n := e.dashCount(table); n != 0 {
			t.Errorf("%d rows in %s without webhook URLs", n, table)
		}
	}
	op, _ := e.dashStaff("olga@example.com", string(domain.RoleOperator))
	if p := op.get(e.web.URL + "/admin/onboardings/" + o.ID); p.status != http.StatusOK || strings.Contains(p.body, `data-testid="webhooks"`) {
		t.Errorf("detail page without webhooks: %d, section shown: %v", p.status, strings.Contains(p.body, `data-testid="webhooks"`))
	}
}

// TestWebhooksTellAboutChangeRequests: the vendor's product hears of each
// move of a change request (sent, then approved), signed like every event,
// with what it adds and the customer it is for.
func TestWebhooksTellAboutChangeRequests(t *testing.T) {
	t.Parallel()
	ep := newVendorEndpoint(t, always(http.StatusOK))
	with := func(products string) map[string]string {
		return map[string]string{"ONBOARD_WEBHOOK_URLS": ep.url(), "ONBOARD_WEBHOOK_SECRET": testWebhookSecret,
			"ONBOARD_PRODUCTS": products}
	}
	base := newEnv(t, with(changeProducts(t, nil, []string{changePackage})))
	b := base.browser()
	base.returnTo(b, base.decide(b, base.startFlow(b, "standard", org), "approve").location)
	o := base.onboardingForOrg(org)
	after := changeRedeploy(t, base, with(changeProducts(t, []string{changeRight}, []string{changePackage})))
	after.startJobs()
	cr, err := after.app.Onboardings.RequestChange(context.Background(), o, domain.CauseStaff, "test")
	if err != nil || cr.ConfirmURL == nil {
		t.Fatalf("change request: %v %+v", err, cr)
	}
	after.changeReturn(b, after.decide(b, *cr.ConfirmURL, "approve").location)

	var moves []string
	deadline := time.Now().Add(15 * time.Second)
	for len(moves) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("change request events received: %v, want requesting>pending and pending>accepted", moves)
		}
		time.Sleep(50 * time.Millisecond)
		moves = moves[:0]
		for _, r := range ep.requests() {
			ev := decodeWebhook(t, r.body)
			if ev.Type != "change_request.status_changed" {
				continue
			}
			if err := verifySignature([]byte(testWebhookSecret), r.header.Get("Onboard-Signature"), r.body, r.at); err != nil {
				t.Fatalf("signature: %v", err)
			}
			if ev.Data["id"] != cr.ID || ev.Data["org_no"] != org || ev.Data["onboarding_id"] != o.ID {
				t.Fatalf("event data %v, want change request %s for %s", ev.Data, cr.ID, org)
			}
			if rights, _ := ev.Data["required_rights"].([]any); len(rights) != 1 || rights[0] != changeRight {
				t.Fatalf("required_rights %v, want [%s]", ev.Data["required_rights"], changeRight)
			}
			moves = append(moves, ev.Created.UTC().Format("2006-01-02T15:04:05.000000")+" "+fmt.Sprint(ev.Data["previous_status"], ">", ev.Data["status"]))
		}
	}
	// Events are delivered independently: their order is that of created.
	slices.Sort(moves)
	for i, m := range moves {
		moves[i] = m[strings.IndexByte(m, ' ')+1:]
	}
	if !slices.Equal(moves, []string{"requesting>pending", "pending>accepted"}) {
		t.Errorf("change request events %v, want requesting>pending then pending>accepted", moves)
	}
}
