// Command arrsd is the ARRS reimbursement service.
//
//	arrsd [serve] [flags]   migrate the database, then serve gRPC, REST and metrics
//	arrsd migrate [flags]   migrate the database and exit
//	arrsd token [flags]     mint a development bearer token (see --role, --org)
//	arrsd version           print the version, commit and Go version
//
// Each flag may instead be set by the environment variable named in its
// help; a flag given on the command line wins. Without a database URL,
// arrsd runs a private PostgreSQL cluster under <data-dir>/postgres, for
// development only; as root, the cluster is kept in
// /var/lib/arrs/<hash>/postgres, which the postgres user that runs it can
// reach from anywhere, and <data-dir>/postgres links to it.
//
// main only reads configuration and wires packages together; everything it
// starts is owned and documented by the server, migrations and claims
// packages.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the "postgres" database/sql driver

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/claims/demo"
	"arrs.nhs.uk/arrs/internal/auditkey"
	"arrs.nhs.uk/arrs/internal/buildinfo"
	"arrs.nhs.uk/arrs/internal/pgcluster"
	"arrs.nhs.uk/arrs/migrations"
	"arrs.nhs.uk/arrs/server"
	"arrs.nhs.uk/arrs/server/auth"
	"arrs.nhs.uk/arrs/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "arrsd:", err)
		os.Exit(1)
	}
}

// config is arrsd's configuration after flags and environment are merged.
type config struct {
	command            string
	auditKeyFile       string
	checkpointDir      string
	checkpointLog      bool
	checkpointInterval time.Duration
	grpcAddr           string
	httpAddr           string
	oidcClientID       string
	metricsAddr        string
	pprof              bool
	databaseURL        string
	dataDir            string
	demo               bool
	logLevel           slog.Level
	maxConns           int
	maxIdle            int

	environment     string
	reflection      server.ReflectionAccess
	maxStreams      uint
	healthInterval  time.Duration
	jwt             auth.JWTConfig
	tlsCert         string
	tlsKey          string
	clientCA        string
	serviceAccounts string
	trustedProxies  string
	rest            server.RESTOptions

	// token subcommand
	tokenRole    string
	tokenOrg     string
	tokenSubject string
	tokenTTL     time.Duration
}

