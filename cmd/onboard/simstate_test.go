package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/onboard-altinn/onboard/internal/db/dbtest"
)

// TestRestartKeepsCustomers runs the real binary as `make run` does:
// `onboard serve` with the built-in simulator, on a database and a data
// folder that outlive it. One customer is connected through the wizard and
// the simulator's confirm page, another is left pending. The process is
// stopped (SIGTERM as Ctrl-C does, or SIGKILL right after the last answer)
// and started again on the same database and folder. Once the reconciler
// has re-read both from the restarted simulator, the connected customer is
// still connected (not revoked), the pending one still pending (not
// failed), and that customer can still approve and ends connected.
func TestRestartKeepsCustomers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and restarts it; runs in `make test`")
	}
	t.Parallel()
	bin := buildOnboard(t)
	for _, tt := range []struct {
		name string
		stop func(t *testing.T, p *process)
	}{
		{"SIGTERM", func(t *testing.T, p *process) { p.terminate(t) }},
		{"SIGKILL", func(t *testing.T, p *process) { p.kill() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			restartKeepsCustomers(t, bin, tt.stop)
		})
	}
}

func restartKeepsCustomers(t *testing.T, bin string, stop func(*testing.T, *process)) {
	deadline := time.Now().Add(2 * time.Minute)
	data := t.TempDir()
	dbURL := dbtest.NewURL(t)
	simAddr, webAddr := freeAddr(t), freeAddr(t)
	simURL, webURL := "http://"+simAddr, "http://"+webAddr
	env := []string{
		"DATABASE_URL=" + dbURL,
		"ONBOARD_DATA_DIR=" + data,
		"ONBOARD_ADDR=" + webAddr,
		"ONBOARD_PUBLIC_URL=" + webURL,
		"ONBOARD_ALTINN_ENV=sim",
		"ONBOARD_SIM_ADDR=" + simAddr,
		"ONBOARD_SIM_PUBLIC_URL=" + simURL,
		"ONBOARD_SESSION_KEY=0123456789abcdef0123456789abcdef-restart",
		"ONBOARD_SUBMIT_RATE_PER_MINUTE=600",
		"ONBOARD_STATUS_REFRESH_INTERVAL=0s",
		"ONBOARD_LOG_LEVEL=debug",
		// Re-read waiting onboardings every second and connected ones too,
		// so that the restarted service asks the restarted simulator soon.
		"ONBOARD_RECONCILE_SCHEDULE=1s",
		"ONBOARD_REVOKE_SWEEP_INTERVAL=1s",
		"ONBOARD_SWEEP_INTERVAL=1s",
	}
	serve := func() *process {
		p := startProcess(t, bin, "serve", env)
		p.waitReady(t, webURL+"/readyz")
		return p
	}
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	row := func(orgNo string) (status string, checked time.Time) {
		var at *time.Time
		err := pool.QueryRow(context.Background(),
			`SELECT status, checked_at FROM onboardings WHERE org_no = $1`, orgNo).Scan(&status, &at)
		if err != nil {
			return "", time.Time{}
		}
		if at != nil {
			checked = *at
		}
		return status, checked
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	is := func(orgNo, want string) func() bool {
		return func() bool { st, _ := row(orgNo); return st == want }
	}

	web := serve()
	connected, pending := newCustomer(t, webURL, "310000019"), newCustomer(t, webURL, "310000027")
	connected.approveAndReturn(simURL, connected.submit())
	confirm := pending.submit()
	waitFor("the first customer connected", is(connected.org, "connected"))
	waitFor("the second customer pending", is(pending.org, "pending"))

	stop(t, web)
	restarted := time.Now()
	web = serve()
	defer web.kill()
	if log, _ := os.ReadFile(web.log); !strings.Contains(string(log), `"msg":"simulator state restored"`) ||
		!strings.Contains(string(log), `"requests":2`) {
		t.Errorf("the restarted service does not log that it restored the simulator's 2 requests")
	}

	// The reconciler re-reads both from the restarted simulator.
	for _, orgNo := range []string{connected.org, pending.org} {
		waitFor(orgNo+" re-read after the restart", func() bool {
			_, checked := row(orgNo)
			return checked.After(restarted)
		})
	}
	if st, _ := row(connected.org); st != "connected" {
		t.Errorf("the connected customer is %s after the restart, want connected", st)
	}
	if st, _ := row(pending.org); st != "pending" {
		t.Errorf("the pending customer is %s after the restart, want pending", st)
	}

	// The pending customer still finds the request on Altinn's page and approves it.
	res, err := pending.c.Get(confirm)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), `data-testid="sim-approve"`) {
		t.Fatalf("the confirm page after the restart: %d\n%s", res.StatusCode, page)
	}
	pending.approveAndReturn(simURL, confirm)
	waitFor("the second customer connected after approving", is(pending.org, "connected"))
	if st, _ := row(connected.org); st != "connected" {
		t.Errorf("the first customer is %s at the end, want connected", st)
	}
}

// terminate sends SIGTERM, as Ctrl-C on `make run` does, and waits for a
// clean exit.
func (p *process) terminate(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not stop within 60 s of SIGTERM", p.name)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		b, _ := os.ReadFile(p.log)
		t.Fatalf("%s exited with %d after SIGTERM:\n%s", p.name, code, b)
	}
}
