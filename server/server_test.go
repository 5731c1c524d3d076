package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/migrations"
)

// TestMain is the only one in package server: every test here that needs a
// database gets a migrated one from pgtest.NewDB.
func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, migrations.Up)) }

// running is a Server under test, serving until the test ends.
type running struct {
	*Server
	conn *grpc.ClientConn
	stop context.CancelFunc
	done chan error
}

// startServer serves store's database; the store's clock is the server's.
func startServer(t testing.TB, store *claims.Store) *running {
	t.Helper()
	return startServerWith(t, store, nil)
}

// startServerWith is startServer with the test's configuration changed by
// configure (nil: none).
func startServerWith(t testing.TB, store *claims.Store, configure func(*Config)) *running {
	t.Helper()
	return startServerLogging(t, store, configure, newJSONLogger(t.Output()))
}

// startServerLogging is startServerWith logging to logger.
func startServerLogging(t testing.TB, store *claims.Store, configure func(*Config), logger *slog.Logger) *running {
	t.Helper()
	cfg := Config{
		GRPCAddr:        "127.0.0.1:0",
		HTTPAddr:        "127.0.0.1:0",
		MetricsAddr:     "127.0.0.1:0",
		ShutdownTimeout: 5 * time.Second,
		HealthInterval:  20 * time.Millisecond,
		Authenticator:   testIdentities,
	}
	if configure != nil {
		configure(&cfg)
	}
	s, err := New(cfg, store, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	r := &running{Server: s, stop: stop, done: make(chan error, 1)}
	go func() { r.done <- s.Serve(ctx) }()
	r.conn, err = grpc.NewClient(s.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = r.conn.Close()
		if err := r.shutdown(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return r
}

// shutdown cancels Serve's context and returns what Serve returned.
// Calling it again returns nil.
func (r *running) shutdown() error {
	r.stop()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(10 * time.Second):
		return context.DeadlineExceeded
	}
}

// awaitHealth polls the health service until it reports want.
func awaitHealth(t *testing.T, conn *grpc.ClientConn, want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	client := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := client.Check(t.Context(), &healthpb.HealthCheckRequest{})
		if err == nil && resp.Status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("health = %v, %v; want %v", resp.GetStatus(), err, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServerIsServingOnceTheSchemaIsCurrent(t *testing.T) {
	r := startServer(t, claims.NewStore(pgtest.NewDB(t)))
	awaitHealth(t, r.conn, healthpb.HealthCheckResponse_SERVING)
	for _, service := range []string{"arrs.v1.OrganisationService", "arrs.v1.CatalogueService", "arrs.v1.FundingService", "arrs.v1.WorkforceService"} {
		resp, err := healthpb.NewHealthClient(r.conn).Check(t.Context(), &healthpb.HealthCheckRequest{Service: service})
		if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health of %s = %v, %v; want SERVING", service, resp.GetStatus(), err)
		}
	}
}

func TestServerIsNotServingWhileTheSchemaIsBehind(t *testing.T) {
	db := pgtest.NewDB(t)
	// Forget the newest migration, as if this binary were newer than the
	// schema, then put it back as a migrating replica would.
	var version int64
	if err := db.GetContext(t.Context(), &version, "DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version) RETURNING version_id"); err != nil {
		t.Fatal(err)
	}
	r := startServer(t, claims.NewStore(db))
	awaitHealth(t, r.conn, healthpb.HealthCheckResponse_NOT_SERVING)
	time.Sleep(100 * time.Millisecond) // several polls
	awaitHealth(t, r.conn, healthpb.HealthCheckResponse_NOT_SERVING)

	if _, err := db.ExecContext(t.Context(), "INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)", version); err != nil {
		t.Fatal(err)
	}
	awaitHealth(t, r.conn, healthpb.HealthCheckResponse_SERVING)
}

func TestServerReflectionListsTheAPI(t *testing.T) {
	r := startServerWith(t, claims.NewStore(pgtest.NewDB(t)), func(c *Config) { c.Reflection = ReflectionPublic })
	stream, err := reflectionpb.NewServerReflectionClient(r.conn).ServerReflectionInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{"arrs.v1.OrganisationService", "arrs.v1.CatalogueService", "arrs.v1.FundingService", "arrs.v1.WorkforceService", "grpc.health.v1.Health"} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, missing %s", names, want)
		}
	}
}

func get(t *testing.T, url string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestRESTReachesGRPCThroughTheInterceptors(t *testing.T) {
	r := startServer(t, claims.NewStore(pgtest.NewDB(t)))
	base := "http://" + r.HTTPAddr()

	bearer := http.Header{"Authorization": {"Bearer hub"}}
	resp, body := get(t, base+"/v1/commissioners", http.Header{"X-Request-Id": {"rest-req-1"}, "Authorization": {"Bearer hub"}})
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/commissioners = %d %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Request-Id"); got != "rest-req-1" {
		t.Errorf("X-Request-Id = %q, want the one sent", got)
	}
	if !json.Valid(body) {
		t.Errorf("body is not JSON: %s", body)
	}

	resp, _ = get(t, base+"/v1/commissioners", bearer)
	if _, err := uuid.Parse(resp.Header.Get("X-Request-Id")); err != nil {
		t.Errorf("X-Request-Id = %q, want one made by the server", resp.Header.Get("X-Request-Id"))
	}

	// The gateway's calls are counted like any gRPC call.
	_, metrics := get(t, "http://"+r.MetricsAddr()+"/metrics", nil)
	if !strings.Contains(string(metrics), `grpc_server_handled_total{grpc_code=`) ||
		!strings.Contains(string(metrics), `grpc_method="ListCommissioners"`) {
		t.Errorf("metrics do not count ListCommissioners:\n%s", metrics)
	}
}

func TestRESTErrorsAreStatusJSONWithDetails(t *testing.T) {
	r := startServer(t, claims.NewStore(pgtest.NewDB(t)))
	resp, body := get(t, "http://"+r.HTTPAddr()+"/v1/commissioners?pageSize=-1", http.Header{"Authorization": {"Bearer hub"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("GET /v1/commissioners?pageSize=-1 = %d %s, want 400", resp.StatusCode, body)
	}
	var st struct {
		Code    int
		Details []struct {
			Type            string `json:"@type"`
			Reason          string
			Domain          string
			FieldViolations []struct{ Field, Reason string }
		}
	}
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	var info, badRequest bool
	for _, d := range st.Details {
		switch d.Type {
		case "type.googleapis.com/google.rpc.ErrorInfo":
			info = d.Domain == "arrs.nhs.uk" && d.Reason == "INVALID_ARGUMENT"
		case "type.googleapis.com/google.rpc.BadRequest":
			badRequest = len(d.FieldViolations) == 1 && d.FieldViolations[0].Field == "page_size"
		}
	}
	if st.Code != 3 || !info || !badRequest {
		t.Errorf("body = %s, want INVALID_ARGUMENT with ErrorInfo and a page_size violation", body)
	}
}

func TestRESTHealthz(t *testing.T) {
	r := startServer(t, claims.NewStore(pgtest.NewDB(t)))
	awaitHealth(t, r.conn, healthpb.HealthCheckResponse_SERVING)
	if resp, body := get(t, "http://"+r.HTTPAddr()+"/healthz", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz = %d %s", resp.StatusCode, body)
	}
}

func TestServeReturnsNilAfterGracefulShutdown(t *testing.T) {
	r := startServer(t, claims.NewStore(pgtest.NewDB(t)))
	awaitHealth(t, r.conn, healthpb.HealthCheckResponse_SERVING)
	if err := r.shutdown(); err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	for _, addr := range []string{r.HTTPAddr(), r.MetricsAddr()} {
		if _, err := http.Get("http://" + addr + "/"); err == nil {
			t.Errorf("%s still accepts connections", addr)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if _, err := healthpb.NewHealthClient(r.conn).Check(ctx, &healthpb.HealthCheckRequest{}); err == nil {
		t.Error("gRPC still answers after shutdown")
	}
}
