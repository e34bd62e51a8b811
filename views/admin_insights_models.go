package views

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/onboard-altinn/onboard/internal/i18n"
)

// Paths of the insight pages, for their navigation.
const (
	FunnelPath      = "/admin/funnel"
	SystemUsersPath = "/admin/systemusers"
)

// AdminFunnel is the funnel page: the period form, how far the onboardings
// started in it got, and the per-day chart.
type AdminFunnel struct {
	AdminPage
	From, To string // the period as typed, YYYY-MM-DD
	// ErrorKey is the i18n key of what is wrong with the period; the page
	// then shows only the form.
	ErrorKey string
	Steps    []FunnelStep
	Imported int
	// Median and P90 are the times from start to connected, in words; ""
	// when none is connected.
	Median, P90 string
	Chart       FunnelChart
}

// FunnelStep is one line of the funnel: a step and how many reached it.
type FunnelStep struct {
	Key     string // i18n key of the step's name, admin.funnel.<step>
	Count   int
	Percent int // of those started
}

// TestID is the step's data-testid: funnel-<step>, e.g. funnel-started.
func (s FunnelStep) TestID() string { return "funnel-" + strings.TrimPrefix(s.Key, "admin.funnel.") }

// FunnelDayCount is one day's numbers, the input of NewFunnelChart.
type FunnelDayCount struct {
	Date      time.Time
	Started   int
	Connected int
}

// FunnelChart is the per-day bar chart, laid out on the server as SVG
// coordinates within a fixed viewBox that the browser scales to the width.
type FunnelChart struct {
	Width, Height int
	First, Last   string // the period's first and last day, YYYY-MM-DD
	Days          []FunnelChartDay
	Ticks         []FunnelTick
	// Plot area, for the axis line and the x labels.
	Left, Right, Top, Bottom string
	LabelY                   string // baseline of the x labels
}

// FunnelChartDay is one day's two bars. Coordinates are SVG user units.
type FunnelChartDay struct {
	Date                       string
	Started, Connected         int
	StartedX, ConnectedX, BarW string
	StartedY, StartedH         string
	ConnectedY, ConnectedH     string
}

// FunnelDayWords is a chart day's date and numbers in words, for the bar's
// title and the table's row.
type FunnelDayWords struct {
	Date, Started, Connected string
}

// Words puts each day's date and numbers in words once, for the two places
// the page shows them (a two-year chart has 731 days).
func (c FunnelChart) Words(lang string) []FunnelDayWords {
	w := make([]FunnelDayWords, len(c.Days))
	for i, d := range c.Days {
		w[i] = FunnelDayWords{Date: DayLabel(lang, d.Date), Started: i18n.Number(lang, d.Started),
			Connected: i18n.Number(lang, d.Connected)}
	}
	return w
}

// FunnelTick is a horizontal grid line with its value.
type FunnelTick struct {
	Value int
	Y     string
}

// Chart layout in SVG user units.
const (
	chartW      = 760
	chartH      = 260
	chartLeft   = 44 // room for the y labels
	chartRight  = 8
	chartTop    = 28 // room for the legend
	chartBottom = 28 // room for the x labels
)

