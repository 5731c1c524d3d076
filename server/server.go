// Package server serves the arrs.v1 API: gRPC handlers that translate
// requests into calls on claims.Store, the REST gateway in front of them,
// and the interceptors, health, reflection and metrics around them.
//
// It owns the boundary, not the rules: validation of business rules, state
// transitions and SQL belong to package claims. Handlers return domain errors
// (*claims.Error) and never build gRPC statuses; errors.go maps them in one
// place.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"slices"
	"sync"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/test/bufconn"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/internal/buildinfo"
)

// Config says where a Server listens and how it behaves. Addresses are
// host:port; port 0 picks a free port, which the Server's *Addr methods
// report.
type Config struct {
	// GRPCAddr is the gRPC listen address.
	GRPCAddr string
	// HTTPAddr is the REST gateway's listen address.
	HTTPAddr string
	// MetricsAddr is where GET /metrics serves Prometheus metrics. It is a
	// port of its own so it can stay private while the API is exposed.
	MetricsAddr string
	// Profiling, when set, also serves Go's runtime profiles (net/http/pprof)
	// under /debug/pprof/ on the metrics port: off by default, because a
	// profile shows the program's internals and costs CPU while it runs;
	// on for a benchmark or a diagnosis (bench/national --cpu-profile).
	Profiling bool
	// ShutdownTimeout bounds how long in-flight requests may run after
	// shutdown starts before they are cut off; 0 means 10 seconds.
	ShutdownTimeout time.Duration
	// HealthInterval is how often the server checks that the database is
	// reachable and its schema current, which is what its health status
	// reports; 0 means 2 seconds.
	HealthInterval time.Duration
	// Authenticator establishes every caller's identity. Required: arrs has
	// no unauthenticated mode, only a development identity provider.
	Authenticator Authenticator
	// TLS, when set, makes the gRPC listener serve TLS (and, with ClientCAs,
	// accept service accounts' client certificates).
	TLS *tls.Config
	// JWKS, when set, is served at /.well-known/jwks.json: the development
	// signing key's public half, for tools that verify arrs's dev tokens.
	JWKS []byte
	// HTTPTLS, when set, makes the REST gateway and the metrics endpoint
	// serve HTTPS with it. REST callers authenticate by bearer token, so it
	// need not ask for client certificates.
	HTTPTLS *tls.Config
	// TracerProvider makes the spans of every call, gRPC and REST (see
	// tracing.go); nil turns tracing off. A caller's W3C trace context is
	// honoured either way.
	TracerProvider trace.TracerProvider
	// TrustedProxies are the proxies whose X-Forwarded-For (over REST) or
	// x-forwarded-for metadata (over gRPC) names the client in call logs;
	// anyone else's is ignored (see clientaddr.go).
	TrustedProxies []netip.Prefix
	// REST tunes the REST gateway: its body limit and CORS origins.
	REST RESTOptions
	// Console, when set, is the web console's built assets (web.Console()),
	// served at / by the REST listener with strict security headers (see
	// console.go).
	Console fs.FS
	// DevTokens, when set, serves POST /auth/dev/token, which mints
	// development tokens for the console's "choose a demo user". Set it
	// only when the development key is in use: never with an identity
	// provider, never in production.
	DevTokens DevTokenMinter
	// OIDC, when set, is how the console signs users in with the identity
	// provider (authorization code with PKCE), published at /auth/config.
	OIDC *OIDCClient
	// AuditCheckpoints says where and how often the audit trail's signed
	// checkpoints are published (checkpoints.go).
	AuditCheckpoints AuditCheckpoints
	// Reflection says who may use gRPC server reflection; the zero value
	// does not serve it.
	Reflection ReflectionAccess
	// MaxConcurrentStreams bounds the calls one client connection may have
	// open at once on the gRPC listener, so one client cannot hold
	// thousands of streams (and their goroutines); 0 means
	// DefaultMaxConcurrentStreams. The gateway's own connection, which
	// carries every REST call, is not bound by it.
	MaxConcurrentStreams uint32
}

// DefaultMaxConcurrentStreams is the per-connection stream limit unless
// configured: HTTP/2's recommended minimum, far more than a client's
// honest concurrency.
const DefaultMaxConcurrentStreams = 100

// maxRecvMsgBytes is the largest gRPC request the server reads (gRPC's own
// default, stated): arrs's requests are a few kilobytes, and REST bodies
// are cut off well below it (RESTOptions.MaxBodyBytes).
const maxRecvMsgBytes = 4 << 20

// gatewayMaxRecvMsgBytes is the largest response the gateway reads from the
// server: a commissioner's month of claim lines as CSV is the largest.
const gatewayMaxRecvMsgBytes = 32 << 20

