package claims

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
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

// exportHeader is the CSV export's header row (the README lists it too). The
// columns:
//
//	commissioner         the commissioner's ODS code (QNQ)
//	pcn_code             the PCN's ODS code (U12345)
//	pcn_name             the PCN's name
//	payee                who was paid; until paid, the PCN's nominated payee
//	claim                the claim id: its month (2025-05), or 2025-05-s1 for a supplementary claim
//	kind                 monthly or supplementary
//	month                the claim month, YYYY-MM
//	state                approved or paid
//	post                 the post id within the PCN
//	role                 the role id (clinical-pharmacist)
//	staff_name           the post's staff member, as the post stands now
//	registration_number  the staff member's professional registration, as the post stands now
//	wte                  whole-time equivalent claimed, a decimal (0.6)
//	actual_pence         gross + employer NI + employer pension + overtime − absence adjustment
//	cap_pence            the line's maximum reimbursement
//	reimbursable_pence   min(actual, cap), less anything already paid for a top-up line
//	approved_pence       what the commissioner approved
//	approved_gbp         approved_pence in pounds, a plain decimal (5504.55)
//	adjustment_reason    why the line was approved at less than it claimed, if it was
//	approved_by          who approved the claim
//	approval_date        the day it was approved (in England), YYYY-MM-DD
//	payment_date         the day it was paid, YYYY-MM-DD; empty until paid
//	payment_reference    the ledger or remittance reference; empty until paid
//
// Amounts are integer pence unless the name says otherwise.
var exportHeader = []string{"commissioner", "pcn_code", "pcn_name", "payee", "claim", "kind", "month", "state",
	"post", "role", "staff_name", "registration_number", "wte", "actual_pence", "cap_pence", "reimbursable_pence",
	"approved_pence", "approved_gbp", "adjustment_reason", "approved_by", "approval_date", "payment_date",
	"payment_reference"}

// WriteExportCSV writes rows as RFC 4180 CSV (CRLF line ends, fields quoted
// where needed) under exportHeader. Text that people typed (names, payee,
// reasons, references) and that begins with =, +, -, @, a tab or a carriage
// return is prefixed with a single quote, so a spreadsheet shows it rather
// than evaluating it as a formula (CSV injection).
func WriteExportCSV(w io.Writer, rows []ExportRow) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(exportHeader); err != nil {
		return err
	}
	for _, r := range rows {
		l := r.Line
		approved := l.Approved()
		if err := cw.Write([]string{
			r.CommissionerCode,
			r.PCNCode,
			cell(r.PCNName),
			cell(r.Payee),
			r.ClaimID,
			string(r.Kind),
			r.Month.String(),
			string(r.State),
			l.PostID,
			l.RoleID,
			cell(r.StaffName),
			cell(r.RegistrationNumber),
			l.WTE.String(),
			strconv.FormatInt(l.Costs().ActualPence(), 10),
			strconv.FormatInt(l.CapPence, 10),
			strconv.FormatInt(l.ReimbursablePence, 10),
			strconv.FormatInt(approved, 10),
			plainPounds(approved),
			cell(l.AdjustmentReason),
			cell(r.ApprovedBy),
			r.ApprovalDate.String(),
			r.PaymentDate.String(),
			cell(r.PaymentReference),
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell neutralises a text cell a spreadsheet would take for a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// plainPounds renders pence as a plain decimal number of pounds, for
// machines: 550455 → "5504.55", -5 → "-0.05".
func plainPounds(pence int64) string {
	sign := ""
	if pence < 0 {
		sign, pence = "-", -pence
	}
	return fmt.Sprintf("%s%d.%02d", sign, pence/100, pence%100)
}
