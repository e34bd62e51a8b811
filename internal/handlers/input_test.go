package handlers

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGoodJSON(t *testing.T) {
	for _, tt := range []struct {
		body string
		good bool
	}{
		{`{"a":"b"}`, true},
		{`{"a":"a\\u0000b"}`, true}, // a backslash, then u0000: no NUL
		{`{"a":"æøå \u00e6"}`, true},
		{`[1, 2, {"x": [true, null]}]`, true},
		{`not json at all`, true}, // the handler's to refuse
		{`{"a":"a\u0000b"}`, false},
		{`{"a\u0000":"b"}`, false},
		{`{"a":["x", "\u0000"]}`, false},
		{"{\"a\":\"\xff\"}", false},
		{"{\"a\":\"\x00\"}", false},
		{"\xff not json", false},
		{strings.Repeat("[", 10000) + strings.Repeat("]", 10000), true},
	} {
		if got := goodJSON([]byte(tt.body)); got != tt.good {
			t.Errorf("goodJSON(%.40q) = %v, want %v", tt.body, got, tt.good)
		}
	}
}

// FuzzGoodJSON: whatever the body, goodJSON answers; when it says good and
// the body is JSON, no string the handlers decode holds a NUL or an
// invalid byte.
func FuzzGoodJSON(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":"\u0000"}`, "{\"a\":\"\xff\"}", `[["x"]]`, `{"a":"\\u0000"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !goodJSON(body) {
			return
		}
		var v any
		if json.Unmarshal(body, &v) != nil {
			return
		}
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				if !goodText(v) {
					t.Fatalf("goodJSON passed %q, whose string %q is not good text", body, v)
				}
			case []any:
				for _, e := range v {
					walk(e)
				}
			case map[string]any:
				for k, e := range v {
					walk(k)
					walk(e)
				}
			}
		}
		walk(v)
	})
}

func TestGoodText(t *testing.T) {
	for s, want := range map[string]bool{"": true, "Snøkrystall AS": true, "a\x00b": false, "a\xffb": false, "\u200b": true} {
		if got := goodText(s); got != want || (want && !utf8.ValidString(s)) {
			t.Errorf("goodText(%q) = %v, want %v", s, got, want)
		}
	}
}
