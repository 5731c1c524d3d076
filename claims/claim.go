package claims

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// A claim and its lines as stored, their names, and reading them.

// ClaimState is where a claim is in review.
type ClaimState string

// The states of a claim. DRAFT and QUERIED claims are the PCN's to edit;
// SUBMITTED, APPROVED and PAID claims count against the entitlement.
const (
	ClaimDraft     ClaimState = "draft"
	ClaimSubmitted ClaimState = "submitted"
	ClaimWithdrawn ClaimState = "withdrawn"
	ClaimApproved  ClaimState = "approved"
	ClaimPaid      ClaimState = "paid"
	ClaimRejected  ClaimState = "rejected"
	ClaimQueried   ClaimState = "queried"
)

// ClaimKind says what a claim is for.
type ClaimKind string

// The kinds of claim.
const (
	// MonthlyClaim is the month's claim for a PCN's posts.
	MonthlyClaim ClaimKind = "monthly"
	// SupplementaryClaim tops up an approved or paid month after a
	// backdated rate.
	SupplementaryClaim ClaimKind = "supplementary"
)

// ExcludedPost is a post that got no line in a claim, and why.
type ExcludedPost struct {
	PostID string `json:"post_id"`
	Reason string `json:"reason"`
}

type excludedPosts []ExcludedPost

func (e *excludedPosts) Scan(src any) error { return scanJSON(src, e) }
func (e excludedPosts) Value() (driver.Value, error) {
	if e == nil {
		e = excludedPosts{}
	}
	b, err := json.Marshal(e)
	return string(b), err
}

// Claim is a PCN's claim for one month.
type Claim struct {
	PCNCode        string        `db:"pcn_code"`
	ID             string        `db:"id"`
	Kind           ClaimKind     `db:"kind"`
	Month          Month         `db:"month"`
	Year           FinancialYear `db:"financial_year"`
	State          ClaimState    `db:"state"`
	Submitter      string        `db:"submitter"`
	SubmitTime     *time.Time    `db:"submit_time"`
	WithdrawReason string        `db:"withdraw_reason"`
	Excluded       excludedPosts `db:"excluded_posts"`
	// CommissionerCode is who commissioned the PCN in the claim's month, and
	// so reviews and pays the claim.
	CommissionerCode string `db:"commissioner_code"`
	// SubICBLocationCode is the commissioner's sub-ICB location the PCN was
	// in that month; "" when none was recorded.
	SubICBLocationCode OptionalCode `db:"sub_icb_location_code"`
	// Supplements is, for a supplementary claim, the id of the monthly
	// claim it tops up.
	Supplements       *string    `db:"supplements"`
	Reviewer          string     `db:"reviewer"`
	ReviewTime        *time.Time `db:"review_time"`
	ReviewNote        string     `db:"review_note"`
	PaymentDate       Date       `db:"payment_date"`
	PaymentReference  string     `db:"payment_reference"`
	PaymentPayee      string     `db:"payment_payee"`
	PaymentRecordedBy string     `db:"payment_recorded_by"`
	// ArrearsDeclaredBy and ArrearsDeclareTime record, on a submitted
	// supplementary claim, the clinical director's declaration that the
	// arrears it claims were paid to the staff before the claim.
	ArrearsDeclaredBy  string      `db:"arrears_declared_by"`
	ArrearsDeclareTime *time.Time  `db:"arrears_declare_time"`
	Revision           int64       `db:"revision"`
	CreateTime         time.Time   `db:"create_time"`
	UpdateTime         time.Time   `db:"update_time"`
	Lines              []ClaimLine `db:"-"`
	// Holding is how long the commissioner and the PCN have held it.
	Holding
	// Messages is the claim's query thread, oldest first, read with its
	// lines; each message is audited as a resource of its own, so the
	// claim's audited state leaves them out.
	Messages claimMessages `db:"messages" json:"-"`
	// ClaimTotals are filled in by ListClaims, which loads no lines; use
	// Sums. They are not part of the claim's audited state.
	ClaimTotals `json:"-"`
}

