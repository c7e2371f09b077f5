package replica_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rescuepc/licensing/internal/faultproxy"
	"github.com/rescuepc/licensing/internal/license"
	"github.com/rescuepc/licensing/internal/pgtest"
	"github.com/rescuepc/licensing/internal/postgres"
	"github.com/rescuepc/licensing/internal/replica"
	"github.com/rescuepc/licensing/internal/tenant"
)

const testSecret = "test-secret-test-secret-test-secret-0123"

// countingFinder counts the lookups that reach one real database.
type countingFinder struct {
	license.Finder
	calls atomic.Int64
}

func (c *countingFinder) FindByKey(ctx context.Context, tid tenant.ID, email string, keyHash []byte) (license.License, error) {
	c.calls.Add(1)
	return c.Finder.FindByKey(ctx, tid, email, keyHash)
}

// topology is a primary and a streaming replica, with a Verifier whose
// reads go through a replica.Reader.
type topology struct {
	t                *testing.T
	primaryCluster   *pgtest.Cluster
	replicaCluster   *pgtest.Cluster
	primary, standby *postgres.DB
	primaryReads     *countingFinder
	replicaReads     *countingFinder
	monitor          *replica.Monitor
	reader           *replica.Reader
	verifier         *license.Verifier
	hasher           *license.Hasher
}

func newTopology(t *testing.T, opts replica.ReaderOptions) *topology {
	t.Helper()
	primaryCluster := pgtest.NewPrimary(t)
	tdb := pgtest.NewOn(t, primaryCluster.URL("postgres"))
	replicaCluster := pgtest.NewReplica(t, primaryCluster)

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	primary := mustOpen(t, tdb.AppURL)
	standby := mustOpen(t, withPort(t, tdb.AppURL, replicaCluster.Port))
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	top := &topology{
		t: t, primaryCluster: primaryCluster, replicaCluster: replicaCluster,
		primary: primary, standby: standby,
		primaryReads: &countingFinder{Finder: primary},
		replicaReads: &countingFinder{Finder: standby},
		monitor:      replica.NewMonitor(primary, standby, 50*time.Millisecond, logger),
	}
	go top.monitor.Run(ctx)
	reader := replica.NewReader(top.primaryReads, top.replicaReads, top.monitor, opts, logger)
	top.reader = reader
	hasher, err := license.NewHasher(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	top.hasher = hasher
	top.verifier = license.NewVerifier(reader, hasher)
	return top
}

func mustOpen(t *testing.T, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func withPort(t *testing.T, raw string, port int) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = "127.0.0.1:" + strconv.Itoa(port)
	return u.String()
}

func (top *topology) issue(email, key string) {
	top.t.Helper()
	_, err := top.primary.CreateLicense(context.Background(), tenant.Default, postgres.NewLicense{
		Email: email, KeyHash: top.hasher.Hash(key), KeyPrefix: license.KeyPrefix(key),
		Status: license.StatusActive, Plan: "pro",
	})
	if err != nil {
		top.t.Fatal(err)
	}
}

func (top *topology) verify(email, key string) license.Code {
	top.t.Helper()
	v, err := top.verifier.Verify(context.Background(), tenant.Default, email, key)
	if err != nil {
		top.t.Fatal(err)
	}
	return v.Code
}

// standbySQL runs a statement on the replica as the superuser.
func (top *topology) standbySQL(stmt string) {
	top.t.Helper()
	conn, err := pgx.Connect(context.Background(), top.replicaCluster.URL("postgres"))
	if err != nil {
		top.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), stmt); err != nil {
		top.t.Fatal(err)
	}
}

// waitFor polls cond until it holds or 15 seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

var defaultOpts = replica.ReaderOptions{MaxLag: 30 * time.Second, StaleAfter: 300 * time.Millisecond, ConfirmRate: 100, ConfirmBurst: 10}

func TestReplicaServesReads(t *testing.T) {
	top := newTopology(t, defaultOpts)
	top.issue("a@example.com", "KEY-A")
	waitFor(t, "replica to replay the license", func() bool {
		_, err := top.standby.FindByKey(context.Background(), tenant.Default, "a@example.com", top.hasher.Hash("KEY-A"))
		return err == nil
	})
	waitFor(t, "monitor to see the replica", func() bool { return top.monitor.Status().Reachable })

	if code := top.verify("a@example.com", "KEY-A"); code != license.CodeValid {
		t.Errorf("code = %s, want VALID", code)
	}
	if top.replicaReads.calls.Load() != 1 || top.primaryReads.calls.Load() != 0 {
		t.Errorf("replica reads %d, primary reads %d; want 1 and 0",
			top.replicaReads.calls.Load(), top.primaryReads.calls.Load())
	}
}

func TestPurchaseVerifiesWhileReplayPaused(t *testing.T) {
	top := newTopology(t, defaultOpts)
	waitFor(t, "monitor to see the replica", func() bool { return top.monitor.Status().Reachable })
	top.standbySQL(`SELECT pg_wal_replay_pause()`)

	top.issue("new@example.com", "KEY-NEW")
	waitFor(t, "lag above StaleAfter", func() bool { return top.monitor.Status().Lag > defaultOpts.StaleAfter })

	if code := top.verify("new@example.com", "KEY-NEW"); code != license.CodeValid {
		t.Errorf("new purchase with replay paused: %s, want VALID", code)
	}
	if top.primaryReads.calls.Load() != 1 {
		t.Errorf("primary reads = %d, want 1 confirmation", top.primaryReads.calls.Load())
	}
	if code := top.verify("nobody@example.com", "KEY-NONE"); code != license.CodeNotFound {
		t.Errorf("unknown key: %s, want NOT_FOUND", code)
	}
}

