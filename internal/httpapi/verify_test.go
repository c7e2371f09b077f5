package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/tenant"
)

func TestVerifyCodes(t *testing.T) {
	e := newEnv(t)
	past, future := time.Now().Add(-time.Minute), time.Now().Add(48*time.Hour).Truncate(time.Second)
	e.mustLicense(tenant.Default, "valid@example.com", "KEY-VALID", license.StatusActive, nil)
	e.mustLicense(tenant.Default, "dated@example.com", "KEY-DATED", license.StatusActive, &future)
	e.mustLicense(tenant.Default, "susp@example.com", "KEY-SUSP", license.StatusSuspended, nil)
	e.mustLicense(tenant.Default, "rev@example.com", "KEY-REV", license.StatusRevoked, nil)
	e.mustLicense(tenant.Default, "exp@example.com", "KEY-EXP", license.StatusExpired, nil)
	e.mustLicense(tenant.Default, "lapsed@example.com", "KEY-LAPSED", license.StatusActive, &past)

	cases := []struct {
		name, email, key, code string
	}{
		{"valid", "valid@example.com", "KEY-VALID", "VALID"},
		{"valid with spaces and capitals", "  Valid@Example.COM ", "\tKEY-VALID  ", "VALID"},
		{"unknown key", "valid@example.com", "KEY-NOPE", "NOT_FOUND"},
		{"key of another email", "other@example.com", "KEY-VALID", "NOT_FOUND"},
		{"key case matters", "valid@example.com", "key-valid", "NOT_FOUND"},
		{"suspended", "susp@example.com", "KEY-SUSP", "SUSPENDED"},
		{"revoked", "rev@example.com", "KEY-REV", "REVOKED"},
		{"expired status", "exp@example.com", "KEY-EXP", "EXPIRED"},
		{"active but past expiry", "lapsed@example.com", "KEY-LAPSED", "EXPIRED"},
		{"suspended key with wrong email", "x@example.com", "KEY-SUSP", "NOT_FOUND"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := e.verify("", tc.email, tc.key)
			if v.Code != tc.code {
				t.Errorf("code = %s, want %s", v.Code, tc.code)
			}
			if v.Valid != (tc.code == "VALID") {
				t.Errorf("valid = %v for code %s", v.Valid, v.Code)
			}
			if (v.License != nil) != v.Valid {
				t.Errorf("license present = %v, want it only on VALID", v.License != nil)
			}
		})
	}
}

func TestVerifyValidBody(t *testing.T) {
	e := newEnv(t)
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	e.mustLicense(tenant.Default, "dated@example.com", "KEY-DATED", license.StatusActive, &expires)
	e.mustLicense(tenant.Default, "forever@example.com", "KEY-FOREVER", license.StatusActive, nil)

	v := e.verify("", "dated@example.com", "KEY-DATED")
	if v.License == nil || v.License.Status != "active" || v.License.Plan != "pro" {
		t.Fatalf("license = %+v", v.License)
	}
	if v.License.ExpiresAt == nil || *v.License.ExpiresAt != "2030-01-02T03:04:05Z" {
		t.Errorf("expiresAt = %v, want 2030-01-02T03:04:05Z", v.License.ExpiresAt)
	}

	resp := e.do(request{body: `{"email":"forever@example.com","licenseKey":"KEY-FOREVER"}`})
	if !strings.Contains(string(resp.body), `"expiresAt":null`) {
		t.Errorf("body %s, want expiresAt null for a license without expiry", resp.body)
	}
}

func TestVerifyTenantIsolation(t *testing.T) {
	e := newEnv(t)
	e.mustTenant("acme")
	e.mustTenant("globex")
	e.mustLicense("acme", "same@example.com", "KEY-ACME", license.StatusActive, nil)
	e.mustLicense("globex", "same@example.com", "KEY-GLOBEX", license.StatusRevoked, nil)
	e.mustLicense(tenant.Default, "same@example.com", "KEY-DEFAULT", license.StatusActive, nil)

	cases := []struct {
		name, tenant, key, code string
	}{
		{"own tenant", "acme", "KEY-ACME", "VALID"},
		{"other tenant's key", "globex", "KEY-ACME", "NOT_FOUND"},
		{"revoked key from another tenant", "acme", "KEY-GLOBEX", "NOT_FOUND"},
		{"no header reaches default", "", "KEY-DEFAULT", "VALID"},
		{"no header misses acme", "", "KEY-ACME", "NOT_FOUND"},
		{"default key from acme", "acme", "KEY-DEFAULT", "NOT_FOUND"},
		{"unknown tenant", "initech", "KEY-ACME", "NOT_FOUND"},
		{"header trimmed", "  acme ", "KEY-ACME", "VALID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if v := e.verify(tc.tenant, "same@example.com", tc.key); v.Code != tc.code {
				t.Errorf("code = %s, want %s", v.Code, tc.code)
			}
		})
	}
}

