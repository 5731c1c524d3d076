package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/migrations"
)

// outcome is one call's result under load: its gRPC code or HTTP status,
// and what it told the caller.
type outageCall struct {
	phase  string
	what   string
	code   codes.Code
	http   int
	reason string
	retry  string
	text   string
}

// outageLoad keeps calling arrs, over gRPC and REST, reads and a write,
// and records every outcome under the phase current when it returned.
type outageLoad struct {
	mu    sync.Mutex
	phase string
	calls []outageCall
}

func (l *outageLoad) setPhase(p string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.phase = p
}

func (l *outageLoad) record(c outageCall) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c.phase = l.phase
	l.calls = append(l.calls, c)
}

func (l *outageLoad) in(phase string) []outageCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []outageCall
	for _, c := range l.calls {
		if c.phase == phase {
			out = append(out, c)
		}
	}
	return out
}

func (l *outageLoad) run(ctx context.Context, r *running) {
	cat := arrsv1.NewCatalogueServiceClient(r.conn)
	claimsClient := arrsv1.NewClaimServiceClient(r.conn)
	var wg sync.WaitGroup
	loop := func(call func(ctx context.Context) outageCall) {
		wg.Go(func() {
			for ctx.Err() == nil {
				callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
				c := call(callCtx)
				cancel()
				if ctx.Err() == nil {
					l.record(c)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	grpcCall := func(what string, err error) outageCall {
		st := status.Convert(err)
		return outageCall{what: what, code: st.Code(), reason: errorReason(st), text: st.Message()}
	}
	loop(func(ctx context.Context) outageCall {
		_, err := cat.ListRoles(as(ctx, "national"), &arrsv1.ListRolesRequest{})
		return grpcCall("gRPC ListRoles", err)
	})
	// A write: a transaction, refused by a rule while the database is up.
	loop(func(ctx context.Context) outageCall {
		_, err := claimsClient.CreateClaim(as(ctx, "cd-own"), &arrsv1.CreateClaimRequest{Parent: "pcns/U12345", ClaimId: "2025-04"})
		return grpcCall("gRPC CreateClaim", err)
	})
	loop(func(ctx context.Context) outageCall {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.HTTPAddr()+"/v1/roles", nil)
		req.Header.Set("Authorization", "Bearer national")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return outageCall{what: "REST GET /v1/roles", http: -1, text: err.Error()}
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return outageCall{what: "REST GET /v1/roles", http: resp.StatusCode, retry: resp.Header.Get("Retry-After"), text: string(body)}
	})
	wg.Wait()
}

// TestADatabaseOutageIsUnavailableAndHealthFollowsIt stops PostgreSQL (as
// an administrator's fast shutdown) while calls keep coming, and starts it
// again: calls during the outage are UNAVAILABLE (503 with Retry-After over
// REST) naming DATABASE_UNAVAILABLE and nothing of the SQL, health is
// NOT_SERVING until the database is back, and calls succeed after.
func TestADatabaseOutageIsUnavailableAndHealthFollowsIt(t *testing.T) {
	cluster := pgtest.NewCluster(t, migrations.Up)
	db, err := sqlx.Open("postgres", cluster.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	db.SetMaxOpenConns(4)
	r := startServerWith(t, claims.NewStore(db), func(c *Config) { c.HealthInterval = 50 * time.Millisecond })
	awaitHealth(t, r.conn, healthpb.HealthCheckResponse_SERVING)

	load := &outageLoad{phase: "before"}
	ctx, stopLoad := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { load.run(ctx, r); close(done) }()
	time.Sleep(300 * time.Millisecond)

	load.setPhase("stopping")
	if err := cluster.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	awaitHealth(t, r.conn, healthpb.HealthCheckResponse_NOT_SERVING)
	load.setPhase("down")
	time.Sleep(500 * time.Millisecond)

	load.setPhase("restarting")
	if err := cluster.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	awaitHealth(t, r.conn, healthpb.HealthCheckResponse_SERVING)
	// Connections broken by the restart are found and replaced as calls
	// use them; give the pool a moment, then everything must succeed.
	time.Sleep(300 * time.Millisecond)
	load.setPhase("after")
	time.Sleep(300 * time.Millisecond)
	stopLoad()
	<-done

	for _, c := range load.calls {
		if c.code == codes.Internal || c.code == codes.Unknown || c.http >= 500 && c.http != http.StatusServiceUnavailable || c.http == -1 {
			t.Errorf("%s (%s): %v %d %q, want no internal error", c.what, c.phase, c.code, c.http, c.text)
		}
		if strings.Contains(c.text, "pq:") || strings.Contains(c.text, "SELECT") || strings.Contains(c.text, "dial tcp") {
			t.Errorf("%s (%s) showed the caller database details: %q", c.what, c.phase, c.text)
		}
		if c.code == codes.Unavailable && c.reason != reasonDatabaseUnavailable {
			t.Errorf("%s (%s): UNAVAILABLE with reason %q, want %s", c.what, c.phase, c.reason, reasonDatabaseUnavailable)
		}
		if c.http == http.StatusServiceUnavailable && (c.retry == "" || !strings.Contains(c.text, reasonDatabaseUnavailable)) {
			t.Errorf("%s (%s): 503 with Retry-After %q and body %q, want a Retry-After and %s", c.what, c.phase, c.retry, c.text, reasonDatabaseUnavailable)
		}
	}
	down := load.in("down")
	if len(down) < 3 {
		t.Fatalf("only %d calls while the database was down", len(down))
	}
	for _, c := range down {
		if c.code != codes.Unavailable && c.http != http.StatusServiceUnavailable {
			t.Errorf("%s while the database was down: %v %d %q, want UNAVAILABLE / 503", c.what, c.code, c.http, c.text)
		}
	}
	after := load.in("after")
	if len(after) < 3 {
		t.Fatalf("only %d calls after the restart", len(after))
	}
	for _, c := range after {
		if c.code == codes.Unavailable || c.http == http.StatusServiceUnavailable {
			t.Errorf("%s after the restart: still unavailable: %q", c.what, c.text)
		}
	}
	t.Logf("outcomes by phase: %s", tally(load.calls))
}

// tally counts outcomes as "phase what code" for the test log.
func tally(calls []outageCall) string {
	counts := map[string]int{}
	var order []string
	for _, c := range calls {
		k := c.phase + " " + c.what + " "
		if c.http != 0 {
			k += fmt.Sprint(c.http)
		} else {
			k += c.code.String()
		}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	var b strings.Builder
	for _, k := range order {
		fmt.Fprintf(&b, "\n  %s: %d", k, counts[k])
	}
	return b.String()
}