// NewFunnelChart lays out one pair of bars per day: started, and of those
// how many are connected. The y axis runs to a round number at or above the
// busiest day.
func NewFunnelChart(days []FunnelDayCount) FunnelChart {
	c := FunnelChart{Width: chartW, Height: chartH,
		Left: fmtUnits(chartLeft), Right: fmtUnits(chartW - chartRight),
		Top: fmtUnits(chartTop), Bottom: fmtUnits(chartH - chartBottom), LabelY: fmtUnits(chartH - 8)}
	if len(days) == 0 {
		return c
	}
	c.First, c.Last = days[0].Date.Format(time.DateOnly), days[len(days)-1].Date.Format(time.DateOnly)
	peak := 1
	for _, d := range days {
		peak = max(peak, d.Started, d.Connected)
	}
	top := niceCeil(peak)
	plotW := float64(chartW - chartLeft - chartRight)
	plotH := float64(chartH - chartTop - chartBottom)
	base := float64(chartH - chartBottom)
	slot := plotW / float64(len(days))
	bar := slot * 0.4
	height := func(n int) float64 { return plotH * float64(n) / float64(top) }
	for i, d := range days {
		x := float64(chartLeft) + float64(i)*slot + slot*0.1
		hs, hc := height(d.Started), height(d.Connected)
		c.Days = append(c.Days, FunnelChartDay{
			Date: d.Date.Format(time.DateOnly), Started: d.Started, Connected: d.Connected,
			StartedX: fmtUnits(x), ConnectedX: fmtUnits(x + bar), BarW: fmtUnits(bar),
			StartedY: fmtUnits(base - hs), StartedH: fmtUnits(hs),
			ConnectedY: fmtUnits(base - hc), ConnectedH: fmtUnits(hc),
		})
	}
	ticks := []int{0}
	if top%2 == 0 {
		ticks = append(ticks, top/2)
	}
	for _, v := range append(ticks, top) {
		c.Ticks = append(c.Ticks, FunnelTick{Value: v, Y: fmtUnits(base - height(v))})
	}
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten.
func niceCeil(n int) int {
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

func fmtUnits(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// Duration puts a duration in words in the page's language: its largest
// unit, and the next one when that is not zero ("2 d 3 t", "7 t", "4 min 10 s").
func (p Page) Duration(d time.Duration) string {
	d = d.Round(time.Second)
	units := []struct {
		key string
		n   int64
	}{
		{"admin.dur.d", int64(d / (24 * time.Hour))},
		{"admin.dur.h", int64(d % (24 * time.Hour) / time.Hour)},
		{"admin.dur.m", int64(d % time.Hour / time.Minute)},
		{"admin.dur.s", int64(d % time.Minute / time.Second)},
	}
	for i, u := range units {
		if u.n == 0 && i < len(units)-1 {
			continue
		}
		s := p.T(u.key, u.n)
		if i+1 < len(units) && units[i+1].n != 0 {
			s += " " + p.T(units[i+1].key, units[i+1].n)
		}
		return s
	}
	return ""
}

// AdminSystemUsers lists the system users Altinn has for the vendor's
// systems and marks the ones no onboarding knows.
type AdminSystemUsers struct {
	AdminPage
	Products  []SystemUsersProduct // the filter's choices
	Product   string               // the chosen product's id; "" for all
	CanImport bool                 // operators and admins
	// Imported is the system user just imported, for the notice; "" when
	// the page was not reached from an import.
	Imported string
	Systems  []SystemUserGroup
	// ReadAt is when the lists were read from Altinn (the oldest of
	// them; the page keeps a copy for a minute), Oslo time "15:04:05", and
	// ReadAtISO the same in RFC 3339; "" when no list was read.
	ReadAt, ReadAtISO string
}

// SystemUsersProduct is a choice in the product filter.
type SystemUsersProduct struct {
	ID, Name string
}

// SystemUserGroup is one system's system users, in Altinn's order.
type SystemUserGroup struct {
	SystemID string
	Users    []SystemUserRow
	Unknown  int
}

// SystemUserRow is one system user at Altinn.
type SystemUserRow struct {
	ID          string
	OrgNo       string
	Agent       bool
	ExternalRef string
	Title       string // Altinn's integration title
	Created     string // local time, "" when Altinn did not say
	ProductName string // the product it belongs to, "" when none matches
	// OnboardingURL is set when an onboarding holds the system user.
	OnboardingURL string
	// ImportAction is the POST target of the import button, set for unknown
	// system users that match a product.
	ImportAction string
}

// Known reports whether an onboarding holds the system user.
func (r SystemUserRow) Known() bool { return r.OnboardingURL != "" }

// AdminInsightProblem is an error page of the insight pages: what went
// wrong in words (never Altinn's or the database's own text), with the
// error code Altinn gave, if any, and where to go on.
type AdminInsightProblem struct {
	AdminPage
	Status     int
	MessageKey string
	AltinnCode string // e.g. AUTH-00011
	RequestID  string // to find the log line
	LinkURL    string // a page that helps, such as the onboarding in the way
	LinkKey    string
	BackURL    string
	BackKey    string
}

// DayLabel is a YYYY-MM-DD day as the dashboard writes dates in lang
// (i18n.Date: "2. desember 2026"); one it cannot read stays as it is.
func DayLabel(lang, iso string) string {
	d, err := time.Parse(time.DateOnly, iso)
	if err != nil {
		return iso
	}
	return i18n.Date(lang, d)
}

// funnelChartBars writes the chart's bars, a group a day, and
// funnelChartRows the numbers table's rows, as the template would: written
// in Go because templ's expressions each go through fmt, and a two-year
// chart has 731 days twice over (2.4 ms a page in the template, most of
// the page).
func funnelChartBars(p AdminPage, c FunnelChart, words []FunnelDayWords) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		var b []byte
		for i, d := range c.Days {
			b = b[:0]
			if i == 0 {
				b = append(b, ' ') // the template's space between the legend and the bars
			}
			b = appendAll(b, `<g data-testid="chart-day" data-date="`, templ.EscapeString(d.Date), `"><title>`,
				templ.EscapeString(p.T("admin.funnel.chart.day", words[i].Date, words[i].Started, words[i].Connected)), `</title>`)
			b = appendBar(b, d.StartedX, d.StartedY, d.BarW, d.StartedH, "#0b5fa5")
			b = append(b, ' ')
			b = appendBar(b, d.ConnectedX, d.ConnectedY, d.BarW, d.ConnectedH, "#10652c")
			b = append(b, "</g> "...)
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	})
}

func appendBar(b []byte, x, y, width, height, fill string) []byte {
	return appendAll(b, `<rect x="`, templ.EscapeString(x), `" y="`, templ.EscapeString(y), `" width="`,
		templ.EscapeString(width), `" height="`, templ.EscapeString(height), `" fill="`, fill, `"></rect>`)
}

func appendAll(b []byte, ss ...string) []byte {
	for _, s := range ss {
		b = append(b, s...)
	}
	return b
}

func funnelChartRows(c FunnelChart, words []FunnelDayWords) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		var b []byte
		for i, d := range c.Days {
			b = appendAll(b[:0], `<tr data-date="`, templ.EscapeString(d.Date), `"><th scope="row">`,
				templ.EscapeString(words[i].Date), `</th><td class="num">`, templ.EscapeString(words[i].Started),
				`</td><td class="num">`, templ.EscapeString(words[i].Connected), `</td></tr>`)
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	})
}
