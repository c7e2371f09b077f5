package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Replica holds the settings of an optional streaming read replica.
type Replica struct {
	// URL is the replica's connection string for read-only lookups, as a
	// role subject to row-level security. Empty sends every read to the
	// primary.
	URL string
	// MaxLag is the replica lag beyond which every read goes to the primary.
	MaxLag time.Duration
	// StaleAfter is the replica lag beyond which a lookup that found no
	// valid license is confirmed on the primary.
	StaleAfter time.Duration
	// ConfirmRate limits those confirmations, per second and instance.
	ConfirmRate float64
}

func loadReplica(getenv func(string) string) (Replica, error) {
	r := Replica{URL: strings.TrimSpace(getenv("DATABASE_READ_URL"))}
	var errs []error
	var err error
	if r.MaxLag, err = parseDuration(getenv, "REPLICA_MAX_LAG", 30*time.Second); err != nil {
		errs = append(errs, err)
	}
	if r.StaleAfter, err = parseDuration(getenv, "REPLICA_STALE_AFTER", time.Second); err != nil {
		errs = append(errs, err)
	}
	if r.ConfirmRate, err = parsePositiveFloat(getenv, "REPLICA_CONFIRM_RATE", 50); err != nil {
		errs = append(errs, err)
	}
	return r, errors.Join(errs...)
}

func parsePositiveFloat(getenv func(string) string, name string, def float64) (float64, error) {
	raw := strings.TrimSpace(getenv(name))
	if raw == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%s %q is invalid: use a positive number", name, raw)
	}
	return f, nil
}
