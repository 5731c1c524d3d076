package claims

// ClaimTotals are a claim's sums over its lines, in pence, and how many
// lines it has: what a listing shows of a claim without its lines.
type ClaimTotals struct {
	LineCount int `db:"line_count"`
	// ActualPence is Σ actual cost (Costs.ActualPence) over the lines.
	ActualPence int64 `db:"total_actual_pence"`
	// CapPence is Σ cap.
	CapPence int64 `db:"total_cap_pence"`
	// ReimbursablePence is Σ min(actual, cap): what the claim asks for.
	ReimbursablePence int64 `db:"total_reimbursable_pence"`
	// ApprovedPence is Σ each line's approved amount, or what it asks for
	// until approval (ClaimLine.Approved).
	ApprovedPence int64 `db:"total_approved_pence"`
}

// claimTotalsJoin works out ClaimTotals for every row of a listing of the
// claims table in the listing's own query, from the claim's lines (on their
// primary key), so a page of claims costs one query, not one per claim. It
// is the SQL twin of Claim.Totals; a test holds the two to the same sums.
const claimTotalsJoin = ` LEFT JOIN LATERAL (
	SELECT count(*)::int AS line_count,
		COALESCE(SUM(GREATEST(l.gross_salary_pence + l.employer_ni_pence + l.employer_pension_pence
			+ l.overtime_pence - l.absence_adjustment_pence, 0)), 0)::bigint AS total_actual_pence,
		COALESCE(SUM(l.cap_pence), 0)::bigint AS total_cap_pence,
		COALESCE(SUM(l.reimbursable_pence), 0)::bigint AS total_reimbursable_pence,
		COALESCE(SUM(` + countedPence + `), 0)::bigint AS total_approved_pence
	FROM claim_lines l WHERE l.pcn_code = claims.pcn_code AND l.claim_id = claims.id) totals ON true `

// claimTotalsColumns are the columns claimTotalsJoin adds.
const claimTotalsColumns = `totals.line_count, totals.total_actual_pence, totals.total_cap_pence,
	totals.total_reimbursable_pence, totals.total_approved_pence`

// Sums returns the claim's totals: summed from its lines when they are
// loaded, else as the listing's query worked them out.
func (c Claim) Sums() ClaimTotals {
	if len(c.Lines) == 0 {
		return c.ClaimTotals
	}
	t := ClaimTotals{LineCount: len(c.Lines)}
	t.ActualPence, t.CapPence, t.ReimbursablePence, t.ApprovedPence = c.Totals()
	return t
}
