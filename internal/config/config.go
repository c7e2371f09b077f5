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
	// Scale holds the cache, rate-limit, pool, timeout and metrics settings.
	Scale Scale
}

// Load reads the configuration through getenv, usually os.Getenv. It
// returns one error that lists every malformed or missing variable.
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		DatabaseURL:          strings.TrimSpace(getenv("DATABASE_URL")),
		MigrationDatabaseURL: strings.TrimSpace(getenv("MIGRATION_DATABASE_URL")),
		LicenseKeySecret:     getenv("LICENSE_KEY_SECRET"),
		HTTPAddr:             withDefault(getenv("HTTP_ADDR"), ":3000"),
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
	errs = append(errs, loadScale(getenv, &c.Scale)...)
	return c, errors.Join(errs...)
}

// LogValue lists the settings for the start-up log line, with secrets and
// passwords masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("http_addr", c.HTTPAddr),
		slog.String("region", c.Region),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("shutdown_timeout", c.ShutdownTimeout.String()),
		slog.String("database_url", Redact(c.DatabaseURL)),
		slog.Bool("license_key_secret_set", c.LicenseKeySecret != ""),
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