// parseConfig reads the subcommand and its flags. Environment variables
// supply the flags' defaults, so a flag on the command line overrides them.
// The listen addresses are on localhost by default: binding elsewhere is a
// decision for whoever deploys arrsd, with a real identity provider.
func parseConfig(args []string, getenv func(string) string, output io.Writer) (config, error) {
	c := config{command: "serve"}
	if len(args) > 0 && (args[0] == "serve" || args[0] == "migrate" || args[0] == "token") {
		c.command, args = args[0], args[1:]
	}
	env := func(name, fallback string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return fallback
	}
	var reflection string
	fs := flag.NewFlagSet("arrsd "+c.command, flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&c.databaseURL, "database-url", getenv("DATABASE_URL"),
		"PostgreSQL URL; empty runs a private cluster under <data-dir>/postgres (env DATABASE_URL)")
	fs.StringVar(&c.dataDir, "data-dir", env("ARRS_DATA_DIR", ".data"), "directory for local state (env ARRS_DATA_DIR)")
	if err := c.logLevel.UnmarshalText([]byte(env("ARRS_LOG_LEVEL", "info"))); err != nil {
		return config{}, fmt.Errorf("ARRS_LOG_LEVEL: %w", err)
	}
	fs.TextVar(&c.logLevel, "log-level", c.logLevel, "debug, info, warn or error (env ARRS_LOG_LEVEL)")
	if c.command == "serve" {
		fs.StringVar(&c.grpcAddr, "grpc-addr", env("ARRS_GRPC_ADDR", "127.0.0.1:9090"), "gRPC listen address (env ARRS_GRPC_ADDR)")
		fs.StringVar(&c.httpAddr, "http-addr", env("ARRS_HTTP_ADDR", "127.0.0.1:8080"), "REST listen address (env ARRS_HTTP_ADDR)")
		fs.BoolVar(&c.pprof, "pprof", env("ARRS_PPROF", "") == "true", "also serve Go's runtime profiles at /debug/pprof/ on the metrics address (env ARRS_PPROF=true)")
		fs.StringVar(&c.metricsAddr, "metrics-addr", env("ARRS_METRICS_ADDR", "127.0.0.1:9464"), "Prometheus /metrics listen address (env ARRS_METRICS_ADDR)")
		if v := getenv("ARRS_DEMO"); v != "" {
			var err error
			if c.demo, err = strconv.ParseBool(v); err != nil {
				return config{}, fmt.Errorf("ARRS_DEMO: %w", err)
			}
		}
		fs.BoolVar(&c.demo, "demo", c.demo, "load the demonstration data (env ARRS_DEMO)")
		fs.IntVar(&c.maxConns, "db-max-conns", 20, "most PostgreSQL connections this process opens")
		fs.IntVar(&c.maxIdle, "db-max-idle-conns", -1,
			"most idle PostgreSQL connections kept open; -1 keeps them all (--db-max-conns), so a busy replica does not reconnect every few requests")
		fs.StringVar(&c.environment, "environment", env("ARRS_ENVIRONMENT", "development"),
			"development or production; production refuses the development signing key (env ARRS_ENVIRONMENT)")
		fs.StringVar(&reflection, "reflection", getenv("ARRS_REFLECTION"),
			"who may use gRPC server reflection: public, authenticated or off; public in development and off in production unless set (env ARRS_REFLECTION)")
		fs.DurationVar(&c.healthInterval, "health-interval", 2*time.Second,
			"how often the database is checked for the health status (NOT_SERVING while it is unreachable)")
		fs.UintVar(&c.maxStreams, "max-concurrent-streams", server.DefaultMaxConcurrentStreams,
			"most calls one gRPC client connection may have open at once")
		fs.StringVar(&c.jwt.Issuer, "jwt-issuer", getenv("ARRS_JWT_ISSUER"), "bearer tokens' required issuer (env ARRS_JWT_ISSUER)")
		fs.StringVar(&c.jwt.Audience, "jwt-audience", getenv("ARRS_JWT_AUDIENCE"), "bearer tokens' required audience (env ARRS_JWT_AUDIENCE)")
		fs.StringVar(&c.oidcClientID, "oidc-client-id", getenv("ARRS_OIDC_CLIENT_ID"), "the console's OpenID Connect client id at the identity provider (--jwt-issuer), for sign-in with PKCE (env ARRS_OIDC_CLIENT_ID)")
		fs.StringVar(&c.jwt.JWKSURL, "jwks-url", getenv("ARRS_JWKS_URL"), "identity provider's key set URL (env ARRS_JWKS_URL)")
		fs.StringVar(&c.jwt.JWKSFile, "jwks-file", getenv("ARRS_JWKS_FILE"), "identity provider's key set file (env ARRS_JWKS_FILE)")
		fs.StringVar(&c.tlsCert, "tls-cert", getenv("ARRS_TLS_CERT"), "TLS certificate file for gRPC, REST and metrics (env ARRS_TLS_CERT)")
		fs.StringVar(&c.tlsKey, "tls-key", getenv("ARRS_TLS_KEY"), "TLS key file for gRPC, REST and metrics (env ARRS_TLS_KEY)")
		fs.StringVar(&c.clientCA, "client-ca", getenv("ARRS_CLIENT_CA"), "CA whose client certificates name service accounts (env ARRS_CLIENT_CA)")
		fs.StringVar(&c.serviceAccounts, "service-accounts", getenv("ARRS_SERVICE_ACCOUNTS"), "JSON file of service accounts and their permissions (env ARRS_SERVICE_ACCOUNTS)")
		fs.StringVar(&c.trustedProxies, "trusted-proxies", getenv("ARRS_TRUSTED_PROXIES"),
			"comma-separated CIDRs of proxies whose X-Forwarded-For names the client in logs (env ARRS_TRUSTED_PROXIES)")
		fs.StringVar(&c.auditKeyFile, "audit-key-file", getenv("ARRS_AUDIT_KEY_FILE"),
			"file of the keys that authenticate the audit trail (internal/auditkey); required in production, "+
				"in development kept under --data-dir (env ARRS_AUDIT_KEY_FILE)")
		fs.StringVar(&c.checkpointDir, "audit-checkpoint-dir", getenv("ARRS_AUDIT_CHECKPOINT_DIR"),
			"directory that receives a file per signed audit checkpoint; ship it off the host (env ARRS_AUDIT_CHECKPOINT_DIR; "+
				"in development, default <data-dir>/audit-checkpoints)")
		fs.BoolVar(&c.checkpointLog, "audit-checkpoint-log", getenv("ARRS_AUDIT_CHECKPOINT_LOG") == "true",
			"also write each audit checkpoint to stdout, one JSON line each, for a log shipper (env ARRS_AUDIT_CHECKPOINT_LOG=true)")
		fs.DurationVar(&c.checkpointInterval, "audit-checkpoint-interval", time.Hour,
			"how often a signed audit checkpoint is published; 0 only on demand")
		if err := restFlags(fs, &c.rest, getenv); err != nil {
			return config{}, err
		}
	}
	if c.command == "token" {
		fs.StringVar(&c.tokenRole, "role", "pcn-clinical-director", "access role: "+roleList())
		fs.StringVar(&c.tokenOrg, "org", "", "organisation code: a PCN (U12345), commissioner (QNQ), Training Hub (frimley) or practice (K81001)")
		fs.StringVar(&c.tokenSubject, "subject", "dev-user", "the token's subject")
		fs.DurationVar(&c.tokenTTL, "ttl", time.Hour, "how long the token is valid")
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if c.maxIdle < 0 {
		c.maxIdle = c.maxConns
	}
	if c.command == "serve" {
		if c.healthInterval <= 0 {
			return config{}, fmt.Errorf("--health-interval %v: want a positive duration", c.healthInterval)
		}
		var err error
		if c.reflection, err = reflectionAccess(reflection, c.environment); err != nil {
			return config{}, err
		}
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q; commands are serve, migrate, token and version", fs.Arg(0))
	}
	if _, err := server.ParseTrustedProxies(c.trustedProxies); err != nil {
		return config{}, err
	}
	return c, nil
}

// reflectionAccess reads --reflection; unset, reflection is open in
// development (grpcurl without a token) and not served in production, where
// it would hand anyone a map of the API.
func reflectionAccess(flagValue, environment string) (server.ReflectionAccess, error) {
	switch flagValue {
	case "public":
		return server.ReflectionPublic, nil
	case "authenticated":
		return server.ReflectionAuthenticated, nil
	case "off":
		return server.ReflectionOff, nil
	case "":
		if environment == "production" {
			return server.ReflectionOff, nil
		}
		return server.ReflectionPublic, nil
	}
	return 0, fmt.Errorf("--reflection %q: want public, authenticated or off", flagValue)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	if len(args) > 0 && args[0] == "version" {
		return printVersion(args[1:], stdout)
	}
	c, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))
	switch c.command {
	case "token":
		return mintToken(c, stdout)
	case "migrate":
		// Only the database is configured for migrate: no listeners, no
		// identity provider.
		return migrate(ctx, c, logger)
	}
	tuneGC(getenv)
	authn, dev, err := authenticator(ctx, c, logger)
	if err != nil {
		return err
	}
	// The development key's public half is served, and the console may
	// mint tokens with it, only while it is the identity provider.
	var jwks []byte
	var minter server.DevTokenMinter
	var oidc *server.OIDCClient
	if dev != nil {
		jwks, minter = dev.JWKS(), dev
	} else if c.oidcClientID != "" {
		oidc = &server.OIDCClient{Issuer: c.jwt.Issuer, ClientID: c.oidcClientID}
	}
	tlsConfig, httpTLS, err := serverTLS(c)
	if err != nil {
		return err
	}
	trusted, err := server.ParseTrustedProxies(c.trustedProxies)
	if err != nil {
		return err
	}

	keys, checkpointDir, err := auditKeys(c)
	if err != nil {
		return err
	}
	var checkpointLog io.Writer
	if c.checkpointLog {
		checkpointLog = stdout
	}

	db, closeDB, err := openMigrated(ctx, c, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeDB()) }()
	store := claims.NewStore(db, claims.WithAuditKeys(keys))
	// Deferred after closeDB, so it runs first: the statements the store
	// prepared are released before the pool closes.
	defer func() { err = errors.Join(err, store.Close()) }()
	if c.demo {
		if err := demo.Load(ctx, store); err != nil {
			return fmt.Errorf("load demo data: %w", err)
		}
		logger.InfoContext(ctx, "demo data loaded")
	}
	tp, stopTracing, err := tracerProvider(ctx, getenv, buildinfo.Get(), logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, stopTracing(context.WithoutCancel(ctx))) }()
	srv, err := server.New(server.Config{
		GRPCAddr:       c.grpcAddr,
		HTTPAddr:       c.httpAddr,
		MetricsAddr:    c.metricsAddr,
		Profiling:      c.pprof,
		Authenticator:  authn,
		TLS:            tlsConfig,
		HTTPTLS:        httpTLS,
		JWKS:           jwks,
		DevTokens:      minter,
		OIDC:           oidc,
		Console:        web.Console(),
		TracerProvider: tp,
		TrustedProxies: trusted,
		REST:           c.rest,
		AuditCheckpoints: server.AuditCheckpoints{
			Dir: checkpointDir, Log: checkpointLog, Interval: c.checkpointInterval},
		Reflection:     c.reflection,
		HealthInterval: c.healthInterval,
		// The flag is a uint so a negative value is refused when parsed;
		// HTTP/2 settings are 32-bit.
		MaxConcurrentStreams: uint32(min(c.maxStreams, math.MaxUint32)),
	}, store, logger)
	if err != nil {
		return err
	}
	return srv.Serve(ctx)
}

