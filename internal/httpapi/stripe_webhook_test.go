package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/rescuepc/licensing/internal/billing"
	"github.com/rescuepc/licensing/internal/faultproxy"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/pgtest"
	"github.com/rescuepc/licensing/internal/tenant"
)

func TestStripeWebhookRejectsBadSignatures(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	payload := checkoutEvent(t, "checkout.session.completed.json").bytes(t)
	tampered := bytes.Replace(payload, []byte("buyer@example.com"), []byte("thief@example.com"), 1)
	tampered = bytes.Replace(tampered, []byte("Buyer@Example.com"), []byte("thief@example.com"), 1)

	cases := []struct {
		name, header string
		body         []byte
	}{
		{"missing header", "", payload},
		{"wrong secret", sign(payload, "whsec_someone_else", time.Now()), payload},
		{"tampered body", sign(payload, webhookSecret, time.Now()), tampered},
		{"stale timestamp", sign(payload, webhookSecret, time.Now().Add(-6*time.Minute)), payload},
		{"malformed header", "t=abc,v1=zz", payload},
	}
	before := billing.SignatureFailures.Value()
	for _, tc := range cases {
		resp := e.post(tc.body, tc.header)
		if resp.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400; body %s", tc.name, resp.status, resp.body)
			continue
		}
		var body errorBody
		_ = json.Unmarshal(resp.body, &body)
		if body.Error.Code != "invalid_signature" || body.Error.Field != "Stripe-Signature" {
			t.Errorf("%s: error %+v, want invalid_signature on Stripe-Signature", tc.name, body.Error)
		}
	}
	if got := billing.SignatureFailures.Value() - before; got != int64(len(cases)) {
		t.Errorf("signature failure counter rose by %d, want %d", got, len(cases))
	}
	if _, err := e.service.Retry(context.Background(), "evt_1PcheckoutSub0000000001"); !errors.Is(err, billing.ErrEventNotFound) {
		t.Errorf("rejected event was recorded: Retry = %v, want ErrEventNotFound", err)
	}
}

func TestStripeWebhookAcceptsRotatedSecret(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	payload := checkoutEvent(t, "checkout.session.completed.json").bytes(t)
	// The environment lists the previous secret first; Stripe signs with
	// either during a rotation.
	resp := e.post(payload, sign(payload, oldWebhookSecret, time.Now()))
	if resp.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", resp.status, resp.body)
	}
	e.checkoutLicense(tenant.Default, subSession)
}

func TestStripeWebhookNewerAPIVersion(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	ev := checkoutEvent(t, "checkout.session.completed.json")
	ev["api_version"] = "2025-03-31.basil"
	if got := e.deliver(ev); got != billing.StatusApplied {
		t.Errorf("outcome %q, want applied", got)
	}
	e.checkoutLicense(tenant.Default, subSession)
}

func TestStripeWebhookUnknownEventType(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	ev := loadEvent(t, "invoice.paid.json").with("evt_finalized", "invoice.finalized", time.Now())
	if got := e.deliverTwice(ev); got != billing.StatusIgnored {
		t.Errorf("outcome %q, want ignored", got)
	}
}

func TestStripeWebhookBodyTooLarge(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	payload := bytes.Repeat([]byte(" "), 512<<10+1)
	resp := e.post(payload, sign(payload, webhookSecret, time.Now()))
	if resp.status != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413; body %s", resp.status, resp.body)
	}
}

func TestStripeWebhookInvalidEvent(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	payload := []byte(`{"object":"event","type":"checkout.session.completed"}`)
	resp := e.post(payload, sign(payload, webhookSecret, time.Now()))
	if resp.status != http.StatusBadRequest {
		t.Errorf("status %d, want 400; body %s", resp.status, resp.body)
	}
}

func TestStripeWebhookNotConfigured(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{WebhookSecrets: []string{}})
	payload := checkoutEvent(t, "checkout.session.completed.json").bytes(t)
	resp := e.post(payload, sign(payload, "", time.Now()))
	if resp.status != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503; body %s", resp.status, resp.body)
	}
}

func TestStripeWebhookUnknownTenantRetried(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	ev := checkoutEvent(t, "checkout.session.completed.json")
	ev.set("metadata", map[string]any{"tenant_id": "newco", "plan": "pro"})
	if got := e.deliverTwice(ev); got != billing.StatusFailed {
		t.Fatalf("outcome %q, want failed", got)
	}
	stored, err := e.db.StripeEvent(context.Background(), "evt_1PcheckoutSub0000000001")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Status != billing.StatusFailed || stored.Reason != "tenant newco does not exist" {
		t.Errorf("stored %s with reason %q", stored.Status, stored.Reason)
	}

	e.mustTenant("newco")
	out, err := e.service.Retry(context.Background(), stored.ID)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != billing.StatusApplied {
		t.Errorf("retry outcome %q, want applied", out.Status)
	}
	wantState(t, "after retry", e.checkoutLicense("newco", subSession), license.StatusActive, time.Time{})
	if _, err := e.service.Retry(context.Background(), stored.ID); err == nil {
		t.Error("second retry of an applied event succeeded")
	}
}

func TestStripeWebhookMissingEmail(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	ev := checkoutEvent(t, "checkout.session.completed.json").set("customer_details", nil)
	if got := e.deliver(ev); got != billing.StatusFailed {
		t.Fatalf("outcome %q, want failed", got)
	}
	list, err := e.db.ListStripeEvents(context.Background(), true, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Reason != "checkout session "+subSession+": customer_details.email is required" {
		t.Errorf("failed events = %+v, want one naming customer_details.email", list)
	}
}

func TestStripeWebhookDatabaseDown(t *testing.T) {
	tdb := pgtest.New(t)
	proxy := faultproxy.New(t, tdb.HostPort(t))
	e := newStripeEnv(t, tdb.AppURLVia(t, proxy.Addr), billing.Options{ProcessTimeout: time.Second})
	ev := checkoutEvent(t, "checkout.session.completed.json")
	payload := ev.bytes(t)

	proxy.Stall()
	resp := e.post(payload, sign(payload, webhookSecret, time.Now()))
	if resp.status != http.StatusInternalServerError {
		t.Fatalf("status %d with the database hung, want 500; body %s", resp.status, resp.body)
	}

	// Stripe sends the event again once the database is back.
	proxy.Resume()
	if got := e.deliver(ev); got != billing.StatusApplied {
		t.Errorf("redelivery: outcome %q, want applied", got)
	}
	e.checkoutLicense(tenant.Default, subSession)
}
