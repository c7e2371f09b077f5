// Package redistest gives tests a Redis: the shared server at
// TEST_REDIS_URL (default redis://127.0.0.1:6379/0) under a random key
// prefix, or a private redis-server on a free loopback port that a test may
// stop and start again.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rescuepc/licensing/internal/testnet"

	"github.com/redis/go-redis/v9"
)

// DefaultURL is the shared server that tests use when TEST_REDIS_URL is
// unset.
const DefaultURL = "redis://127.0.0.1:6379/0"

// Shared returns the shared server's URL and a random key prefix. Keys
// under the prefix are deleted when t ends; nothing else is touched.
func Shared(t testing.TB) (url, prefix string) {
	t.Helper()
	url = os.Getenv("TEST_REDIS_URL")
	if url == "" {
		url = DefaultURL
	}
	prefix = "test:" + randomHex(t) + ":"
	client := mustClient(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("ping Redis at %s (start redis-server or set TEST_REDIS_URL): %v", url, err)
	}
	t.Cleanup(func() { deletePrefix(t, client, prefix) })
	return url, prefix
}

func deletePrefix(t testing.TB, client *redis.Client, prefix string) {
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := client.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		client.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Logf("delete test keys under %s: %v", prefix, err)
	}
}

// Server is a private redis-server on loopback.
type Server struct {
	// Addr is the host:port the server listens on, kept across restarts.
	Addr string
	t    testing.TB
	dir  string
	cmd  *exec.Cmd
}

// Start runs a private redis-server without persistence on a free
// loopback port and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server not found; install the redis-server package: %v", err)
	}
	s := &Server{Addr: testnet.FreeAddr(t), t: t, dir: t.TempDir()}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// URL returns the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Stop kills the server and waits for it to exit. It does nothing when the
// server is not running.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same port and waits until it
// responds.
func (s *Server) Restart() {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	s.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port,
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log"))
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	client := mustClient(s.t, s.URL())
	defer client.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if client.Ping(context.Background()).Err() == nil {
			return
		}
	}
	s.t.Fatalf("redis-server on %s did not answer within 10s; see %s", s.Addr, filepath.Join(s.dir, "redis.log"))
}

// Hung starts a listener that accepts connections and never responds, and
// returns its address. It closes when t ends.
func Hung(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				close(done)
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func mustClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parse Redis URL %s: %v", url, err)
	}
	return redis.NewClient(opts)
}

func randomHex(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
