package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rescuepc/licensing/internal/testnet"

	"github.com/rescuepc/licensing/internal/pgtest"
)

const testWebhookSecret = "whsec_cli_test_0123456789"

// postFixture sends a file to the webhook with the signature that
// 'licensing stripe sign-fixture' prints, as the README's curl demo does.
func postFixture(t *testing.T, getenv func(string) string, base, file string) string {
	t.Helper()
	signature := strings.TrimSpace(mustRunCLI(t, getenv, "stripe", "sign-fixture", file))
	body, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/webhooks/stripe", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", signature)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Outcome string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook: status %d, decode error %v", resp.StatusCode, err)
	}
	return out.Outcome
}

func checkoutKey(t *testing.T, base, session string) string {
	t.Helper()
	resp, err := http.Get(base + "/api/checkout-sessions/" + session + "/license")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ LicenseKey string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("checkout license: status %d, decode error %v", resp.StatusCode, err)
	}
	return out.LicenseKey
}

func TestStripeFixtureThroughServer(t *testing.T) {
	db := pgtest.New(t)
	getenv := testEnv(db.AppURL, "HTTP_ADDR", testnet.FreeAddr(t), "STRIPE_WEBHOOK_SECRET", "whsec_old_one,"+testWebhookSecret)
	base := startServer(t, getenv)
	fixture := filepath.Join("..", "..", "testdata", "stripe", "checkout.session.completed.json")

	if got := postFixture(t, getenv, base, fixture); got != "applied" {
		t.Fatalf("outcome %q, want applied", got)
	}
	if got := postFixture(t, getenv, base, fixture); got != "duplicate" {
		t.Errorf("second delivery: outcome %q, want duplicate", got)
	}
	key := checkoutKey(t, base, "cs_test_a1SubscriptionCheckout0001")
	if code := verify(t, base, "", "buyer@example.com", key); code != "VALID" {
		t.Errorf("verify the checkout key: %s, want VALID", code)
	}

	mustRunCLI(t, getenv, "licenses", "suspend", "--tenant", "default", key)
	out := mustRunCLI(t, getenv, "licenses", "show", "--tenant", "default", key)
	for _, want := range []string{"buyer@example.com", "suspended", "(issued)", "evt_1PcheckoutSub0000000001", "operator"} {
		if !strings.Contains(out, want) {
			t.Errorf("licenses show does not print %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, key) {
		t.Errorf("licenses show printed the whole key:\n%s", out)
	}
}

func TestEventsListAndRetry(t *testing.T) {
	db := pgtest.New(t)
	getenv := testEnv(db.AppURL, "HTTP_ADDR", testnet.FreeAddr(t), "STRIPE_WEBHOOK_SECRET", testWebhookSecret)
	base := startServer(t, getenv)

	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "stripe", "checkout.session.completed.payment.json"))
	if err != nil {
		t.Fatal(err)
	}
	fixture := filepath.Join(t.TempDir(), "event.json")
	writeFile(t, fixture, strings.Replace(string(raw), `"tenant_id": "default"`, `"tenant_id": "newco"`, 1))
	if got := postFixture(t, getenv, base, fixture); got != "failed" {
		t.Fatalf("outcome %q, want failed", got)
	}

	out := mustRunCLI(t, getenv, "events", "list", "--failed")
	if !strings.Contains(out, "evt_1PcheckoutPay0000000001") || !strings.Contains(out, "tenant newco does not exist") {
		t.Errorf("events list --failed:\n%s", out)
	}
	if _, _, err := runCLI(t, getenv, "events", "retry", "evt_1PcheckoutPay0000000001"); err == nil {
		t.Error("retry succeeded before the tenant exists")
	}

	mustRunCLI(t, getenv, "tenants", "create", "newco")
	out = mustRunCLI(t, getenv, "events", "retry", "evt_1PcheckoutPay0000000001")
	if !strings.Contains(out, "applied") {
		t.Errorf("events retry: %s", out)
	}
	if out := mustRunCLI(t, getenv, "events", "list", "--failed"); strings.Contains(out, "evt_1PcheckoutPay0000000001") {
		t.Errorf("retried event is still listed as failed:\n%s", out)
	}
	if out := mustRunCLI(t, getenv, "licenses", "list", "--tenant", "newco"); !strings.Contains(out, "lifetime@example.com") {
		t.Errorf("no license in newco after retry:\n%s", out)
	}
}