// Name is the resource name.
func (c Claim) Name() string { return claimName(c.PCNCode, c.ID) }

// Totals sums the lines: actual cost, cap, reimbursable and approved, in
// pence.
func (c Claim) Totals() (actual, capPence, reimbursable, approved int64) {
	for _, l := range c.Lines {
		actual += l.Costs().ActualPence()
		capPence += l.CapPence
		reimbursable += l.ReimbursablePence
		approved += l.Approved()
	}
	return actual, capPence, reimbursable, approved
}

// ClaimLine is one post's costs in a claim month.
type ClaimLine struct {
	PCNCode           string         `db:"pcn_code"`
	ClaimID           string         `db:"claim_id"`
	PostID            string         `db:"post_id"`
	RoleID            string         `db:"role_id"`
	WTE               Decimal        `db:"wte"`
	GrossSalary       int64          `db:"gross_salary_pence"`
	EmployerNI        int64          `db:"employer_ni_pence"`
	EmployerPension   int64          `db:"employer_pension_pence"`
	Overtime          int64          `db:"overtime_pence"`
	AbsenceAdjustment int64          `db:"absence_adjustment_pence"`
	EvidenceURIs      pq.StringArray `db:"evidence_uris"`
	CapPence          int64          `db:"cap_pence"`
	ActiveDays        int            `db:"active_days"`
	DaysInYear        int            `db:"days_in_year"`
	Segments          capSegments    `db:"cap_segments"`
	ReimbursablePence int64          `db:"reimbursable_pence"`
	// ApprovedPence is what the commissioner approved; nil until approval.
	ApprovedPence    *int64 `db:"approved_pence"`
	AdjustmentReason string `db:"adjustment_reason"`
	// AlreadyPaidPence is, on a supplementary line, what the month's
	// monthly claim already reimbursed for the post.
	AlreadyPaidPence int64 `db:"already_paid_pence"`
	// Arrears is, on a supplementary line, what the PCN paid the staff
	// member when the award was backdated; its paid date set means the PCN
	// chose to claim the line.
	Arrears
	// LegacyTopUp marks a top-up submitted before arrears were recorded
	// (migration 00011): it keeps the old rule, min(actual, cap) − settled.
	LegacyTopUp bool  `db:"legacy_top_up"`
	Revision    int64 `db:"revision"`
}

// Arrears are what a PCN paid a staff member for a month on a backdated
// award, and when it paid them: all the arrears paid for the month, those an
// earlier top-up of the month claimed included, since what the month has
// settled (AlreadyPaidPence) counts what that top-up reimbursed.
// Its JSON names differ from the line's own cost fields, which would
// otherwise hide them from the audit trail.
type Arrears struct {
	GrossSalary     int64 `db:"arrears_gross_salary_pence" json:"arrears_gross_salary_pence"`
	EmployerNI      int64 `db:"arrears_employer_ni_pence" json:"arrears_employer_ni_pence"`
	EmployerPension int64 `db:"arrears_employer_pension_pence" json:"arrears_employer_pension_pence"`
	PaidDate        Date  `db:"arrears_paid_date" json:"arrears_paid_date"`
}

// Pence is the arrears paid in all: gross + NI + pension.
func (a Arrears) Pence() int64 { return a.GrossSalary + a.EmployerNI + a.EmployerPension }

// Paid reports whether arrears were recorded as paid: the line is claimed.
func (a Arrears) Paid() bool { return !a.PaidDate.IsZero() }

// MaxTopUpPence is, on a supplementary line, the most it can reimburse
// whatever arrears were paid: the new cap less what the month has settled
// for the post, never below 0. It is worked out centrally, as the national
// process does, and the ICB checks claims against it.
func (l ClaimLine) MaxTopUpPence() int64 { return max(l.CapPence-l.AlreadyPaidPence, 0) }

// TopUp reports whether the line is one of a supplementary claim's.
func (l ClaimLine) TopUp() bool { return supplementNumber(l.ClaimID) > 0 }

