package claims

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Drafting a month's claim: the claim window, the pre-filled lines, and the
// commissioner the month belongs to.

// checkClaimWindow refuses a month that has not ended (claims are in
// arrears) and, once the year's deadline has passed, any month of it.
func (s *Store) checkClaimWindow(ctx context.Context, q sqlx.QueryerContext, month Month) error {
	today := s.today()
	if !month.Last().Before(today) {
		return FailedPrecondition("", "CLAIM_IN_ARREARS",
			fmt.Sprintf("claims are in arrears: %s can be claimed from %s", month, month.Last().AddDays(1)))
	}
	var deadline Date
	err := sqlx.GetContext(ctx, q, &deadline, `SELECT claims_deadline FROM financial_years WHERE id = $1`, month.FinancialYear())
	switch {
	case isNoRows(err):
		return FailedPrecondition("", "FINANCIAL_YEAR_NOT_OPEN", financialYearName(month.FinancialYear())+" does not exist")
	case err != nil:
		return err
	case !deadline.IsZero() && today.After(deadline):
		return FailedPrecondition("", "CLAIMS_DEADLINE_PASSED",
			fmt.Sprintf("claims for %s closed on %s", month.FinancialYear(), deadline))
	}
	return nil
}

// CreateClaim drafts the claim for a month that has ended, with a line for
// every post in post that month. The claim of a month that was withdrawn is
// drafted afresh.
func (s *Store) CreateClaim(ctx context.Context, req Request, pcn string, month Month) (Claim, error) {
	if err := requireRole(ctx, "draft claims", RolePCNClinicalDirector, RolePCNManager); err != nil {
		return Claim{}, err
	}
	return once(ctx, s, req, func(tx *sqlx.Tx) (Claim, string, error) {
		name := claimName(pcn, month.String())
		if err := pcnVisible(ctx, tx, pcn); err != nil {
			return Claim{}, "", err
		}
		if err := s.checkClaimWindow(ctx, tx, month); err != nil {
			return Claim{}, "", err
		}
		var before *Claim
		var state ClaimState
		err := tx.GetContext(ctx, &state, `SELECT state FROM claims WHERE pcn_code = $1 AND id = $2 FOR UPDATE`, pcn, month.String())
		switch {
		case isNoRows(err):
		case err != nil:
			return Claim{}, "", err
		case state != ClaimWithdrawn:
			return Claim{}, "", AlreadyExists(name, name+" already exists")
		default:
			old, err := getClaim(ctx, tx, name)
			if err != nil {
				return Claim{}, "", err
			}
			before = &old
			if _, err := tx.ExecContext(ctx, `DELETE FROM claim_lines WHERE pcn_code = $1 AND claim_id = $2`, pcn, month.String()); err != nil {
				return Claim{}, "", err
			}
		}
		cc, err := loadClaimContext(ctx, tx, pcn)
		if err != nil {
			return Claim{}, "", err
		}
		var lines []ClaimLine
		var excluded excludedPosts
		for _, p := range cc.posts {
			if ok, reason := Eligibility(month, p, cc.roles[p.RoleID]); !ok {
				if reason != ExcludedNotInPost {
					excluded = append(excluded, ExcludedPost{PostID: p.ID, Reason: reason})
				}
				continue
			}
			c, err := cc.lineCap(month, p, p.WTE)
			if err != nil {
				excluded = append(excluded, ExcludedPost{PostID: p.ID, Reason: "RATE_NOT_IN_FORCE"})
				continue
			}
			l := ClaimLine{PCNCode: pcn, ClaimID: month.String(), PostID: p.ID, RoleID: p.RoleID, WTE: p.WTE}
			l.applyCap(c)
			lines = append(lines, l)
		}
		commissioner, err := commissionerInMonth(ctx, tx, pcn, month)
		if err != nil {
			return Claim{}, "", err
		}
		if res, err := tx.ExecContext(ctx, `INSERT INTO claims (pcn_code, id, month, financial_year, state, excluded_posts, commissioner_code)
			VALUES ($1, $2, $3, $4, 'draft', $5, $6)
			ON CONFLICT (pcn_code, id) DO UPDATE SET state = 'draft', submitter = '', submit_time = NULL,
				withdraw_reason = '', excluded_posts = EXCLUDED.excluded_posts, commissioner_code = EXCLUDED.commissioner_code,
				revision = claims.revision + 1, update_time = now()
			WHERE claims.state = 'withdrawn'`,
			pcn, month.String(), month, month.FinancialYear(), excluded, commissioner); err != nil {
			return Claim{}, "", err
		} else if n, _ := res.RowsAffected(); n == 0 {
			// A racing create got there first (the row did not exist to lock).
			return Claim{}, "", AlreadyExists(name, name+" already exists")
		}
		claim := Claim{PCNCode: pcn, ID: month.String(), Kind: MonthlyClaim, Month: month}
		for _, l := range lines {
			if err := insertLine(ctx, tx, claim, l); err != nil {
				return Claim{}, "", err
			}
		}
		out, err := getClaim(ctx, tx, name)
		if err != nil {
			return out, "", err
		}
		action := "create"
		if before != nil {
			action = "recreate"
		}
		return out, name, s.appendAudit(ctx, tx, name, action, pcn, before, out)
	}, getClaim)
}

