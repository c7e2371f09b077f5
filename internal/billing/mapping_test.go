package billing

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/tenant"
)

// linkStore is a Store that contains only the tenants of some Stripe
// objects.
type linkStore struct {
	Store
	links map[string]tenant.ID
}

func (s linkStore) StripeObjectTenant(_ context.Context, ids ...string) (tenant.ID, error) {
	for _, id := range ids {
		if tid, ok := s.links[id]; ok {
			return tid, nil
		}
	}
	return "", tenant.ErrNotFound
}

func newTestService(t *testing.T, links map[string]tenant.ID) *Service {
	t.Helper()
	hasher, err := license.NewHasher(strings.Repeat("h", 32))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewService(Options{Store: linkStore{links: links}, Hasher: hasher,
		CheckoutKeySecret: strings.Repeat("c", 32), GracePeriod: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func event(typ, object string) Event {
	return Event{ID: "evt_1", Type: typ, Created: time.Unix(1767225600, 0), Object: []byte(object)}
}

func TestInvoiceOfNewerAPIVersion(t *testing.T) {
	s := newTestService(t, nil)
	// From API version 2025-03-31 the subscription is under parent.
	eff, err := s.effectOf(context.Background(), event("invoice.paid", `{"id":"in_1",
		"parent":{"type":"subscription_details","subscription_details":{"subscription":"sub_1","metadata":{"tenant_id":"acme"}}},
		"lines":{"data":[{"period":{"start":1767225600,"end":1769904000}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if eff.TenantID != "acme" || eff.Update == nil || eff.Update.SubscriptionID != "sub_1" {
		t.Fatalf("effect = %+v, update %+v", eff, eff.Update)
	}
	if want := time.Unix(1769904000, 0).Add(time.Hour); !eff.Update.ExtendTo.Equal(want) {
		t.Errorf("ExtendTo = %v, want %v", eff.Update.ExtendTo, want)
	}
}

func TestSubscriptionPeriodEndOnItems(t *testing.T) {
	s := newTestService(t, map[string]tenant.ID{"sub_1": "acme"})
	eff, err := s.effectOf(context.Background(), event("customer.subscription.updated", `{"id":"sub_1",
		"status":"trialing","customer":{"id":"cus_1","object":"customer"},
		"items":{"data":[{"current_period_end":1769904000}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if eff.TenantID != "acme" {
		t.Errorf("tenant = %s, want acme from the linked subscription", eff.TenantID)
	}
	st := eff.Subscription
	if st == nil || st.Status != license.StatusActive || st.ExpiresAt == nil ||
		!st.ExpiresAt.Equal(time.Unix(1769904000, 0).Add(time.Hour)) {
		t.Errorf("state = %+v", st)
	}
}

func TestEventsThatChangeNothing(t *testing.T) {
	s := newTestService(t, nil)
	cases := map[string]Event{
		"unknown type":        event("customer.created", `{"id":"cus_1"}`),
		"incomplete":          event("customer.subscription.created", `{"id":"sub_1","status":"incomplete"}`),
		"dispute warning":     event("charge.dispute.closed", `{"id":"dp_1","status":"warning_closed","payment_intent":"pi_1"}`),
		"invoice without sub": event("invoice.paid", `{"id":"in_1","subscription":null}`),
		"unpaid session":      event("checkout.session.completed", `{"id":"cs_1","payment_status":"unpaid"}`),
	}
	for name, ev := range cases {
		var unhandled errUnhandled
		if _, err := s.effectOf(context.Background(), ev); !errors.As(err, &unhandled) {
			t.Errorf("%s: err = %v, want it ignored", name, err)
		}
	}
}

func TestPermanentFailures(t *testing.T) {
	s := newTestService(t, nil)
	cases := map[string]Event{
		"missing email":  event("checkout.session.completed", `{"id":"cs_1","payment_status":"paid"}`),
		"invalid tenant": event("checkout.session.completed", `{"id":"cs_1","payment_status":"paid","metadata":{"tenant_id":"Not Valid"}}`),
		"not an object":  event("customer.subscription.updated", `[1,2]`),
	}
	for name, ev := range cases {
		var perm *PermanentError
		if _, err := s.effectOf(context.Background(), ev); !errors.As(err, &perm) {
			t.Errorf("%s: err = %v, want a permanent failure", name, err)
		}
	}
}

func TestParseEventRequiresFields(t *testing.T) {
	for _, body := range []string{`{}`, `{"id":"evt_1"}`, `{"id":"evt_1","type":"x"}`,
		`{"id":"evt_1","type":"x","created":1}`, `not json`} {
		if _, err := ParseEvent([]byte(body)); err == nil {
			t.Errorf("ParseEvent(%s) accepted", body)
		}
	}
	ev, err := ParseEvent([]byte(`{"id":"evt_1","type":"x","created":1767225600,"data":{"object":{"id":"o"}}}`))
	if err != nil || ev.ID != "evt_1" || !ev.Created.Equal(time.Unix(1767225600, 0)) {
		t.Errorf("ParseEvent = %+v, %v", ev, err)
	}
}