// Approved is what the line counts for once approved: the approved amount,
// or until then what it claims.
func (l ClaimLine) Approved() int64 {
	if l.ApprovedPence != nil {
		return *l.ApprovedPence
	}
	return l.ReimbursablePence
}

// Name is the resource name.
func (l ClaimLine) Name() string { return claimLineName(l.PCNCode, l.ClaimID, l.PostID) }

// Costs are what the line says was paid.
func (l ClaimLine) Costs() Costs {
	return Costs{GrossSalary: l.GrossSalary, EmployerNI: l.EmployerNI, EmployerPension: l.EmployerPension,
		Overtime: l.Overtime, AbsenceAdjustment: l.AbsenceAdjustment}
}

// applyCap sets the line's cap from c and its reimbursable amount (see
// reimburse), the line being one of a claim of kind.
func (l *ClaimLine) applyCap(c LineCap, kind ClaimKind) {
	l.CapPence, l.ActiveDays, l.DaysInYear, l.Segments = c.Pence, c.ActiveDays, c.DaysInYear, c.Segments
	l.reimburse(kind)
}

// reimburse sets what the line reimburses. A monthly line: min(actual, cap).
// A supplementary line the PCN chose (its arrears paid): min(actual +
// arrears paid, new cap) − what the month has settled, never below 0, and so
// never above MaxTopUpPence. The original costs stay as approved: the
// uplift is what the arrears add to them. A line not chosen reimburses
// nothing, since the national process pays only for the staff who were paid
// the uplift. Worked examples are in supplementary_test.go.
func (l *ClaimLine) reimburse(kind ClaimKind) {
	if kind == SupplementaryClaim && !l.LegacyTopUp && !l.Arrears.Paid() {
		l.ReimbursablePence = 0
		return
	}
	l.ReimbursablePence = max(Reimbursable(l.Costs().ActualPence()+l.Arrears.Pence(), l.CapPence)-l.AlreadyPaidPence, 0)
}

type claimMessages []ClaimMessage

func (m *claimMessages) Scan(src any) error { return scanJSON(src, m) }

type capSegments []CapSegment

func (c capSegments) Value() (driver.Value, error) {
	b, err := json.Marshal(c)
	return string(b), err
}

func scanJSON(src, dest any) error {
	s, err := scanText(src, "JSON")
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(s), dest)
}

func claimName(pcn, id string) string { return fmt.Sprintf("pcns/%s/claims/%s", pcn, id) }
func claimLineName(pcn, claim, post string) string {
	return fmt.Sprintf("pcns/%s/claims/%s/lines/%s", pcn, claim, post)
}

// claimIDPattern: a monthly claim is named by its month ("2025-04"), a
// supplementary one by its month and a number ("2025-04-s1").
var claimIDPattern = regexp.MustCompile(`^([0-9]{4}-[0-9]{2})(-s[1-9][0-9]?)?$`)

// ClaimMonth returns the month a claim id is for.
func ClaimMonth(id string) (Month, bool) {
	m := claimIDPattern.FindStringSubmatch(id)
	if m == nil {
		return Month{}, false
	}
	month, err := ParseMonth(m[1])
	return month, err == nil
}

// monthOfClaim is the month claim id is for: an id that is not a claim
// month's cannot name a claim, so it is NOT_FOUND.
func monthOfClaim(pcn, id string) (Month, error) {
	m, ok := ClaimMonth(id)
	if !ok {
		return Month{}, NotFound(claimName(pcn, id))
	}
	return m, nil
}

// ParseClaimName reads "pcns/{pcn}/claims/{claim}".
func ParseClaimName(field, name string) (string, string, error) {
	v, ok := segments(name, "pcns/{pcn}/claims/{claim}")
	if ok && ValidPCNCode(v[0]) {
		if _, ok := ClaimMonth(v[1]); ok {
			return v[0], v[1], nil
		}
	}
	return "", "", nameError(field, name, "pcns/U12345/claims/YYYY-MM")
}

