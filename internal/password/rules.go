package password

import (
	"errors"
	"unicode/utf8"
)

// The ways a new password breaks the rules (Check).
var (
	ErrTooShort = errors.New("password: shorter than MinLen characters")
	ErrTooLong  = errors.New("password: longer than MaxLen bytes")
)

// Check says whether a new staff password keeps the rules: at least MinLen
// characters (counted as Unicode code points, as `onboard staff add`
// counts them) and at most MaxLen bytes. Any characters are allowed: a
// long passphrase is what the rules are for.
func Check(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinLen:
		return ErrTooShort
	case len(pw) > MaxLen:
		return ErrTooLong
	}
	return nil
}
