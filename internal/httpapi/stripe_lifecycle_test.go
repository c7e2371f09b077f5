package httpapi_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/rescuepc/licensing/internal/billing"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/postgres"
	"github.com/rescuepc/licensing/internal/tenant"
)

const (
	subSession     = "cs_test_a1SubscriptionCheckout0001"
	paymentSession = "cs_test_b1OneTimeCheckout000001"
)

// The tests' timeline starts at the current hour, so licenses that the
// lifecycle keeps active are not yet expired when verified.
var (
	checkoutAt = time.Now().Truncate(time.Hour).Unix()
	periodEnd1 = checkoutAt + 30*86400
	periodEnd2 = checkoutAt + 60*86400
	periodEnd3 = checkoutAt + 90*86400
)

// checkoutEvent returns a checkout fixture created at checkoutAt.
func checkoutEvent(t *testing.T, name string) stripeEvent {
	ev := loadEvent(t, name)
	return ev.with(ev["id"].(string), "", at(checkoutAt))
}

func subscriptionEvent(t *testing.T, id, typ string, created int64, status string, periodEnd int64) stripeEvent {
	ev := loadEvent(t, "customer.subscription.updated.json").with(id, typ, at(created))
	return ev.set("status", status).set("current_period_end", periodEnd)
}

func invoicePaid(t *testing.T, id string, created, periodEnd int64) stripeEvent {
	ev := loadEvent(t, "invoice.paid.json").with(id, "", at(created))
	ev.object()["lines"].(map[string]any)["data"].([]any)[0].(map[string]any)["period"] =
		map[string]any{"start": created, "end": periodEnd}
	return ev
}

func TestStripeSubscriptionLifecycle(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	step := func(name string, ev stripeEvent, wantOutcome string, status license.Status, expires time.Time) {
		t.Helper()
		if got := e.deliverTwice(ev); got != wantOutcome {
			t.Errorf("%s: outcome %q, want %q", name, got, wantOutcome)
		}
		wantState(t, name, e.checkoutLicense(tenant.Default, subSession), status, expires)
	}

	// Stripe often sends the subscription's creation before the checkout.
	created := subscriptionEvent(t, "evt_sub_created", "customer.subscription.created", checkoutAt-10, "active", periodEnd1)
	if got := e.deliverTwice(created); got != billing.StatusApplied {
		t.Errorf("subscription created: outcome %q, want applied", got)
	}
	step("purchase", checkoutEvent(t, "checkout.session.completed.json"), billing.StatusApplied,
		license.StatusActive, at(periodEnd1).Add(grace))

	l := e.checkoutLicense(tenant.Default, subSession)
	if l.Email != "buyer@example.com" || l.Plan != "pro" {
		t.Errorf("license email %q plan %q, want buyer@example.com and pro", l.Email, l.Plan)
	}
	key := license.CheckoutKey(checkoutSecret, subSession)
	if v := e.verify("", "buyer@example.com", key); !v.Valid {
		t.Errorf("verify after purchase: %+v, want valid", v)
	}

	step("renewal", invoicePaid(t, "evt_renewal", periodEnd1+100, periodEnd2), billing.StatusApplied,
		license.StatusActive, at(periodEnd2).Add(grace))
	step("failed payment", subscriptionEvent(t, "evt_past_due", "", periodEnd2+100, "past_due", periodEnd2),
		billing.StatusApplied, license.StatusSuspended, at(periodEnd2).Add(grace))
	if v := e.verify("", "buyer@example.com", key); v.Code != string(license.CodeSuspended) {
		t.Errorf("verify while past due: code %s, want SUSPENDED", v.Code)
	}
	step("recovery", invoicePaid(t, "evt_recovered", periodEnd2+200, periodEnd3), billing.StatusApplied,
		license.StatusActive, at(periodEnd3).Add(grace))
	step("cancellation", subscriptionEvent(t, "evt_deleted", "customer.subscription.deleted", periodEnd2+300, "canceled", periodEnd3),
		billing.StatusApplied, license.StatusRevoked, at(periodEnd3).Add(grace))

	wantHistory(t, e.history(tenant.Default, l.ID), []postgres.LicenseEvent{
		{To: license.StatusActive, Cause: "evt_1PcheckoutSub0000000001"},
		{From: license.StatusActive, To: license.StatusSuspended, Cause: "evt_past_due"},
		{From: license.StatusSuspended, To: license.StatusActive, Cause: "evt_recovered"},
		{From: license.StatusActive, To: license.StatusRevoked, Cause: "evt_deleted"},
	})
}

