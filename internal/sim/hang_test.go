package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestFaultAfterStoreHang stores the create and then never answers: the
// request is at Altinn while its caller is left waiting (and may die).
func TestFaultAfterStoreHang(t *testing.T) {
	e := newEnv(t)
	tok := e.token()
	e.sim.Inject(Fault{Method: "POST", Path: reqPath, AfterStore: true, Hang: true, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	body, _ := json.Marshal(standardBody(customerOrg))
	req, _ := http.NewRequestWithContext(ctx, "POST", e.url+reqPath, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the call to hang until the caller gives up", err)
	}
	reqs := e.sim.Requests()
	if len(reqs) != 1 || reqs[0].Status != "New" {
		t.Fatalf("stored %+v, want the one request", reqs)
	}
	if got := e.create(tok, standardBody(customerOrg), http.StatusOK); got["id"] != reqs[0].ID {
		t.Errorf("retry %v, stored %s", got["id"], reqs[0].ID)
	}
}
