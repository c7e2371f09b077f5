package config

import "net/url"

// Redact returns a connection URL with its password replaced by "xxxxx".
func Redact(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
