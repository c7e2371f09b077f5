package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"DATABASE_URL": "postgres://a@h/db"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":3000" || c.Region != "local" || c.ShutdownTimeout != 15*time.Second {
		t.Errorf("defaults = %q %q %v", c.HTTPAddr, c.Region, c.ShutdownTimeout)
	}
	if c.DrainDelay != 5*time.Second {
		t.Errorf("DrainDelay = %v, want 5s", c.DrainDelay)
	}
	if c.MigrationDatabaseURL != c.DatabaseURL {
		t.Errorf("MigrationDatabaseURL = %q, want DATABASE_URL", c.MigrationDatabaseURL)
	}
}

func TestLoadMissingDatabaseURL(t *testing.T) {
	_, err := Load(env(nil))
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL is required") {
		t.Errorf("err = %v, want one that names DATABASE_URL", err)
	}
}

func TestLoadInvalidValues(t *testing.T) {
	_, err := Load(env(map[string]string{"DATABASE_URL": "x", "LOG_LEVEL": "loud", "SHUTDOWN_TIMEOUT": "soon", "DRAIN_DELAY": "-1s"}))
	if err == nil {
		t.Fatal("no error")
	}
	for _, name := range []string{"LOG_LEVEL", "SHUTDOWN_TIMEOUT", "DRAIN_DELAY"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("err = %v, want it to name %s", err, name)
		}
	}
}

func TestLogValueMasksSecrets(t *testing.T) {
	c := Config{DatabaseURL: "postgres://u:hunter2@h/db", LicenseKeySecret: "s3cr3t-value"}
	got := c.LogValue().String()
	if strings.Contains(got, "hunter2") || strings.Contains(got, "s3cr3t-value") {
		t.Errorf("LogValue leaks a secret: %s", got)
	}
}

func TestLoadZeroDrainDelay(t *testing.T) {
	c, err := Load(env(map[string]string{"DATABASE_URL": "x", "DRAIN_DELAY": "0s"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DrainDelay != 0 {
		t.Errorf("DrainDelay = %v, want 0", c.DrainDelay)
	}
}

func TestHTTPAddrWithoutDatabaseURL(t *testing.T) {
	if got := HTTPAddr(env(nil)); got != ":3000" {
		t.Errorf("HTTPAddr = %q, want :3000", got)
	}
	if got := HTTPAddr(env(map[string]string{"HTTP_ADDR": "127.0.0.1:8080"})); got != "127.0.0.1:8080" {
		t.Errorf("HTTPAddr = %q, want 127.0.0.1:8080", got)
	}
}
