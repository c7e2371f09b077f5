package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/tenant"
)

func loadSpec(t *testing.T) routers.Router {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("api/openapi.yaml is invalid: %v", err)
	}
	// Match requests by path alone, whatever host the test server has.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return router
}

// TestOpenAPIRoundTrip sends requests to the real handler and checks each
// request and response against api/openapi.yaml.
func TestOpenAPIRoundTrip(t *testing.T) {
	router := loadSpec(t)
	e := newEnv(t)
	e.mustTenant("acme")
	e.mustLicense("acme", "a@example.com", "KEY-A", license.StatusActive, nil)
	e.mustLicense(tenant.Default, "r@example.com", "KEY-R", license.StatusRevoked, nil)

	cases := []struct {
		name, method, path, body, tenant string
		status                           int
	}{
		{"valid", http.MethodPost, "/api/verify-license", `{"email":"a@example.com","licenseKey":"KEY-A"}`, "acme", 200},
		{"revoked", http.MethodPost, "/api/verify-license", `{"email":"r@example.com","licenseKey":"KEY-R"}`, "", 200},
		{"not found", http.MethodPost, "/api/verify-license", `{"email":"a@example.com","licenseKey":"KEY-A"}`, "", 200},
		{"missing field", http.MethodPost, "/api/verify-license", `{"email":"a@example.com"}`, "", 400},
		{"health", http.MethodGet, "/api/health", "", "", 200},
		{"live", http.MethodGet, "/api/health/live", "", "", 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, e.server.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if tc.tenant != "" {
				req.Header.Set("X-Tenant-ID", tc.tenant)
			}
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatalf("route not in spec: %v", err)
			}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route}
			// Validate a copy of the body, so the real request keeps its own.
			if tc.body != "" {
				in.Request = req.Clone(context.Background())
				in.Request.Body = io.NopCloser(strings.NewReader(tc.body))
			}
			reqErr := openapi3filter.ValidateRequest(context.Background(), in)
			if tc.status == 200 && reqErr != nil {
				t.Errorf("request does not match the spec: %v", reqErr)
			}
			if tc.status == 400 && reqErr == nil {
				t.Errorf("spec accepts a request the server rejects")
			}

			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tc.status, body)
			}
			out := &openapi3filter.ResponseValidationInput{
				RequestValidationInput: in,
				Status:                 resp.StatusCode,
				Header:                 resp.Header,
				Body:                   io.NopCloser(bytes.NewReader(body)),
			}
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Errorf("response does not match the spec: %v; body %s", err, body)
			}
		})
	}
}
