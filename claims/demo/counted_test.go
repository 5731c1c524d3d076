package demo_test

import (
	"testing"
	"time"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/claims/demo"
	"arrs.nhs.uk/arrs/internal/pgtest"
)

// Every claim's counted_pence is what its lines count (migration 00016's
// trigger), whatever happened to it: the demo drafts, costs, submits,
// queries, answers, approves with lines lowered, rejects, withdraws, pays
// and tops up claims, which is every way a line changes.
func TestEveryClaimCarriesWhatItsLinesCount(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	if err := demo.Load(t.Context(), claims.NewStore(db, claims.WithClock(func() time.Time {
		return time.Date(2026, time.December, 2, 9, 30, 0, 0, time.UTC)
	}))); err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Claim   string `db:"claim"`
		Carried int64  `db:"carried"`
		Lines   int64  `db:"lines"`
	}
	if err := db.Select(&rows, `SELECT c.pcn_code || '/' || c.id AS claim, c.counted_pence AS carried,
			COALESCE(SUM(COALESCE(l.approved_pence, l.reimbursable_pence)), 0)::bigint AS lines
		FROM claims c LEFT JOIN claim_lines l ON l.pcn_code = c.pcn_code AND l.claim_id = c.id
		GROUP BY c.pcn_code, c.id, c.counted_pence ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	var counted int
	for _, r := range rows {
		if r.Carried != r.Lines {
			t.Errorf("%s carries %d pence, its lines count %d", r.Claim, r.Carried, r.Lines)
		}
		if r.Lines > 0 {
			counted++
		}
	}
	if counted < 5 {
		t.Fatalf("only %d of %d demo claims count anything: the check checks little", counted, len(rows))
	}
}
