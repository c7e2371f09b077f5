package billing

import (
	"time"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/tenant"
)

// Effect is the change that one event makes inside one tenant. Exactly one
// of Issue, Subscription and Update is set.
type Effect struct {
	TenantID     tenant.ID
	Issue        *Issue
	Subscription *SubscriptionState
	Update       *LicenseUpdate
}

// Issue creates the license of a paid checkout session, unless the session
// already has one.
type Issue struct {
	SessionID       string
	Email           string
	Plan            string
	KeyHash         []byte
	KeyPrefix       string
	CustomerID      string
	SubscriptionID  string
	PaymentIntentID string
}

// SubscriptionState is the license state that a subscription event sets on
// the subscription's license, and keeps for a license issued later.
type SubscriptionState struct {
	SubscriptionID string
	Status         license.Status
	// ExpiresAt is nil to keep the license's expiry.
	ExpiresAt *time.Time
}

// LicenseUpdate changes the licenses linked to a subscription or a payment
// intent. A webhook never moves a license out of revoked: a canceled
// subscription or a refund is final.
type LicenseUpdate struct {
	SubscriptionID  string
	PaymentIntentID string
	// Status is the new status, or "" to keep it.
	Status license.Status
	// From lists the statuses that Status may replace; empty means any.
	From []license.Status
	// ExtendTo moves the expiry to this time when it is later than the
	// current one, or sets it when the license has none.
	ExtendTo *time.Time
}

// Outcome is the result of processing an event, as recorded in
// stripe_events.
type Outcome struct {
	// Status is applied, ignored, failed or duplicate.
	Status string
	Reason string
}

// Event outcomes.
const (
	StatusApplied   = "applied"
	StatusIgnored   = "ignored"
	StatusFailed    = "failed"
	StatusDuplicate = "duplicate"
)

// Record is an event with the outcome to store for it.
type Record struct {
	Event
	TenantID tenant.ID
	Status   string
	Reason   string
	// Retry lets the record replace a stored failed event with the same ID.
	Retry bool
}

// StoredEvent is an event as stored in stripe_events.
type StoredEvent struct {
	ID          string
	Type        string
	Created     time.Time
	TenantID    string
	Status      string
	Reason      string
	Payload     []byte
	ReceivedAt  time.Time
	ProcessedAt time.Time
}
