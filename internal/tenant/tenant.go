// Package tenant defines the tenant identifier that scopes every query on
// tenant-owned data, and carries it through a request context.
package tenant

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Default is the tenant of desktop builds that send no X-Tenant-ID header.
const Default ID = "default"

// ErrMissing is returned when an operation on tenant-owned data has no tenant.
var ErrMissing = errors.New("tenant: no tenant ID")

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,49}$`)

// ID identifies a tenant. The zero value is not a valid tenant, so code that
// forgot to set one fails instead of reading another tenant's rows.
type ID string

// Parse trims s and returns it as an ID, or an error when it does not match
// ^[a-z0-9][a-z0-9_-]{0,49}$.
func Parse(s string) (ID, error) {
	s = strings.TrimSpace(s)
	if !idPattern.MatchString(s) {
		return "", fmt.Errorf("tenant ID %q is invalid: use 1 to 50 lowercase letters, digits, '-' or '_', starting with a letter or digit", s)
	}
	return ID(s), nil
}

// String returns the ID as stored in the tenant_id column.
func (id ID) String() string { return string(id) }

// Valid reports whether id is a well-formed tenant ID.
func (id ID) Valid() bool { return idPattern.MatchString(string(id)) }

type contextKey struct{}

// NewContext returns a copy of ctx that carries id.
func NewContext(ctx context.Context, id ID) context.Context {
	return context.WithValue(ctx, contextKey{}, id)
}

// FromContext returns the tenant stored in ctx, or ErrMissing.
func FromContext(ctx context.Context) (ID, error) {
	id, ok := ctx.Value(contextKey{}).(ID)
	if !ok || !id.Valid() {
		return "", ErrMissing
	}
	return id, nil
}

// Errors returned by tenant stores.
var (
	ErrNotFound = errors.New("tenant not found")
	ErrExists   = errors.New("tenant already exists")
)

// Tenant is a customer of the licensing service with its own licenses.
type Tenant struct {
	ID        ID
	Name      string
	CreatedAt time.Time
}
