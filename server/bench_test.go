package server

import (
	"testing"

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
