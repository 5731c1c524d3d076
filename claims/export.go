package claims

import (
	"context"
	"time"
)

// ExportRow is one approved or paid claim line, with what a commissioner's
// finance team needs to pay and reconcile it: the PCN and its payee, the
// post and who holds it, the amounts, and who approved and when it was paid.
type ExportRow struct {
	CommissionerCode string
	PCNCode          string
	PCNName          string
	// Payee is who was paid (a paid claim's recorded payee) or, until the
	// claim is paid, the PCN's nominated payee, named as a payment would
	// name it.
	Payee   string
	ClaimID string
	Kind    ClaimKind
	Month   Month
	State   ClaimState
	// Line is the claim line: post, role, WTE, costs, cap, reimbursable and
	// approved amounts and any adjustment reason.
	Line ClaimLine
	// StaffName and RegistrationNumber are the post's as they stand now: a
	// claim line does not keep its own copy.
	StaffName          string
	RegistrationNumber string
	ApprovedBy         string
	// ApprovalDate is the day of approval in England.
	ApprovalDate     Date
	PaymentDate      Date
	PaymentReference string
}

// nominatedPayee names a PCN p's nominated payee as RecordClaimPayment
// records it when the payment names none: the payee's own name, else its
// practice pr's name and code, else the code, else the PCN.
const nominatedPayee = `COALESCE(NULLIF(p.payee_name, ''), pr.display_name || ' (' || p.payee_ods_code || ')',
	NULLIF(p.payee_ods_code, ''), p.display_name)`

// exportScan is one row of the export query.
type exportScan struct {
	ClaimLine
	CommissionerCode   string     `db:"commissioner_code"`
	PCNName            string     `db:"pcn_name"`
	Payee              string     `db:"payee"`
	Kind               ClaimKind  `db:"kind"`
	Month              Month      `db:"month"`
	State              ClaimState `db:"state"`
	Reviewer           string     `db:"reviewer"`
	ReviewTime         *time.Time `db:"review_time"`
	PaymentDate        Date       `db:"payment_date"`
	PaymentReference   string     `db:"payment_reference"`
	StaffName          string     `db:"staff_name"`
	RegistrationNumber string     `db:"registration_number"`
}

// ExportClaimLines returns the lines of the approved and paid claims of a
// commissioner's month, in PCN, claim and post order, for its finance team.
// A commissioner's staff may export only their own commissioner's lines
// (another's is NOT_FOUND); a PCN's staff see only their PCN's lines.
func (s *Store) ExportClaimLines(ctx context.Context, commissioner string, month Month) ([]ExportRow, error) {
	name := commissionerName(commissioner)
	if _, ok := ActorFrom(ctx); !ok {
		return nil, errNoActor
	}
	if month.IsZero() {
		return nil, Invalid("month", "REQUIRED", "the claim month is required, written YYYY-MM")
	}
	switch sc := scopeOf(ctx); {
	case sc.kind == scopeNone, sc.kind == scopeCommissioner && sc.code != commissioner:
		return nil, NotFound(name)
	}
	// The claims are narrowed first, in a CTE over claims alone, so the
	// actor's condition (unqualified commissioner_code or pcn_code) names
	// the claims' columns and nothing else.
	a := args{commissioner, month}
	var rows []exportScan
	if err := s.db.SelectContext(ctx, &rows, `WITH c AS (
			SELECT pcn_code, id, kind, month, state, commissioner_code, reviewer, review_time,
			       payment_date, payment_reference, payment_payee
			FROM claims
			WHERE commissioner_code = $1 AND month = $2 AND state IN ('approved', 'paid') AND `+claimCondition(ctx, &a)+`
		)
		SELECT `+prefixed("l.", lineColumns)+`,
		       c.commissioner_code, p.display_name AS pcn_name,
		       COALESCE(NULLIF(c.payment_payee, ''), `+nominatedPayee+`) AS payee,
		       c.kind, c.month, c.state, c.reviewer, c.review_time, c.payment_date, c.payment_reference,
		       po.staff_name, po.registration_number
		FROM c
		JOIN claim_lines l ON l.pcn_code = c.pcn_code AND l.claim_id = c.id
		JOIN pcns p ON p.code = c.pcn_code
		LEFT JOIN pcn_practices pr ON pr.ods_code = p.payee_ods_code
		JOIN posts po ON po.pcn_code = l.pcn_code AND po.id = l.post_id
		ORDER BY c.pcn_code, c.id, l.post_id`, a...); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		// Nothing to export, or no such commissioner: only the empty
		// answer pays for telling the two apart.
		if err := mustExist(ctx, s.db, name, `SELECT EXISTS (SELECT 1 FROM commissioners WHERE code = $1)`, commissioner); err != nil {
			return nil, err
		}
	}
	out := make([]ExportRow, len(rows))
	for i, r := range rows {
		out[i] = ExportRow{
			CommissionerCode:   r.CommissionerCode,
			PCNCode:            r.PCNCode,
			PCNName:            r.PCNName,
			Payee:              r.Payee,
			ClaimID:            r.ClaimID,
			Kind:               r.Kind,
			Month:              r.Month,
			State:              r.State,
			Line:               r.ClaimLine,
			StaffName:          r.StaffName,
			RegistrationNumber: r.RegistrationNumber,
			ApprovedBy:         r.Reviewer,
			PaymentDate:        r.PaymentDate,
			PaymentReference:   r.PaymentReference,
		}
		if r.ReviewTime != nil {
			out[i].ApprovalDate = DateOf(r.ReviewTime.In(london))
		}
	}
	return out, nil
}
