package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rescuepc/licensing/internal/testnet"

	"github.com/rescuepc/licensing/internal/pgtest"
)

const testSecret = "test-secret-test-secret-test-secret-0123"

// testEnv returns an environment for run with the given database and
// extra variables.
func testEnv(dbURL string, extra ...string) func(string) string {
	vars := map[string]string{"DATABASE_URL": dbURL, "LICENSE_KEY_SECRET": testSecret, "LOG_LEVEL": "warn", "DRAIN_DELAY": "0s",
		"METRICS_ADDR": "127.0.0.1:0"}
	for i := 0; i+1 < len(extra); i += 2 {
		vars[extra[i]] = extra[i+1]
	}
	return func(k string) string { return vars[k] }
}

// runCLI runs one command and returns its stdout, stderr and error.
func runCLI(t *testing.T, getenv func(string) string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr, getenv)
	return stdout.String(), stderr.String(), err
}

func mustRunCLI(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	out, errOut, err := runCLI(t, getenv, args...)
	if err != nil {
		t.Fatalf("licensing %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// startServer runs 'licensing serve' until the test ends and waits until
// its health endpoint responds with 200.
func startServer(t *testing.T, getenv func(string) string) string {
	base, _ := startServerWithLogs(t, getenv)
	return base
}

// syncBuffer is a bytes.Buffer safe for a server goroutine to write while
// the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startServerWithLogs(t *testing.T, getenv func(string) string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- run(ctx, []string{"serve"}, logs, logs, getenv) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v after shutdown", err)
		}
	})

	return waitHealthy(t, getenv, done, logs), logs
}

// waitHealthy waits until the server started by run answers 200 on
// /api/health and returns its base URL. It fails the test when run
// returns first.
func waitHealthy(t *testing.T, getenv func(string) string, done <-chan error, logs *syncBuffer) string {
	t.Helper()
	base := "http://" + getenv("HTTP_ADDR")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\n%s", err, logs.String())
		default:
		}
		if resp, err := http.Get(base + "/api/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
	}
	t.Fatalf("server did not become healthy:\n%s", logs.String())
	return ""
}

func verify(t *testing.T, base, tenantID, email, key string) string {
	t.Helper()
	body := fmt.Sprintf(`{"email":%q,"licenseKey":%q}`, email, key)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/verify-license", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tenantID != "" {
		req.Header.Set("X-Tenant-ID", tenantID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Code string }
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v.Code
}

func TestServeIssueRevokeVerify(t *testing.T) {
	db := pgtest.New(t)
	getenv := testEnv(db.AppURL, "HTTP_ADDR", testnet.FreeAddr(t))
	mustRunCLI(t, getenv, "tenants", "create", "acme", "--name", "Acme Inc")
	key := strings.TrimSpace(mustRunCLI(t, getenv, "licenses", "issue", "--tenant", "acme", "--email", "Buyer@Example.com", "--days", "30"))
	base := startServer(t, getenv)

	if code := verify(t, base, "acme", "buyer@example.com", key); code != "VALID" {
		t.Errorf("issued key: %s, want VALID", code)
	}
	if code := verify(t, base, "", "buyer@example.com", key); code != "NOT_FOUND" {
		t.Errorf("issued key without tenant header: %s, want NOT_FOUND", code)
	}
	mustRunCLI(t, getenv, "licenses", "revoke", "--tenant", "acme", key)
	if code := verify(t, base, "acme", "buyer@example.com", key); code != "REVOKED" {
		t.Errorf("revoked key: %s, want REVOKED", code)
	}
}

func TestServerLogsNoSecrets(t *testing.T) {
	db := pgtest.New(t)
	getenv := testEnv(db.AppURL, "HTTP_ADDR", testnet.FreeAddr(t), "LOG_LEVEL", "debug")
	key := strings.TrimSpace(mustRunCLI(t, getenv, "licenses", "issue", "--tenant", "default", "--email", "private.person@example.com"))
	base, logs := startServerWithLogs(t, getenv)

	verify(t, base, "", "private.person@example.com", key)
	verify(t, base, "", "private.person@example.com", "WRONG-KEY")
	text := logs.String()
	if !strings.Contains(text, `"route":"/api/verify-license"`) {
		t.Fatalf("no access log line for verify-license:\n%s", text)
	}
	for _, secret := range []string{key, "WRONG-KEY", "private.person", testSecret, "licensing-test"} {
		if strings.Contains(text, secret) {
			t.Errorf("server log contains %q:\n%s", secret, text)
		}
	}
	for _, field := range []string{`"region":"local"`, `"tenant":"default"`, `"request_id":`, `"status":200`, `"duration_ms":`, `"method":"POST"`} {
		if !strings.Contains(text, field) {
			t.Errorf("access log lacks %s:\n%s", field, text)
		}
	}
}