func insertLine(ctx context.Context, tx *sqlx.Tx, c Claim, l ClaimLine) error {
	if l.EvidenceURIs == nil {
		l.EvidenceURIs = pq.StringArray{}
	}
	l.PCNCode, l.ClaimID = c.PCNCode, c.ID
	_, err := tx.NamedExecContext(ctx, `INSERT INTO claim_lines (pcn_code, claim_id, post_id, month, kind, role_id, wte,
		gross_salary_pence, employer_ni_pence, employer_pension_pence, overtime_pence, absence_adjustment_pence,
		evidence_uris, cap_pence, active_days, days_in_year, cap_segments, already_paid_pence, reimbursable_pence)
		VALUES (:pcn_code, :claim_id, :post_id, :month, :kind, :role_id, :wte,
		:gross_salary_pence, :employer_ni_pence, :employer_pension_pence, :overtime_pence, :absence_adjustment_pence,
		:evidence_uris, :cap_pence, :active_days, :days_in_year, :cap_segments, :already_paid_pence, :reimbursable_pence)`,
		lineRow{ClaimLine: l, Month: c.Month, Kind: c.Kind})
	return err
}

// lineRow is a claim line as filed: with its claim's month and kind.
type lineRow struct {
	ClaimLine
	Month Month     `db:"month"`
	Kind  ClaimKind `db:"kind"`
}

// writeLine stores one line (see writeLines) and returns it as stored.
func writeLine(ctx context.Context, tx *sqlx.Tx, l ClaimLine) (ClaimLine, error) {
	out, err := writeLines(ctx, tx, []ClaimLine{l})
	if err != nil {
		return ClaimLine{}, err
	}
	return out[0], nil
}

// writeLines stores the lines' costs, WTE, evidence, caps and amounts (what
// each line's key names stays) in one statement, whatever their number, and
// returns them as stored, in the order given. The lines travel as one JSON
// array of records.
func writeLines(ctx context.Context, tx *sqlx.Tx, lines []ClaimLine) ([]ClaimLine, error) {
	type row struct {
		PCNCode           string          `json:"pcn_code"`
		ClaimID           string          `json:"claim_id"`
		PostID            string          `json:"post_id"`
		WTE               Decimal         `json:"wte"`
		GrossSalary       int64           `json:"gross_salary_pence"`
		EmployerNI        int64           `json:"employer_ni_pence"`
		EmployerPension   int64           `json:"employer_pension_pence"`
		Overtime          int64           `json:"overtime_pence"`
		AbsenceAdjustment int64           `json:"absence_adjustment_pence"`
		EvidenceURIs      []string        `json:"evidence_uris"`
		CapPence          int64           `json:"cap_pence"`
		ActiveDays        int             `json:"active_days"`
		DaysInYear        int             `json:"days_in_year"`
		Segments          json.RawMessage `json:"cap_segments"`
		AlreadyPaidPence  int64           `json:"already_paid_pence"`
		ReimbursablePence int64           `json:"reimbursable_pence"`
	}
	rows := make([]row, len(lines))
	for i, l := range lines {
		segments, err := json.Marshal(l.Segments)
		if err != nil {
			return nil, err
		}
		evidence := []string(l.EvidenceURIs)
		if evidence == nil {
			evidence = []string{} // NULL would mean "unknown", not "none"
		}
		rows[i] = row{l.PCNCode, l.ClaimID, l.PostID, l.WTE, l.GrossSalary, l.EmployerNI, l.EmployerPension, l.Overtime,
			l.AbsenceAdjustment, evidence, l.CapPence, l.ActiveDays, l.DaysInYear, segments, l.AlreadyPaidPence, l.ReimbursablePence}
	}
	body, err := json.Marshal(rows)
	if err != nil {
		return nil, err
	}
	var written []ClaimLine
	if err := tx.SelectContext(ctx, &written, `UPDATE claim_lines l SET wte = v.wte, gross_salary_pence = v.gross_salary_pence,
		employer_ni_pence = v.employer_ni_pence, employer_pension_pence = v.employer_pension_pence,
		overtime_pence = v.overtime_pence, absence_adjustment_pence = v.absence_adjustment_pence,
		evidence_uris = v.evidence_uris, cap_pence = v.cap_pence, active_days = v.active_days, days_in_year = v.days_in_year,
		cap_segments = v.cap_segments, already_paid_pence = v.already_paid_pence, reimbursable_pence = v.reimbursable_pence,
		revision = l.revision + 1
		FROM jsonb_to_recordset($1::jsonb) AS v(pcn_code text, claim_id text, post_id text, wte numeric,
			gross_salary_pence bigint, employer_ni_pence bigint, employer_pension_pence bigint, overtime_pence bigint,
			absence_adjustment_pence bigint, evidence_uris text[], cap_pence bigint, active_days int, days_in_year int,
			cap_segments jsonb, already_paid_pence bigint, reimbursable_pence bigint)
		WHERE l.pcn_code = v.pcn_code AND l.claim_id = v.claim_id AND l.post_id = v.post_id
		RETURNING `+prefixed("l.", lineColumns), string(body)); err != nil {
		return nil, err
	}
	byPost := make(map[[3]string]ClaimLine, len(written))
	for _, w := range written {
		byPost[[3]string{w.PCNCode, w.ClaimID, w.PostID}] = w
	}
	out := make([]ClaimLine, len(lines))
	for i, l := range lines {
		var ok bool
		if out[i], ok = byPost[[3]string{l.PCNCode, l.ClaimID, l.PostID}]; !ok {
			return nil, fmt.Errorf("claims: %s was not written", l.Name())
		}
	}
	return out, nil
}

// commissionerInMonth is who commissioned the PCN on the first day of month:
// a past commissioner whose last day is on or after it, else the current one.
func commissionerInMonth(ctx context.Context, q sqlx.QueryerContext, pcn string, month Month) (string, error) {
	var code string
	err := sqlx.GetContext(ctx, q, &code, `SELECT COALESCE(
		(SELECT commissioner_code FROM pcn_commissioners WHERE pcn_code = $1 AND valid_to >= $2 ORDER BY valid_to LIMIT 1),
		(SELECT commissioner_code FROM pcns WHERE code = $1))`, pcn, month.First())
	return code, err
}
