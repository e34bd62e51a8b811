// Package metrics is a small Prometheus registry: counters, gauges and
// histograms with fixed buckets, written in the text exposition format
// (version 0.0.4) by hand. The service exposes a dozen series; a client
// library would be a larger dependency than this file.
package metrics

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ContentType is the media type of what Write produces.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// LatencyBuckets are upper bounds in seconds for the latency of calls to
// Altinn and Maskinporten: from a fast local answer to a call that hit its
// timeout.
var LatencyBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Registry holds metric families and writes them out. It is safe for
// concurrent use.
type Registry struct {
	mu       sync.Mutex
	families map[string]*family
	hooks    []func(context.Context)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{families: map[string]*family{}}
}

type kind string

const (
	kindCounter   kind = "counter"
	kindGauge     kind = "gauge"
	kindHistogram kind = "histogram"
)

// family is one metric name with its series, one per combination of label
// values.
type family struct {
	name, help string
	kind       kind
	labels     []string
	buckets    []float64      // histograms only
	fn         func() float64 // func families: one unlabelled series read at write time

	mu     sync.Mutex
	series map[string]*series // by joined label values
}

type series struct {
	values []string
	value  float64  // counter or gauge
	counts []uint64 // histogram: per bucket, not cumulative
	sum    float64
	count  uint64
}

// register adds f, or returns the family already registered under its name
// when it has the same kind and labels. A different one under the same name
// is a programming error and panics.
func (r *Registry) register(f *family) *family {
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.families[f.name]; ok {
		if old.kind != f.kind || !slices.Equal(old.labels, f.labels) || (old.fn == nil) != (f.fn == nil) {
			panic(fmt.Sprintf("metrics: %s registered twice with different shapes", f.name))
		}
		return old
	}
	f.series = map[string]*series{}
	if len(f.labels) == 0 && f.fn == nil && f.kind != kindHistogram {
		// An unlabelled counter or gauge is 0 until told otherwise, so
		// its series exists from the start (a rate over it works at once).
		f.series[""] = &series{}
	}
	r.families[f.name] = f
	return f
}

// Counter registers a counter: a value that only goes up.
func (r *Registry) Counter(name, help string, labels ...string) *Counter {
	return &Counter{r.register(&family{name: name, help: help, kind: kindCounter, labels: labels})}
}

// Gauge registers a gauge: a value that is set.
func (r *Registry) Gauge(name, help string, labels ...string) *Gauge {
	return &Gauge{r.register(&family{name: name, help: help, kind: kindGauge, labels: labels})}
}

// Histogram registers a histogram with the given bucket upper bounds
// (ascending; +Inf is added).
func (r *Registry) Histogram(name, help string, buckets []float64, labels ...string) *Histogram {
	b := slices.Clone(buckets)
	slices.Sort(b)
	return &Histogram{r.register(&family{name: name, help: help, kind: kindHistogram, labels: labels, buckets: b})}
}

// CounterFunc registers an unlabelled counter whose value fn reports when
// the registry is written, for counts another package keeps.
func (r *Registry) CounterFunc(name, help string, fn func() float64) {
	r.register(&family{name: name, help: help, kind: kindCounter, fn: fn})
}

// OnScrape adds fn to what runs before every Write, to refresh gauges read
// from elsewhere (such as the database). fn should be quick, or cache.
func (r *Registry) OnScrape(fn func(ctx context.Context)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hooks = append(r.hooks, fn)
}

// Counter is a registered counter family.
type Counter struct{ f *family }

// Add adds v (which must not be negative) to the series with the given label values.
func (c *Counter) Add(v float64, labelValues ...string) {
	if v < 0 {
		return
	}
	c.f.with(labelValues, func(s *series) { s.value += v })
}

// Inc adds one.
func (c *Counter) Inc(labelValues ...string) { c.Add(1, labelValues...) }

// Gauge is a registered gauge family.
type Gauge struct{ f *family }

// Set sets the series with the given label values to v.
func (g *Gauge) Set(v float64, labelValues ...string) {
	g.f.with(labelValues, func(s *series) { s.value = v })
}

// Histogram is a registered histogram family.
type Histogram struct{ f *family }

// Observe records one value in the series with the given label values.
func (h *Histogram) Observe(v float64, labelValues ...string) {
	h.f.with(labelValues, func(s *series) {
		if s.counts == nil {
			s.counts = make([]uint64, len(h.f.buckets)+1)
		}
		i, _ := slices.BinarySearch(h.f.buckets, v) // first bucket with bound >= v
		s.counts[i]++
		s.sum += v
		s.count++
	})
}

// with runs fn on the series for values under the family's lock, creating
// it on first use. A wrong number of values is a programming error.
func (f *family) with(values []string, fn func(*series)) {
	if len(values) != len(f.labels) {
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", f.name, len(f.labels), len(values)))
	}
	key := strings.Join(values, "\xff")
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.series[key]
	if s == nil {
		s = &series{values: slices.Clone(values)}
		f.series[key] = s
	}
	fn(s)
}

// Write runs the scrape hooks and writes every family in the text format,
// families sorted by name and series by label values, so the output is stable.
func (r *Registry) Write(ctx context.Context, w io.Writer) error {
	r.mu.Lock()
	hooks := slices.Clone(r.hooks)
	fams := make([]*family, 0, len(r.families))
	for _, f := range r.families {
		fams = append(fams, f)
	}
	r.mu.Unlock()
	for _, h := range hooks {
		h(ctx)
	}
	slices.SortFunc(fams, func(a, b *family) int { return strings.Compare(a.name, b.name) })

	bw := bufio.NewWriter(w)
	for _, f := range fams {
		f.write(bw)
	}
	return bw.Flush()
}

func (f *family) write(w *bufio.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.kind)
	if f.fn != nil {
		fmt.Fprintf(w, "%s %s\n", f.name, formatFloat(f.fn()))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	keys := make([]string, 0, len(f.series))
	for k := range f.series {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		s := f.series[k]
		if f.kind != kindHistogram {
			fmt.Fprintf(w, "%s%s %s\n", f.name, labelText(f.labels, s.values, "", ""), formatFloat(s.value))
			continue
		}
		var cum uint64
		for i, b := range f.buckets {
			cum += s.counts[i]
			fmt.Fprintf(w, "%s_bucket%s %d\n", f.name, labelText(f.labels, s.values, "le", formatFloat(b)), cum)
		}
		fmt.Fprintf(w, "%s_bucket%s %d\n", f.name, labelText(f.labels, s.values, "le", "+Inf"), s.count)
		fmt.Fprintf(w, "%s_sum%s %s\n", f.name, labelText(f.labels, s.values, "", ""), formatFloat(s.sum))
		fmt.Fprintf(w, "%s_count%s %d\n", f.name, labelText(f.labels, s.values, "", ""), s.count)
	}
}

// labelText is `{a="x",b="y"}`, with an extra label (le) when extraName is
// set, or nothing for no labels at all.
func labelText(names, values []string, extraName, extraValue string) string {
	if len(names) == 0 && extraName == "" {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
		b.WriteString(`="`)
		b.WriteString(escapeLabel(values[i]))
		b.WriteByte('"')
	}
	if extraName != "" {
		if len(names) > 0 {
			b.WriteByte(',')
		}
		b.WriteString(extraName)
		b.WriteString(`="`)
		b.WriteString(escapeLabel(extraValue))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
