package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/tenant"
)

// Verifier returns the verdict for an email and license key in a tenant.
type Verifier interface {
	Verify(ctx context.Context, tenantID tenant.ID, email, key string) (license.Verdict, error)
}

type verifyResponse struct {
	Valid   bool         `json:"valid"`
	Code    license.Code `json:"code"`
	License *licenseView `json:"license,omitempty"`
}

type licenseView struct {
	Status    license.Status `json:"status"`
	Plan      string         `json:"plan"`
	ExpiresAt *string        `json:"expiresAt"`
}

func handleVerify(opts Options) http.HandlerFunc {
	logger := opts.Logger
	return func(w http.ResponseWriter, r *http.Request) {
		if err := checkJSONContentType(r); err != nil {
			writeError(w, r, logger, err)
			return
		}

		req, err := decodeVerifyRequest(http.MaxBytesReader(w, r.Body, maxVerifyBody))
		if err != nil {
			writeError(w, r, logger, err)
			return
		}

		tid, err := tenant.FromContext(r.Context())
		if err != nil {
			writeError(w, r, logger, err)
			return
		}
		email := license.NormalizeEmail(req.Email)
		if err := checkFailedLimit(r.Context(), opts, tid, email); err != nil {
			writeError(w, r, logger, err)
			return
		}

		verdict, err := verifyWithin(r.Context(), opts, tid, req)
		if err != nil {
			opts.Metrics.DatabaseError()
			writeError(w, r, logger, err)
			return
		}
		opts.Metrics.Verdict(string(verdict.Code))
		if verdict.Code == license.CodeNotFound && opts.RateLimiter != nil {
			opts.RateLimiter.RecordFailed(r.Context(), tid, email)
		}

		writeJSON(w, http.StatusOK, newVerifyResponse(verdict))
	}
}

// verifyWithin runs the verification bounded by opts.VerifyTimeout, so a
// request to a hung database gets 503 instead of hanging.
func verifyWithin(ctx context.Context, opts Options, tid tenant.ID, req verifyRequest) (license.Verdict, error) {
	if opts.VerifyTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.VerifyTimeout)
		defer cancel()
	}
	return opts.Verifier.Verify(ctx, tid, req.Email, req.LicenseKey)
}

func newVerifyResponse(v license.Verdict) verifyResponse {
	resp := verifyResponse{Valid: v.Valid(), Code: v.Code}
	if v.Valid() {
		resp.License = &licenseView{Status: v.License.Status, Plan: v.License.Plan}
		if v.License.ExpiresAt != nil {
			s := v.License.ExpiresAt.UTC().Format(time.RFC3339)
			resp.License.ExpiresAt = &s
		}
	}
	return resp
}
