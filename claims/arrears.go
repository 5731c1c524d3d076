package claims

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Backdated pay awards as the national process pays them (2025/26, as ICBs
// described it): when an award is published after it took effect, the most
// each PCN's months could be topped up is worked out centrally (the new cap
// less what was reimbursed) and checked by the ICB; the PCN pays its staff
// the arrears first, then claims once for the uplift actually paid, only for
// the staff who were paid it, and its clinical director declares that they
// were. The offered supplementary claims (supplementary.go) carry the
// maximum on each line; the PCN records each chosen staff member's arrears
// (Arrears on the line), and the line then reimburses
// min(original actual + arrears paid, new cap) − already reimbursed.

// validate checks the arrears of a line of claim, with field names under f
// (the line's prefix): only a top-up takes arrears; each amount is 0 to
// 5,000,000 pence; arrears recorded as paid say how much and when, a day
// from the claim's month on and not after today (arrears are claimed once
// paid, not before).
func (a Arrears) validate(vs *Violations, f string, claim Claim, today Date) {
	if claim.Kind != SupplementaryClaim {
		if a.Paid() || a.Pence() != 0 {
			vs.Add(f+"arrears", "NOT_A_TOP_UP", "arrears are claimed on a supplementary claim after a backdated award, not on a monthly claim")
		}
		return
	}
	inRange := true
	for _, c := range []struct {
		name  string
		pence int64
	}{{"gross_salary_pence", a.GrossSalary}, {"employer_ni_pence", a.EmployerNI}, {"employer_pension_pence", a.EmployerPension}} {
		switch {
		case c.pence < 0:
			vs.Add(f+"arrears."+c.name, "NOT_NEGATIVE", "must not be negative")
			inRange = false
		case c.pence > maxLinePence:
			vs.Add(f+"arrears."+c.name, "AMOUNT_TOO_LARGE", "at most 5000000 pence (£50,000) for one staff member")
			inRange = false
		}
	}
	switch {
	case !a.Paid() && a.Pence() != 0:
		vs.Add(f+"arrears.paid_date", "REQUIRED", "say when the arrears were paid to the staff member")
	case !a.Paid():
	case inRange && a.Pence() == 0:
		vs.Add(f+"arrears.gross_salary_pence", "ARREARS_REQUIRED",
			"a staff member claimed for was paid arrears: record what they were paid, or leave them out of the claim")
	case a.PaidDate.Before(claim.Month.First()):
		vs.Add(f+"arrears.paid_date", "BEFORE_MONTH", "arrears for %s are paid after it began, not on %s", claim.Month, a.PaidDate)
	case !today.IsZero() && a.PaidDate.After(today):
		vs.Add(f+"arrears.paid_date", "AFTER_TODAY", "arrears are claimed once paid: %s is after today", a.PaidDate)
	}
}

// checkTopUpSubmission checks, for SubmitClaim, what submitting top-up c
// needs under the national process: the clinical director's declaration
// that the arrears were paid before the claim; at least one staff member
// chosen; and each chosen line's arrears paid on or before the day of
// submission. A legacy line (claimed before arrears were recorded) keeps
// the old rule and is not chosen.
func checkTopUpSubmission(c Claim, declared bool, submitted Date) error {
	if !declared {
		return &Error{Kind: KindFailedPrecondition, Reason: "ARREARS_NOT_DECLARED", Resource: c.Name(),
			Message: "the clinical director must declare that the arrears claimed were paid to the staff before this claim",
			Violations: []Violation{{Field: "arrears_paid_declared", Rule: "REQUIRED",
				Description: "declare that the arrears were paid before the claim"}}}
	}
	chosen := 0
	var late []string
	for _, l := range c.Lines {
		if l.LegacyTopUp {
			chosen++
			continue
		}
		if !l.Arrears.Paid() {
			continue
		}
		chosen++
		if l.Arrears.PaidDate.After(submitted) {
			late = append(late, fmt.Sprintf("%s (paid %s)", l.Name(), l.Arrears.PaidDate))
		}
	}
	if chosen == 0 {
		return FailedPrecondition(c.Name(), "NO_ARREARS_CLAIMED",
			"record the arrears paid for at least one staff member: a top-up claims only for staff who were paid the uplift")
	}
	if len(late) > 0 {
		return FailedPrecondition(c.Name(), "ARREARS_PAID_AFTER_SUBMISSION",
			"arrears are claimed once paid; paid after "+submitted.String()+": "+strings.Join(late, ", "))
	}
	return nil
}

// BackdatedAward is a PCN's backdated award view for a financial year: for
// every month and staff member a backdated rate has offered a top-up for,
// the maximum the top-up can reimburse, as worked out centrally, and what
// the PCN has claimed of it. The PCN and its commissioner read it.
type BackdatedAward struct {
	PCNCode string
	Year    FinancialYear
	Lines   []AwardLine
}

// Name is the resource name, pcns/{pcn}/backdatedAwards/{year}.
func (a BackdatedAward) Name() string { return backdatedAwardName(a.PCNCode, a.Year) }

func backdatedAwardName(pcn string, y FinancialYear) string {
	return fmt.Sprintf("pcns/%s/backdatedAwards/%s", pcn, y)
}

// ParseBackdatedAwardName reads "pcns/{pcn}/backdatedAwards/{year}".
func ParseBackdatedAwardName(field, name string) (string, FinancialYear, error) {
	v, ok := segments(name, "pcns/{pcn}/backdatedAwards/{year}")
	if ok && ValidPCNCode(v[0]) {
		if y, err := ParseFinancialYear(v[1]); err == nil {
			return v[0], y, nil
		}
	}
	return "", 0, nameError(field, name, "pcns/U12345/backdatedAwards/2025-26")
}

// MaxTopUpPence is the award's maximum, over its lines.
func (a BackdatedAward) MaxTopUpPence() int64 {
	var sum int64
	for _, l := range a.Lines {
		sum += l.MaxTopUpPence
	}
	return sum
}

// ClaimedPence is what the PCN's submitted, queried, approved and paid top-ups
// claim of the award.
func (a BackdatedAward) ClaimedPence() int64 {
	var sum int64
	for _, l := range a.Lines {
		sum += l.ClaimedPence
	}
	return sum
}

// AwardLine is one staff member's month in a backdated award.
type AwardLine struct {
	Month     Month  `db:"month"`
	PostID    string `db:"post_id"`
	StaffName string `db:"staff_name"`
	RoleID    string `db:"role_id"`
	// ClaimID is the month's newest supplementary claim for the post, and
	// ClaimState its state.
	ClaimID    string     `db:"claim_id"`
	ClaimState ClaimState `db:"state"`
	// CapPence is the month's cap at the rates in force when the newest
	// top-up was offered or submitted.
	CapPence int64 `db:"cap_pence"`
	// ReimbursedPence is what the monthly claim reimbursed (claimed) for
	// the post, before the award.
	ReimbursedPence int64 `db:"reimbursed_pence"`
	// MaxTopUpPence = max(CapPence − ReimbursedPence, 0): the most the
	// month's top-ups can reimburse together.
	MaxTopUpPence int64 `db:"-"`
	// ArrearsPence and ArrearsPaidDate are what the newest top-up records as
	// paid to the staff member (none when not chosen).
	ArrearsPence    int64 `db:"arrears_pence"`
	ArrearsPaidDate Date  `db:"arrears_paid_date"`
	// ClaimedPence is what the month's top-ups in review or settled claim
	// for the post; DraftPence what a draft top-up would claim.
	ClaimedPence int64 `db:"claimed_pence"`
	DraftPence   int64 `db:"draft_pence"`
}

// GetBackdatedAward reads the PCN's backdated award for year in one
// snapshot: every month and post with a top-up in a claim not withdrawn or
// rejected, the actor seeing only the claims it may (the PCN's staff their
// PCN's, a commissioner those of the months it commissioned). A PCN with no
// such top-up that year has no award: NOT_FOUND.
func (s *Store) GetBackdatedAward(ctx context.Context, pcn string, year FinancialYear) (BackdatedAward, error) {
	return snapshot(ctx, s, func(q sqlx.QueryerContext) (BackdatedAward, error) {
		out := BackdatedAward{PCNCode: pcn, Year: year}
		a := args{pcn, year, pq.StringArray{string(ClaimWithdrawn), string(ClaimRejected)}, committedStates}
		cond := claimCondition(ctx, &a)
		// One row per month and post: the newest top-up's line (its cap and
		// arrears), the monthly line's claimed amount, and the sums of the
		// top-ups' claimed amounts by whether they are still drafts.
		if err := sqlx.SelectContext(ctx, q, &out.Lines, `SELECT DISTINCT ON (l.month, l.post_id)
				l.month, l.post_id, p.staff_name, l.role_id, l.claim_id, c.state, l.cap_pence,
				COALESCE(m.reimbursable_pence, 0) AS reimbursed_pence,
				l.arrears_gross_salary_pence + l.arrears_employer_ni_pence + l.arrears_employer_pension_pence AS arrears_pence,
				l.arrears_paid_date,
				COALESCE(SUM(l.reimbursable_pence) FILTER (WHERE c.state = ANY($4)) OVER w, 0)::bigint AS claimed_pence,
				COALESCE(SUM(l.reimbursable_pence) FILTER (WHERE c.state = 'draft') OVER w, 0)::bigint AS draft_pence
			FROM claim_lines l
			JOIN claims c ON c.pcn_code = l.pcn_code AND c.id = l.claim_id
			JOIN posts p ON p.pcn_code = l.pcn_code AND p.id = l.post_id
			LEFT JOIN claim_lines m ON m.pcn_code = l.pcn_code AND m.claim_id = c.supplements AND m.post_id = l.post_id
			WHERE l.pcn_code = $1 AND l.kind = 'supplementary' AND c.financial_year = $2 AND c.state <> ALL($3)
			  AND (c.pcn_code, c.id) IN (SELECT pcn_code, id FROM claims WHERE `+cond+`)
			WINDOW w AS (PARTITION BY l.month, l.post_id)
			ORDER BY l.month, l.post_id, length(l.claim_id) DESC, l.claim_id DESC`, a...); err != nil {
			return out, err
		}
		if len(out.Lines) == 0 {
			return out, NotFound(out.Name())
		}
		for i := range out.Lines {
			l := &out.Lines[i]
			l.MaxTopUpPence = max(l.CapPence-l.ReimbursedPence, 0)
		}
		return out, nil
	})
}