// Server serves the arrs.v1 API over gRPC and, through the gateway, REST,
// with health, reflection and metrics.
type Server struct {
	cfg         Config
	logger      *slog.Logger
	db          *sqlx.DB
	checkpoints *checkpoints

	grpc        *grpc.Server
	health      *health.Server
	healthNames []string
	gatewayConn *grpc.ClientConn
	http        *http.Server
	metrics     *http.Server

	grpcLis, httpLis, metricsLis net.Listener
	// gatewayLis is an in-memory listener the same gRPC server also serves,
	// for the gateway's own connection: REST calls pass every interceptor
	// without a network hop, and without TLS, so the gateway can never be
	// mistaken for a client-certificate service account.
	gatewayLis *bufconn.Listener
	// gatewayGRPC serves gatewayLis: a twin of grpc (see New).
	gatewayGRPC *grpc.Server
}

// New builds a Server over store and binds its listeners, so the *Addr
// methods report real ports before Serve starts. Serve must then be called,
// and is what releases the listeners. The store's database schema need not
// be current yet: the server reports NOT_SERVING until it is. Everything the
// server knows of the date comes from the store's clock, so a test can stand
// the whole service on any day.
func New(cfg Config, store *claims.Store, logger *slog.Logger) (*Server, error) {
	if cfg.GRPCAddr == "" || cfg.HTTPAddr == "" || cfg.MetricsAddr == "" {
		return nil, errors.New("server: GRPCAddr, HTTPAddr and MetricsAddr are all required")
	}
	if cfg.Authenticator == nil {
		return nil, errors.New("server: an Authenticator is required")
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if cfg.HealthInterval == 0 {
		cfg.HealthInterval = 2 * time.Second
	}
	if cfg.MaxConcurrentStreams == 0 {
		cfg.MaxConcurrentStreams = DefaultMaxConcurrentStreams
	}
	db := store.DB()
	s := &Server{cfg: cfg, logger: logger, db: db,
		checkpoints: &checkpoints{store: store, cfg: cfg.AuditCheckpoints, logger: logger}}

	// A registry per server, not the global default, so tests can run several
	// servers in one process and nothing registers metrics behind our back.
	registry := prometheus.NewRegistry()
	rpcMetrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram())
	registry.MustRegister(
		rpcMetrics,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db.DB, "arrs"),
		newQueueCollector(store, logger),
		buildInfoGauge(buildinfo.Get()),
	)

	s.health = health.NewServer()
	review := newReviewMetrics(registry)
	tp := tracerProvider(cfg.TracerProvider)
	policy := newAccess(cfg.Authenticator, cfg.Reflection)
	opts := append(interceptorOptions(logger, rpcMetrics, policy, cfg.TrustedProxies), grpcServerTracing(tp))
	newGRPC := func(extra ...grpc.ServerOption) *grpc.Server {
		g := grpc.NewServer(append(slices.Clone(opts), append(extra, grpc.MaxRecvMsgSize(maxRecvMsgBytes))...)...)
		registerAPI(g, store, review, s.checkpoints)
		healthpb.RegisterHealthServer(g, s.health)
		if cfg.Reflection != ReflectionOff {
			reflection.Register(g)
		}
		// Every method's series exists from the start, at zero, so rates
		// and alerts work before the first call.
		rpcMetrics.InitializeMetrics(g)
		return g
	}
	// The network listener and the gateway's in-memory connection are
	// served by twin servers with the same services, interceptors and
	// health: transport credentials bind every listener a grpc.Server
	// serves, and the gateway's connection is plaintext; and the stream
	// limit meant for one client would otherwise throttle every REST
	// caller at once, since they share the gateway's one connection.
	s.gatewayGRPC = newGRPC()
	network := []grpc.ServerOption{grpc.MaxConcurrentStreams(cfg.MaxConcurrentStreams)}
	if cfg.TLS != nil {
		network = append(network, grpc.Creds(credentials.NewTLS(cfg.TLS)))
	}
	s.grpc = newGRPC(network...)
	s.healthNames = healthServices(s.grpc)
	setHealth(s.health, s.healthNames, healthpb.HealthCheckResponse_NOT_SERVING)

	if err := s.listen(); err != nil {
		return nil, err
	}
	s.gatewayLis = bufconn.Listen(1 << 20)
	conn, err := grpc.NewClient("passthrough:///arrs-gateway",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return s.gatewayLis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		gatewayTracing(tp),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(gatewayMaxRecvMsgBytes)),
		grpc.WithUnaryInterceptor(ifMatchUnary))
	if err != nil {
		s.closeListeners()
		return nil, fmt.Errorf("gateway connection: %w", err)
	}
	s.gatewayConn = conn
	gateway, err := newGateway(context.Background(), conn, cfg.REST, cfg.JWKS, logger, cfg.TrustedProxies)
	if err != nil {
		s.closeListeners()
		_ = conn.Close()
		return nil, err
	}
	// The HTTP servers' own errors (a failed TLS handshake, a malformed
	// request) go to the structured log, at info: clients and load
	// balancers' TCP probes cause them, not arrs.
	httpErrors := slog.NewLogLogger(logger.With("component", "http").Handler(), slog.LevelInfo)
	s.http = newRESTServer(httpTracing(withConsole(gateway, cfg.Console, cfg.DevTokens, cfg.OIDC), tp))
	s.http.TLSConfig, s.http.ErrorLog = cfg.HTTPTLS.Clone(), httpErrors

	metricsMux := http.NewServeMux()
	metricsMux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{Registry: registry}))
	if cfg.Profiling {
		metricsMux.HandleFunc("GET /debug/pprof/", pprof.Index)
		metricsMux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		metricsMux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	s.metrics = &http.Server{Handler: metricsMux, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: cfg.HTTPTLS.Clone(), ErrorLog: httpErrors}
	return s, nil
}

