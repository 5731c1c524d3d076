// Command arrsd is the ARRS reimbursement service.
//
//	arrsd [serve] [flags]   migrate the database, then serve gRPC, REST and metrics
//	arrsd migrate [flags]   migrate the database and exit
//
// Each flag may instead be set by the environment variable named in its
// help; a flag given on the command line wins. Without a database URL,
// arrsd runs a private PostgreSQL cluster under <data-dir>/postgres, for
// development only.
//
// main only reads configuration and wires packages together; everything it
// starts is owned and documented by the server, migrations and claims
// packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the "postgres" database/sql driver

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/claims/demo"
	"arrs.nhs.uk/arrs/claims/pgcluster"
	"arrs.nhs.uk/arrs/migrations"
	"arrs.nhs.uk/arrs/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
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
	command     string
	grpcAddr    string
	httpAddr    string
	metricsAddr string
	databaseURL string
	dataDir     string
	demo        bool
	logLevel    slog.Level
}

// parseConfig reads the subcommand and its flags. Environment variables
// supply the flags' defaults, so a flag on the command line overrides them.
// The listen addresses are on localhost by default because until callers
// are authenticated (see server.Principal) arrsd must not be reachable from
// elsewhere unless someone decides so.
func parseConfig(args []string, getenv func(string) string, output io.Writer) (config, error) {
	c := config{command: "serve"}
	if len(args) > 0 && (args[0] == "serve" || args[0] == "migrate") {
		c.command, args = args[0], args[1:]
	}
	env := func(name, fallback string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return fallback
	}
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
		fs.StringVar(&c.metricsAddr, "metrics-addr", env("ARRS_METRICS_ADDR", "127.0.0.1:9464"), "Prometheus /metrics listen address (env ARRS_METRICS_ADDR)")
		if v := getenv("ARRS_DEMO"); v != "" {
			var err error
			if c.demo, err = strconv.ParseBool(v); err != nil {
				return config{}, fmt.Errorf("ARRS_DEMO: %w", err)
			}
		}
		fs.BoolVar(&c.demo, "demo", c.demo, "load the demonstration data (env ARRS_DEMO)")
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q; commands are serve and migrate", fs.Arg(0))
	}
	return c, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) (err error) {
	c, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))

	db, closeDB, err := openDatabase(ctx, c, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeDB()) }()

	if err := migrations.Up(ctx, db.DB); err != nil {
		return err
	}
	logger.InfoContext(ctx, "database migrated")
	if c.command == "migrate" {
		return nil
	}
	if c.demo {
		if err := demo.Load(ctx, claims.NewStore(db)); err != nil {
			return fmt.Errorf("load demo data: %w", err)
		}
		logger.InfoContext(ctx, "demo data loaded")
	}
	srv, err := server.New(server.Config{GRPCAddr: c.grpcAddr, HTTPAddr: c.httpAddr, MetricsAddr: c.metricsAddr}, db, logger)
	if err != nil {
		return err
	}
	return srv.Serve(ctx)
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
		dir := filepath.Join(c.dataDir, "postgres")
		_, statErr := os.Stat(filepath.Join(dir, "postmaster.pid"))
		wasRunning := statErr == nil
		cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Logger: logger, Fsync: true})
		if err != nil {
			return nil, nil, fmt.Errorf("private PostgreSQL cluster: %w", err)
		}
		if !wasRunning {
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
	return db, func() error { return errors.Join(db.Close(), stopCluster()) }, nil
}