func TestVerifyWrongEmailLooksUnknown(t *testing.T) {
	e := newEnv(t)
	e.mustLicense(tenant.Default, "owner@example.com", "KEY-REVOKED", license.StatusRevoked, nil)

	wrongEmail := e.do(request{body: `{"email":"guess@example.com","licenseKey":"KEY-REVOKED"}`})
	unknownKey := e.do(request{body: `{"email":"guess@example.com","licenseKey":"KEY-UNKNOWN"}`})
	if string(wrongEmail.body) != string(unknownKey.body) {
		t.Errorf("bodies differ: wrong email %s, unknown key %s", wrongEmail.body, unknownKey.body)
	}
}

func TestVerifyBadInput(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("a", 250) + "@example.com"
	cases := []struct {
		name        string
		body        string
		contentType string
		headers     map[string]string
		status      int
		code, field string
	}{
		{"malformed JSON", `{"email":`, "application/json", nil, 400, "invalid_json", ""},
		{"not an object", `["a"]`, "application/json", nil, 400, "invalid_json", ""},
		{"null body", `null`, "application/json", nil, 400, "invalid_json", ""},
		{"empty body", ``, "application/json", nil, 400, "invalid_json", ""},
		{"two objects", `{"email":"a@b.c","licenseKey":"k"}{}`, "application/json", nil, 400, "invalid_json", ""},
		{"missing email", `{"licenseKey":"K"}`, "application/json", nil, 400, "missing_field", "email"},
		{"empty email", `{"email":"  ","licenseKey":"K"}`, "application/json", nil, 400, "missing_field", "email"},
		{"null email", `{"email":null,"licenseKey":"K"}`, "application/json", nil, 400, "missing_field", "email"},
		{"missing key", `{"email":"a@example.com"}`, "application/json", nil, 400, "missing_field", "licenseKey"},
		{"blank key", `{"email":"a@example.com","licenseKey":" "}`, "application/json", nil, 400, "missing_field", "licenseKey"},
		{"email wrong type", `{"email":42,"licenseKey":"K"}`, "application/json", nil, 400, "invalid_field", "email"},
		{"key wrong type", `{"email":"a@example.com","licenseKey":true}`, "application/json", nil, 400, "invalid_field", "licenseKey"},
		{"email without at", `{"email":"example.com","licenseKey":"K"}`, "application/json", nil, 400, "invalid_field", "email"},
		{"email too long", `{"email":"` + long + `","licenseKey":"K"}`, "application/json", nil, 400, "invalid_field", "email"},
		{"email of 255 characters", `{"email":"` + strings.Repeat("é", 243) + `@example.com","licenseKey":"K"}`, "application/json", nil, 400, "invalid_field", "email"},
		{"key too long", `{"email":"a@example.com","licenseKey":"` + strings.Repeat("K", 201) + `"}`, "application/json", nil, 400, "invalid_field", "licenseKey"},
		{"bad tenant", `{"email":"a@example.com","licenseKey":"K"}`, "application/json", map[string]string{"X-Tenant-ID": "Acme Corp"}, 400, "invalid_tenant", "X-Tenant-ID"},
		{"empty tenant", `{"email":"a@example.com","licenseKey":"K"}`, "application/json", map[string]string{"X-Tenant-ID": " "}, 400, "invalid_tenant", "X-Tenant-ID"},
		{"form content type", `email=a`, "application/x-www-form-urlencoded", nil, 415, "unsupported_media_type", "Content-Type"},
		{"text content type", `{}`, "text/plain", nil, 415, "unsupported_media_type", "Content-Type"},
		{"body over 64 KiB", `{"email":"a@example.com","licenseKey":"K","pad":"` + strings.Repeat("x", 64<<10) + `"}`, "application/json", nil, 413, "body_too_large", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.do(request{body: tc.body, contentType: tc.contentType, headers: tc.headers})
			if resp.status != tc.status {
				t.Fatalf("status = %d, want %d; body %s", resp.status, tc.status, resp.body)
			}
			var body errorBody
			if err := json.Unmarshal(resp.body, &body); err != nil {
				t.Fatalf("decode %s: %v", resp.body, err)
			}
			if body.Error.Code != tc.code {
				t.Errorf("code = %q, want %q", body.Error.Code, tc.code)
			}
			if body.Error.Field != tc.field {
				t.Errorf("field = %q, want %q", body.Error.Field, tc.field)
			}
			if tc.field != "" && !strings.Contains(body.Error.Message, tc.field) {
				t.Errorf("message %q does not name %s", body.Error.Message, tc.field)
			}
		})
	}
}

