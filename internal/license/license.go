// Package license defines licenses, their statuses and the verdicts that a
// verification returns.
package license

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is the stored state of a license.
type Status string

// Stored license statuses.
const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
	StatusRevoked   Status = "revoked"
	StatusExpired   Status = "expired"
)

// ParseStatus returns s as a Status, or an error naming the allowed values.
func ParseStatus(s string) (Status, error) {
	switch st := Status(strings.ToLower(strings.TrimSpace(s))); st {
	case StatusActive, StatusSuspended, StatusRevoked, StatusExpired:
		return st, nil
	}
	return "", fmt.Errorf("status %q is invalid: use active, suspended, revoked or expired", s)
}

// Code is the outcome of a verification as the desktop app receives it.
type Code string

// Verification codes.
const (
	CodeValid     Code = "VALID"
	CodeNotFound  Code = "NOT_FOUND"
	CodeSuspended Code = "SUSPENDED"
	CodeRevoked   Code = "REVOKED"
	CodeExpired   Code = "EXPIRED"
)

// DefaultPlan is the plan of a license issued without one.
const DefaultPlan = "standard"

// ErrNotFound is returned when no license matches a lookup.
var ErrNotFound = errors.New("license not found")

// License is one license of one tenant's customer. KeyPrefix holds the first
// characters of the key for support; the key itself is never stored.
type License struct {
	ID        string
	TenantID  string
	Email     string
	KeyPrefix string
	KeyHash   []byte
	Status    Status
	Plan      string
	ExpiresAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CodeAt returns the verification code of l at time now. An expiry in the
// past yields CodeExpired even when the stored status is still active.
func (l License) CodeAt(now time.Time) Code {
	switch l.Status {
	case StatusRevoked:
		return CodeRevoked
	case StatusSuspended:
		return CodeSuspended
	case StatusExpired:
		return CodeExpired
	}
	if l.ExpiresAt != nil && !l.ExpiresAt.After(now) {
		return CodeExpired
	}
	return CodeValid
}