// auditKeys loads the audit trail's keys and says where checkpoints go. In
// production both are configured, as the identity provider is: a key kept
// in the data directory next to the data would help no one. In development
// the key is made under the data directory on first use.
func auditKeys(c config) (*auditkey.Ring, string, error) {
	dir := c.checkpointDir
	if c.environment == "production" {
		if c.auditKeyFile == "" {
			return nil, "", errors.New("production needs --audit-key-file (ARRS_AUDIT_KEY_FILE): the key that authenticates the audit trail, kept outside the database")
		}
		if dir == "" && !c.checkpointLog {
			return nil, "", errors.New("production needs --audit-checkpoint-dir or --audit-checkpoint-log: somewhere outside the database to publish audit checkpoints")
		}
		keys, err := auditkey.Load(c.auditKeyFile)
		return keys, dir, err
	}
	if dir == "" {
		dir = filepath.Join(c.dataDir, "audit-checkpoints")
	}
	if c.auditKeyFile != "" {
		keys, err := auditkey.Load(c.auditKeyFile)
		return keys, dir, err
	}
	keys, err := auditkey.LoadOrCreate(filepath.Join(c.dataDir, "audit.keys"))
	return keys, dir, err
}

// systemDataDir is where, as root, the private cluster is kept: the
// postgres user it runs as may be unable to reach the data directory (a
// checkout in root's home or in a mktemp -d).
const systemDataDir = "/var/lib/arrs"

