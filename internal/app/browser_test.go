package app_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestBrowser walks the wizard end to end in Debian's headless chromium,
// against the simulator, once per product: the standard product on a phone
// screen, the agent product on a desktop screen in English. Every step is
// saved as a full-page PNG under <repo>/screenshots/ for a person to look at.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	chromium := chromiumPath(t)
	shots := screenshotDir(t)
	for _, f := range []flow{
		{product: "standard", width: 390, height: 844, phone: true},
		{product: "agent", width: 1280, height: 900, english: true},
	} {
		t.Run(f.product, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil) // first, so its servers outlive the browser
			walkWizard(t, newTab(t, chromium, shots, f), e, f)
		})
	}
}

type flow struct {
	product       string
	width, height int
	phone         bool // emulate a phone: touch, and a viewport under headless chromium's 500 px minimum window
	english       bool // switch to English on the start page
}

func walkWizard(t *testing.T, b *tab, e *env, f flow) {
	b.do("open the start page", chromedp.Navigate(e.web.URL+"/onboard/"+f.product),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=start]`)))
	if w := get(b, "the window's width", chromedp.Evaluate[int](`innerWidth`)); w != f.width {
		t.Fatalf("the page is %d px wide, want %d", w, f.width)
	}
	b.wantText("h1", "SmartCloud")
	b.shot("start")
	if f.english {
		b.do("switch to English", b.click(`[data-testid=lang-switch]`),
			chromedp.WaitVisible(chromedp.CSS(`html[lang=en] [data-testid=start]`)))
		b.wantText("h1", "Give SmartCloud access in Altinn")
		b.wantText("[data-testid=lang-switch]", "Norsk")
		b.shot("start-en")
	}

	orgno := chromedp.CSS(`[data-testid=orgno]`)
	b.do("click start", b.click(`[data-testid=start]`), chromedp.WaitVisible(orgno))
	b.shot("org")

	b.do("submit a wrong number", chromedp.SendKeys(orgno, "123 456 789"),
		b.click(`[data-testid=submit]`), chromedp.WaitVisible(chromedp.CSS(`[data-testid=orgno-error]`)))
	wantErr := "Dette er ikke et gyldig organisasjonsnummer"
	if f.english {
		wantErr = "This is not a valid organisation number"
	}
	b.wantText("[data-testid=orgno-error]", wantErr)
	b.wantText("[data-testid=error-summary]", wantErr)
	if v := get(b, "the typed number", chromedp.Value(orgno)); v != "123 456 789" {
		t.Errorf("after the error the field holds %q, want the typed %q kept", v, "123 456 789")
	}
	b.shot("org-error")

	b.do("submit a valid number", chromedp.Clear(orgno), chromedp.SendKeys(orgno, "314 248 295"),
		b.click(`[data-testid=submit]`), chromedp.WaitVisible(chromedp.CSS(`[data-testid=confirm-company]`)))
	// Before anything goes to Altinn the customer sees whose number it is.
	b.wantText("[data-testid=company-name]", "LUNEFULL HANDLEKRAFTIG TIGER AS")
	b.shot("company")
	b.do("confirm the company", b.click(`[data-testid=confirm-company]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=sim-approve]`)))
	if loc := get(b, "the confirm page's URL", chromedp.Location()); !strings.HasPrefix(loc, e.sim.URL+"/") {
		t.Fatalf("after submit the browser is at %q, want the simulator's confirm page under %s", loc, e.sim.URL)
	}
	b.wantText("main", "314248295")
	b.shot("altinn")

	outcome := chromedp.CSS(`[data-testid=outcome]`)
	b.do("approve in Altinn", b.click(`[data-testid=sim-approve]`), chromedp.WaitVisible(outcome))
	if loc := get(b, "the status page's URL", chromedp.Location()); !strings.HasPrefix(loc, e.web.URL+"/status/") {
		t.Errorf("after approving the browser is at %q, want our status page", loc)
	}
	if st := get(b, "the outcome", chromedp.AttributeValue(outcome, "data-status")); st.Value != "connected" {
		t.Errorf("outcome data-status = %q, want connected", st.Value)
	}
	b.wantText("[data-testid=orgno]", "314 248 295")
	if f.product == "agent" {
		b.wantText("[data-testid=outcome]", "One step remains")
		link := get(b, "the Altinn link", chromedp.AttributeValue(chromedp.CSS(`[data-testid=altinn-link]`), "href"))
		if !strings.HasPrefix(link.Value, e.sim.URL+"/") {
			t.Errorf("the Altinn link goes to %q, want Altinn (the simulator, %s)", link.Value, e.sim.URL)
		}
	} else {
		b.wantText("[data-testid=outcome]", "Alt er klart")
	}
	b.shot("outcome")
	b.noConsoleErrors()
}

// tab is one headless chromium with one tab, for one flow.
type tab struct {
	t       *testing.T
	ctx     context.Context // the flow's deadline
	browser context.Context // the browser's own, for a last screenshot on failure
	dir     string
	prefix  string
	phone   bool
	n       int
	axe     string // axe.min.js, injected into every page shot saves

	mu      sync.Mutex
	console []string
	// marks receives the console marks noConsoleErrors logs: the console's
	// stream is asynchronous, and a mark seen means every message logged
	// before it has been seen too.
	marks chan string
	nmark int
}

// consoleMark starts the console messages noConsoleErrors logs itself.
const consoleMark = "onboard-test-console-mark-"

func newTab(t *testing.T, chromium, dir string, f flow) *tab {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(f.width, f.height),
	)
	// Everything, the browser's start included, ends within 90 s; the
	// cleanup closes the browser before its user data dir is removed.
	life, cancelLife := context.WithTimeout(t.Context(), 90*time.Second)
	actx, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	b := &tab{t: t, browser: bctx, dir: dir, prefix: f.product, phone: f.phone, axe: loadAxe(t), marks: make(chan string, 1)}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		if err := chromedp.Cancel(bctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("closing chromium: %v", err)
		}
		cancelBrowser()
		cancelAlloc()
		cancelLife()
		wg.Wait()
	})
	// The first Run starts the browser and binds it to bctx, so the flow's
	// 60 s deadline is a child and never cuts the browser's life short.
	// A Norwegian customer's browser asks for bokmål first (headless chromium
	// asks for en-US).
	setup := []chromedp.Action[chromedp.Void]{chromedp.Func(func(ctx context.Context, tt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tt, network.SetExtraHTTPHeaders,
			network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "nb-NO,nb;q=0.9,no;q=0.8"}})
		return err
	})}
	if f.phone {
		setup = append(setup, chromedp.EmulateViewport(int64(f.width), int64(f.height),
			chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch))
	}
	if err := chromedp.Do(bctx, setup...); err != nil {
		t.Fatalf("starting chromium (%s): %v", chromium, err)
	}
	messages := chromedp.Console(bctx)
	wg.Go(func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleDebug && strings.HasPrefix(m.Text, consoleMark) {
				select {
				case b.marks <- m.Text:
				default: // nobody waits for an old mark
				}
				continue
			}
			if expectedConsole(m) {
				continue
			}
			if m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning {
				b.mu.Lock()
				b.console = append(b.console, fmt.Sprintf("%s (%s)", m, m.URL))
				b.mu.Unlock()
			}
		}
	})
	ctx, cancel := context.WithTimeout(bctx, 60*time.Second)
	t.Cleanup(cancel)
	b.ctx = ctx
	return b
}

// do runs the actions of one step, and stops the flow with a screenshot of
// where the browser got stuck when they fail.
func (b *tab) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.fail(step, err)
	}
}

// click is a tap on a phone and a mouse click elsewhere.
func (b *tab) click(sel string) chromedp.Action[chromedp.Void] {
	if b.phone {
		return chromedp.Tap(chromedp.CSS(sel))
	}
	return chromedp.Click(chromedp.CSS(sel))
}

func get[T any](b *tab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.fail("read "+what, err)
	}
	return v
}

func (b *tab) fail(step string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.browser, 5*time.Second)
	defer cancel()
	where, _ := chromedp.Run(ctx, chromedp.Location())
	if png, serr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); serr == nil {
		_ = os.WriteFile(filepath.Join(b.dir, b.prefix+"-failed.png"), png, 0o644)
	}
	b.t.Fatalf("%s: %v (the browser is at %s; see screenshots/%s-failed.png)", step, err, where, b.prefix)
}

// waitUntil waits, across page loads, until the JavaScript expression cond
// is true. chromedp.Poll gives up when the page it polls navigates away,
// which is what a click on a form's submit button does.
func (b *tab) waitUntil(what, cond string) {
	b.t.Helper()
	b.waitWithin(what, cond, 10*time.Second)
}

// waitWithin is waitUntil with its own deadline: for a state that lasts
// only a while, such as a button busy while the server works.
func (b *tab) waitWithin(what, cond string, within time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("still false after %s", within)
			}
			b.fail("wait for "+what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wantText checks that the visible text of the first element that matches
// sel says want.
func (b *tab) wantText(sel, want string) {
	b.t.Helper()
	if got := get(b, sel, chromedp.Text(chromedp.CSS(sel))); !strings.Contains(got, want) {
		b.t.Errorf("%s shows %q, want it to say %q", sel, got, want)
	}
}

// pageProblems lists what a person would see as broken on any page.
const pageProblems = `(() => {
	const p = [], root = document.documentElement;
	if (root.scrollWidth > innerWidth) p.push("the page scrolls sideways: " + root.scrollWidth + "px wide in a " + innerWidth + "px window");
	if (document.styleSheets.length === 0) p.push("no stylesheet");
	for (const i of document.images) if (!i.complete || i.naturalWidth === 0) p.push("image not loaded: " + i.src);
	return p;
})()`

// shot checks the page for visible breakage and for WCAG 2.1 AA violations
// (with axe-core), and saves it as <prefix>-<n>-<step>.png.
func (b *tab) shot(step string) {
	b.t.Helper()
	b.n++
	name := fmt.Sprintf("%s-%d-%s.png", b.prefix, b.n, step)
	// A page reached by a redirect may still be loading its stylesheet.
	get(b, "the page to finish loading", chromedp.Poll[bool](`document.readyState === "complete"`))
	for _, p := range get(b, "the page", chromedp.Evaluate[[]string](pageProblems)) {
		b.t.Errorf("%s: %s", name, p)
	}
	b.checkA11y(name)
	png := get(b, "a screenshot", chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(b.dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// expectedConsole is what the browser logs on a flow that works: the 422 of
// the org step's answer to a wrong number, and the favicon the simulator's
// pages have not got.
func expectedConsole(m chromedp.ConsoleMessage) bool {
	return m.Source == "network" && (strings.HasSuffix(m.URL, "/favicon.ico") ||
		strings.HasSuffix(m.URL, "/org") && strings.Contains(m.Text, "422"))
}

// noConsoleErrors fails on an exception, a CSP violation or a resource that
// did not load, on any page of the flow.
func (b *tab) noConsoleErrors() {
	b.t.Helper()
	b.nmark++
	mark := fmt.Sprintf("%s%d", consoleMark, b.nmark)
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`console.debug(`+strconv.Quote(mark)+`), true`)); err != nil {
		b.fail("console mark", err)
	}
	for seen := ""; seen != mark; {
		select {
		case seen = <-b.marks:
		case <-b.ctx.Done():
			b.t.Fatalf("the browser console's stream never showed %s: %v", mark, b.ctx.Err())
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		b.t.Errorf("browser console: %s", m)
	}
}

// chromiumPath is the chromium the browser tests drive: $CHROMIUM (which
// `make test` sets, installing Debian's package when missing) or the one on
// the PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium, _ = exec.LookPath("chromium")
	}
	if chromium == "" {
		t.Fatal("no chromium: set CHROMIUM, or run `make test`, which installs Debian's chromium package")
	}
	return chromium
}

// screenshotDir is <repo>/screenshots, the repo being where go.mod is.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
	dir = filepath.Join(dir, "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
