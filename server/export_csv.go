package server

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"arrs.nhs.uk/arrs/claims"
)

// The CSV export's format: the server owns formats; the store says which
// lines there are (claims.ExportClaimLines).

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

// writeExportCSV writes rows as RFC 4180 CSV (CRLF line ends, fields quoted
// where needed) under exportHeader. Text that people typed (names, payee,
// reasons, references) and that begins with =, +, -, @, a tab or a carriage
// return is prefixed with a single quote, so a spreadsheet shows it rather
// than evaluating it as a formula (CSV injection).
func writeExportCSV(w io.Writer, rows []claims.ExportRow) error {
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
