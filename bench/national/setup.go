package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/internal/pgcluster"
	"arrs.nhs.uk/arrs/server/auth"
)

// env is what the benchmark runs against: a database, an arrsd serving it,
// a gRPC connection and the development key to mint tokens with.
type env struct {
	databaseURL string
	binDir      string // PostgreSQL's binaries, for pgbench
	arrsd       *exec.Cmd
	exited      chan struct{}
	conn        *grpc.ClientConn
	keys        *auth.DevKeys
	logger      *slog.Logger
	rpcs        rpcStats // the load's calls, by method
	metricsAddr string   // arrsd's metrics listener, which serves /debug/pprof/ with --cpu-profile
	profileDir  string   // where --cpu-profile writes arrsd's CPU profiles; "" for none
	cpu         cpuMeter // the CPU time PostgreSQL, arrsd and the clients use
	cleanups    []func() error

	// tokens holds each caller's bearer token: a real client keeps its
	// token until it expires, and minting one per call would both spend the
	// clients' CPU (the same two cores arrsd runs on) and defeat arrsd's
	// verified-token cache, measuring signature checks instead of the API.
	tokensMu sync.Mutex
	tokens   map[string]string
}

func (e *env) close() error {
	var err error
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		err = errors.Join(err, e.cleanups[i]())
	}
	return err
}

// setUp starts (or uses) the database, builds and starts arrsd with the demo
// data (the role catalogue, its rates, the ICB QNQ and the financial years)
// on free loopback ports, and dials it.
func setUp(ctx context.Context, c config, logger *slog.Logger) (*env, error) {
	e := &env{logger: logger, databaseURL: c.databaseURL}
	if err := e.setUp(ctx, c); err != nil {
		return nil, errors.Join(err, e.close())
	}
	return e, nil
}

func (e *env) setUp(ctx context.Context, c config) error {
	logger := e.logger
	work, err := os.MkdirTemp("", "arrs-bench-national-")
	if err != nil {
		return err
	}
	// The private cluster runs as the postgres user when we are root; it must
	// reach the directory.
	if err := os.Chmod(work, 0o755); err != nil {
		return err
	}
	e.cleanups = append(e.cleanups, func() error {
		if c.keep {
			logger.Info("kept", "dir", work)
			return nil
		}
		return os.RemoveAll(work)
	})
	if e.binDir, err = pgcluster.BinDir(); err != nil {
		return err
	}
	if e.databaseURL == "" {
		cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(work, "postgres"), Logger: logger, Fsync: true})
		if err != nil {
			return fmt.Errorf("private PostgreSQL cluster: %w", err)
		}
		e.cleanups = append(e.cleanups, func() error { return cluster.Stop(context.Background()) })
		if err := cluster.EnsureDatabase(ctx, "arrs"); err != nil {
			return err
		}
		e.databaseURL = cluster.URL("arrs")
		logger.Info("private PostgreSQL cluster", "dir", cluster.Dir, "url", e.databaseURL)
	}

	bin := c.arrsd
	if bin == "" {
		bin = filepath.Join(work, "arrsd")
		logger.Info("building arrsd", "from", "./cmd/arrsd")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/arrsd")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build arrsd: %w", err)
		}
	}
	dataDir := filepath.Join(work, "data")
	if e.keys, err = auth.LoadOrCreateDevKeys(filepath.Join(dataDir, "auth")); err != nil {
		return err
	}
	addrs, err := freeLoopbackAddrs(3)
	if err != nil {
		return err
	}
	args := []string{"serve", "--demo", "--database-url", e.databaseURL,
		"--data-dir", dataDir, "--grpc-addr", addrs[0], "--http-addr", addrs[1], "--metrics-addr", addrs[2],
		"--environment", "development", "--log-level", "warn"}
	e.metricsAddr = addrs[2]
	if e.profileDir = c.cpuProfile; e.profileDir != "" {
		args = append(args, "--pprof")
		if err := os.MkdirAll(e.profileDir, 0o755); err != nil {
			return err
		}
	}
	if err := e.startArrsd(bin, filepath.Join(work, "arrsd.log"), args...); err != nil {
		return err
	}
	if e.conn, err = grpc.NewClient(addrs[0], grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithUnaryInterceptor(e.rpcs.intercept)); err != nil {
		return err
	}
	e.cleanups = append(e.cleanups, e.conn.Close)
	if err := e.awaitServing(ctx, 2*time.Minute); err != nil {
		return err
	}
	if e.cpu, err = newCPUMeter(ctx, e.databaseURL, e.arrsd.Process.Pid); err != nil {
		return err
	}
	if e.cpu.postmaster == 0 {
		logger.Warn("PostgreSQL's processes are not on this machine or cannot be read: its CPU time is not measured")
	}
	return nil
}

