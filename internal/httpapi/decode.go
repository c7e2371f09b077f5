package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/rescuepc/licensing/internal/license"
)

// maxVerifyBody is the largest verify-license body accepted.
const maxVerifyBody = 64 << 10

// verifyRequest is the body of POST /api/verify-license.
type verifyRequest struct {
	Email      string `json:"email"`
	LicenseKey string `json:"licenseKey"`
}

// checkJSONContentType accepts application/json with any parameters, and a
// missing Content-Type, which older desktop builds omit.
func checkJSONContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil || mediaType != "application/json" {
		return &Error{Status: http.StatusUnsupportedMediaType, Code: codeUnsupportedMediaType, Field: "Content-Type",
			Message: fmt.Sprintf("Content-Type %q is not supported; send application/json", ct)}
	}
	return nil
}

// decodeVerifyRequest reads and validates a verify-license body. Every
// failure is an *Error that names the field at fault.
func decodeVerifyRequest(body io.Reader) (verifyRequest, error) {
	var decoded *verifyRequest
	dec := json.NewDecoder(body)
	if err := dec.Decode(&decoded); err != nil {
		return verifyRequest{}, decodeError(err)
	}
	if decoded == nil {
		return verifyRequest{}, &Error{Status: http.StatusBadRequest, Code: codeInvalidJSON,
			Message: "request body must be a JSON object with email and licenseKey"}
	}
	req := *decoded
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return req, decodeError(err)
		}
		return req, &Error{Status: http.StatusBadRequest, Code: codeInvalidJSON,
			Message: "request body must contain a single JSON object"}
	}
	return req, validateVerifyRequest(req)
}

func validateVerifyRequest(req verifyRequest) error {
	email := license.NormalizeEmail(req.Email)
	if email == "" {
		return missingField("email")
	}
	if err := license.ValidateEmail(email); err != nil {
		return invalidField("email", err.Error())
	}
	key := license.NormalizeKey(req.LicenseKey)
	if key == "" {
		return missingField("licenseKey")
	}
	if utf8.RuneCountInString(key) > license.MaxKeyLength {
		return invalidField("licenseKey", fmt.Sprintf("must be at most %d characters", license.MaxKeyLength))
	}
	return nil
}

func decodeError(err error) error {
	var (
		maxErr    *http.MaxBytesError
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	switch {
	case errors.As(err, &maxErr):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: codeBodyTooLarge,
			Message: fmt.Sprintf("request body must be at most %d bytes", maxErr.Limit)}
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return invalidField(typeErr.Field, "must be a "+jsonTypeName(typeErr.Type.Kind().String()))
	case errors.As(err, &typeErr):
		return &Error{Status: http.StatusBadRequest, Code: codeInvalidJSON,
			Message: "request body must be a JSON object with email and licenseKey"}
	case errors.As(err, &syntaxErr):
		return &Error{Status: http.StatusBadRequest, Code: codeInvalidJSON,
			Message: fmt.Sprintf("request body is not valid JSON (at byte %d)", syntaxErr.Offset)}
	case errors.Is(err, io.EOF):
		return &Error{Status: http.StatusBadRequest, Code: codeInvalidJSON, Message: "request body is empty"}
	}
	return &Error{Status: http.StatusBadRequest, Code: codeInvalidJSON, Message: "request body is not valid JSON"}
}

func jsonTypeName(kind string) string {
	if kind == "string" {
		return "string"
	}
	return "JSON " + kind
}

func missingField(field string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: codeMissingField, Field: field, Message: field + " is required"}
}

func invalidField(field, reason string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: codeInvalidField, Field: field, Message: field + " " + reason}
}
