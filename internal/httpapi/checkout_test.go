package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/rescuepc/licensing/internal/billing"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/tenant"
)

type checkoutBody struct {
	LicenseKey string `json:"licenseKey"`
	Email      string `json:"email"`
	Status     string `json:"status"`
	Plan       string `json:"plan"`
}

func (e *stripeEnv) getCheckout(tenantHeader, sessionID string) response {
	e.t.Helper()
	req := request{method: http.MethodGet, path: "/api/checkout-sessions/" + sessionID + "/license"}
	if tenantHeader != "" {
		req.headers = map[string]string{"X-Tenant-ID": tenantHeader}
	}
	return e.do(req)
}

func wantNotReady(t *testing.T, step string, resp response) {
	t.Helper()
	if resp.status != http.StatusNotFound || resp.header.Get("Retry-After") != "2" {
		t.Errorf("%s: status %d, Retry-After %q; want 404 and 2; body %s",
			step, resp.status, resp.header.Get("Retry-After"), resp.body)
	}
}

func decodeCheckout(t *testing.T, resp response) checkoutBody {
	t.Helper()
	if resp.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", resp.status, resp.body)
	}
	var body checkoutBody
	if err := json.Unmarshal(resp.body, &body); err != nil {
		t.Fatal(err)
	}
	return body
}

func TestCheckoutLicenseBeforeAndAfterWebhook(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	wantNotReady(t, "before webhook", e.getCheckout("", subSession))

	e.deliver(checkoutEvent(t, "checkout.session.completed.json"))
	body := decodeCheckout(t, e.getCheckout("", subSession))
	if body.Email != "buyer@example.com" || body.Status != "active" || body.Plan != "pro" {
		t.Errorf("license = %+v", body)
	}
	if v := e.verify("", body.Email, body.LicenseKey); !v.Valid {
		t.Errorf("verify the returned key: %+v, want valid", v)
	}

	e.mustTenant("acme")
	wantNotReady(t, "other tenant", e.getCheckout("acme", subSession))
	if resp := e.getCheckout("", "not-a-session"); resp.status != http.StatusBadRequest {
		t.Errorf("malformed ID: status %d, want 400", resp.status)
	}
}