func wantHistory(t *testing.T, got, want []postgres.LicenseEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("history has %d rows, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].From != want[i].From || got[i].To != want[i].To || got[i].Cause != want[i].Cause {
			t.Errorf("history row %d: %s -> %s by %s, want %s -> %s by %s", i,
				got[i].From, got[i].To, got[i].Cause, want[i].From, want[i].To, want[i].Cause)
		}
	}
}

func TestStripeUnpaidSessionIssuesNothing(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	unpaid := checkoutEvent(t, "checkout.session.completed.payment.json").set("payment_status", "unpaid")
	if got := e.deliverTwice(unpaid); got != billing.StatusIgnored {
		t.Errorf("unpaid session: outcome %q, want ignored", got)
	}
	if _, err := e.db.CheckoutLicense(context.Background(), tenant.Default, paymentSession); err == nil {
		t.Fatal("unpaid session issued a license")
	}

	paid := checkoutEvent(t, "checkout.session.completed.payment.json").
		with("evt_async_paid", "checkout.session.async_payment_succeeded", at(checkoutAt+60))
	if got := e.deliverTwice(paid); got != billing.StatusApplied {
		t.Errorf("async payment succeeded: outcome %q, want applied", got)
	}
	wantState(t, "async payment", e.checkoutLicense(tenant.Default, paymentSession), license.StatusActive, time.Time{})
}

func chargeRefunded(t *testing.T, id string, created, refunded int64) stripeEvent {
	ev := loadEvent(t, "charge.refunded.json").with(id, "", at(created))
	return ev.set("amount_refunded", refunded).set("refunded", refunded == 9900)
}

func TestStripeOneTimeRefunds(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	e.deliverTwice(checkoutEvent(t, "checkout.session.completed.payment.json"))
	l := e.checkoutLicense(tenant.Default, paymentSession)
	wantState(t, "purchase", l, license.StatusActive, time.Time{})
	if l.Plan != "lifetime" {
		t.Errorf("plan %q, want lifetime", l.Plan)
	}

	if got := e.deliverTwice(chargeRefunded(t, "evt_partial", checkoutAt+100, 5000)); got != billing.StatusIgnored {
		t.Errorf("partial refund: outcome %q, want ignored", got)
	}
	wantState(t, "partial refund", e.checkoutLicense(tenant.Default, paymentSession), license.StatusActive, time.Time{})

	if got := e.deliverTwice(chargeRefunded(t, "evt_full", checkoutAt+200, 9900)); got != billing.StatusApplied {
		t.Errorf("full refund: outcome %q, want applied", got)
	}
	wantState(t, "full refund", e.checkoutLicense(tenant.Default, paymentSession), license.StatusRevoked, time.Time{})
}

// purchaseInTenant delivers a paid one-time checkout for the tenant with
// its own session and payment intent IDs.
func purchaseInTenant(t *testing.T, e *stripeEnv, tid tenant.ID, session, paymentIntent string) {
	ev := checkoutEvent(t, "checkout.session.completed.payment.json").with("evt_checkout_"+session, "", at(checkoutAt))
	ev.set("id", session).set("payment_intent", paymentIntent).
		set("metadata", map[string]any{"tenant_id": string(tid), "plan": "lifetime"})
	if got := e.deliverTwice(ev); got != billing.StatusApplied {
		t.Fatalf("purchase %s: outcome %q, want applied", session, got)
	}
}

func disputeEvent(t *testing.T, id, typ string, created int64, paymentIntent, status string) stripeEvent {
	ev := loadEvent(t, "charge.dispute.created.json").with(id, typ, at(created))
	return ev.set("payment_intent", paymentIntent).set("status", status)
}

