package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/rescuepc/licensing/internal/config"
)

// healthcheckTimeout bounds the whole probe, below Docker's default
// HEALTHCHECK timeout of 30 seconds.
const healthcheckTimeout = 5 * time.Second

// healthcheck requests /api/health from the server listening on HTTP_ADDR
// on this host and returns an error unless it responds 200. It reads no
// other setting, so a container's HEALTHCHECK needs no DATABASE_URL and no
// shell tools.
func healthcheck(ctx context.Context, stdout io.Writer, getenv func(string) string) error {
	url, err := localHealthURL(config.HTTPAddr(getenv))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s responded %d: %s", url, resp.StatusCode, body)
	}
	fmt.Fprintf(stdout, "%s", body)
	return nil
}

// localHealthURL turns a listen address such as :3000 or 0.0.0.0:3000
// into the loopback URL of its health endpoint.
func localHealthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("HTTP_ADDR %q is invalid: use host:port such as :3000", addr)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/api/health", nil
}
