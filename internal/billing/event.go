// Package billing turns verified Stripe webhook events into changes of
// licenses: issuing one when a checkout is paid, and suspending,
// reinstating, extending or revoking it as its subscription or payment
// changes. It decodes only the fields it uses, which are the same in every
// Stripe API version from 2023-10-16 on unless noted at the field.
package billing

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Event is a Stripe event whose signature has been verified.
type Event struct {
	ID         string
	Type       string
	APIVersion string
	Created    time.Time
	// Object is the raw data.object of the event.
	Object json.RawMessage
	// Payload is the whole body as Stripe sent it, stored for retries.
	Payload []byte
}

type eventEnvelope struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	APIVersion string `json:"api_version"`
	Created    int64  `json:"created"`
	Data       struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// ParseEvent decodes the envelope of a Stripe event. It returns an error
// naming the field when id, type, created or data.object is missing.
func ParseEvent(payload []byte) (Event, error) {
	var env eventEnvelope
	if err := json.Unmarshal(payload, &env); err != nil {
		// The decoder's message names Go types, which mean nothing to a
		// Stripe integrator, so it is left out.
		return Event{}, errors.New("event body is not a JSON Stripe event object")
	}
	switch {
	case env.ID == "":
		return Event{}, errors.New("event field id is missing")
	case env.Type == "":
		return Event{}, errors.New("event field type is missing")
	case env.Created <= 0:
		return Event{}, errors.New("event field created is missing")
	case len(env.Data.Object) == 0 || string(env.Data.Object) == "null":
		return Event{}, errors.New("event field data.object is missing")
	}
	return Event{
		ID:         env.ID,
		Type:       env.Type,
		APIVersion: env.APIVersion,
		Created:    time.Unix(env.Created, 0).UTC(),
		Object:     env.Data.Object,
		Payload:    payload,
	}, nil
}

// expandableID is a Stripe reference that is either an ID string or, when
// expanded, an object with an id field.
type expandableID string

func (e *expandableID) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*e = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*e = expandableID(s)
		return nil
	}
	var obj struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("expected an ID or an object with an id: %w", err)
	}
	*e = expandableID(obj.ID)
	return nil
}

// checkoutSession is the part of a Checkout Session object used here.
type checkoutSession struct {
	ID              string            `json:"id"`
	Mode            string            `json:"mode"`
	PaymentStatus   string            `json:"payment_status"`
	Customer        expandableID      `json:"customer"`
	CustomerEmail   string            `json:"customer_email"`
	Subscription    expandableID      `json:"subscription"`
	PaymentIntent   expandableID      `json:"payment_intent"`
	Metadata        map[string]string `json:"metadata"`
	CustomerDetails *struct {
		Email string `json:"email"`
	} `json:"customer_details"`
}

// subscription is the part of a Subscription object used here.
type subscription struct {
	ID       string            `json:"id"`
	Status   string            `json:"status"`
	Customer expandableID      `json:"customer"`
	Metadata map[string]string `json:"metadata"`
	// CurrentPeriodEnd is on the subscription before API version
	// 2025-03-31.basil, which moved it to each item (Stripe API changelog).
	CurrentPeriodEnd int64 `json:"current_period_end"`
	Items            struct {
		Data []struct {
			CurrentPeriodEnd int64 `json:"current_period_end"`
		} `json:"data"`
	} `json:"items"`
}

// periodEnd returns the latest current period end of the subscription or
// its items, or zero when none is set.
func (s subscription) periodEnd() int64 {
	end := s.CurrentPeriodEnd
	for _, item := range s.Items.Data {
		end = max(end, item.CurrentPeriodEnd)
	}
	return end
}

// subscriptionDetails is the subscription part of an invoice.
type subscriptionDetails struct {
	Subscription expandableID      `json:"subscription"`
	Metadata     map[string]string `json:"metadata"`
}

// invoice is the part of an Invoice object used here. API version
// 2025-03-31.basil moved subscription and subscription_details to
// parent.subscription_details (Stripe API changelog).
type invoice struct {
	ID                  string               `json:"id"`
	Customer            expandableID         `json:"customer"`
	Subscription        expandableID         `json:"subscription"`
	SubscriptionDetails *subscriptionDetails `json:"subscription_details"`
	Parent              *struct {
		SubscriptionDetails *subscriptionDetails `json:"subscription_details"`
	} `json:"parent"`
	Lines struct {
		Data []struct {
			Period struct {
				End int64 `json:"end"`
			} `json:"period"`
		} `json:"data"`
	} `json:"lines"`
}

// subscriptionID returns the invoice's subscription and its metadata from
// whichever place the event's API version puts them.
func (inv invoice) subscriptionID() (string, map[string]string) {
	id, md := string(inv.Subscription), map[string]string(nil)
	for _, d := range []*subscriptionDetails{inv.SubscriptionDetails, inv.parentDetails()} {
		if d == nil {
			continue
		}
		if id == "" {
			id = string(d.Subscription)
		}
		if md == nil {
			md = d.Metadata
		}
	}
	return id, md
}

func (inv invoice) parentDetails() *subscriptionDetails {
	if inv.Parent == nil {
		return nil
	}
	return inv.Parent.SubscriptionDetails
}

// periodEnd returns the latest period end of the invoice's lines.
func (inv invoice) periodEnd() int64 {
	var end int64
	for _, line := range inv.Lines.Data {
		end = max(end, line.Period.End)
	}
	return end
}

// charge is the part of a Charge object used here.
type charge struct {
	ID             string            `json:"id"`
	Amount         int64             `json:"amount"`
	AmountRefunded int64             `json:"amount_refunded"`
	Refunded       bool              `json:"refunded"`
	PaymentIntent  expandableID      `json:"payment_intent"`
	Metadata       map[string]string `json:"metadata"`
}

// dispute is the part of a Dispute object used here.
type dispute struct {
	ID            string            `json:"id"`
	Status        string            `json:"status"`
	Charge        expandableID      `json:"charge"`
	PaymentIntent expandableID      `json:"payment_intent"`
	Metadata      map[string]string `json:"metadata"`
}