// startArrsd starts arrsd, logging to logPath; it is stopped with SIGTERM
// (and killed if it has not stopped within 30 s) when the benchmark ends, and
// gets SIGTERM from the kernel if the benchmark dies first.
func (e *env) startArrsd(bin, logPath string, args ...string) error {
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ARRS_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return errors.Join(err, logFile.Close())
	}
	e.arrsd, e.exited = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(e.exited)
	}()
	e.logger.Info("arrsd started", "pid", cmd.Process.Pid, "log", logPath)
	e.cleanups = append(e.cleanups, func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-e.exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-e.exited
		}
		return nil
	})
	return nil
}

func (e *env) awaitServing(ctx context.Context, limit time.Duration) error {
	health := healthpb.NewHealthClient(e.conn)
	deadline := time.Now().Add(limit)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		resp, err := health.Check(cctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil {
			if resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
				return nil
			}
			err = fmt.Errorf("health %s", resp.GetStatus())
		}
		select {
		case <-e.exited:
			return errors.New("arrsd exited before serving; see its log")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("arrsd not serving after %s: %w", limit, err)
		}
	}
}

// settle brings the database to where it would be a while after a load,
// before reads are timed, so that they time the size and not the load's
// aftermath: VACUUM (ANALYZE) does what autovacuum would soon do (statistics,
// the visibility map), and a checkpoint writes out what the load dirtied.
// Just after a load, with stale statistics, PostgreSQL can plan ListClaims's
// page as a sort of every claim after the cursor with its totals instead of
// an index walk that stops at the page; and autovacuum's passes over the
// new lines and audit events, and the checkpointer flushing the load, ran
// alongside the timed reads and made their p99s time those. A database
// user that may not CHECKPOINT (not a superuser or pg_checkpoint) skips it.
func (e *env) settle(ctx context.Context) error {
	db, err := sqlx.Open("postgres", e.databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM (ANALYZE)"); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	if _, err := db.ExecContext(ctx, "CHECKPOINT"); err != nil {
		e.logger.Warn("no checkpoint before the reads", "err", err)
	}
	return nil
}

// rpcStats times each unary call by method while recording is on (during
// the load phases), to show where the load's time goes.
type rpcStats struct {
	recording atomic.Bool
	mu        sync.Mutex
	byMethod  map[string]latencies
}

func (s *rpcStats) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
	invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if !s.recording.Load() {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	t0 := time.Now()
	err := invoker(ctx, method, req, reply, cc, opts...)
	d := time.Since(t0)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byMethod == nil {
		s.byMethod = map[string]latencies{}
	}
	name := method[strings.LastIndex(method, "/")+1:]
	s.byMethod[name] = append(s.byMethod[name], d)
	return err
}

// as returns ctx carrying a development token for role in org.
func (e *env) as(ctx context.Context, role claims.AccessRole, org, subject string) (context.Context, error) {
	key := string(role) + "\x00" + org + "\x00" + subject
	e.tokensMu.Lock()
	defer e.tokensMu.Unlock()
	token, ok := e.tokens[key]
	if !ok {
		var err error
		if token, err = e.keys.Mint(subject, role, org, 12*time.Hour); err != nil {
			return nil, err
		}
		if e.tokens == nil {
			e.tokens = map[string]string{}
		}
		e.tokens[key] = token
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token), nil
}

func freeLoopbackAddrs(n int) ([]string, error) {
	addrs := make([]string, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// snapshot returns the recorded calls by method.
func (s *rpcStats) snapshot() map[string]latencies {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byMethod
}

// profile starts a CPU profile of arrsd for seconds, written to
// <profileDir>/<stage>.pprof, and returns a function that waits for it.
// With no --cpu-profile it does nothing. A profile that fails is logged, not
// fatal: it is a diagnosis beside the figures, not one of them.
func (e *env) profile(ctx context.Context, stage string, seconds int, on bool) (wait func()) {
	if e.profileDir == "" || !on {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", e.metricsAddr, seconds)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			e.logger.Warn("profile", "stage", stage, "err", err)
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			e.logger.Warn("profile", "stage", stage, "err", err)
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("%s: %s", resp.Status, body)
		}
		if err == nil {
			path := filepath.Join(e.profileDir, stage+".pprof")
			if err = os.WriteFile(path, body, 0o644); err == nil {
				e.logger.Info("arrsd CPU profile written", "stage", stage, "path", path)
			}
		}
		if err != nil {
			e.logger.Warn("profile", "stage", stage, "err", err)
		}
	}()
	return func() { <-done }
}