// ParseClaimLineName reads "pcns/{pcn}/claims/{claim}/lines/{post}".
func ParseClaimLineName(field, name string) (string, string, string, error) {
	v, ok := segments(name, "pcns/{pcn}/claims/{claim}/lines/{post}")
	if ok && ValidPCNCode(v[0]) && postIDPattern.MatchString(v[2]) {
		if _, ok := ClaimMonth(v[1]); ok {
			return v[0], v[1], v[2], nil
		}
	}
	return "", "", "", nameError(field, name, "pcns/U12345/claims/YYYY-MM/lines/{post}")
}

// ParseBudgetName reads "pcns/{pcn}/budgets/{year}".
func ParseBudgetName(field, name string) (string, FinancialYear, error) {
	v, ok := segments(name, "pcns/{pcn}/budgets/{year}")
	if ok && ValidPCNCode(v[0]) {
		if y, err := ParseFinancialYear(v[1]); err == nil {
			return v[0], y, nil
		}
	}
	return "", 0, nameError(field, name, "pcns/U12345/budgets/2025-26")
}

const claimColumns = `pcn_code, id, kind, month, financial_year, state, submitter, submit_time, withdraw_reason,
	excluded_posts, commissioner_code, sub_icb_location_code, supplements, reviewer, review_time, review_note, payment_date,
	payment_reference, payment_payee, payment_recorded_by, revision, create_time, update_time,
	commissioner_held_seconds, pcn_held_seconds, held_since, arrears_declared_by, arrears_declare_time`

// messagesColumn reads a claim's thread in the claim's own statement, as
// JSON, so a GetClaim stays two statements (the claim, its lines).
const messagesColumn = `(SELECT coalesce(json_agg(m ORDER BY m.number), '[]') FROM (SELECT ` + messageColumns + `
	FROM claim_messages WHERE claim_messages.pcn_code = claims.pcn_code AND claim_messages.claim_id = claims.id) AS m) AS messages`

const lineColumns = `pcn_code, claim_id, post_id, role_id, wte, gross_salary_pence, employer_ni_pence,
	employer_pension_pence, overtime_pence, absence_adjustment_pence, evidence_uris, cap_pence, active_days,
	days_in_year, cap_segments, reimbursable_pence, approved_pence, adjustment_reason, already_paid_pence,
	arrears_gross_salary_pence, arrears_employer_ni_pence, arrears_employer_pension_pence, arrears_paid_date,
	legacy_top_up, revision`

// claimCondition limits claims to the actor's: a PCN's staff see their
// PCN's, a commissioner's staff the claims of the months it commissioned
// (which, across the July 2022 change or a PCN moving, need not be the PCNs
// it commissions today).
func claimCondition(ctx context.Context, a *args) string {
	if s := scopeOf(ctx); s.kind == scopeCommissioner {
		return "commissioner_code = " + a.add(s.code)
	}
	return pcnCondition(ctx, "pcn_code", a)
}

// GetClaim reads one claim with its lines.
func (s *Store) GetClaim(ctx context.Context, pcn, id string) (Claim, error) {
	return snapshot(ctx, s, func(q sqlx.QueryerContext) (Claim, error) { return getClaim(ctx, q, claimName(pcn, id)) })
}

func getClaim(ctx context.Context, q sqlx.QueryerContext, name string) (Claim, error) {
	var c Claim
	pcn, id, err := ParseClaimName("name", name)
	if err != nil {
		return c, err
	}
	a := args{pcn, id}
	if err := getOne(ctx, q, &c, name, `SELECT `+claimColumns+`, `+messagesColumn+` FROM claims WHERE pcn_code = $1 AND id = $2 AND `+
		claimCondition(ctx, &a), a...); err != nil {
		return c, err
	}
	err = loadLines(ctx, q, &c)
	return c, err
}

// ClaimFilter narrows a listing of claims; empty fields match everything.
type ClaimFilter struct {
	PCNCode string
	State   ClaimState
	Year    FinancialYear
	// WithLines also loads each listed claim's lines (the FULL view), read
	// at the same moment as the claims.
	WithLines bool
}

