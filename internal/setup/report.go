package setup

import (
	"fmt"
	"strings"

	"github.com/onboard-altinn/onboard/internal/i18n"
)

// Text is something to say, in any language: an i18n key and its
// arguments (plain values: ids, URLs, numbers).
type Text struct {
	Key  string
	Args []any
}

// T makes a Text.
func T(key string, args ...any) Text { return Text{Key: key, Args: args} }

// In is the text in lang; "" for the zero Text. Arguments that are Texts
// are put in lang first.
func (t Text) In(lang string) string {
	if t.Key == "" {
		return ""
	}
	args := make([]any, len(t.Args))
	for i, a := range t.Args {
		if sub, ok := a.(Text); ok {
			a = sub.In(lang)
		}
		args[i] = a
	}
	return i18n.T(lang, t.Key, args...)
}

// Status is a check's outcome.
type Status string

// A check passed, failed, or could not be run because an earlier one failed
// (or there was nothing to check).
const (
	OK   Status = "ok"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Result is one check: its name, outcome, what was found and, when it
// failed, the fix: what to change and where.
type Result struct {
	// ID says which kind of check this is ("token", "system", "redirect",
	// …), for tests and the page's data attributes.
	ID     string
	Name   Text
	Status Status
	// Detail is what was found: on a failure, what is wrong.
	Detail Text
	// Fix is what to change and where, on a failure.
	Fix Text
}

// Report is the outcome of every check, in the order they ran.
type Report struct {
	Results []Result
}

// Count returns how many checks had status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, c := range r.Results {
		if c.Status == s {
			n++
		}
	}
	return n
}

// OK reports whether every check passed (skipped ones count as failed: they
// could not be shown to pass).
func (r Report) OK() bool { return r.Count(Fail) == 0 && r.Count(Skip) == 0 }

// Failing returns the names of the failed checks in English, each once.
func (r Report) Failing() []string {
	out := []string{}
	seen := map[string]bool{}
	for _, c := range r.Results {
		if c.Status != Fail {
			continue
		}
		n := c.Name.In("en")
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// Summary is the report's last line: how many checks passed, failed and
// were skipped.
func (r Report) Summary(lang string) string {
	return i18n.T(lang, "setup.summary", r.Count(OK), len(r.Results), r.Count(Fail), r.Count(Skip))
}

// Line is one check on one line, as `onboard doctor` prints it: name,
// ok/FAIL/skip, what was found and the fix.
func (c Result) Line(lang string) string {
	var b strings.Builder
	label := map[Status]string{OK: "ok", Fail: "FAIL", Skip: "skip"}[c.Status]
	fmt.Fprintf(&b, "%-4s  %s", label, c.Name.In(lang))
	if d := c.Detail.In(lang); d != "" {
		b.WriteString(": " + d)
	}
	if f := c.Fix.In(lang); f != "" && c.Status == Fail {
		b.WriteString(". " + i18n.T(lang, "setup.fix", f))
	}
	return b.String()
}
