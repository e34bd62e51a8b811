package brreg

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/onboard-altinn/onboard/internal/orgno"
)

// wire is the part of an enhet or underenhet answer Lookup reads; the
// register sends many more fields, which are ignored.
type wire struct {
	OrgNo string `json:"organisasjonsnummer"`
	Name  string `json:"navn"`
	Form  *struct {
		Code string `json:"kode"`
	} `json:"organisasjonsform"`
	DeletedOn string `json:"slettedato"`
	Parent    string `json:"overordnetEnhet"`
	Bankrupt  bool   `json:"konkurs"`
	WindingUp bool   `json:"underAvvikling"`
	Forced    bool   `json:"underTvangsavviklingEllerTvangsopplosning"`
}

var datePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

// maxNameRunes caps a name kept from the register (the longest registered
// names are around 175 characters).
const maxNameRunes = 250

// parse reads one answer for the number n (sub: from /underenheter). It
// refuses an answer that is not a JSON object, is about another number, or
// is a live entity without a name or (a sub-unit) without a valid parent.
func parse(body []byte, n string, sub bool) (Entity, error) {
	var w wire
	if err := json.Unmarshal(body, &w); err != nil {
		return Entity{}, fmt.Errorf("brreg: unreadable entity: %w", err)
	}
	if w.OrgNo != n {
		return Entity{}, fmt.Errorf("brreg: answer is about %q, not %s", truncate(w.OrgNo, 20), n)
	}
	e := Entity{
		OrgNo:     n,
		Name:      cleanName(w.Name),
		Deleted:   strings.TrimSpace(w.DeletedOn) != "",
		Bankrupt:  w.Bankrupt,
		WindingUp: w.WindingUp || w.Forced,
	}
	if w.Form != nil {
		e.Form = cleanCode(w.Form.Code)
	}
	if e.Deleted && datePattern.MatchString(w.DeletedOn) {
		e.DeletedOn = w.DeletedOn
	}
	if e.Deleted {
		return e, nil
	}
	if e.Name == "" {
		return Entity{}, errors.New("brreg: a live entity without a name")
	}
	if sub {
		p, err := orgno.Normalize(w.Parent)
		if err != nil {
			return Entity{}, fmt.Errorf("brreg: sub-unit %s without a valid overordnetEnhet: %w", n, err)
		}
		e.ParentOrgNo = p
	}
	return e, nil
}

// cleanName makes a name safe to store and show: valid UTF-8, no control
// or format characters, single spaces, at most maxNameRunes runes.
func cleanName(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ' '
		}
		return r
	}, s)
	return truncate(strings.Join(strings.Fields(s), " "), maxNameRunes)
}

// cleanCode keeps an organisasjonsform code only if it looks like one.
func cleanCode(s string) string {
	if len(s) == 0 || len(s) > 8 {
		return ""
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return ""
		}
	}
	return s
}

func truncate(s string, max int) string {
	if r := []rune(s); len(r) > max {
		return string(r[:max])
	}
	return s
}
