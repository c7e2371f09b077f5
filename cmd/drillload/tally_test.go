package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func result(method string, code uint16, body, errText string) *vegeta.Result {
	return &vegeta.Result{Method: method, URL: "http://lb/x", Code: code, Body: []byte(body), Error: errText, Timestamp: time.Now()}
}

func TestTallyAllOK(t *testing.T) {
	tl := newTally()
	tl.add(result(http.MethodPost, 200, `{"valid":true,"code":"VALID"}`, ""))
	tl.add(result(http.MethodGet, 200, `{"status":"ok"}`, ""))
	if err := tl.err(); err != nil {
		t.Errorf("err = %v, want nil", err)
	}
	var out bytes.Buffer
	tl.print(&out, 10)
	for _, want := range []string{"requests sent: 2", "answered 200: 2", "failed (no response): 0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestTallyFailures(t *testing.T) {
	cases := []struct {
		name string
		res  *vegeta.Result
		want string
	}{
		{"no response", result(http.MethodGet, 0, "", "connection refused"), "failed (no response): 1"},
		{"bad gateway", result(http.MethodGet, 502, "bad gateway", ""), "answered 502: 1"},
		{"wrong verdict", result(http.MethodPost, 200, `{"valid":false,"code":"NOT_FOUND"}`, ""), `without "valid":true: 1`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTally()
			tl.add(result(http.MethodGet, 200, "ok", ""))
			tl.add(tc.res)
			if err := tl.err(); err == nil {
				t.Errorf("err = nil, want a failure")
			}
			var out bytes.Buffer
			tl.print(&out, 10)
			if !strings.Contains(out.String(), tc.want) {
				t.Errorf("report lacks %q:\n%s", tc.want, out.String())
			}
		})
	}
}

func TestTallyNothingSent(t *testing.T) {
	if err := newTally().err(); err == nil {
		t.Error("err = nil for an empty attack")
	}
}