// paidSessionServer serves the documented shape of a paid checkout
// session at GET /v1/checkout/sessions/{id}, and 404 for any other ID.
func paidSessionServer(t *testing.T, sessionID string, calls *atomic.Int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodGet || r.URL.Path != "/v1/checkout/sessions/"+sessionID {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such checkout.session"}}`)
			return
		}
		fmt.Fprintf(w, `{"id":%q,"object":"checkout.session","mode":"payment","status":"complete",
			"payment_status":"paid","customer":"cus_Fallback0001","payment_intent":"pi_Fallback0001",
			"subscription":null,"customer_email":null,"metadata":{"tenant_id":"default","plan":"pro"},
			"customer_details":{"email":"early@example.com","name":"Early Buyer"}}`, sessionID)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCheckoutLicenseStripeFallback(t *testing.T) {
	const session = "cs_test_fallback0001"
	var calls atomic.Int32
	stripeAPI := paidSessionServer(t, session, &calls)
	e := newStripeEnv(t, "", billing.Options{Sessions: billing.NewStripeSessions("sk_test_123", stripeAPI.URL)})

	body := decodeCheckout(t, e.getCheckout("", session))
	if body.Email != "early@example.com" || body.Plan != "pro" || body.Status != "active" {
		t.Errorf("license = %+v", body)
	}
	if calls.Load() != 1 {
		t.Errorf("Stripe API called %d times, want 1", calls.Load())
	}
	wantNotReady(t, "unknown session", e.getCheckout("", "cs_test_unknown"))

	// The webhook that arrives later finds the license issued.
	ev := checkoutEvent(t, "checkout.session.completed.payment.json")
	ev.set("id", session).set("payment_intent", "pi_Fallback0001").
		set("customer_details", map[string]any{"email": "early@example.com"})
	if got := e.deliver(ev); got != billing.StatusApplied {
		t.Errorf("webhook outcome %q, want applied", got)
	}
	list, err := e.db.ListLicenses(t.Context(), tenant.Default, "early@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Errorf("%d licenses for the session, want 1", len(list))
	}
	again := decodeCheckout(t, e.getCheckout("", session))
	if again.LicenseKey != body.LicenseKey {
		t.Errorf("key changed from %s to %s", body.LicenseKey, again.LicenseKey)
	}
}

// TestCheckoutLicenseStripeMock asks a local stripe-mock, when installed,
// for a session. stripe-mock returns an unpaid session, so no license is
// issued and the endpoint keeps answering 404.
func TestCheckoutLicenseStripeMock(t *testing.T) {
	path, err := exec.LookPath("stripe-mock")
	if err != nil {
		t.Skip("stripe-mock is not on PATH; install it with: go install github.com/stripe/stripe-mock@latest")
	}
	apiURL, requests := startStripeMock(t, path)
	e := newStripeEnv(t, "", billing.Options{Sessions: billing.NewStripeSessions("sk_test_123", apiURL)})

	wantNotReady(t, "unpaid session", e.getCheckout("", "cs_test_mock0001"))
	select {
	case line := <-requests:
		if !strings.Contains(line, "/v1/checkout/sessions/cs_test_mock0001") {
			t.Errorf("stripe-mock got %q, want the session's path", line)
		}
	case <-time.After(10 * time.Second):
		t.Error("stripe-mock logged no request")
	}
	if _, err := e.db.CheckoutLicense(t.Context(), tenant.Default, "cs_test_mock0001"); err == nil {
		t.Error("an unpaid session got a license")
	}
}

// startStripeMock runs stripe-mock on loopback ports until the test ends
// and returns its HTTP URL and the request lines it logs.
func startStripeMock(t *testing.T, path string) (string, <-chan string) {
	t.Helper()
	httpAddr, httpsAddr := freeLoopbackAddr(t), freeLoopbackAddr(t)
	cmd := exec.Command(path, "-http-addr", httpAddr, "-https-addr", httpsAddr)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	requests := make(chan string, 16)
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			if strings.HasPrefix(scanner.Text(), "Request:") {
				requests <- scanner.Text()
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	waitForListener(t, httpAddr)
	return "http://" + httpAddr, requests
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitForListener polls addr for up to 15 seconds.
func waitForListener(t *testing.T, addr string) {
	t.Helper()
	for range 150 {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("stripe-mock did not listen on %s", addr)
}

func TestCheckoutKeyUnavailableAfterSecretChange(t *testing.T) {
	e := newStripeEnv(t, "", billing.Options{})
	issue := billing.Issue{SessionID: "cs_test_rotated", Email: "r@example.com", Plan: "pro",
		KeyHash: e.hasher.Hash(license.CheckoutKey("another-secret-another-secret-0123", "cs_test_rotated"))}
	if _, err := e.db.IssueCheckoutLicense(t.Context(), tenant.Default, issue, "test"); err != nil {
		t.Fatal(err)
	}
	if resp := e.getCheckout("", "cs_test_rotated"); resp.status != http.StatusConflict {
		t.Errorf("status %d, want 409; body %s", resp.status, resp.body)
	}
}

// TestStripeEndpointsMatchOpenAPI checks the Stripe endpoints' requests and
// responses against api/openapi.yaml.
func TestStripeEndpointsMatchOpenAPI(t *testing.T) {
	router := loadSpec(t)
	e := newStripeEnv(t, "", billing.Options{})
	payload := checkoutEvent(t, "checkout.session.completed.json").bytes(t)
	badPayload := []byte(`{}`)

	cases := []struct {
		name, method, path, signature string
		body                          []byte
		status                        int
	}{
		{"not ready", http.MethodGet, "/api/checkout-sessions/" + subSession + "/license", "", nil, 404},
		{"event", http.MethodPost, "/api/webhooks/stripe", sign(payload, webhookSecret, time.Now()), payload, 200},
		{"duplicate", http.MethodPost, "/api/webhooks/stripe", sign(payload, webhookSecret, time.Now()), payload, 200},
		{"bad signature", http.MethodPost, "/api/webhooks/stripe", "t=1,v1=00", payload, 400},
		{"not an event", http.MethodPost, "/api/webhooks/stripe", sign(badPayload, webhookSecret, time.Now()), badPayload, 400},
		{"license", http.MethodGet, "/api/checkout-sessions/" + subSession + "/license", "", nil, 200},
		{"bad id", http.MethodGet, "/api/checkout-sessions/x/license", "", nil, 400},
	}
	for _, tc := range cases {
		req, err := http.NewRequest(tc.method, e.server.URL+tc.path, bytes.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		if tc.body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if tc.signature != "" {
			req.Header.Set("Stripe-Signature", tc.signature)
		}
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("%s: route not in spec: %v", tc.name, err)
		}
		in := &openapi3filter.RequestValidationInput{Request: req.Clone(t.Context()), PathParams: params, Route: route}
		in.Request.Body = io.NopCloser(bytes.NewReader(tc.body))
		if err := openapi3filter.ValidateRequest(t.Context(), in); err != nil && tc.status != 400 {
			t.Errorf("%s: request does not match the spec: %v", tc.name, err)
		}

		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d; body %s", tc.name, resp.StatusCode, tc.status, body)
			continue
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
			Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body))}
		if err := openapi3filter.ValidateResponse(t.Context(), out); err != nil {
			t.Errorf("%s: response does not match the spec: %v; body %s", tc.name, err, body)
		}
	}
}
