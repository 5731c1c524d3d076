package server

import (
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
	"arrs.nhs.uk/arrs/internal/pgtest"
)

// BenchmarkReadPath measures a read through the whole service against two
// floors measured in the same run: a bare SQL read of the same row, and a
// bare gRPC round trip (the public health check, no database). Compare the
// API cases to the floors as ratios:
//
//	go test -run '^$' -bench ReadPath ./server/
func BenchmarkReadPath(b *testing.B) {
	db := pgtest.NewDB(b)
	loadDemo(b, db)
	r := startServer(b, claims.NewStore(db))
	ctx := as(b.Context(), "cd-own")
	health := healthpb.NewHealthClient(r.conn)
	work := arrsv1.NewWorkforceServiceClient(r.conn)
	claimsAPI := arrsv1.NewClaimServiceClient(r.conn)

	b.Run("floor/sql-select-post", func(b *testing.B) {
		var p claims.Post
		for b.Loop() {
			if err := db.GetContext(b.Context(), &p, `SELECT pcn_code, id, role_id, state, staff_name, registration_number,
				wte, start_date, end_date, employer, focus_cohort, baseline, revision, create_time, update_time
				FROM posts WHERE pcn_code = $1 AND id = $2`, "U12345", "ot-frailty"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("floor/grpc-health-check", func(b *testing.B) {
		for b.Loop() {
			if _, err := health.Check(b.Context(), &healthpb.HealthCheckRequest{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("api/GetPost", func(b *testing.B) {
		for b.Loop() {
			if _, err := work.GetPost(ctx, &arrsv1.GetPostRequest{Name: "pcns/U12345/posts/ot-frailty"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("api/GetClaim", func(b *testing.B) {
		for b.Loop() {
			if _, err := claimsAPI.GetClaim(ctx, &arrsv1.GetClaimRequest{Name: "pcns/U12345/claims/2026-10"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("api/GetBudget", func(b *testing.B) {
		for b.Loop() {
			if _, err := claimsAPI.GetBudget(ctx, &arrsv1.GetBudgetRequest{Name: "pcns/U12345/budgets/2025-26"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPreparedStatements measures the store's hot calls with their
// statements prepared once per connection against the same calls with every
// statement sent as text (lib/pq's way), alternating call by call on one
// database, and reports prepared ÷ unprepared time as a ratio (below 1 is
// faster):
//
//	go test -run '^$' -bench PreparedStatements ./server/
func BenchmarkPreparedStatements(b *testing.B) {
	db := pgtest.NewDB(b)
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	loadDemo(b, db)
	clock := claims.WithClock(demoClock())
	prepared, unprepared := claims.NewStore(db, clock), claims.NewStore(db, clock, claims.WithoutPreparedStatements())
	b.Cleanup(func() { _ = prepared.Close() })
	ctx := claims.WithActor(b.Context(), claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector,
		OrgKind: claims.OrgPCN, OrgCode: "U12345"})
	pay := func(l *claims.ClaimLine) { l.GrossSalary = 400000 + l.Revision%2 }
	for _, rpc := range []struct {
		name string
		call func(*claims.Store) error
	}{
		{"GetClaim", func(s *claims.Store) error { _, err := s.GetClaim(ctx, "U12345", "2026-11"); return err }},
		{"UpdateClaimLine", func(s *claims.Store) error {
			_, err := s.UpdateClaimLine(ctx, "U12345", "2026-11", "ot-frailty", "", pay)
			return err
		}},
		{"GetBudget", func(s *claims.Store) error { _, err := s.GetBudget(ctx, "U12345", 2026); return err }},
	} {
		b.Run(rpc.name, func(b *testing.B) {
			var times [2]time.Duration
			for b.Loop() {
				for i, s := range []*claims.Store{prepared, unprepared} {
					t0 := time.Now()
					if err := rpc.call(s); err != nil {
						b.Fatal(err)
					}
					times[i] += time.Since(t0)
				}
			}
			b.ReportMetric(float64(times[0])/float64(times[1]), "prepared/unprepared")
		})
	}
}