func TestIssuePrintsOnlyTheKey(t *testing.T) {
	db := pgtest.New(t)
	getenv := testEnv(db.AppURL)
	out := mustRunCLI(t, getenv, "licenses", "issue", "--tenant", "default", "--email", "a@example.com")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 1 || len(lines[0]) != 35 {
		t.Fatalf("stdout = %q, want one key of 35 characters", out)
	}

	list := mustRunCLI(t, getenv, "licenses", "list", "--tenant", "default")
	if strings.Contains(list, lines[0]) {
		t.Errorf("list prints the full key:\n%s", list)
	}
	if !strings.Contains(list, lines[0][:4]+"...") {
		t.Errorf("list lacks the key prefix %s:\n%s", lines[0][:4], list)
	}
}

func TestSuspendReinstateByID(t *testing.T) {
	db := pgtest.New(t)
	getenv := testEnv(db.AppURL)
	mustRunCLI(t, getenv, "licenses", "issue", "--tenant", "default", "--email", "a@example.com")
	list := mustRunCLI(t, getenv, "licenses", "list", "--tenant", "default", "--email", "A@example.com")
	id := strings.Fields(strings.Split(list, "\n")[1])[0]

	if out := mustRunCLI(t, getenv, "licenses", "suspend", "--tenant", "default", id); !strings.Contains(out, "now suspended") {
		t.Errorf("suspend: %q", out)
	}
	if out := mustRunCLI(t, getenv, "licenses", "reinstate", "--tenant", "default", id); !strings.Contains(out, "now active") {
		t.Errorf("reinstate: %q", out)
	}
	if _, _, err := runCLI(t, getenv, "licenses", "revoke", "--tenant", "other", id); err == nil {
		t.Errorf("revoke in another tenant succeeded")
	}
}

