// Package config reads the service's settings from the environment.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Config holds every setting of the service. Load reads it once; the rest of
// the program receives it, or parts of it, as arguments.
type Config struct {
	// DatabaseURL is the server's connection string, as a role subject to
	// row-level security.
	DatabaseURL string
	// MigrationDatabaseURL is the connection string for migrations, as the
	// tables' owner. It defaults to DatabaseURL.
	MigrationDatabaseURL string
	// LicenseKeySecret keys the HMAC under which license keys are stored.
	LicenseKeySecret string
	HTTPAddr         string
	Region           string
	LogLevel         slog.Level
	ShutdownTimeout  time.Duration
	// DrainDelay is how long the server keeps serving after SIGTERM while
	// /api/health returns 503, so load balancers stop sending it requests
	// before it closes its listener. Zero skips the delay.
	DrainDelay time.Duration
	Stripe     Stripe
	Replica    Replica
	// Scale holds the cache, rate-limit, pool, timeout and metrics settings.
	Scale Scale
}

// Stripe holds the settings of the Stripe webhook and checkout endpoints.
type Stripe struct {
	// WebhookSecrets are the endpoint signing secrets (whsec_...). An event
	// signed with any of them is accepted. Empty disables the webhook.
	WebhookSecrets []string
	// SecretKey is the API key used to retrieve a checkout session whose
	// webhook has not arrived. Empty disables the lookup.
	SecretKey string
	// APIURL overrides the Stripe API base URL, such as a local stripe-mock.
	APIURL string
	// CheckoutKeySecret keys the derivation of a checkout session's license
	// key. It defaults to LicenseKeySecret.
	CheckoutKeySecret string
	// GracePeriod is added to a subscription's period end.
	GracePeriod time.Duration
}

// Load reads the configuration through getenv, usually os.Getenv. It
// returns one error that lists every malformed or missing variable.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL:          strings.TrimSpace(getenv("DATABASE_URL")),
		MigrationDatabaseURL: strings.TrimSpace(getenv("MIGRATION_DATABASE_URL")),
		LicenseKeySecret:     getenv("LICENSE_KEY_SECRET"),
		HTTPAddr:             HTTPAddr(getenv),
		Region:               withDefault(getenv("APP_REGION"), "local"),
	}
	var errs []error
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required, such as postgres://licensing@127.0.0.1:5432/licensing"))
	}
	if c.MigrationDatabaseURL == "" {
		c.MigrationDatabaseURL = c.DatabaseURL
	}
	if err := c.LogLevel.UnmarshalText([]byte(withDefault(getenv("LOG_LEVEL"), "info"))); err != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL %q is invalid: use debug, info, warn or error", getenv("LOG_LEVEL")))
	}
	var err error
	if c.ShutdownTimeout, err = parseDuration(getenv, "SHUTDOWN_TIMEOUT", 15*time.Second); err != nil {
		errs = append(errs, err)
	}
	if c.DrainDelay, err = parseDrainDelay(getenv); err != nil {
		errs = append(errs, err)
	}
	if c.Stripe, err = loadStripe(getenv, c.LicenseKeySecret); err != nil {
		errs = append(errs, err)
	}
	if c.Replica, err = loadReplica(getenv); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, loadScale(getenv, &c.Scale)...)
	return c, errors.Join(errs...)
}

// HTTPAddr returns the server's listen address from HTTP_ADDR, :3000 when
// unset. Commands that need no database, such as healthcheck, read it
// without Load.
func HTTPAddr(getenv func(string) string) string {
	return withDefault(getenv("HTTP_ADDR"), ":3000")
}

func loadStripe(getenv func(string) string, licenseKeySecret string) (Stripe, error) {
	s := Stripe{
		SecretKey:         strings.TrimSpace(getenv("STRIPE_SECRET_KEY")),
		APIURL:            strings.TrimSpace(getenv("STRIPE_API_URL")),
		CheckoutKeySecret: getenv("CHECKOUT_KEY_SECRET"),
	}
	for _, secret := range strings.Split(getenv("STRIPE_WEBHOOK_SECRET"), ",") {
		if secret = strings.TrimSpace(secret); secret != "" {
			s.WebhookSecrets = append(s.WebhookSecrets, secret)
		}
	}
	if s.CheckoutKeySecret == "" {
		s.CheckoutKeySecret = licenseKeySecret
	}
	var err error
	s.GracePeriod, err = parseDuration(getenv, "LICENSE_GRACE_PERIOD", 72*time.Hour)
	return s, err
}

// LogValue lists the settings for the start-up log line, with secrets and
// passwords masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.String("region", c.Region),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("shutdown_timeout", c.ShutdownTimeout.String()),
		slog.String("drain_delay", c.DrainDelay.String()),
		slog.String("database_url", Redact(c.DatabaseURL)),
		slog.String("database_read_url", Redact(c.Replica.URL)),
		slog.Bool("license_key_secret_set", c.LicenseKeySecret != ""),
		slog.Int("stripe_webhook_secrets", len(c.Stripe.WebhookSecrets)),
		slog.Bool("stripe_secret_key_set", c.Stripe.SecretKey != ""),
		slog.String("stripe_api_url", Redact(c.Stripe.APIURL)),
		slog.String("license_grace_period", c.Stripe.GracePeriod.String()),
		slog.Attr{Key: "scale", Value: c.Scale.LogValue()},
	)
}

func withDefault(v, def string) string {
	if v = strings.TrimSpace(v); v == "" {
		return def
	}
	return v
}

func parseDuration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	raw := strings.TrimSpace(getenv(name))
	if raw == "" {
		return def, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s %q is invalid: use a positive duration such as 15s", name, raw)
	}
	return d, nil
}

// parseDrainDelay reads DRAIN_DELAY, 5s when unset. Unlike the other
// durations it may be zero.
func parseDrainDelay(getenv func(string) string) (time.Duration, error) {
	raw := strings.TrimSpace(getenv("DRAIN_DELAY"))
	if raw == "" {
		return 5 * time.Second, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("DRAIN_DELAY %q is invalid: use a duration of zero or more such as 5s", raw)
	}
	return d, nil
}