// migrate applies the migrations and closes the database.
func migrate(ctx context.Context, c config, logger *slog.Logger) error {
	_, closeDB, err := openMigrated(ctx, c, logger)
	if err != nil {
		return err
	}
	return closeDB()
}

// openMigrated opens the database (see openDatabase) and brings its schema
// up to date.
func openMigrated(ctx context.Context, c config, logger *slog.Logger) (*sqlx.DB, func() error, error) {
	db, closeDB, err := openDatabase(ctx, c, logger)
	if err != nil {
		return nil, nil, err
	}
	if err := migrations.Up(ctx, db.DB); err != nil {
		return nil, nil, errors.Join(err, closeDB())
	}
	logger.InfoContext(ctx, "database migrated")
	return db, closeDB, nil
}

// openDatabase connects to c.databaseURL or, when it is empty, to the
// database "arrs" on the private cluster, starting the cluster if it is not
// running. The returned func closes the pool and stops the cluster if this
// process started it; a cluster that was already running (another arrsd, or
// one left from an earlier run) belongs to whoever started it.
func openDatabase(ctx context.Context, c config, logger *slog.Logger) (*sqlx.DB, func() error, error) {
	url := c.databaseURL
	stopCluster := func() error { return nil }
	if url == "" {
		cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(c.dataDir, "postgres"),
			SystemDir: systemDataDir, Logger: logger, Fsync: true})
		if err != nil {
			return nil, nil, fmt.Errorf("private PostgreSQL cluster: %w", err)
		}
		if cluster.Started {
			stopCluster = func() error {
				logger.Info("stopping the private PostgreSQL cluster", "dir", cluster.Dir)
				return cluster.Stop(context.Background())
			}
		}
		if err := cluster.EnsureDatabase(ctx, "arrs"); err != nil {
			return nil, nil, errors.Join(err, stopCluster())
		}
		url = cluster.URL("arrs")
		logger.InfoContext(ctx, "using the private PostgreSQL cluster; set DATABASE_URL to use another server",
			"dir", cluster.Dir, "port", cluster.Port, "url", url)
	}
	db, err := sqlx.Open("postgres", url)
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if db != nil {
			err = errors.Join(err, db.Close())
		}
		return nil, nil, errors.Join(fmt.Errorf("connect to PostgreSQL: %w", err), stopCluster())
	}
	db.SetMaxOpenConns(c.maxConns)
	// database/sql keeps two idle connections unless told: under load arrsd
	// then opens a PostgreSQL backend every few requests.
	db.SetMaxIdleConns(c.maxIdle)
	return db, func() error { return errors.Join(db.Close(), stopCluster()) }, nil
}

