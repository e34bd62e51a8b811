package main

import (
	"testing"
	"time"
)

func TestFloor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int
		latency time.Duration
		c       int
		rate    float64
		want    time.Duration
	}{
		{"1000 at 20 ms, 8 at once, no rate", 1000, 20 * time.Millisecond, 8, 0, 2500 * time.Millisecond},
		{"1000 at 100 ms, 8 at once", 1000, 100 * time.Millisecond, 8, 0, 12500 * time.Millisecond},
		{"100 at 20 ms (short)", 100, 20 * time.Millisecond, 8, 0, 250 * time.Millisecond},
		{"the rate binds", 1000, 20 * time.Millisecond, 8, 100, 10 * time.Second},
		{"the latency binds over a rate", 1000, 100 * time.Millisecond, 8, 200, 12500 * time.Millisecond},
		{"a negative rate is none", 10, time.Second, 2, -1, 5 * time.Second},
		{"no clients", 0, time.Second, 8, 0, 0},
		{"no workers", 10, time.Second, 0, 0, 0},
	} {
		if got := Floor(tc.n, tc.latency, tc.c, tc.rate); got != tc.want {
			t.Errorf("%s: Floor(%d, %v, %d, %g) = %v, want %v", tc.name, tc.n, tc.latency, tc.c, tc.rate, got, tc.want)
		}
	}
}

func TestParseLatencies(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []time.Duration
		ok   bool
	}{
		{"20ms,100ms", []time.Duration{20 * time.Millisecond, 100 * time.Millisecond}, true},
		{" 50ms ", []time.Duration{50 * time.Millisecond}, true},
		{"", nil, false},
		{"20ms,", nil, false},
		{"0s", nil, false},
		{"-5ms", nil, false},
		{"11s", nil, false},
		{"fast", nil, false},
	} {
		got, err := ParseLatencies(tc.in)
		if (err == nil) != tc.ok || len(got) != len(tc.want) {
			t.Errorf("ParseLatencies(%q) = %v, %v", tc.in, got, err)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseLatencies(%q)[%d] = %v, want %v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}