func TestCommandErrors(t *testing.T) {
	db := pgtest.New(t)
	cases := []struct {
		name   string
		getenv func(string) string
		args   []string
		want   string
	}{
		{"missing DATABASE_URL", testEnv(""), []string{"tenants", "list"}, "DATABASE_URL is required"},
		{"unreachable database", testEnv("postgres://nobody@127.0.0.1:1/x?connect_timeout=2"), []string{"tenants", "list"}, "connect to database"},
		{"missing secret", testEnv(db.AppURL, "LICENSE_KEY_SECRET", ""), []string{"licenses", "issue", "--tenant", "default", "--email", "a@example.com"}, "LICENSE_KEY_SECRET is required"},
		{"serve as superuser", testEnv(db.AdminURL, "HTTP_ADDR", testnet.FreeAddr(t)), []string{"serve"}, "superuser"},
		{"unknown tenant", testEnv(db.AppURL), []string{"licenses", "issue", "--tenant", "nobody", "--email", "a@example.com"}, "tenant not found"},
		{"bad tenant ID", testEnv(db.AppURL), []string{"tenants", "create", "Bad Name"}, "invalid"},
		{"bad email", testEnv(db.AppURL), []string{"licenses", "issue", "--tenant", "default", "--email", "nope"}, "--email"},
		{"both expiries", testEnv(db.AppURL), []string{"licenses", "issue", "--tenant", "default", "--email", "a@example.com", "--days", "3", "--expires", "2030-01-01T00:00:00Z"}, "not both"},
		{"missing tenant flag", testEnv(db.AppURL), []string{"licenses", "list"}, "--tenant is required"},
		{"unknown command", testEnv(db.AppURL), []string{"frobnicate"}, "unknown command"},
		{"duplicate tenant", testEnv(db.AppURL), []string{"tenants", "create", "default"}, "already exists"},
		{"list unknown tenant", testEnv(db.AppURL), []string{"licenses", "list", "--tenant", "nosuch"}, "tenant not found"},
		{"list bad email", testEnv(db.AppURL), []string{"licenses", "list", "--tenant", "default", "--email", "bad"}, "--email"},
		{"expiry in the past", testEnv(db.AppURL), []string{"licenses", "issue", "--tenant", "default", "--email", "a@example.com", "--expires", "2020-01-01T00:00:00Z"}, "in the past"},
		{"bad flag value", testEnv(db.AppURL), []string{"licenses", "issue", "--tenant", "default", "--email", "a@example.com", "--days", "abc"}, "licenses issue -h"},
		{"migrate as app role", testEnv(db.AppURL), []string{"migrate", "up"}, "MIGRATION_DATABASE_URL"},
		{"no command", testEnv(db.AppURL), nil, "no command"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(t, tc.getenv, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestImportAllOrNothing(t *testing.T) {
	db := pgtest.New(t)
	getenv := testEnv(db.AppURL, "HTTP_ADDR", testnet.FreeAddr(t))
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	bad := filepath.Join(dir, "bad.csv")
	writeFile(t, good, "email,license_key,status,plan,expires_at\n"+
		"ann@example.com,LEGACY-1,active,pro,\n"+
		"bob@example.com,LEGACY-2,suspended,basic,2031-01-01T00:00:00Z\n")
	writeFile(t, bad, "email,license_key,status,plan,expires_at\n"+
		"cy@example.com,LEGACY-3,active,pro,\n"+
		"dee-at-example.com,LEGACY-4,active,pro,\n")

	_, _, err := runCLI(t, getenv, "licenses", "import", "--tenant", "default", bad)
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("bad file: err = %v, want it to name line 3", err)
	}
	if list := mustRunCLI(t, getenv, "licenses", "list", "--tenant", "default"); strings.Contains(list, "cy@example.com") {
		t.Errorf("bad file imported a row:\n%s", list)
	}

	out := mustRunCLI(t, getenv, "licenses", "import", "--tenant", "default", good)
	if !strings.Contains(out, "2 imported, 0 updated, 0 unchanged") {
		t.Errorf("first import: %q", out)
	}
	out = mustRunCLI(t, getenv, "licenses", "import", "--tenant", "default", good)
	if !strings.Contains(out, "0 imported, 0 updated, 2 unchanged") {
		t.Errorf("second import: %q", out)
	}

	base := startServer(t, getenv)
	if code := verify(t, base, "", "ann@example.com", "LEGACY-1"); code != "VALID" {
		t.Errorf("imported key: %s, want VALID", code)
	}
	if code := verify(t, base, "", "bob@example.com", "LEGACY-2"); code != "SUSPENDED" {
		t.Errorf("imported suspended key: %s, want SUSPENDED", code)
	}
}

func TestImportKeyOfAnotherEmail(t *testing.T) {
	db := pgtest.New(t)
	getenv := testEnv(db.AppURL)
	dir := t.TempDir()
	first := filepath.Join(dir, "first.csv")
	second := filepath.Join(dir, "second.csv")
	writeFile(t, first, "email,license_key,status,plan,expires_at\nann@example.com,LEGACY-1,active,pro,\n")
	writeFile(t, second, "email,license_key,status,plan,expires_at\nzed@example.com,LEGACY-9,active,pro,\nmal@example.com,LEGACY-1,active,pro,\n")
	mustRunCLI(t, getenv, "licenses", "import", "--tenant", "default", first)

	_, _, err := runCLI(t, getenv, "licenses", "import", "--tenant", "default", second)
	if err == nil || !strings.Contains(err.Error(), "[3]") {
		t.Fatalf("err = %v, want a conflict on line 3", err)
	}
	if list := mustRunCLI(t, getenv, "licenses", "list", "--tenant", "default"); strings.Contains(list, "zed@example.com") {
		t.Errorf("a file with a conflict imported a row:\n%s", list)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	db := pgtest.New(t)
	getenv := testEnv(db.AppURL, "HTTP_ADDR", testnet.FreeAddr(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, &bytes.Buffer{}, &bytes.Buffer{}, getenv) }()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("serve returned %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop within 10s of cancel")
	}
}
