package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadStripeDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"DATABASE_URL": "x", "LICENSE_KEY_SECRET": "license-secret"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Stripe.GracePeriod != 72*time.Hour {
		t.Errorf("GracePeriod = %v, want 72h", c.Stripe.GracePeriod)
	}
	if c.Stripe.CheckoutKeySecret != "license-secret" {
		t.Errorf("CheckoutKeySecret = %q, want LICENSE_KEY_SECRET", c.Stripe.CheckoutKeySecret)
	}
	if len(c.Stripe.WebhookSecrets) != 0 {
		t.Errorf("WebhookSecrets = %q, want none", c.Stripe.WebhookSecrets)
	}
}

func TestLoadStripeSecrets(t *testing.T) {
	c, err := Load(env(map[string]string{
		"DATABASE_URL":          "x",
		"STRIPE_WEBHOOK_SECRET": " whsec_old , whsec_new,",
		"CHECKOUT_KEY_SECRET":   "checkout-secret",
		"LICENSE_GRACE_PERIOD":  "24h",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"whsec_old", "whsec_new"}; !slices.Equal(c.Stripe.WebhookSecrets, want) {
		t.Errorf("WebhookSecrets = %q, want %q", c.Stripe.WebhookSecrets, want)
	}
	if c.Stripe.CheckoutKeySecret != "checkout-secret" {
		t.Errorf("CheckoutKeySecret = %q", c.Stripe.CheckoutKeySecret)
	}
	if c.Stripe.GracePeriod != 24*time.Hour {
		t.Errorf("GracePeriod = %v, want 24h", c.Stripe.GracePeriod)
	}
}

func TestLoadStripeInvalidGracePeriod(t *testing.T) {
	_, err := Load(env(map[string]string{"DATABASE_URL": "x", "LICENSE_GRACE_PERIOD": "3 days"}))
	if err == nil || !strings.Contains(err.Error(), "LICENSE_GRACE_PERIOD") {
		t.Errorf("err = %v, want one that names LICENSE_GRACE_PERIOD", err)
	}
}
