package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rescuepc/licensing/internal/testnet"

	"github.com/rescuepc/licensing/internal/pgtest"
)

// drainingServer is a server started by run whose shutdown the test
// triggers with cancel.
type drainingServer struct {
	addr   string
	base   string
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuffer
}

func startDrainingServer(t *testing.T, drainDelay string) *drainingServer {
	t.Helper()
	db := pgtest.New(t)
	addr := testnet.FreeAddr(t)
	getenv := testEnv(db.AppURL, "HTTP_ADDR", addr, "DRAIN_DELAY", drainDelay, "LOG_LEVEL", "info")
	ctx, cancel := context.WithCancel(context.Background())
	s := &drainingServer{addr: addr, cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	go func() { s.done <- run(ctx, []string{"serve"}, s.logs, s.logs, getenv) }()
	t.Cleanup(cancel)
	s.base = waitHealthy(t, getenv, s.done, s.logs)
	return s
}

// wait returns run's result, failing the test when run does not return
// within a minute.
func (s *drainingServer) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done:
		return err
	case <-time.After(time.Minute):
		t.Fatalf("serve did not stop within a minute of cancel:\n%s", s.logs.String())
		return nil
	}
}

// getFresh sends GET path on a new connection, so a closed listener shows
// as an error instead of a reused keep-alive connection.
func getFresh(base, path string) (*http.Response, error) {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	return client.Get(base + path)
}

func TestDrainHealthFlipsBeforeListenerCloses(t *testing.T) {
	s := startDrainingServer(t, "3s")
	s.cancel()

	var health struct{ Status string }
	for deadline := time.Now().Add(10 * time.Second); health.Status != "draining"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("/api/health never answered draining:\n%s", s.logs.String())
		}
		resp, err := getFresh(s.base, "/api/health")
		if err != nil {
			t.Fatalf("listener closed before /api/health answered draining: %v\n%s", err, s.logs.String())
		}
		if resp.StatusCode == http.StatusServiceUnavailable {
			if err := json.NewDecoder(resp.Body).Decode(&health); err != nil {
				t.Fatal(err)
			}
		}
		resp.Body.Close()
	}

	live, err := getFresh(s.base, "/api/health/live")
	if err != nil {
		t.Fatalf("listener closed during the drain delay: %v", err)
	}
	live.Body.Close()
	if live.StatusCode != http.StatusOK {
		t.Errorf("live while draining: status %d, want 200", live.StatusCode)
	}
	if !live.Close {
		t.Errorf("live while draining: no Connection: close header")
	}

	if err := s.wait(t); err != nil {
		t.Fatalf("serve returned %v, want nil", err)
	}
	if _, err := getFresh(s.base, "/api/health/live"); err == nil {
		t.Errorf("listener still accepts connections after serve returned")
	}
	for _, phase := range []string{`"msg":"drain started"`, `"msg":"drain finished"`, `"msg":"shutdown started"`, `"msg":"server stopped"`, `"shutdown_ms":`} {
		if !strings.Contains(s.logs.String(), phase) {
			t.Errorf("log lacks %s:\n%s", phase, s.logs.String())
		}
	}
}

func TestDrainInFlightRequestCompletes(t *testing.T) {
	s := startDrainingServer(t, "100ms")
	body := `{"email":"slow@example.com","licenseKey":"SLOW-KEY"}`
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	half := len(body) / 2
	fmt.Fprintf(conn, "POST /api/verify-license HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:half])

	s.cancel()
	waitListenerClosed(t, s)
	if _, err := conn.Write([]byte(body[half:])); err != nil {
		t.Fatalf("finish the request body after the listener closed: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read the in-flight response: %v\n%s", err, s.logs.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("in-flight request: status %d, want 200", resp.StatusCode)
	}
	if err := s.wait(t); err != nil {
		t.Errorf("serve returned %v, want nil", err)
	}
}

// waitListenerClosed waits until new connections are refused, which shows
// that Shutdown has begun, and fails when serve returns first.
func waitListenerClosed(t *testing.T, s *drainingServer) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-s.done:
			t.Fatalf("serve returned %v before the in-flight request finished:\n%s", err, s.logs.String())
		default:
		}
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
	}
	t.Fatalf("listener still open 20s after cancel:\n%s", s.logs.String())
}

func TestHealthcheckCommand(t *testing.T) {
	s := startDrainingServer(t, "0s")
	getenv := func(k string) string { return map[string]string{"HTTP_ADDR": s.addr}[k] }
	out, _, err := runCLI(t, getenv, "healthcheck")
	if err != nil {
		t.Fatalf("healthcheck of a healthy server: %v", err)
	}
	if !strings.Contains(out, `"status":"ok"`) {
		t.Errorf("healthcheck output = %q, want the health body", out)
	}

	s.cancel()
	if err := s.wait(t); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, getenv, "healthcheck"); err == nil {
		t.Errorf("healthcheck of a stopped server succeeded")
	}
}

func TestLocalHealthURL(t *testing.T) {
	cases := []struct{ addr, want string }{
		{":3000", "http://127.0.0.1:3000/api/health"},
		{"0.0.0.0:8080", "http://127.0.0.1:8080/api/health"},
		{"[::]:8080", "http://127.0.0.1:8080/api/health"},
		{"[::1]:8080", "http://[::1]:8080/api/health"},
		{"10.0.0.5:3000", "http://10.0.0.5:3000/api/health"},
	}
	for _, tc := range cases {
		got, err := localHealthURL(tc.addr)
		if err != nil || got != tc.want {
			t.Errorf("localHealthURL(%q) = %q, %v; want %q", tc.addr, got, err, tc.want)
		}
	}
	if _, err := localHealthURL("3000"); err == nil || !strings.Contains(err.Error(), "HTTP_ADDR") {
		t.Errorf("localHealthURL(3000): err = %v, want one naming HTTP_ADDR", err)
	}
}
