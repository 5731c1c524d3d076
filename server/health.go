package server

import (
	"context"
	"database/sql"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"arrs.nhs.uk/arrs/migrations"
)

// healthServices are the names whose status the health service reports: ""
// (the server as a whole) and each arrs.v1 service registered on s. They all
// move together, because every service depends on the same schema.
func healthServices(s *grpc.Server) []string {
	names := []string{""}
	for name := range s.GetServiceInfo() {
		if strings.HasPrefix(name, "arrs.") {
			names = append(names, name)
		}
	}
	return names
}

func setHealth(hs *health.Server, names []string, st healthpb.HealthCheckResponse_ServingStatus) {
	for _, name := range names {
		hs.SetServingStatus(name, st)
	}
}

// healthCheckTimeout bounds one health check (or the interval, if longer).
// The check waits for a connection like any call, so a bound near a busy
// pool's wait would report a replica under load as down; a few seconds
// tells a hung database from a busy one.
const healthCheckTimeout = 5 * time.Second

// watchDatabase keeps the health status in step with the database: SERVING
// while db is reachable and its schema has every migration this binary
// knows, NOT_SERVING otherwise. Until the first SERVING (another replica is
// still migrating, or the database is not up yet), and whenever the
// database is lost afterwards, a load balancer must not send traffic here,
// where every call would fail. It checks at once and then every interval,
// each check bounded (see healthCheckTimeout), so a database that hangs
// rather than refuses also reads as unavailable; it stops when ctx ends. Serve sets
// NOT_SERVING at shutdown through health.Server.Shutdown, which also
// ignores any later SERVING.
func watchDatabase(ctx context.Context, hs *health.Server, names []string, db *sql.DB, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	// The status, and why it is not SERVING, are logged when they change,
	// not at every check.
	var reason string
	serving := false
	for {
		checkCtx, cancel := context.WithTimeout(ctx, max(interval, healthCheckTimeout))
		current, err := migrations.Current(checkCtx, db)
		cancel()
		if ctx.Err() != nil {
			return
		}
		switch {
		case current && !serving:
			setHealth(hs, names, healthpb.HealthCheckResponse_SERVING)
			logger.InfoContext(ctx, "database reachable and its schema current; serving")
			serving, reason = true, ""
		case err != nil && reason != err.Error():
			if serving {
				setHealth(hs, names, healthpb.HealthCheckResponse_NOT_SERVING)
			}
			serving, reason = false, err.Error()
			logger.WarnContext(ctx, "cannot reach the database; not serving", "error", err)
		case err == nil && !current && reason != "behind":
			if serving {
				setHealth(hs, names, healthpb.HealthCheckResponse_NOT_SERVING)
			}
			serving, reason = false, "behind"
			logger.InfoContext(ctx, "database schema is behind this binary; not serving until it is migrated")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
