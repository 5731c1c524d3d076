package claims

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
)

// Drafting a month's claim: the claim window, the pre-filled lines, and the
// commissioner the month belongs to.

// checkClaimWindow refuses a month that has not ended (claims are in
// arrears) and, once the year's deadline has passed, any month of it.
func (s *Store) checkClaimWindow(ctx context.Context, q sqlx.QueryerContext, month Month) error {
	if err := s.checkArrears(month); err != nil {
		return err
	}
	var deadline Date
	err := sqlx.GetContext(ctx, q, &deadline, `SELECT claims_deadline FROM financial_years WHERE id = $1`, month.FinancialYear())
	switch {
	case isNoRows(err):
		return FailedPrecondition("", "FINANCIAL_YEAR_NOT_OPEN", financialYearName(month.FinancialYear())+" does not exist")
	case err != nil:
		return err
	}
	return s.checkDeadline(month, deadline)
}

// checkArrears refuses a month that has not ended: claims are in arrears.
func (s *Store) checkArrears(month Month) error {
	if today := s.today(); !month.Last().Before(today) {
		return FailedPrecondition("", "CLAIM_IN_ARREARS",
			fmt.Sprintf("claims are in arrears: %s can be claimed from %s", month, month.Last().AddDays(1)))
	}
	return nil
}

// checkDeadline refuses any month of a year whose deadline for claims (if
// it has one) has passed.
func (s *Store) checkDeadline(month Month, deadline Date) error {
	if !deadline.IsZero() && s.today().After(deadline) {
		return FailedPrecondition("", "CLAIMS_DEADLINE_PASSED",
			fmt.Sprintf("claims for %s closed on %s", month.FinancialYear(), deadline))
	}
	return nil
}

// CreateClaim drafts the claim for a month that has ended, with a line for
// every post in post that month. The claim of a month that was withdrawn is
// drafted afresh.
//
// edits, when given, record what was paid on the new lines in the same
// transaction (a month's payroll): the claim is created with all of them or
// not at all, and every bad field of every line is reported together, named
// line_updates[i].claim_line.…, as BatchUpdateClaimLines names them. A line
// being created has no etag yet, so an edit may not carry one.
func (s *Store) CreateClaim(ctx context.Context, req Request, pcn string, month Month, edits ...LineEdit) (Claim, error) {
	if err := requireRole(ctx, "draft claims", RolePCNClinicalDirector, RolePCNManager); err != nil {
		return Claim{}, err
	}
	if len(edits) > maxBatchLines {
		return Claim{}, Invalid("line_updates", "TOO_MANY", "at most %d lines in one request", maxBatchLines)
	}
	var vs Violations
	for i, e := range edits {
		if e.Etag != "" {
			vs.Add(fmt.Sprintf("line_updates[%d].claim_line.etag", i), "ETAG_ON_CREATE", "a line being created has no etag yet")
		}
	}
	if err := vs.Err(); err != nil {
		return Claim{}, err
	}
	return once(ctx, s, req, func(tx *txn) (Claim, string, error) {
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
		claim := Claim{PCNCode: pcn, ID: month.String(), Kind: MonthlyClaim, Month: month}
		lines, excluded, err := cc.draftLines(claim, resolvePosts(edits, cc.posts))
		if err != nil {
			return Claim{}, "", err
		}
		// Where the PCN was that month is looked up by the insert itself,
		// once: both columns from the one row placeInMonth picks.
		if err := tx.GetContext(ctx, &claim, `WITH place AS (`+placeInMonth("$1", "$6")+`)
			INSERT INTO claims (pcn_code, id, month, financial_year, state, excluded_posts,
				commissioner_code, sub_icb_location_code)
			VALUES ($1, $2, $3, $4, 'draft', $5, (SELECT commissioner_code FROM place),
				(SELECT sub_icb_location_code FROM place))
			ON CONFLICT (pcn_code, id) DO UPDATE SET state = 'draft', submitter = '', submit_time = NULL,
				withdraw_reason = '', excluded_posts = EXCLUDED.excluded_posts, commissioner_code = EXCLUDED.commissioner_code,
				sub_icb_location_code = EXCLUDED.sub_icb_location_code,
				revision = claims.revision + 1, update_time = now(),
				commissioner_held_seconds = 0, pcn_held_seconds = 0
			WHERE claims.state = 'withdrawn'
			RETURNING `+claimColumns,
			pcn, month.String(), month, month.FinancialYear(), excluded, month.First()); err != nil {
			if isNoRows(err) {
				// A racing create got there first (the row did not exist to lock).
				return Claim{}, "", AlreadyExists(name, name+" already exists")
			}
			return Claim{}, "", err
		}
		if claim.Lines, err = insertLines(ctx, tx, claim, lines); err != nil {
			return Claim{}, "", err
		}
		action := "create"
		if before != nil {
			action = "recreate"
		}
		return claim, name, s.appendAudit(ctx, tx, name, action, pcn, before, claim)
	}, getClaim)
}

