package license

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// MaxEmailLength is the longest address accepted, in characters, after the
// 254-octet limit of RFC 5321.
const MaxEmailLength = 254

// NormalizeEmail trims and lowercases an address, the form in which emails
// are stored and matched.
func NormalizeEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// ValidateEmail checks a normalized address. It accepts anything with a
// non-empty local part and domain around one '@', because customers' real
// addresses vary more than any stricter pattern allows.
func ValidateEmail(email string) error {
	switch {
	case email == "":
		return errors.New("is required")
	case utf8.RuneCountInString(email) > MaxEmailLength:
		return errors.New("must be at most 254 characters")
	}
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 {
		return errors.New("must be an address such as name@example.com")
	}
	if strings.ContainsAny(email, " \t\r\n") {
		return errors.New("must not contain spaces")
	}
	return nil
}

// MaskEmail returns an address safe for logs: the first character of the
// local part and the domain, such as "j***@example.com".
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return "***"
	}
	return email[:1] + "***" + email[at:]
}
