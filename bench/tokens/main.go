// Command tokens checks the Maskinporten token cache under load: it makes
// 10,000 Altinn calls in bursts of concurrent calls through the real Altinn
// and Maskinporten clients against the simulator on loopback, with a token
// lifetime short enough that the calls span several lifetimes, and prints
// the token fetches next to the number of lifetimes the calls crossed, which
// must be equal. See bench/README.md.
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onboard-altinn/onboard/bench/internal/benchkit"
	"github.com/onboard-altinn/onboard/internal/altinn"
	"github.com/onboard-altinn/onboard/internal/maskinporten"
	"github.com/onboard-altinn/onboard/internal/sim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench/tokens:", err)
		os.Exit(1)
	}
}

type config struct {
	calls     int
	burst     int
	lifetime  time.Duration
	margin    time.Duration
	lifetimes int
}

// The vendor of the simulator's default seed, and its system.
const (
	vendorOrg = "991825827"
	systemID  = vendorOrg + "_smartcloud"
	customer  = "314248295" // an organisation in the default seed
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := flag.NewFlagSet("tokens", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&cfg.calls, "calls", 10_000, "Altinn calls to make")
	fs.IntVar(&cfg.burst, "c", 100, "calls started at once in each burst")
	fs.DurationVar(&cfg.lifetime, "lifetime", 2*time.Second, "access token lifetime the simulator gives (expires_in, whole seconds)")
	fs.DurationVar(&cfg.margin, "margin", 250*time.Millisecond, "how long before expiry the client replaces a token (production: 30s of 599s)")
	fs.IntVar(&cfg.lifetimes, "lifetimes", 5, "whole token lifetimes the calls span; they run on half a lifetime more, so no call lands on a boundary")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if cfg.lifetime < time.Second || cfg.lifetime%time.Second != 0 {
		return errors.New("-lifetime must be whole seconds, at least 1s (expires_in is in seconds)")
	}
	if cfg.margin <= 0 || cfg.margin >= cfg.lifetime {
		return errors.New("-margin must be positive and shorter than -lifetime")
	}
	if cfg.calls < 1 || cfg.burst < 1 || cfg.lifetimes < 1 {
		return errors.New("-calls, -c and -lifetimes must be at least 1")
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) }

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	simURL := "http://" + ln.Addr().String()
	s, err := sim.New(sim.Config{PublicURL: simURL, Seed: sim.DefaultSeed(), TokenLifetime: cfg.lifetime})
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.Handler()}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	defer srv.Close()

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	if err := s.AddClient(sim.Client{
		ClientID: "bench", OrgNo: vendorOrg, KeyID: "bench-key", PublicKeyPEM: string(maskinporten.PublicKeyPEM(&key.PublicKey)),
		Scopes: []string{altinn.ScopeRequestRead, altinn.ScopeRequestWrite},
	}); err != nil {
		return err
	}
	newMP := func(margin time.Duration) (*maskinporten.Client, error) {
		// As app.Build builds it, but with the margin of the compressed clock.
		return maskinporten.New(maskinporten.Config{
			Issuer: simURL + "/", ClientID: "bench", KeyID: "bench-key", Key: key,
			HTTPClient: &http.Client{Timeout: 10 * time.Second}, RefreshMargin: margin,
		})
	}

	// One request to read, made by a client of its own so the measured
	// client holds only the read token.
	setupMP, err := newMP(cfg.margin)
	if err != nil {
		return err
	}
	req, _, err := altinn.New(simURL, setupMP, nil).CreateRequest(ctx, altinn.CreateRequest{
		SystemID: systemID, PartyOrgNo: customer,
		Rights: []altinn.Right{{Resource: []altinn.AttributePair{{ID: "urn:altinn:resource", Value: "ske-krav-og-betalinger"}}}},
	})
	if err != nil {
		return fmt.Errorf("create the request to read: %w", err)
	}

	mp, err := newMP(cfg.margin)
	if err != nil {
		return err
	}
	var unauthorized atomic.Int64
	// The Altinn client as app.Build builds it (a plain http.Client with a
	// timeout); the transport only counts 401s, which would each cost a
	// fetch of their own.
	ac := altinn.New(simURL, mp, &http.Client{Timeout: 15 * time.Second,
		Transport: countingTransport{next: http.DefaultTransport, unauthorized: &unauthorized}})
	issuedBefore := s.Stats().TokensIssued

	period := cfg.lifetime - cfg.margin // how long the client uses one token
	span := time.Duration(float64(period) * (float64(cfg.lifetimes) + 0.5))
	bursts := (cfg.calls + cfg.burst - 1) / cfg.burst
	every := span / time.Duration(max(bursts-1, 1))
	logf("%d calls in %d bursts of up to %d, one every %s over %s; token lifetime %s, replaced %s before expiry (used for %s)",
		cfg.calls, bursts, cfg.burst, benchkit.FmtDur(every), span, cfg.lifetime, cfg.margin, period)

	starts := make([]time.Duration, cfg.calls)
	lat := make([]time.Duration, cfg.calls)
	var failed atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	t0 := time.Now()
	for b := range bursts {
		time.Sleep(time.Until(t0.Add(time.Duration(b) * every)))
		if ctx.Err() != nil {
			break
		}
		for i := b * cfg.burst; i < min((b+1)*cfg.burst, cfg.calls); i++ {
			wg.Go(func() {
				start := time.Now()
				starts[i] = start.Sub(t0)
				_, err := ac.GetRequest(ctx, req.ID)
				lat[i] = time.Since(start)
				if err != nil {
					failed.Add(1)
					errOnce.Do(func() { firstErr = err })
				}
			})
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if firstErr != nil {
		return fmt.Errorf("%d of %d calls failed, the first with: %w", failed.Load(), cfg.calls, firstErr)
	}

	// The lifetimes crossed, from the calls' own timeline: the first call
	// opens the first lifetime; each one the last call reaches opens another.
	slices.Sort(starts)
	reach := float64(starts[len(starts)-1]-starts[0]) / float64(period)
	crossed := int(math.Floor(reach)) + 1
	fetches := int(mp.Fetches())
	issued := s.Stats().TokensIssued - issuedBefore
	// A fetch takes a few ms and each new token's lifetime starts when it
	// arrives, so the client's boundaries trail the timeline's a little; a
	// last call within 10% of a boundary would make the count ambiguous.
	frac := reach - math.Floor(reach)
	ambiguous := frac < 0.1 || frac > 0.9

	sorted := benchkit.Sorted(lat)
	fmt.Fprintf(stdout, "\n%d Altinn calls (GET request/vendor/{id}) in bursts of %d over %s, %s/%s, GOMAXPROCS %d, %s\n",
		cfg.calls, cfg.burst, (starts[len(starts)-1] - starts[0]).Round(time.Millisecond), runtime.GOOS, runtime.GOARCH,
		runtime.GOMAXPROCS(0), time.Now().Format("2006-01-02"))
	fmt.Fprintf(stdout, "token lifetime %s, replaced %s before it ends: each token is used for %s; call p50 %s, p99 %s\n\n",
		cfg.lifetime, cfg.margin, period, benchkit.FmtDur(benchkit.Percentile(sorted, 50)), benchkit.FmtDur(benchkit.Percentile(sorted, 99)))
	verdict := "PASS"
	if fetches != crossed || issued != crossed || unauthorized.Load() > 0 {
		verdict = "FAIL"
	}
	if ambiguous && verdict == "FAIL" {
		verdict = "FAIL (last call within 10% of a lifetime boundary: rerun)"
	}
	fmt.Fprintf(stdout, "%-44s %9s %9s %8s\n", "figure", "value", "baseline", "ratio")
	fmt.Fprintf(stdout, "%-44s %9d %9d %8s  %s\n", "Maskinporten fetches (client) / lifetimes", fetches, crossed,
		benchkit.Ratio(float64(fetches), float64(crossed)), verdict)
	fmt.Fprintf(stdout, "%-44s %9d %9d %8s\n", "tokens issued (simulator) / lifetimes", issued, crossed,
		benchkit.Ratio(float64(issued), float64(crossed)))
	fmt.Fprintf(stdout, "%-44s %9.0f %9d %8s\n", "calls per fetch (without the cache: 1)", float64(cfg.calls)/float64(max(fetches, 1)), 1,
		benchkit.Ratio(float64(cfg.calls)/float64(max(fetches, 1)), 1))
	fmt.Fprintf(stdout, "%-44s %9d\n", "calls answered 401 (a stale token)", unauthorized.Load())
	fmt.Fprintf(stdout, "\nlifetimes crossed: the last call starts %.2f lifetimes after the first\n", reach)
	if verdict != "PASS" {
		return errors.New(verdict)
	}
	return nil
}

// countingTransport counts 401 answers.
type countingTransport struct {
	next         http.RoundTripper
	unauthorized *atomic.Int64
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(r)
	if err == nil && res.StatusCode == http.StatusUnauthorized {
		t.unauthorized.Add(1)
	}
	return res, err
}
