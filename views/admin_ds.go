package views

import "strings"

// dsColor is the Designsystemet data-color of a tone ("ok", "wait", "bad",
// also as "tone-ok" …), for the alerts and tags that show a status.
func dsColor(tone string) string {
	switch strings.TrimPrefix(tone, "tone-") {
	case "ok":
		return "success"
	case "wait":
		return "warning"
	case "bad":
		return "danger"
	}
	return "neutral"
}