func TestStripeDisputes(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	// Disputes carry no metadata, so the tenant comes from the payment
	// intent that the checkout linked to it.
	e.mustTenant("acme")
	purchaseInTenant(t, e, "acme", "cs_test_won", "pi_won")
	purchaseInTenant(t, e, "acme", "cs_test_lost", "pi_lost")

	cases := []struct {
		session, paymentIntent, closedAs string
		final                            license.Status
	}{
		{"cs_test_won", "pi_won", "won", license.StatusActive},
		{"cs_test_lost", "pi_lost", "lost", license.StatusRevoked},
	}
	for _, tc := range cases {
		opened := disputeEvent(t, "evt_dp_open_"+tc.closedAs, "", checkoutAt+100, tc.paymentIntent, "needs_response")
		if got := e.deliverTwice(opened); got != billing.StatusApplied {
			t.Errorf("dispute %s created: outcome %q, want applied", tc.closedAs, got)
		}
		wantState(t, "dispute opened", e.checkoutLicense("acme", tc.session), license.StatusSuspended, time.Time{})

		closed := disputeEvent(t, "evt_dp_close_"+tc.closedAs, "charge.dispute.closed", checkoutAt+200, tc.paymentIntent, tc.closedAs)
		if got := e.deliverTwice(closed); got != billing.StatusApplied {
			t.Errorf("dispute %s closed: outcome %q, want applied", tc.closedAs, got)
		}
		wantState(t, "dispute "+tc.closedAs, e.checkoutLicense("acme", tc.session), tc.final, time.Time{})
	}
}

func TestStripeConcurrentDeliveries(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	payload := checkoutEvent(t, "checkout.session.completed.json").bytes(t)

	const n = 5
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, e.server.URL+"/api/webhooks/stripe", bytesReader(payload))
			req.Header.Set("Stripe-Signature", sign(payload, webhookSecret, time.Now()))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		}()
	}
	wg.Wait()

	for i, status := range statuses {
		if status != http.StatusOK {
			t.Errorf("delivery %d: status %d, want 200", i, status)
		}
	}
	list, err := e.db.ListLicenses(context.Background(), tenant.Default, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d licenses after %d deliveries of one purchase, want 1", len(list), n)
	}
	if h := e.history(tenant.Default, list[0].ID); len(h) != 1 {
		t.Errorf("history has %d rows, want 1", len(h))
	}
}

func TestStripeCancellationBeforeUpdate(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	e.deliver(checkoutEvent(t, "checkout.session.completed.json"))
	deleted := subscriptionEvent(t, "evt_deleted", "customer.subscription.deleted", checkoutAt+300, "canceled", periodEnd1)
	if got := e.deliver(deleted); got != billing.StatusApplied {
		t.Errorf("deletion: outcome %q, want applied", got)
	}

	// The update happened before the deletion but arrives after it.
	late := subscriptionEvent(t, "evt_late_update", "", checkoutAt+200, "active", periodEnd2)
	if got := e.deliver(late); got != billing.StatusIgnored {
		t.Errorf("late update: outcome %q, want ignored", got)
	}
	wantState(t, "after late update", e.checkoutLicense(tenant.Default, subSession), license.StatusRevoked, time.Time{})
}

func TestStripeLateFailedPaymentAfterRecovery(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	e.deliver(checkoutEvent(t, "checkout.session.completed.json"))
	e.deliver(subscriptionEvent(t, "evt_active", "", checkoutAt+10, "active", periodEnd1))
	if got := e.deliver(invoicePaid(t, "evt_paid", periodEnd1+200, periodEnd2)); got != billing.StatusApplied {
		t.Errorf("payment: outcome %q, want applied", got)
	}

	// The past_due update happened before the payment but arrives after it.
	late := subscriptionEvent(t, "evt_late_past_due", "", periodEnd1+100, "past_due", periodEnd1)
	if got := e.deliver(late); got != billing.StatusIgnored {
		t.Errorf("late past_due: outcome %q, want ignored", got)
	}
	wantState(t, "after late past_due", e.checkoutLicense(tenant.Default, subSession),
		license.StatusActive, at(periodEnd2).Add(grace))
}
