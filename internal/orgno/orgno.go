// Package orgno validates Norwegian organisation numbers (organisasjonsnummer).
package orgno

import (
	"errors"
	"strings"
)

// Errors returned by Normalize, so the wizard can say what is wrong.
var (
	ErrEmpty      = errors.New("orgno: empty")
	ErrLength     = errors.New("orgno: not 9 digits")
	ErrCharacters = errors.New("orgno: only digits allowed")
	ErrCheckDigit = errors.New("orgno: wrong check digit")
)

var weights = [8]int{3, 2, 7, 6, 5, 4, 3, 2}

// Normalize strips white space (including non-breaking spaces, as pasted from
// documents) and returns the 9-digit number when its mod-11 check digit is
// right. A number whose remainder gives check digit 10 is never issued, so it
// is invalid.
func Normalize(s string) (string, error) {
	// The digits go into an array on the stack: a plain nine-digit number
	// is returned as it came, allocating nothing.
	var d [9]byte
	n, spaces := 0, false
	for _, r := range s {
		switch {
		case r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\t':
			spaces = true
		case r >= '0' && r <= '9':
			if n < len(d) {
				d[n] = byte(r)
			}
			n++
		default:
			if strings.TrimSpace(s) == "" {
				return "", ErrEmpty
			}
			return "", ErrCharacters
		}
	}
	if n == 0 {
		return "", ErrEmpty
	}
	if n != len(d) {
		return "", ErrLength
	}
	sum := 0
	for i, w := range weights {
		sum += int(d[i]-'0') * w
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	if check == 10 || check != int(d[8]-'0') {
		return "", ErrCheckDigit
	}
	if !spaces {
		return s, nil
	}
	return string(d[:]), nil
}

// Format groups a 9-digit number as people write it: "314 248 295".
func Format(n string) string {
	if len(n) != 9 {
		return n
	}
	return n[:3] + " " + n[3:6] + " " + n[6:]
}
