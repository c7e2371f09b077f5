package httpapi

import (
	"context"
	"log/slog"
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

func handleVerify(verifier Verifier, logger *slog.Logger) http.HandlerFunc {
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
		verdict, err := verifier.Verify(r.Context(), tid, req.Email, req.LicenseKey)
		if err != nil {
			writeError(w, r, logger, err)
			return
		}

		writeJSON(w, http.StatusOK, newVerifyResponse(verdict))
	}
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
