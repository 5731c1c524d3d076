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

// awaitSchema reports SERVING once db's schema has every migration this
// binary knows. Until then (another replica is still migrating, or the
// database is unreachable) a load balancer must not send traffic here, so
// the status stays NOT_SERVING, as it was set at start. It checks at once and
// then every interval, and gives up when ctx ends; Serve sets NOT_SERVING at
// shutdown through health.Server.Shutdown, which also ignores any later
// SERVING.
func awaitSchema(ctx context.Context, hs *health.Server, names []string, db *sql.DB, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	// Each reason for waiting is logged when it starts, not at every check.
	var waiting string
	for {
		current, err := migrations.Current(ctx, db)
		switch {
		case current:
			setHealth(hs, names, healthpb.HealthCheckResponse_SERVING)
			logger.InfoContext(ctx, "database schema is current; serving")
			return
		case err != nil && ctx.Err() == nil && waiting != err.Error():
			waiting = err.Error()
			logger.WarnContext(ctx, "cannot check the database schema; not serving yet", "error", err)
		case err == nil && waiting != "behind":
			waiting = "behind"
			logger.InfoContext(ctx, "database schema is behind this binary; not serving until it is migrated")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
