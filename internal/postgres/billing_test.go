package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/rescuepc/licensing/internal/billing"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/pgtest"
	"github.com/rescuepc/licensing/internal/postgres"
	"github.com/rescuepc/licensing/internal/tenant"
)

func issueEffect(h *license.Hasher, tid tenant.ID, session string) billing.Effect {
	key := license.CheckoutKey(testSecret, session)
	return billing.Effect{TenantID: tid, Issue: &billing.Issue{
		SessionID: session, Email: "buyer@example.com", Plan: "pro",
		KeyHash: h.Hash(key), KeyPrefix: license.KeyPrefix(key),
		SubscriptionID: "sub_" + session, CustomerID: "cus_" + session,
	}}
}

func eventRecord(id string, tid tenant.ID, created time.Time) billing.Record {
	return billing.Record{
		Event:    billing.Event{ID: id, Type: "test.event", Created: created, Payload: []byte(`{}`)},
		TenantID: tid, Status: billing.StatusApplied,
	}
}

func TestApplyStripeEventNotifiesOnce(t *testing.T) {
	tdb := pgtest.New(t)
	db, h, ctx := mustOpen(t, tdb.AppURL), mustHasher(t), context.Background()
	var calls int
	db.OnLicenseChange(func(context.Context, tenant.ID, string, []byte) { calls++ })
	now := time.Now().UTC().Truncate(time.Second)

	out, err := db.ApplyStripeEvent(ctx, eventRecord("evt_1", tenant.Default, now), issueEffect(h, tenant.Default, "cs_1"))
	if err != nil || out.Status != billing.StatusApplied {
		t.Fatalf("issue: %+v, %v", out, err)
	}
	out, err = db.ApplyStripeEvent(ctx, eventRecord("evt_1", tenant.Default, now), issueEffect(h, tenant.Default, "cs_1"))
	if err != nil || out.Status != billing.StatusDuplicate {
		t.Fatalf("redelivery: %+v, %v; want duplicate", out, err)
	}
	suspend := billing.Effect{TenantID: tenant.Default, Subscription: &billing.SubscriptionState{
		SubscriptionID: "sub_cs_1", Status: license.StatusSuspended}}
	if _, err := db.ApplyStripeEvent(ctx, eventRecord("evt_2", tenant.Default, now.Add(time.Second)), suspend); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("listener called %d times, want 2 (issue and suspend, not the duplicate)", calls)
	}
}

func TestApplyStripeEventUnknownTenant(t *testing.T) {
	tdb := pgtest.New(t)
	db, h, ctx := mustOpen(t, tdb.AppURL), mustHasher(t), context.Background()
	_, err := db.ApplyStripeEvent(ctx, eventRecord("evt_1", "nope", time.Now()), issueEffect(h, "nope", "cs_1"))
	if err == nil {
		t.Fatal("event for an unknown tenant applied")
	}
	if _, err := db.StripeEvent(ctx, "evt_1"); err == nil {
		t.Error("event for an unknown tenant was recorded as applied")
	}
}

func TestSetStatusWritesHistory(t *testing.T) {
	tdb := pgtest.New(t)
	db, h, ctx := mustOpen(t, tdb.AppURL), mustHasher(t), context.Background()
	l := mustLicense(t, db, h, tenant.Default, "a@example.com", "KEY-A")
	ref := postgres.Ref{ID: l.ID}
	for _, st := range []license.Status{license.StatusSuspended, license.StatusSuspended, license.StatusActive} {
		if _, _, err := db.SetStatus(ctx, tenant.Default, ref, st); err != nil {
			t.Fatal(err)
		}
	}
	_, history, err := db.LicenseHistory(ctx, tenant.Default, ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 2 {
		t.Fatalf("history has %d rows, want 2 (the repeated suspend changes nothing): %+v", len(history), history)
	}
	if h := history[0]; h.From != license.StatusActive || h.To != license.StatusSuspended || h.Cause != postgres.OperatorCause {
		t.Errorf("first row %+v, want active -> suspended by operator", h)
	}
}

func TestStripeTablesRowSecurity(t *testing.T) {
	tdb := pgtest.New(t)
	db, h, ctx := mustOpen(t, tdb.AppURL), mustHasher(t), context.Background()
	if _, err := db.ApplyStripeEvent(ctx, eventRecord("evt_1", tenant.Default, time.Now()), issueEffect(h, tenant.Default, "cs_1")); err != nil {
		t.Fatal(err)
	}
	sub := billing.Effect{TenantID: tenant.Default, Subscription: &billing.SubscriptionState{
		SubscriptionID: "sub_cs_1", Status: license.StatusActive}}
	if _, err := db.ApplyStripeEvent(ctx, eventRecord("evt_2", tenant.Default, time.Now()), sub); err != nil {
		t.Fatal(err)
	}
	mustTenant(t, db, "acme")
	conn := mustConnect(t, tdb.AppURL)

	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT set_config('app.tenant_id', 'acme', true)`); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"license_events", "stripe_subscriptions"} {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("tenant acme sees %d rows of %s, want 0", n, table)
		}
		if _, err := tx.Exec(ctx, `SELECT set_config('app.tenant_id', 'default', true)`); err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("tenant default sees %d rows of %s, want its own 1", n, table)
		}
		if _, err := tx.Exec(ctx, `SELECT set_config('app.tenant_id', 'acme', true)`); err != nil {
			t.Fatal(err)
		}
	}
}
