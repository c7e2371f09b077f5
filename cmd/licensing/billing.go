package main

import (
	"log/slog"

	"github.com/rescuepc/licensing/internal/billing"
	"github.com/rescuepc/licensing/internal/config"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/postgres"
)

// newBillingService wires the Stripe webhook and checkout endpoints. With
// STRIPE_WEBHOOK_SECRET missing the webhook responds 503, and with
// STRIPE_SECRET_KEY missing no session is retrieved from Stripe.
func newBillingService(cfg config.Config, db *postgres.DB, hasher *license.Hasher, logger *slog.Logger) (*billing.Service, error) {
	if len(cfg.Stripe.WebhookSecrets) == 0 {
		logger.Warn("STRIPE_WEBHOOK_SECRET is not set, so POST /api/webhooks/stripe responds 503 and rejects every Stripe event; set it to the endpoint's signing secret")
	}
	return billing.NewService(billingOptions(cfg, db, hasher, logger))
}

func billingOptions(cfg config.Config, db *postgres.DB, hasher *license.Hasher, logger *slog.Logger) billing.Options {
	opts := billing.Options{
		Store:             db,
		Hasher:            hasher,
		CheckoutKeySecret: cfg.Stripe.CheckoutKeySecret,
		WebhookSecrets:    cfg.Stripe.WebhookSecrets,
		GracePeriod:       cfg.Stripe.GracePeriod,
		Logger:            logger,
	}
	if cfg.Stripe.SecretKey != "" {
		opts.Sessions = billing.NewStripeSessions(cfg.Stripe.SecretKey, cfg.Stripe.APIURL)
	}
	return opts
}