func TestVerifyAcceptedInput(t *testing.T) {
	e := newEnv(t)
	e.mustLicense(tenant.Default, "a@example.com", "K", license.StatusActive, nil)
	cases := map[string]request{
		"no content type":            {body: `{"email":"a@example.com","licenseKey":"K"}`},
		"charset parameter":          {body: `{"email":"a@example.com","licenseKey":"K"}`, contentType: "application/json; charset=utf-8"},
		"unknown fields":             {body: `{"email":"a@example.com","licenseKey":"K","machineId":"abc","version":3}`, contentType: "application/json"},
		"trailing newline":           {body: "{\"email\":\"a@example.com\",\"licenseKey\":\"K\"}\n", contentType: "application/json"},
		"254 character mail":         {body: `{"email":"` + strings.Repeat("a", 242) + `@example.com","licenseKey":"K"}`, contentType: "application/json"},
		"254 characters, more bytes": {body: `{"email":"` + strings.Repeat("é", 242) + `@example.com","licenseKey":"K"}`, contentType: "application/json"},
	}
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			if resp := e.do(req); resp.status != http.StatusOK {
				t.Errorf("status = %d, want 200; body %s", resp.status, resp.body)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t)
	resp := e.do(request{method: http.MethodGet})
	if resp.status != http.StatusMethodNotAllowed {
		t.Fatalf("status = %d, want 405", resp.status)
	}
	if got := resp.header.Get("Allow"); got != "POST" {
		t.Errorf("Allow = %q, want POST", got)
	}
	resp = e.do(request{method: http.MethodDelete, path: "/api/health"})
	if got := resp.header.Get("Allow"); got != "GET, HEAD" {
		t.Errorf("health Allow = %q, want GET, HEAD", got)
	}
}

func TestUnknownRoute(t *testing.T) {
	e := newEnv(t)
	resp := e.do(request{method: http.MethodGet, path: "/api/nope"})
	var body errorBody
	if err := json.Unmarshal(resp.body, &body); err != nil || resp.status != 404 || body.Error.Code != "not_found" {
		t.Errorf("status %d, body %s; want 404 not_found", resp.status, resp.body)
	}
}

func TestResponseHeaders(t *testing.T) {
	e := newEnv(t)
	resp := e.do(request{body: `{"email":"a@example.com","licenseKey":"K"}`, headers: map[string]string{"X-Request-ID": "desk-123"}})
	if got := resp.header.Get("X-Request-ID"); got != "desk-123" {
		t.Errorf("X-Request-ID = %q, want the client's desk-123", got)
	}
	if got := resp.header.Get("X-Region"); got != "test-region" {
		t.Errorf("X-Region = %q, want test-region", got)
	}

	resp = e.do(request{body: `{`, headers: map[string]string{"X-Request-ID": "bad id with spaces"}})
	got := resp.header.Get("X-Request-ID")
	if got == "" || strings.Contains(got, " ") {
		t.Errorf("X-Request-ID = %q, want a generated ID in place of the insane one", got)
	}
	if resp.header.Get("X-Region") != "test-region" {
		t.Errorf("X-Region missing on an error response")
	}
}
