// Package pgbouncertest runs a private PgBouncer in transaction pooling mode
// on a free loopback port, in front of a PostgreSQL server, for tests.
package pgbouncertest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rescuepc/licensing/internal/testnet"
)

// Start runs pgbouncer in front of target (host:port) and stops it when t
// ends. Clients log in as any of users (name to password) with trust
// authentication. It returns the address PgBouncer listens on.
func Start(t testing.TB, target string, users map[string]string) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		t.Fatalf("pgbouncer not found; install the pgbouncer package: %v", err)
	}
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		t.Fatal(err)
	}
	// Not t.TempDir: its parent is private to root, and PgBouncer may run
	// as the postgres user.
	dir, err := os.MkdirTemp("", "pgbouncertest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	addr := testnet.FreeAddr(t)
	_, listenPort, _ := net.SplitHostPort(addr)

	var auth string
	for name, password := range users {
		auth += fmt.Sprintf("%q %q\n", name, password)
	}
	writeFile(t, filepath.Join(dir, "users.txt"), auth)
	writeFile(t, filepath.Join(dir, "pgbouncer.ini"), fmt.Sprintf(`[databases]
* = host=%s port=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %s
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = 4
max_client_conn = 200
ignore_startup_parameters = extra_float_digits
logfile = %s
`, host, port, listenPort, filepath.Join(dir, "users.txt"), filepath.Join(dir, "pgbouncer.log")))

	args := []string{filepath.Join(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		// PgBouncer refuses to run as root; run it as the postgres user.
		args = append([]string{"-u", "postgres"}, args...)
		chownTo(t, dir, "postgres")
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pgbouncer: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	waitListening(t, addr, filepath.Join(dir, "pgbouncer.log"))
	return addr
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func chownTo(t testing.TB, dir, name string) {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("look up user %s to run pgbouncer as: %v", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	err = filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(path, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func waitListening(t testing.TB, addr, logPath string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	log, _ := os.ReadFile(logPath)
	t.Fatalf("pgbouncer did not listen on %s within 10s; log:\n%s", addr, log)
}