func TestConfirmationsAreRateLimited(t *testing.T) {
	opts := defaultOpts
	opts.ConfirmRate, opts.ConfirmBurst = 0.001, 3
	top := newTopology(t, opts)
	waitFor(t, "monitor to see the replica", func() bool { return top.monitor.Status().Reachable })
	top.standbySQL(`SELECT pg_wal_replay_pause()`)
	top.issue("x@example.com", "KEY-X")
	waitFor(t, "lag above StaleAfter", func() bool { return top.monitor.Status().Lag > opts.StaleAfter })

	for i := range 20 {
		top.verify("guess@example.com", "GUESS-"+strconv.Itoa(i))
	}
	if got := top.primaryReads.calls.Load(); got != 3 {
		t.Errorf("primary confirmations = %d for 20 invalid keys, want the burst of 3", got)
	}
}

func TestRevokeVisibleAfterMaxLag(t *testing.T) {
	opts := defaultOpts
	opts.MaxLag = 3 * time.Second
	top := newTopology(t, opts)
	top.issue("a@example.com", "KEY-A")
	waitFor(t, "replica to replay the license", func() bool {
		_, err := top.standby.FindByKey(context.Background(), tenant.Default, "a@example.com", top.hasher.Hash("KEY-A"))
		return err == nil
	})
	top.standbySQL(`SELECT pg_wal_replay_pause()`)

	ref := postgres.Ref{KeyHash: top.hasher.Hash("KEY-A")}
	if _, _, err := top.primary.SetStatus(context.Background(), tenant.Default, ref, license.StatusRevoked); err != nil {
		t.Fatal(err)
	}
	// Within MaxLag the replica's older, valid state is served: the
	// documented bound on how late a revocation reaches a lagging region.
	if code := top.verify("a@example.com", "KEY-A"); code != license.CodeValid {
		t.Errorf("revoked license within MaxLag: %s, want the replica's VALID", code)
	}
	waitFor(t, "lag above MaxLag", func() bool { return top.monitor.Status().Lag > opts.MaxLag })
	if err := top.reader.Ping(context.Background()); err == nil || !strings.Contains(err.Error(), "REPLICA_MAX_LAG") {
		t.Errorf("health check beyond MaxLag: %v, want an error naming REPLICA_MAX_LAG", err)
	}
	if code := top.verify("a@example.com", "KEY-A"); code != license.CodeRevoked {
		t.Errorf("revoked license beyond MaxLag: %s, want REVOKED", code)
	}
}

func TestReplicaStoppedAndBack(t *testing.T) {
	top := newTopology(t, defaultOpts)
	top.issue("a@example.com", "KEY-A")
	waitFor(t, "monitor to see the replica", func() bool { return top.monitor.Status().Reachable })

	top.replicaCluster.Stop()
	waitFor(t, "monitor to lose the replica", func() bool { return !top.monitor.Status().Reachable })
	if err := top.reader.Ping(context.Background()); err == nil {
		t.Error("health check passes with the replica stopped")
	}
	if got := top.reader.HealthDetails()["replicaReachable"]; got != false {
		t.Errorf("replicaReachable = %v with the replica stopped, want false", got)
	}
	if code := top.verify("a@example.com", "KEY-A"); code != license.CodeValid {
		t.Errorf("replica stopped: %s, want VALID from the primary", code)
	}
	if top.primaryReads.calls.Load() == 0 {
		t.Error("replica stopped: no read reached the primary")
	}

	top.replicaCluster.Start()
	waitFor(t, "monitor to see the replica again", func() bool { return top.monitor.Status().Reachable })
	if err := top.reader.Ping(context.Background()); err != nil {
		t.Errorf("health check with the replica back: %v", err)
	}
	before := top.replicaReads.calls.Load()
	waitFor(t, "a read served by the replica", func() bool {
		top.verify("a@example.com", "KEY-A")
		return top.replicaReads.calls.Load() > before
	})
}

func TestMonitorWithPrimaryHung(t *testing.T) {
	primaryCluster := pgtest.NewPrimary(t)
	tdb := pgtest.NewOn(t, primaryCluster.URL("postgres"))
	replicaCluster := pgtest.NewReplica(t, primaryCluster)
	proxy := faultproxy.New(t, "127.0.0.1:"+strconv.Itoa(primaryCluster.Port))
	primary := mustOpen(t, withPort(t, tdb.AppURL, proxyPort(t, proxy)))
	standby := mustOpen(t, withPort(t, tdb.AppURL, replicaCluster.Port))

	monitor := replica.NewMonitor(primary, standby, 50*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go monitor.Run(ctx)
	waitFor(t, "monitor to see the replica", func() bool { return monitor.Status().Reachable })

	proxy.Stall()
	defer proxy.Resume()
	time.Sleep(500 * time.Millisecond)
	if !monitor.Status().Reachable {
		t.Error("replica reported unreachable while only the primary hangs")
	}
}

func proxyPort(t *testing.T, p *faultproxy.Proxy) int {
	t.Helper()
	_, port, err := net.SplitHostPort(p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