func (s *Server) listen() error {
	var lc net.ListenConfig
	for _, l := range []struct {
		lis  *net.Listener
		addr string
		what string
	}{
		{&s.grpcLis, s.cfg.GRPCAddr, "gRPC"},
		{&s.httpLis, s.cfg.HTTPAddr, "REST"},
		{&s.metricsLis, s.cfg.MetricsAddr, "metrics"},
	} {
		lis, err := lc.Listen(context.Background(), "tcp", l.addr)
		if err != nil {
			s.closeListeners()
			return fmt.Errorf("listen for %s on %s: %w", l.what, l.addr, err)
		}
		*l.lis = lis
	}
	return nil
}

func (s *Server) closeListeners() {
	for _, lis := range []net.Listener{s.grpcLis, s.httpLis, s.metricsLis} {
		if lis != nil {
			_ = lis.Close()
		}
	}
}

// GRPCAddr is the address the gRPC server listens on.
func (s *Server) GRPCAddr() string { return s.grpcLis.Addr().String() }

// HTTPAddr is the address the REST gateway listens on.
func (s *Server) HTTPAddr() string { return s.httpLis.Addr().String() }

// MetricsAddr is the address serving /metrics.
func (s *Server) MetricsAddr() string { return s.metricsLis.Addr().String() }

// Serve serves until ctx is cancelled or a listener fails, then shuts down:
// health goes NOT_SERVING, the REST and metrics servers finish their
// requests, and the gRPC server drains; whatever is still running after
// Config.ShutdownTimeout is cut off. It returns nil after a shutdown caused
// by ctx. Call it once.
func (s *Server) Serve(ctx context.Context) error {
	s.logger.InfoContext(ctx, "serving", "grpc", s.GRPCAddr(), "http", s.HTTPAddr(), "metrics", s.MetricsAddr())
	readyCtx, stopReady := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { watchDatabase(readyCtx, s.health, s.healthNames, s.db.DB, s.cfg.HealthInterval, s.logger) })
	wg.Go(func() { s.checkpoints.run(readyCtx) })

	errc := make(chan error, 4)
	wg.Go(func() { errc <- s.grpc.Serve(s.grpcLis) })
	wg.Go(func() { errc <- s.gatewayGRPC.Serve(gatewayListener{s.gatewayLis}) })
	wg.Go(func() { errc <- serveHTTP(s.http, s.httpLis) })
	wg.Go(func() { errc <- serveHTTP(s.metrics, s.metricsLis) })

	var failed error
	select {
	case <-ctx.Done():
	case failed = <-errc:
		failed = fmt.Errorf("server stopped: %w", failed)
	}
	stopReady()
	s.shutdown()
	wg.Wait()
	return failed
}

// shutdown stops the servers in dependency order: the REST gateway first,
// while the gRPC server is still there to answer its in-flight calls, then
// gRPC itself.
func (s *Server) shutdown() {
	s.logger.Info("shutting down", "timeout", s.cfg.ShutdownTimeout.String())
	s.health.Shutdown()
	deadline := time.Now().Add(s.cfg.ShutdownTimeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	var wg sync.WaitGroup
	for _, hs := range []*http.Server{s.http, s.metrics} {
		wg.Go(func() {
			if err := hs.Shutdown(ctx); err != nil {
				_ = hs.Close()
			}
		})
	}
	wg.Wait()
	_ = s.gatewayConn.Close()

	stopped := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		s.gatewayGRPC.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(time.Until(deadline)):
		s.logger.Warn("shutdown timed out; cancelling the remaining requests")
		s.grpc.Stop()
		s.gatewayGRPC.Stop()
		<-stopped
	}
	s.logger.Info("stopped")
}

// serveHTTP serves hs on lis, over TLS when hs has a TLS configuration.
func serveHTTP(hs *http.Server, lis net.Listener) error {
	if hs.TLSConfig != nil {
		return hs.ServeTLS(lis, "", "")
	}
	return hs.Serve(lis)
}