// draftLines works out a new claim's lines: one for every post in post in
// the claim's month, at the post's WTE and the cap of the rates in force,
// with edits applied (see CreateClaim), and the posts left out with why.
func (cc claimContext) draftLines(claim Claim, edits []LineEdit) ([]ClaimLine, excludedPosts, error) {
	var lines []ClaimLine
	var excluded excludedPosts
	for _, p := range cc.posts {
		if ok, reason := Eligibility(claim.Month, p, cc.roles[p.RoleID]); !ok {
			if reason != ExcludedNotInPost {
				excluded = append(excluded, ExcludedPost{PostID: p.ID, Reason: reason})
			}
			continue
		}
		c, err := cc.lineCap(claim.Month, p, p.WTE)
		if err != nil {
			excluded = append(excluded, ExcludedPost{PostID: p.ID, Reason: "RATE_NOT_IN_FORCE"})
			continue
		}
		l := ClaimLine{PCNCode: claim.PCNCode, ClaimID: claim.ID, PostID: p.ID, RoleID: p.RoleID, WTE: p.WTE}
		l.applyCap(c, MonthlyClaim)
		lines = append(lines, l)
	}
	if len(edits) == 0 {
		return lines, excluded, nil
	}
	current := make(map[string]ClaimLine, len(lines))
	for _, l := range lines {
		current[l.PostID] = l
	}
	// Edits name their fields line_updates[i].claim_line.…; a one-line
	// request naming no line is a bad field too, not NOT_FOUND: the claim
	// it would be a line of does not exist yet.
	for i := range edits {
		if _, ok := current[edits[i].PostID]; !ok && edits[i].PostID != "" {
			return nil, nil, Invalid(fmt.Sprintf("line_updates[%d].claim_line.name", i), "UNKNOWN_LINE",
				"%s will have no line for post %s", claim.Name(), edits[i].PostID)
		}
	}
	// A new claim is monthly: its lines take no arrears, so no day is needed
	// to check their paid date against.
	_, after, err := cc.applyEdits(claim, edits, current, Date{}, func(i int) string { return fmt.Sprintf("line_updates[%d].claim_line.", i) })
	if err != nil {
		return nil, nil, err
	}
	for _, a := range after {
		current[a.PostID] = a
	}
	for i, l := range lines {
		lines[i] = current[l.PostID]
	}
	return lines, excluded, nil
}

// insertLines files a new claim's lines in one statement, whatever their
// number, and returns them as stored, in post order. The lines travel as one
// JSON array of records, as writeLines's do.
func insertLines(ctx context.Context, tx *txn, c Claim, lines []ClaimLine) ([]ClaimLine, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	body, err := lineRecords(lines)
	if err != nil {
		return nil, err
	}
	var out []ClaimLine
	err = tx.SelectContext(ctx, &out, `INSERT INTO claim_lines (pcn_code, claim_id, post_id, month, kind, role_id, wte,
		gross_salary_pence, employer_ni_pence, employer_pension_pence, overtime_pence, absence_adjustment_pence,
		evidence_uris, cap_pence, active_days, days_in_year, cap_segments, already_paid_pence, reimbursable_pence,
		arrears_gross_salary_pence, arrears_employer_ni_pence, arrears_employer_pension_pence, arrears_paid_date)
		SELECT v.pcn_code, v.claim_id, v.post_id, $2::date, $3::text, v.role_id, v.wte,
			v.gross_salary_pence, v.employer_ni_pence, v.employer_pension_pence, v.overtime_pence, v.absence_adjustment_pence,
			v.evidence_uris, v.cap_pence, v.active_days, v.days_in_year, v.cap_segments, v.already_paid_pence, v.reimbursable_pence,
			v.arrears_gross_salary_pence, v.arrears_employer_ni_pence, v.arrears_employer_pension_pence, v.arrears_paid_date
		FROM jsonb_to_recordset($1::jsonb) AS v(`+lineRecordColumns+`)
		RETURNING `+lineColumns, body, c.Month, c.Kind)
	slices.SortFunc(out, func(a, b ClaimLine) int { return strings.Compare(a.PostID, b.PostID) })
	return out, err
}

// lineRecord is a line as writeLines and insertLines send it: one element
// of a JSON array that jsonb_to_recordset reads with lineRecordColumns.
type lineRecord struct {
	PCNCode           string          `json:"pcn_code"`
	ClaimID           string          `json:"claim_id"`
	PostID            string          `json:"post_id"`
	RoleID            string          `json:"role_id"`
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
	Arrears
}

const lineRecordColumns = `pcn_code text, claim_id text, post_id text, role_id text, wte numeric,
	gross_salary_pence bigint, employer_ni_pence bigint, employer_pension_pence bigint, overtime_pence bigint,
	absence_adjustment_pence bigint, evidence_uris text[], cap_pence bigint, active_days int, days_in_year int,
	cap_segments jsonb, already_paid_pence bigint, reimbursable_pence bigint,
	arrears_gross_salary_pence bigint, arrears_employer_ni_pence bigint, arrears_employer_pension_pence bigint,
	arrears_paid_date date`

