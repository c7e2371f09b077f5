package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rescuepc/licensing/internal/testnet"
)

// Cluster is a PostgreSQL server that a test started on a loopback port,
// with trust authentication and replication allowed from 127.0.0.1.
type Cluster struct {
	Port int
	Dir  string
	bin  string
	t    testing.TB
}

// ServerBinaries returns the folder holding initdb, pg_ctl and
// pg_basebackup, or "" when they are not installed.
func ServerBinaries() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if isExecutable(filepath.Join(dirs[i], "initdb")) && isExecutable(filepath.Join(dirs[i], "pg_basebackup")) {
			return dirs[i]
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode()&0o111 != 0
}

// NewPrimary initializes and starts a cluster that allows streaming
// replication, and stops it when t ends. It skips t, saying why, when the
// PostgreSQL server binaries are missing.
func NewPrimary(t testing.TB) *Cluster {
	t.Helper()
	bin := ServerBinaries()
	if bin == "" && os.Getenv("CI") == "true" {
		t.Fatal("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are missing; CI must install them")
	}
	if bin == "" {
		t.Skip("skipped: PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) are not installed; on Debian: apt-get install postgresql")
	}
	c := &Cluster{Port: testnet.FreePort(t), Dir: ownedTempDir(t), bin: bin, t: t}
	c.runAsOwner("initdb", "-D", c.Dir, "-U", "postgres", "--auth=trust", "--no-sync")
	conf := "\nwal_level = replica\nmax_wal_senders = 5\nfsync = off\n"
	appendFile(t, filepath.Join(c.Dir, "postgresql.conf"), conf)
	appendFile(t, filepath.Join(c.Dir, "pg_hba.conf"), "\nhost replication all 127.0.0.1/32 trust\n")
	c.Start()
	t.Cleanup(c.Stop)
	return c
}

// NewReplica copies primary with pg_basebackup -R and starts it as a
// streaming hot standby, stopped when t ends.
func NewReplica(t testing.TB, primary *Cluster) *Cluster {
	t.Helper()
	c := &Cluster{Port: testnet.FreePort(t), Dir: ownedTempDir(t), bin: primary.bin, t: t}
	c.runAsOwner("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(primary.Port), "-U", "postgres",
		"-D", c.Dir, "-R", "-X", "stream", "--no-sync", "--checkpoint=fast")
	c.Start()
	t.Cleanup(c.Stop)
	return c
}

// URL returns a connection URL for database name as user postgres.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, name)
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start() {
	c.t.Helper()
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s", c.Port, c.Dir)
	c.runAsOwner("pg_ctl", "-D", c.Dir, "-l", filepath.Join(c.Dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
}

// Stop stops the server at once, as a crash or a lost host would.
func (c *Cluster) Stop() {
	cmd := c.ownerCommand("pg_ctl", "-D", c.Dir, "-m", "immediate", "-w", "stop")
	// A server that is already stopped makes pg_ctl fail; that is fine here.
	_ = cmd.Run()
}

func (c *Cluster) runAsOwner(name string, args ...string) {
	c.t.Helper()
	cmd := c.ownerCommand(name, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// ownerCommand runs a server program as the postgres user when the test
// runs as root, because initdb and postgres refuse to run as root.
func (c *Cluster) ownerCommand(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if os.Geteuid() != 0 {
		return exec.Command(path, args...)
	}
	return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
}

// ownedTempDir returns an empty folder that the server's user can write,
// removed when t ends.
func ownedTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "licensing-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("skipped: running as root and no postgres user exists to own a test cluster")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func appendFile(t testing.TB, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}
