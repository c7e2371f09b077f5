package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/rescuepc/licensing/internal/billing"
	"github.com/rescuepc/licensing/internal/httpapi"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/pgtest"
	"github.com/rescuepc/licensing/internal/postgres"
	"github.com/rescuepc/licensing/internal/tenant"
)

const (
	webhookSecret    = "whsec_test_current_0123456789"
	oldWebhookSecret = "whsec_test_previous_0123456789"
	checkoutSecret   = "checkout-secret-checkout-secret-0123"
	grace            = 72 * time.Hour
)

// stripeEnv is a server with the Stripe endpoints on a fresh database.
type stripeEnv struct {
	*env
	service *billing.Service
}

// newStripeEnv starts a server whose billing options are opts with the
// test's store, secrets and logger filled in.
func newStripeEnv(t *testing.T, dbURL string, opts billing.Options) *stripeEnv {
	t.Helper()
	if dbURL == "" {
		dbURL = pgtest.New(t).AppURL
	}
	db, hasher, logger := mustOpenDB(t, dbURL), mustHasher(t), discardLogger()
	opts.Store, opts.Hasher, opts.CheckoutKeySecret, opts.GracePeriod, opts.Logger = db, hasher, checkoutSecret, grace, logger
	if opts.WebhookSecrets == nil {
		opts.WebhookSecrets = []string{oldWebhookSecret, webhookSecret}
	}
	svc, err := billing.NewService(opts)
	if err != nil {
		t.Fatal(err)
	}
	e := startEnv(t, db, hasher, httpapi.Options{Logger: logger, Billing: svc})
	return &stripeEnv{env: e, service: svc}
}

// stripeEvent is a fixture from testdata/stripe that a test edits before
// sending it.
type stripeEvent map[string]any

func loadEvent(t testing.TB, name string) stripeEvent {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "stripe", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev stripeEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return ev
}

// with returns a copy of the event with the given ID, type and created
// time; an empty type keeps the fixture's.
func (ev stripeEvent) with(id, typ string, created time.Time) stripeEvent {
	out := stripeEvent{}
	raw, _ := json.Marshal(ev)
	_ = json.Unmarshal(raw, &out)
	out["id"] = id
	if typ != "" {
		out["type"] = typ
	}
	out["created"] = created.Unix()
	return out
}

// object returns data.object for editing in place.
func (ev stripeEvent) object() map[string]any {
	return ev["data"].(map[string]any)["object"].(map[string]any)
}

func (ev stripeEvent) set(field string, value any) stripeEvent {
	ev.object()[field] = value
	return ev
}

func (ev stripeEvent) bytes(t testing.TB) []byte {
	t.Helper()
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// sign returns a Stripe-Signature header for payload.
func sign(payload []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload: payload, Secret: secret, Timestamp: at,
	}).Header
}

type webhookBody struct {
	Received bool   `json:"received"`
	Outcome  string `json:"outcome"`
}

// post sends payload to the webhook with the given signature header.
func (e *stripeEnv) post(payload []byte, signature string) response {
	e.t.Helper()
	req := request{path: "/api/webhooks/stripe", body: string(payload), contentType: "application/json"}
	if signature != "" {
		req.headers = map[string]string{"Stripe-Signature": signature}
	}
	return e.do(req)
}

// deliver signs the event with the current secret, sends it and returns
// the outcome of a 200 response.
func (e *stripeEnv) deliver(ev stripeEvent) string {
	e.t.Helper()
	payload := ev.bytes(e.t)
	resp := e.post(payload, sign(payload, webhookSecret, time.Now()))
	if resp.status != http.StatusOK {
		e.t.Fatalf("deliver %s %s: status %d, body %s", ev["type"], ev["id"], resp.status, resp.body)
	}
	var body webhookBody
	if err := json.Unmarshal(resp.body, &body); err != nil {
		e.t.Fatalf("decode %s: %v", resp.body, err)
	}
	return body.Outcome
}

// deliverTwice delivers the event, checks that a second delivery is a
// duplicate, and returns the first outcome.
func (e *stripeEnv) deliverTwice(ev stripeEvent) string {
	e.t.Helper()
	first := e.deliver(ev)
	if again := e.deliver(ev); again != billing.StatusDuplicate {
		e.t.Errorf("second delivery of %s: outcome %q, want duplicate", ev["id"], again)
	}
	return first
}

// checkoutLicense returns the license of a checkout session.
func (e *stripeEnv) checkoutLicense(tid tenant.ID, sessionID string) license.License {
	e.t.Helper()
	l, err := e.db.CheckoutLicense(context.Background(), tid, sessionID)
	if err != nil {
		e.t.Fatalf("license of %s: %v", sessionID, err)
	}
	return l
}

// wantState checks a license's status and expiry; a zero expiry means none.
func wantState(t *testing.T, step string, l license.License, status license.Status, expiresAt time.Time) {
	t.Helper()
	if l.Status != status {
		t.Errorf("%s: status %s, want %s", step, l.Status, status)
	}
	switch {
	case expiresAt.IsZero() && l.ExpiresAt != nil:
		t.Errorf("%s: expires %v, want never", step, l.ExpiresAt.UTC())
	case !expiresAt.IsZero() && (l.ExpiresAt == nil || !l.ExpiresAt.Equal(expiresAt)):
		t.Errorf("%s: expires %v, want %v", step, l.ExpiresAt, expiresAt.UTC())
	}
}

// at returns a Unix time as a time.Time.
func at(unix int64) time.Time { return time.Unix(unix, 0).UTC() }

// history returns a license's status changes.
func (e *stripeEnv) history(tid tenant.ID, id string) []postgres.LicenseEvent {
	e.t.Helper()
	_, events, err := e.db.LicenseHistory(context.Background(), tid, postgres.Ref{ID: id})
	if err != nil {
		e.t.Fatal(err)
	}
	return events
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
