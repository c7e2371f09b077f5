package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// server is one running 'licensing serve'.
type server struct {
	cmd  *exec.Cmd
	base string
	log  string
}

// serverConfig contains the settings that differ between the benchmark's
// server runs. An empty execMode keeps pgx's default, cache_statement.
type serverConfig struct {
	dbURL    string
	redisURL string
	execMode string
}

// startServer runs the licensing binary with the benchmark settings and
// waits until /api/health returns 200.
func (b *bench) startServer(sc serverConfig) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	u := sc.dbURL
	if sc.execMode != "" {
		u += "?default_query_exec_mode=" + sc.execMode
		if strings.Contains(sc.dbURL, "?") {
			u = sc.dbURL + "&default_query_exec_mode=" + sc.execMode
		}
	}
	logPath := filepath.Join(b.tmp, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()

	cmd := exec.Command(b.opts.licensing, "serve")
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+u, "LICENSE_KEY_SECRET="+b.secret, "HTTP_ADDR="+addr,
		"METRICS_ADDR="+b.metricsAddr, "LOG_LEVEL=warn", "REDIS_URL="+sc.redisURL, "REDIS_KEY_PREFIX=bench:",
		"RATE_LIMIT_IP=0", "RATE_LIMIT_FAILED=0", "CACHE_TTL=5m", "DB_MAX_CONNS="+strconv.Itoa(b.opts.dbConns))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s serve: %w", b.opts.licensing, err)
	}
	s := &server{cmd: cmd, base: "http://" + addr, log: logPath}
	if err := s.waitHealthy(); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func (s *server) waitHealthy() error {
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(s.base + "/api/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	log, _ := os.ReadFile(s.log)
	return fmt.Errorf("server did not become healthy within 15s; log:\n%s", log)
}

// peakRSS returns the server's peak resident memory (VmHWM) in bytes.
func (s *server) peakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", s.cmd.Process.Pid)
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// redisServer is a private redis-server for the cache runs.
type redisServer struct {
	cmd  *exec.Cmd
	addr string
}

func startRedis(dir string) (*redisServer, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no",
		"--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return &redisServer{cmd: cmd, addr: addr}, nil
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	return nil, fmt.Errorf("redis-server did not listen on %s within 10s", addr)
}

// database returns the URL of Redis database n, so that each cache-warm
// run starts from an empty cache.
func (r *redisServer) database(n int) string {
	return fmt.Sprintf("redis://%s/%d", r.addr, n)
}

func (r *redisServer) stop() {
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
