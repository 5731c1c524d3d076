package cpd

import (
	"context"

	"github.com/jmoiron/sqlx"

	"arrs.nhs.uk/arrs/claims"
)

// TopicSummary is how many needs a hub's practices have on one topic: what
// the hub looks at to commission one course for many practices.
type TopicSummary struct {
	Topic     string `db:"topic"`
	Needs     int    `db:"needs"`
	Practices int    `db:"practices"`
	// Stale is how many of the needs are flagged (appraisal over 15 months ago).
	Stale int `db:"stale"`
}

// NeedSummary aggregates by topic the needs of the practices hub serves
// today, most needed first.
func (s *Store) NeedSummary(ctx context.Context, hub string) ([]TopicSummary, error) {
	return claims.Snapshot(ctx, s.cs, func(q sqlx.QueryerContext) ([]TopicSummary, error) {
		if _, err := s.getHub(ctx, q, HubName(hub)); err != nil {
			return nil, err
		}
		a := args{hub, s.cs.Today()}
		var rows []TopicSummary
		// PostgreSQL's date + interval '15 months' lands on the month's
		// last day when the day does not exist, as IsStale does.
		err := sqlx.SelectContext(ctx, q, &rows, `SELECT topic, count(*) AS needs, count(DISTINCT ods_code) AS practices,
				count(*) FILTER (WHERE appraisal_date + interval '15 months' < $2::date) AS stale
			FROM cpd_needs WHERE ods_code IN `+servedBy("$1", "$2::date")+` AND `+s.practiceCondition(ctx, "ods_code", &a)+`
			GROUP BY topic ORDER BY needs DESC, topic`, a...)
		return rows, err
	})
}

// PracticeFairness is one practice's share of a scheme: spend per head.
type PracticeFairness struct {
	ODSCode           string `db:"ods_code"`
	EligibleHeadcount int    `db:"eligible_headcount"`
	AllocationPence   int64  `db:"allocation_pence"`
	CommittedPence    int64  `db:"committed_pence"`
	// SpendPerHeadPence is committed ÷ headcount, rounded down to the penny
	// (0 with no headcount): a comparison, not money anyone is paid.
	SpendPerHeadPence int64 `db:"spend_per_head_pence"`
}

// Unfunded is a professional with a recorded need and nothing funded yet.
type Unfunded struct {
	ODSCode      string `db:"ods_code"`
	Professional string `db:"professional"`
	Needs        int    `db:"needs"`
}

// Fairness is how evenly a hub is spending a scheme across its practices.
type Fairness struct {
	Practices []PracticeFairness
	Unfunded  []Unfunded
}

// Fairness reports, for the practices hub serves today, each one's
// spend per head from scheme, and the professionals with needs but no CPD
// funded yet (no approved, part-funded or paid request).
func (s *Store) Fairness(ctx context.Context, hub, scheme string) (Fairness, error) {
	return claims.Snapshot(ctx, s.cs, func(q sqlx.QueryerContext) (Fairness, error) {
		if _, err := s.getHub(ctx, q, HubName(hub)); err != nil {
			return Fairness{}, err
		}
		if _, err := s.getScheme(ctx, q, SchemeName(scheme)); err != nil {
			return Fairness{}, err
		}
		var f Fairness
		a := args{hub, s.cs.Today(), scheme}
		if err := sqlx.SelectContext(ctx, q, &f.Practices, `SELECT b.ods_code, b.eligible_headcount,
				coalesce(sum(al.amount_pence), 0)::bigint AS allocation_pence,
				coalesce(sum(al.committed_pence), 0)::bigint AS committed_pence,
				CASE WHEN b.eligible_headcount = 0 THEN 0
				     ELSE coalesce(sum(al.committed_pence), 0)::bigint / b.eligible_headcount END AS spend_per_head_pence
			FROM cpd_baselines b LEFT JOIN cpd_allocations al ON al.scheme_id = b.scheme_id AND al.ods_code = b.ods_code
			WHERE b.scheme_id = $3 AND b.ods_code IN `+servedBy("$1", "$2::date")+` AND `+s.practiceCondition(ctx, "b.ods_code", &a)+`
			GROUP BY b.ods_code, b.eligible_headcount ORDER BY b.ods_code`, a...); err != nil {
			return Fairness{}, err
		}
		a = args{hub, s.cs.Today()}
		err := sqlx.SelectContext(ctx, q, &f.Unfunded, `SELECT n.ods_code, n.professional, count(*) AS needs
			FROM cpd_needs n
			WHERE n.ods_code IN `+servedBy("$1", "$2::date")+` AND `+s.practiceCondition(ctx, "n.ods_code", &a)+`
			  AND NOT EXISTS (SELECT 1 FROM cpd_requests r JOIN cpd_needs m ON m.ods_code = r.ods_code AND m.id = r.need_id
			                  WHERE r.ods_code = n.ods_code AND m.professional = n.professional
			                    AND r.state IN ('approved', 'part_funded', 'paid'))
			GROUP BY n.ods_code, n.professional ORDER BY n.ods_code, n.professional`, a...)
		return f, err
	})
}
