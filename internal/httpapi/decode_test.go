package httpapi

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rescuepc/licensing/internal/license"
)

// FuzzDecodeVerifyRequest checks that any body either decodes into a
// request that passes validation or yields a 4xx *Error that names a code.
func FuzzDecodeVerifyRequest(f *testing.F) {
	seeds := []string{
		`{"email":"a@example.com","licenseKey":"K"}`,
		`{"email":" A@B.C ","licenseKey":" K ","x":[1,{}]}`,
		`{"email":42}`, `[]`, `null`, ``, `{"email":"@"}`, "{\"email\":\"a@b\",\"licenseKey\":\"\xff\"}",
		`{"email":"a@b","licenseKey":"k"} {}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		req, err := decodeVerifyRequest(http.MaxBytesReader(nil, io.NopCloser(strings.NewReader(body)), maxVerifyBody))
		if err != nil {
			var apiErr *Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if apiErr.Status < 400 || apiErr.Status > 499 || apiErr.Code == "" || apiErr.Message == "" {
				t.Fatalf("error %+v is not a complete 4xx", apiErr)
			}
			return
		}
		email := license.NormalizeEmail(req.Email)
		if !strings.Contains(email, "@") || len(email) > license.MaxEmailLength {
			t.Fatalf("accepted email %q", req.Email)
		}
		key := license.NormalizeKey(req.LicenseKey)
		if key == "" || utf8.RuneCountInString(key) > license.MaxKeyLength {
			t.Fatalf("accepted key %q", req.LicenseKey)
		}
	})
}