// ListClaims lists claims, without their lines but with their totals, in
// PCN then month order.
func (s *Store) ListClaims(ctx context.Context, f ClaimFilter, page Page) ([]Claim, string, error) {
	afterPCN, afterID := "", ""
	if page.After != "" {
		var err error
		if afterPCN, afterID, err = ParseClaimName("page_token", page.After); err != nil {
			return nil, "", err
		}
	}
	year := ""
	if f.Year != 0 {
		year = f.Year.String()
	}
	a := args{afterPCN, afterID, f.PCNCode, f.State, year, page.Size + 1}
	list := func(q sqlx.QueryerContext) ([]Claim, string, error) {
		var rows []Claim
		if err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+claimColumns+`, `+claimTotalsColumns+` FROM claims`+claimTotalsJoin+`
			WHERE (pcn_code, id) > ($1, $2) AND ($3 = '' OR pcn_code = $3) AND ($4 = '' OR state = $4)
			AND ($5 = '' OR financial_year = $5) AND `+claimCondition(ctx, &a)+`
			ORDER BY pcn_code, id LIMIT $6`, a...); err != nil {
			return nil, "", err
		}
		rows, next := pageOf(rows, page.Size)
		if !f.WithLines {
			return rows, next, nil
		}
		if err := loadLinesOf(ctx, q, rows); err != nil {
			return nil, "", err
		}
		ptrs := make([]*Claim, len(rows))
		for i := range rows {
			ptrs[i] = &rows[i]
		}
		return rows, next, loadMessages(ctx, q, ptrs...)
	}
	if !f.WithLines {
		return list(s.db) // one statement: a moment of its own
	}
	return snapshotPage(ctx, s, list)
}

// loadLinesOf fills in the lines of a page of claims (see loadLines).
func loadLinesOf(ctx context.Context, q sqlx.QueryerContext, rows []Claim) error {
	ptrs := make([]*Claim, len(rows))
	for i := range rows {
		ptrs[i] = &rows[i]
	}
	return loadLines(ctx, q, ptrs...)
}

// claimKeys is what loading the rows of many claims at once needs: their
// keys as two arrays (the primary key serves them) and the claims by key.
func claimKeys(claims []*Claim) (pcns, ids []string, index map[[2]string]*Claim) {
	pcns, ids = make([]string, len(claims)), make([]string, len(claims))
	index = make(map[[2]string]*Claim, len(claims))
	for i, c := range claims {
		pcns[i], ids[i] = c.PCNCode, c.ID
		index[[2]string{c.PCNCode, c.ID}] = c
	}
	return pcns, ids, index
}

// loadLines fills in the lines of every claim in one query (claims are keyed
// by two columns, so the keys travel as two arrays the primary key serves).
func loadLines(ctx context.Context, q sqlx.QueryerContext, claims ...*Claim) error {
	if len(claims) == 0 {
		return nil
	}
	pcns, ids, index := claimKeys(claims)
	var lines []ClaimLine
	// One claim (GetClaim, SubmitClaim, a review) has a statement of its
	// own. Prepared, a statement is planned once for its connection only
	// if PostgreSQL finds that plan as cheap as one made for each call's
	// values; for keys in arrays of unknown length it never does, so the
	// array form was planned again on every call: 0.3–0.6 ms, more than
	// running it (pg_stat_statements with track_planning during
	// bench/national). Many claims (a page of ListClaims) keep the arrays.
	where, args := `pcn_code = $1 AND claim_id = $2`, []any{pcns[0], ids[0]}
	if len(claims) > 1 {
		where, args = `(pcn_code, claim_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, []any{pq.Array(pcns), pq.Array(ids)}
	}
	if err := sqlx.SelectContext(ctx, q, &lines, `SELECT `+lineColumns+` FROM claim_lines WHERE `+where+`
		ORDER BY pcn_code, claim_id, post_id`, args...); err != nil {
		return err
	}
	for _, l := range lines {
		c := index[[2]string{l.PCNCode, l.ClaimID}]
		c.Lines = append(c.Lines, l)
	}
	return nil
}
