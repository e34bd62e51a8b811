package app_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserKeyboard completes the standard wizard in headless chromium
// with the keyboard alone: Tab to move, Enter to follow a link or press a
// button, keys to type. After a wrong number the focus must be on the
// field in error, so a keyboard or screen-reader user can fix it at once.
// Every page is checked with axe-core and saved as keyboard-<n>-<step>.png.
func TestBrowserKeyboard(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test does not run with -short")
	}
	chromium := chromiumPath(t)
	e := newEnv(t, nil)
	b := newTab(t, chromium, screenshotDir(t), flow{product: "standard", width: 1280, height: 900})
	b.prefix = "keyboard"

	b.do("open the start page", chromedp.Navigate(e.web.URL+"/onboard/standard"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=start]`)))
	b.shot("start")
	b.tabTo(`a.skip`, 1) // the first stop is the link past the header
	if get(b, "the skip link's position", chromedp.Evaluate[float64](`document.activeElement.getBoundingClientRect().left`)) < 0 {
		t.Error("the focused skip link is off screen, want it shown while it has the focus")
	}
	b.tabTo(`[data-testid=start]`, 10)
	orgno := chromedp.CSS(`[data-testid=orgno]`)
	b.do("press Enter on start", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(orgno))
	b.shot("org")

	b.tabTo(`[data-testid=orgno]`, 10)
	b.do("type a wrong number", chromedp.KeyEvent("123 456 789"))
	b.tabTo(`[data-testid=submit]`, 1)
	b.do("press Enter on submit", chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=orgno-error]`)))
	// The error page puts the focus on the field in error (autofocus).
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](`document.readyState === "complete" && document.activeElement && document.activeElement.id === "orgno"`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		got := get(b, "the focused element", chromedp.Evaluate[string](`document.activeElement ? document.activeElement.outerHTML : "none"`))
		t.Fatalf("after a wrong number the focus is on %s, want the org number field: %v", got, err)
	}
	b.wantText("[data-testid=orgno-error]", "Dette er ikke et gyldig organisasjonsnummer")
	// The message is tied to the field, so a screen reader reads it with it.
	if d := get(b, "the field's description", chromedp.Evaluate[string](
		`document.activeElement.ariaInvalid + " " + document.activeElement.getAttribute("aria-describedby")`)); !strings.HasPrefix(d, "true ") || !strings.Contains(d, "orgno-error") {
		t.Errorf("the field in error has aria-invalid and aria-describedby %q, want true and the error message's id", d)
	}
	b.shot("org-error")

	b.do("erase the wrong number", chromedp.KeyEvent(strings.Repeat(kb.Backspace, 20)+strings.Repeat(kb.Delete, 20)))
	if v := get(b, "the erased field", chromedp.Value(orgno)); v != "" {
		t.Fatalf("after erasing the field holds %q", v)
	}
	b.do("type a valid number", chromedp.KeyEvent("314 248 295"))
	b.tabTo(`[data-testid=submit]`, 1)
	b.do("press Enter on submit", chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=confirm-company]`)))
	b.shot("company")
	b.tabTo(`[data-testid=confirm-company]`, 20)
	b.do("press Enter on yes, this company", chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=sim-approve]`)))
	b.shot("altinn")

	b.tabTo(`[data-testid=sim-approve]`, 20)
	outcome := chromedp.CSS(`[data-testid=outcome]`)
	b.do("press Enter on approve", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(outcome))
	if st := get(b, "the outcome", chromedp.AttributeValue(outcome, "data-status")); st.Value != "connected" {
		t.Errorf("outcome data-status = %q, want connected", st.Value)
	}
	b.wantText("[data-testid=orgno]", "314 248 295")
	b.shot("outcome")
	b.noConsoleErrors()
}

// tabTo presses Tab, at most max times, until the element that matches sel
// has the focus, and fails the test when it never gets it.
func (b *tab) tabTo(sel string, max int) {
	b.t.Helper()
	is := `document.activeElement !== null && document.activeElement.matches(` + strconv.Quote(sel) + `)`
	var seen []string
	for range max {
		b.do("press Tab towards "+sel, chromedp.KeyEvent(kb.Tab))
		if get(b, "the focused element", chromedp.Evaluate[bool](is)) {
			return
		}
		seen = append(seen, get(b, "the focused element", chromedp.Evaluate[string](
			`(e => e ? e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.dataset.testid ? "[data-testid=" + e.dataset.testid + "]" : "") : "none")(document.activeElement)`)))
	}
	b.fail("tab to "+sel, fmt.Errorf("%d presses of Tab went through %s, never to it", max, strings.Join(seen, ", ")))
}
