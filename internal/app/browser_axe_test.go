package app_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeRun runs the rules axe runs on every page: WCAG 2.0 and 2.1, levels A
// and AA, which is what Norwegian law asks of a web solution.
const axeRun = `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
	.then(r => ({passes: r.passes.length, violations: r.violations.map(v => ({
		id: v.id, impact: v.impact || "", help: v.help,
		targets: v.nodes.map(n => n.target.join(" ") + (n.failureSummary ? " (" + n.failureSummary.replace(/\s+/g, " ").trim() + ")" : "")),
	}))}))`

type axeReport struct {
	Passes     int            `json:"passes"`
	Violations []axeViolation `json:"violations"`
}

type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

var axeSource = sync.OnceValues(func() (string, error) {
	path := os.Getenv("AXE_JS")
	if path == "" {
		dir, err := os.Getwd()
		if err != nil {
			return "", err
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			if filepath.Dir(dir) == dir {
				return "", fmt.Errorf("no go.mod above the working directory")
			}
			dir = filepath.Dir(dir)
		}
		path = filepath.Join(dir, ".cache", "axe", "node_modules", "axe-core", "axe.min.js")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("no axe-core (%v): set AXE_JS to axe.min.js, or run `make test`, which installs it with scripts/axe.sh", err)
	}
	return string(src), nil
})

// loadAxe reads axe.min.js once for the whole test binary, and fails the
// test when it is not installed: the browser tests never skip the
// accessibility check.
func loadAxe(t *testing.T) string {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// checkA11y injects axe-core into the current page and fails the test on
// every WCAG 2.1 A/AA violation it finds. The script goes in through
// DevTools' Runtime.evaluate, which the page's Content-Security-Policy does
// not govern, so the page needs no inline script of its own.
func (b *tab) checkA11y(name string) {
	b.t.Helper()
	b.do("inject axe-core into "+name, chromedp.Evaluate[chromedp.Void](b.axe))
	r := get(b, "axe's report on "+name, chromedp.Evaluate[axeReport](axeRun, chromedp.EvalAwaitPromise))
	if r.Passes == 0 {
		b.t.Errorf("%s: axe-core checked nothing on the page", name)
	}
	for _, v := range r.Violations {
		b.t.Errorf("%s: accessibility: %s (%s): %s\n\t%s", name, v.ID, v.Impact, v.Help, strings.Join(v.Targets, "\n\t"))
	}
}
