package claims_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/claims/demo"
	"arrs.nhs.uk/arrs/internal/pgtest"
)

// BenchmarkAuditAppend: appending a month's claim event of 30 lines ÷
// appending a small event, so the cost of canonicalising and MACing a large
// body shows as a ratio; and a submission's event as it was recorded until
// claims' events kept only the lines a write changed (the whole claim,
// before and after) ÷ as it is now (the claim without its lines).
func BenchmarkAuditAppend(b *testing.B) {
	db := pgtest.NewDB(b)
	day := time.Date(2026, time.December, 2, 10, 0, 0, 0, time.UTC)
	s := claims.NewStore(db, claims.WithClock(func() time.Time { return day }))
	b.Cleanup(func() { _ = s.Close() })
	if err := demo.Load(context.Background(), s); err != nil {
		b.Fatal(err)
	}
	ctx := claims.WithActor(context.Background(), claims.System("bench"))
	claim, err := s.GetClaim(ctx, "U12345", "2026-10")
	if err != nil || len(claim.Lines) == 0 {
		b.Fatal(err, len(claim.Lines))
	}
	// A national PCN's month: 30 lines, the demo's repeated under new posts.
	whole := claim
	whole.Lines = nil
	for i := range 30 {
		l := claim.Lines[i%len(claim.Lines)]
		l.PostID = fmt.Sprintf("post-%02d", i)
		whole.Lines = append(whole.Lines, l)
	}
	header := claim
	header.Lines = nil
	var times [3]time.Duration
	i := 0
	for b.Loop() {
		i++
		t0 := time.Now()
		if err := s.RecordAudit(ctx, claim.Name(), "submit", "U12345", whole, whole); err != nil {
			b.Fatal(err)
		}
		times[0] += time.Since(t0)
		t0 = time.Now()
		if err := s.RecordAudit(ctx, claim.Name(), "submit", "U12345", header, header); err != nil {
			b.Fatal(err)
		}
		times[1] += time.Since(t0)
		t0 = time.Now()
		if err := s.RecordAudit(ctx, fmt.Sprintf("pcns/U12345/x/%d", i), "update", "U12345", nil, map[string]int{"i": i}); err != nil {
			b.Fatal(err)
		}
		times[2] += time.Since(t0)
	}
	b.ReportMetric(float64(times[0])/float64(b.N)/1e6, "ms/whole-claim-event")
	b.ReportMetric(float64(times[1])/float64(b.N)/1e6, "ms/claim-fields-event")
	b.ReportMetric(float64(times[2])/float64(b.N)/1e6, "ms/small-event")
	b.ReportMetric(float64(times[0])/float64(times[2]), "whole-claim/small")
	b.ReportMetric(float64(times[0])/float64(times[1]), "whole-claim/claim-fields")
}
