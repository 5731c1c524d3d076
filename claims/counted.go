package claims

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// What counts against an entitlement, and the lock under which it is checked.

// committedStates are the states whose claims are spent from the
// entitlement: submitted and queried (awaiting review), approved and paid.
// Drafts, withdrawn and rejected claims count for nothing.
var committedStates = pq.StringArray{string(ClaimSubmitted), string(ClaimQueried), string(ClaimApproved), string(ClaimPaid)}

// countedPence is what a claim line (aliased l) counts for: its approved
// amount once approved, what it claims until then. ClaimLine.Approved is
// the same rule for a line in hand, and migration 00016's trigger the same
// rule for claims.counted_pence: change all three together.
const countedPence = "COALESCE(l.approved_pence, l.reimbursable_pence)"

// lockEntitlement locks a PCN's entitlement for a year, within the actor's
// scope. Everything that changes what counts against it (submitting, editing
// a queried claim) takes this lock first, so those changes queue per PCN and
// year, across however many replicas; sharing the year's row keeps its rate
// and deadline from changing underneath. The scope is part of the lock's
// own statement, so nobody may hold another PCN's entitlement lock and a
// write spends no statement on checking the PCN is visible: only when
// nothing is locked does it ask why (NOT_FOUND for a PCN out of sight,
// else NO_ENTITLEMENT).
func lockEntitlement(ctx context.Context, tx *txn, claim, pcn string, year FinancialYear) (lockedEntitlement, error) {
	var e lockedEntitlement
	a := args{pcn, year}
	err := tx.GetContext(ctx, &e, `SELECT e.pcn_code, e.financial_year, e.weighted_population,
		y.rate_per_weighted_patient, e.revision, e.create_time, e.update_time, y.claims_deadline
		FROM entitlements e JOIN financial_years y ON y.id = e.financial_year
		WHERE e.pcn_code = $1 AND e.financial_year = $2 AND `+pcnCondition(ctx, "e.pcn_code", &a)+`
		FOR UPDATE OF e FOR SHARE OF y`, a...)
	if isNoRows(err) {
		if err := pcnVisible(ctx, tx, pcn); err != nil {
			return e, err
		}
		return e, FailedPrecondition(claim, "NO_ENTITLEMENT", fmt.Sprintf("%s has no entitlement for %s yet", pcnName(pcn), year))
	}
	return e, err
}

// lockedEntitlement is an entitlement as locked, with its year's deadline
// for claims, read under the same lock.
type lockedEntitlement struct {
	Entitlement
	Deadline Date `db:"claims_deadline"`
}

// checkWithinEntitlement refuses a claim asking for claimed when the
// PCN's other counted claims (submitted, queried, approved, paid) leave less
// than that of its entitlement, and says how much remains. The claim itself
// is left out of the sum, so a queried claim being resubmitted counts once.
func checkWithinEntitlement(ctx context.Context, tx *txn, e Entitlement, claimID string, claimed int64) error {
	committed, err := committedPence(ctx, tx, e.PCNCode, e.Year, claimID)
	if err != nil {
		return err
	}
	return withinEntitlement(e, claimID, claimed, committed)
}

// withinEntitlement is checkWithinEntitlement with what the other counted
// claims take already read (committed).
func withinEntitlement(e Entitlement, claimID string, claimed, committed int64) error {
	if remaining := e.AmountPence() - committed; claimed > remaining {
		return &Error{Kind: KindFailedPrecondition, Reason: "ENTITLEMENT_EXCEEDED", Resource: claimName(e.PCNCode, claimID),
			Message: fmt.Sprintf("the claim asks for %s but only %s of the %s entitlement for %s remains",
				Pounds(claimed), Pounds(remaining), Pounds(e.AmountPence()), e.Year)}
	}
	return nil
}

// committedPence is what a PCN's counted claims (submitted, queried,
// approved, paid) take from a year's entitlement, leaving out claim except.
func committedPence(ctx context.Context, q sqlx.QueryerContext, pcn string, year FinancialYear, except string) (int64, error) {
	var committed int64
	err := sqlx.GetContext(ctx, q, &committed, countedSQL(`c.pcn_code = $1 AND c.financial_year = $2 AND c.state = ANY($3) AND c.id <> $4`),
		pcn, year, committedStates, except)
	return committed, err
}

// countedSQL sums what the claims c matching where count against an
// entitlement: approved amounts once approved, claimed amounts until then.
// Each claim carries its lines' total (claims.counted_pence, kept by the
// database as its lines change: migration 00016), so this reads a claim row
// each, not its lines.
func countedSQL(where string) string {
	return `SELECT COALESCE(SUM(c.counted_pence), 0)::bigint FROM claims c WHERE ` + where
}