// authenticator builds who-is-calling from the configuration: bearer tokens
// from the configured identity provider or, in development with none
// configured, from a signing key kept under the data directory (whose public
// half is then served at /.well-known/jwks.json); and service accounts by
// client certificate when a client CA is configured.
func authenticator(ctx context.Context, c config, logger *slog.Logger) (*auth.Authenticator, *auth.DevKeys, error) {
	var accounts map[string]auth.ServiceAccount
	if c.serviceAccounts != "" {
		var err error
		if accounts, err = auth.LoadServiceAccounts(c.serviceAccounts); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case c.environment != "development" && c.environment != "production":
		return nil, nil, fmt.Errorf("--environment %q: want development or production", c.environment)
	case c.jwt.JWKSURL != "" || c.jwt.JWKSFile != "":
		if err := auth.RefuseDevKeys(c.jwt); err != nil {
			return nil, nil, err
		}
		c.jwt.Logger = logger
		v, err := auth.NewJWTVerifier(ctx, c.jwt)
		if err != nil {
			return nil, nil, err
		}
		return auth.NewAuthenticator(v, accounts), nil, nil
	case c.environment == "production":
		return nil, nil, errors.New("production needs an identity provider (--jwks-url or --jwks-file with --jwt-issuer and --jwt-audience); " +
			"the development signing key is refused")
	}
	dev, err := devKeys(c)
	if err != nil {
		return nil, nil, err
	}
	logger.WarnContext(ctx, "no identity provider configured: accepting tokens signed by the development key; mint one with `arrsd token`",
		"key_id", dev.KeyID(), "issuer", auth.DevIssuer)
	return auth.NewAuthenticator(dev.Verifier(), accounts), dev, nil
}

// serverTLS returns the TLS configurations of the gRPC listener and of the
// REST and metrics listeners, or nils for plaintext. All three serve the
// one certificate; only gRPC asks for client certificates, since REST
// callers authenticate by bearer token and the gateway does not pass a
// client certificate on.
func serverTLS(c config) (grpcTLS, httpTLS *tls.Config, err error) {
	if c.tlsCert == "" && c.tlsKey == "" {
		if c.clientCA != "" {
			return nil, nil, errors.New("--client-ca needs --tls-cert and --tls-key: client certificates need TLS")
		}
		return nil, nil, nil
	}
	grpcTLS, err = auth.ServerTLSConfig(c.tlsCert, c.tlsKey, c.clientCA)
	if err != nil {
		return nil, nil, err
	}
	httpTLS = grpcTLS.Clone()
	httpTLS.ClientAuth, httpTLS.ClientCAs = tls.NoClientCert, nil
	return grpcTLS, httpTLS, nil
}

// devKeys loads (or creates) the development signing key in a private
// directory of its own, keeping the data directory itself traversable by
// the postgres user that runs the private cluster.
func devKeys(c config) (*auth.DevKeys, error) {
	if err := os.MkdirAll(c.dataDir, 0o755); err != nil {
		return nil, err
	}
	return auth.LoadOrCreateDevKeys(filepath.Join(c.dataDir, "auth"))
}

// mintToken prints a development token for the given role and organisation.
func mintToken(c config, stdout io.Writer) error {
	dev, err := devKeys(c)
	if err != nil {
		return err
	}
	token, err := dev.Mint(c.tokenSubject, claims.AccessRole(c.tokenRole), c.tokenOrg, c.tokenTTL)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, token)
	return err
}

func roleList() string {
	names := make([]string, 0, len(claims.AccessRoles))
	for _, r := range claims.AccessRoles {
		if r != claims.RoleServiceAccount {
			names = append(names, string(r))
		}
	}
	return strings.Join(names, ", ")
}

// tuneGC sets the collector's defaults for serving, unless GOGC or
// GOMEMLIMIT (the Go runtime's own variables) say otherwise. arrsd's live
// heap is small (~15 MB), so at Go's default GOGC=100 it collected after
// every ~15 MB allocated: every few claims of a bulk load, 15% of its CPU
// in the national benchmark. At 400 it collects a quarter as often, and the
// soft memory limit makes it collect sooner rather than let the heap pass
// 100 MiB (the issue 12 ceiling for RSS at 64 clients is 150 MB).
func tuneGC(getenv func(string) string) {
	const percent, limit = 400, 100 << 20
	if getenv("GOGC") == "" {
		debug.SetGCPercent(percent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
}