// lineRecords marshals lines for writeLines and insertLines.
func lineRecords(lines []ClaimLine) (string, error) {
	rows := make([]lineRecord, len(lines))
	for i, l := range lines {
		segments, err := json.Marshal(l.Segments)
		if err != nil {
			return "", err
		}
		evidence := []string(l.EvidenceURIs)
		if evidence == nil {
			evidence = []string{} // NULL would mean "unknown", not "none"
		}
		rows[i] = lineRecord{l.PCNCode, l.ClaimID, l.PostID, l.RoleID, l.WTE, l.GrossSalary, l.EmployerNI, l.EmployerPension,
			l.Overtime, l.AbsenceAdjustment, evidence, l.CapPence, l.ActiveDays, l.DaysInYear, segments, l.AlreadyPaidPence,
			l.ReimbursablePence, l.Arrears}
	}
	body, err := json.Marshal(rows)
	return string(body), err
}

// writeLines stores the lines' costs, WTE, evidence, caps and amounts (what
// each line's key names stays) in one statement, whatever their number, and
// returns them as stored, in the order given. The lines travel as one JSON
// array of records, and are all of one claim.
//
// The claim's key is given to the statement as well as each record's:
// PostgreSQL guesses a hundred records in any JSON array, and a write plans
// once per connection (inTx): on the records' keys alone, a claim_lines of
// a few thousand lines was joined to them by reading every line (2–3 ms for
// a one-line edit at 4,400 lines, the scan growing with the table until
// an index probe per guessed record costs less). On the claim's key, its
// own lines are found by the primary key however large the table.
func writeLines(ctx context.Context, tx *txn, lines []ClaimLine) ([]ClaimLine, error) {
	if len(lines) == 0 {
		return nil, nil
	}
	pcn, claim := lines[0].PCNCode, lines[0].ClaimID
	for _, l := range lines {
		if l.PCNCode != pcn || l.ClaimID != claim {
			return nil, fmt.Errorf("claims: writeLines: %s is not a line of %s", l.Name(), claimName(pcn, claim))
		}
	}
	body, err := lineRecords(lines)
	if err != nil {
		return nil, err
	}
	var written []ClaimLine
	if err := tx.SelectContext(ctx, &written, `UPDATE claim_lines l SET wte = v.wte, gross_salary_pence = v.gross_salary_pence,
		employer_ni_pence = v.employer_ni_pence, employer_pension_pence = v.employer_pension_pence,
		overtime_pence = v.overtime_pence, absence_adjustment_pence = v.absence_adjustment_pence,
		evidence_uris = v.evidence_uris, cap_pence = v.cap_pence, active_days = v.active_days, days_in_year = v.days_in_year,
		cap_segments = v.cap_segments, already_paid_pence = v.already_paid_pence, reimbursable_pence = v.reimbursable_pence,
		arrears_gross_salary_pence = v.arrears_gross_salary_pence, arrears_employer_ni_pence = v.arrears_employer_ni_pence,
		arrears_employer_pension_pence = v.arrears_employer_pension_pence, arrears_paid_date = v.arrears_paid_date,
		revision = l.revision + 1
		FROM jsonb_to_recordset($1::jsonb) AS v(`+lineRecordColumns+`)
		WHERE l.pcn_code = $2 AND l.claim_id = $3
			AND l.pcn_code = v.pcn_code AND l.claim_id = v.claim_id AND l.post_id = v.post_id
		RETURNING `+prefixed("l.", lineColumns), body, pcn, claim); err != nil {
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

// placeInMonth is where the PCN was on the first day of month: its
// commissioner and sub-ICB location as a past record (pcn_commissioners)
// whose last day is on or after it has them, else as they are now. A
// claim's commissioner and location are read together, from one row, so
// the location is always one of the commissioner's (the claims' composite
// key holds it too).
// pcn and first are the query's placeholders for the PCN's code and the
// month's first day.
func placeInMonth(pcn, first string) string {
	return `SELECT commissioner_code, sub_icb_location_code FROM (
		SELECT commissioner_code, sub_icb_location_code, valid_to FROM pcn_commissioners WHERE pcn_code = ` + pcn + ` AND valid_to >= ` + first + `
		UNION ALL SELECT commissioner_code, sub_icb_location_code, 'infinity'::date FROM pcns WHERE code = ` + pcn + `
	) place ORDER BY valid_to LIMIT 1`
}

// place is a PCN's commissioner and sub-ICB location in a month.
type place struct {
	Commissioner string       `db:"commissioner_code"`
	SubICB       OptionalCode `db:"sub_icb_location_code"`
}

// placeOf reads placeInMonth.
func placeOf(ctx context.Context, q sqlx.QueryerContext, pcn string, month Month) (place, error) {
	var p place
	err := sqlx.GetContext(ctx, q, &p, placeInMonth("$1", "$2"), pcn, month.First())
	return p, err
}
