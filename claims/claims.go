package claims

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

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

// committedStates are the states whose reimbursable totals are spent from
// the entitlement.
var committedStates = pq.StringArray{string(ClaimSubmitted), string(ClaimQueried), string(ClaimApproved), string(ClaimPaid)}

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
	Kind           string        `db:"kind"`
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
	// Supplements is, for a supplementary claim, the id of the monthly
	// claim it tops up.
	Supplements       *string     `db:"supplements"`
	Reviewer          string      `db:"reviewer"`
	ReviewTime        *time.Time  `db:"review_time"`
	ReviewNote        string      `db:"review_note"`
	PaymentDate       Date        `db:"payment_date"`
	PaymentReference  string      `db:"payment_reference"`
	PaymentPayee      string      `db:"payment_payee"`
	PaymentRecordedBy string      `db:"payment_recorded_by"`
	Revision          int64       `db:"revision"`
	CreateTime        time.Time   `db:"create_time"`
	UpdateTime        time.Time   `db:"update_time"`
	Lines             []ClaimLine `db:"-"`
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
	Revision         int64 `db:"revision"`
}

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

// applyCap sets the line's cap from c and its reimbursable amount from the
// rule min(actual, cap), less what a monthly claim already reimbursed when
// the line is a top-up.
func (l *ClaimLine) applyCap(c LineCap) {
	l.CapPence, l.ActiveDays, l.DaysInYear, l.Segments = c.Pence, c.ActiveDays, c.DaysInYear, c.Segments
	l.ReimbursablePence = max(Reimbursable(l.Costs().ActualPence(), l.CapPence)-l.AlreadyPaidPence, 0)
}

type capSegments []CapSegment

func (c *capSegments) Scan(src any) error { return scanJSON(src, c) }
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

// requireRole lets only the given roles (and arrs itself) through: the
// data layer's own check behind the server's policy.
func requireRole(ctx context.Context, what string, roles ...AccessRole) error {
	a, ok := ActorFrom(ctx)
	if !ok {
		return errNoActor
	}
	if a.Role == RoleSystem {
		return nil
	}
	for _, r := range roles {
		if a.Role == r {
			return nil
		}
	}
	return PermissionDenied("a " + string(a.Role) + " may not " + what)
}

const claimColumns = `pcn_code, id, kind, month, financial_year, state, submitter, submit_time, withdraw_reason,
	excluded_posts, commissioner_code, supplements, reviewer, review_time, review_note, payment_date,
	payment_reference, payment_payee, payment_recorded_by, revision, create_time, update_time`

const lineColumns = `pcn_code, claim_id, post_id, role_id, wte, gross_salary_pence, employer_ni_pence,
	employer_pension_pence, overtime_pence, absence_adjustment_pence, evidence_uris, cap_pence, active_days,
	days_in_year, cap_segments, reimbursable_pence, approved_pence, adjustment_reason, already_paid_pence, revision`

// claimCondition limits claims to the actor's: a PCN's staff see their
// PCN's, a commissioner's staff the claims of the months it commissioned
// (which, across the July 2022 change or a PCN moving, need not be the PCNs
// it commissions today).
func claimCondition(ctx context.Context, a *args) string {
	if s := scopeOf(ctx); s.kind == "commissioner" {
		return "commissioner_code = " + a.add(s.code)
	}
	return pcnCondition(ctx, "pcn_code", a)
}

// GetClaim reads one claim with its lines.
func (s *Store) GetClaim(ctx context.Context, pcn, id string) (Claim, error) {
	return getClaim(ctx, s.db, claimName(pcn, id))
}

func getClaim(ctx context.Context, q sqlx.QueryerContext, name string) (Claim, error) {
	var c Claim
	pcn, id, err := ParseClaimName("name", name)
	if err != nil {
		return c, err
	}
	a := args{pcn, id}
	if err := getOne(ctx, q, &c, name, `SELECT `+claimColumns+` FROM claims WHERE pcn_code = $1 AND id = $2 AND `+
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
	var rows []Claim
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+claimColumns+`, `+claimTotalsColumns+` FROM claims`+claimTotalsJoin+`
		WHERE (pcn_code, id) > ($1, $2) AND ($3 = '' OR pcn_code = $3) AND ($4 = '' OR state = $4)
		AND ($5 = '' OR financial_year = $5) AND `+claimCondition(ctx, &a)+`
		ORDER BY pcn_code, id LIMIT $6`, a...); err != nil {
		return nil, "", err
	}
	rows, next := pageOf(rows, page.Size)
	return rows, next, nil
}

// claimContext is what working out a PCN's lines needs: its zone, posts, and
// their roles and rates.
type claimContext struct {
	zone  WeightingZone
	posts []Post
	roles map[string]Role
	rates map[string][]Rate
}

func loadClaimContext(ctx context.Context, q sqlx.QueryerContext, pcn string) (claimContext, error) {
	cc := claimContext{roles: map[string]Role{}, rates: map[string][]Rate{}}
	if err := sqlx.GetContext(ctx, q, &cc.zone, `SELECT weighting_zone FROM pcns WHERE code = $1`, pcn); err != nil {
		return cc, err
	}
	if err := sqlx.SelectContext(ctx, q, &cc.posts, `SELECT `+postColumns+` FROM posts WHERE pcn_code = $1 ORDER BY id`, pcn); err != nil {
		return cc, err
	}
	var roles []Role
	if err := sqlx.SelectContext(ctx, q, &roles, `SELECT `+roleColumns+` FROM roles
		WHERE id IN (SELECT role_id FROM posts WHERE pcn_code = $1)`, pcn); err != nil {
		return cc, err
	}
	if err := loadCaps(ctx, q, roles); err != nil {
		return cc, err
	}
	for _, r := range roles {
		cc.roles[r.ID] = r
	}
	var rates []Rate
	if err := sqlx.SelectContext(ctx, q, &rates, `SELECT `+rateColumns+` FROM rates
		WHERE role_id IN (SELECT role_id FROM posts WHERE pcn_code = $1) ORDER BY role_id, effective_date`, pcn); err != nil {
		return cc, err
	}
	for _, r := range rates {
		cc.rates[r.RoleID] = append(cc.rates[r.RoleID], r)
	}
	return cc, nil
}

func (cc claimContext) post(id string) (Post, bool) {
	for _, p := range cc.posts {
		if p.ID == id {
			return p, true
		}
	}
	return Post{}, false
}

// lineCap works out a line's cap at wte from the rates in force now; a day
// with no rate in force fails RATE_NOT_IN_FORCE: the catalogue lacks a figure.
func (cc claimContext) lineCap(month Month, p Post, wte Decimal) (LineCap, error) {
	return ComputeCap(month, p, cc.roles[p.RoleID], cc.rates[p.RoleID], cc.zone, wte)
}

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
		claim := Claim{PCNCode: pcn, ID: month.String(), Kind: "monthly", Month: month}
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
		return out, name, appendAudit(ctx, tx, name, action, pcn, before, out)
	}, getClaim)
}

func insertLine(ctx context.Context, tx *sqlx.Tx, c Claim, l ClaimLine) error {
	if l.EvidenceURIs == nil {
		l.EvidenceURIs = pq.StringArray{}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO claim_lines (pcn_code, claim_id, post_id, month, kind, role_id, wte,
		gross_salary_pence, employer_ni_pence, employer_pension_pence, overtime_pence, absence_adjustment_pence,
		evidence_uris, cap_pence, active_days, days_in_year, cap_segments, already_paid_pence, reimbursable_pence)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		c.PCNCode, c.ID, l.PostID, c.Month, c.Kind, l.RoleID, l.WTE, l.GrossSalary, l.EmployerNI, l.EmployerPension,
		l.Overtime, l.AbsenceAdjustment, l.EvidenceURIs, l.CapPence, l.ActiveDays, l.DaysInYear, l.Segments,
		l.AlreadyPaidPence, l.ReimbursablePence)
	return err
}

// lockClaim locks a claim (within the actor's scope), checks the caller's
// etag and that its state is one of allowed.
func lockClaim(ctx context.Context, tx *sqlx.Tx, pcn, id, etag, action string, allowed ...ClaimState) (Claim, error) {
	name := claimName(pcn, id)
	a := args{pcn, id}
	var rev int64
	if err := getOne(ctx, tx, &rev, name, `SELECT revision FROM claims WHERE pcn_code = $1 AND id = $2 AND `+
		claimCondition(ctx, &a)+` FOR UPDATE`, a...); err != nil {
		return Claim{}, err
	}
	if err := checkEtag(name, etag, rev); err != nil {
		return Claim{}, err
	}
	c, err := getClaim(ctx, tx, name)
	if err != nil {
		return c, err
	}
	for _, st := range allowed {
		if c.State == st {
			return c, nil
		}
	}
	return c, FailedPrecondition(name, "CLAIM_STATE", fmt.Sprintf("a %s claim cannot be %s", c.State, action))
}

// maxEvidence bounds a line's evidence list; a longer one is a mistake.
const maxEvidence = 20

func (l ClaimLine) validate(vs *Violations, post Post) {
	const f = "claim_line."
	l.Costs().Validate(vs, f)
	if l.WTE <= 0 || l.WTE > DecimalScale {
		vs.Add(f+"wte", "WTE_RANGE", "whole-time equivalent must be more than 0 and at most 1")
	}
	switch {
	case l.Overtime > 0 && l.WTE <= post.WTE:
		vs.Add(f+"wte", "OVERTIME_NEEDS_WTE",
			"overtime is reimbursed at plain time only, with the higher WTE worked recorded: the post is %s WTE", post.WTE)
	case l.Overtime == 0 && l.WTE > post.WTE:
		vs.Add(f+"wte", "WTE_ABOVE_POST",
			"a WTE above the post's %s is overtime: record the overtime paid with it", post.WTE)
	}
	if len(l.EvidenceURIs) > maxEvidence {
		vs.Add(f+"evidence_uris", "TOO_MANY", "at most %d evidence links", maxEvidence)
	}
	for i, u := range l.EvidenceURIs {
		parsed, err := url.Parse(u)
		if err != nil || parsed.Scheme != "https" || parsed.Host == "" || len(u) > 2000 {
			vs.Add(fmt.Sprintf("%sevidence_uris[%d]", f, i), "EVIDENCE_URI", "evidence is referenced by an https URI")
		}
	}
}

// UpdateClaimLine applies change to a line of a DRAFT or QUERIED claim under
// the line's etag, and works its cap and reimbursable amount out again.
func (s *Store) UpdateClaimLine(ctx context.Context, pcn, id, postID, etag string, change func(*ClaimLine)) (ClaimLine, error) {
	if err := requireRole(ctx, "edit claims", RolePCNClinicalDirector, RolePCNManager); err != nil {
		return ClaimLine{}, err
	}
	month, _ := ClaimMonth(id)
	var out ClaimLine
	err := s.WithTx(ctx, func(tx *sqlx.Tx) error {
		// Scope first: nobody may hold another PCN's entitlement lock.
		if err := pcnVisible(ctx, tx, pcn); err != nil {
			return err
		}
		// A queried claim counts against the entitlement while it is edited,
		// so its edits take the entitlement's lock like a submission. A PCN
		// without an entitlement yet can still prepare drafts.
		entitlement, err := lockEntitlement(ctx, tx, claimName(pcn, id), pcn, month.FinancialYear())
		if err != nil && !IsKind(err, KindFailedPrecondition) {
			return err
		}
		claim, err := lockClaim(ctx, tx, pcn, id, "", "edited", ClaimDraft, ClaimQueried)
		if err != nil {
			return err
		}
		name := claimLineName(pcn, id, postID)
		var cur ClaimLine
		if err := getOne(ctx, tx, &cur, name, `SELECT `+lineColumns+` FROM claim_lines
			WHERE pcn_code = $1 AND claim_id = $2 AND post_id = $3 FOR UPDATE`, pcn, id, postID); err != nil {
			return err
		}
		if err := checkEtag(name, etag, cur.Revision); err != nil {
			return err
		}
		next := cur
		next.EvidenceURIs = append(pq.StringArray(nil), cur.EvidenceURIs...)
		change(&next)
		next.PCNCode, next.ClaimID, next.PostID, next.RoleID = cur.PCNCode, cur.ClaimID, cur.PostID, cur.RoleID
		next.AlreadyPaidPence = cur.AlreadyPaidPence
		if claim.Kind == "supplementary" && (next.WTE != cur.WTE || next.Costs() != cur.Costs()) {
			return FailedPrecondition(name, "TOP_UP_COSTS_FIXED",
				"a supplementary line tops up the approved monthly line at its costs and WTE; only its evidence may change")
		}
		if next.EvidenceURIs == nil {
			next.EvidenceURIs = pq.StringArray{} // NULL would mean "unknown", not "none"
		}
		cc, err := loadClaimContext(ctx, tx, pcn)
		if err != nil {
			return err
		}
		post, _ := cc.post(postID)
		var vs Violations
		next.validate(&vs, post)
		if err := vs.Err(); err != nil {
			return err
		}
		c, err := cc.lineCap(claim.Month, post, next.WTE)
		if err != nil {
			return err
		}
		next.applyCap(c)
		if err := tx.GetContext(ctx, &out, `UPDATE claim_lines SET wte = $4, gross_salary_pence = $5, employer_ni_pence = $6,
			employer_pension_pence = $7, overtime_pence = $8, absence_adjustment_pence = $9, evidence_uris = $10,
			cap_pence = $11, active_days = $12, days_in_year = $13, cap_segments = $14, reimbursable_pence = $15,
			revision = revision + 1 WHERE pcn_code = $1 AND claim_id = $2 AND post_id = $3 RETURNING `+lineColumns,
			pcn, id, postID, next.WTE, next.GrossSalary, next.EmployerNI, next.EmployerPension, next.Overtime,
			next.AbsenceAdjustment, next.EvidenceURIs, next.CapPence, next.ActiveDays, next.DaysInYear, next.Segments,
			next.ReimbursablePence); err != nil {
			return err
		}
		// The claim's etag covers its lines.
		if _, err := tx.ExecContext(ctx, `UPDATE claims SET revision = revision + 1, update_time = now()
			WHERE pcn_code = $1 AND id = $2`, pcn, id); err != nil {
			return err
		}
		if claim.State == ClaimQueried {
			claimed := out.ReimbursablePence - cur.ReimbursablePence
			for _, l := range claim.Lines {
				claimed += l.ReimbursablePence
			}
			if err := checkWithinEntitlement(ctx, tx, entitlement, id, claimed); err != nil {
				return err
			}
		}
		return appendAudit(ctx, tx, name, "update", pcn, cur, out)
	})
	return out, err
}

// SubmitClaim submits a DRAFT or QUERIED claim. Its caps are worked out again
// from the rates in force, headcount caps are checked, and the PCN's
// submitted, approved and paid total for the year must stay within its
// entitlement. Submissions for one PCN and year queue on the entitlement's
// row lock, so the rule holds however many arrsd replicas race.
func (s *Store) SubmitClaim(ctx context.Context, req Request, pcn, id, etag string) (Claim, error) {
	if err := requireRole(ctx, "submit claims", RolePCNClinicalDirector); err != nil {
		return Claim{}, err
	}
	return once(ctx, s, req, func(tx *sqlx.Tx) (Claim, string, error) {
		name := claimName(pcn, id)
		month, _ := ClaimMonth(id)
		if err := pcnVisible(ctx, tx, pcn); err != nil {
			return Claim{}, "", err
		}
		entitlement, err := lockEntitlement(ctx, tx, name, pcn, month.FinancialYear())
		if err != nil {
			return Claim{}, "", err
		}
		cur, err := lockClaim(ctx, tx, pcn, id, etag, "submitted", ClaimDraft, ClaimQueried)
		if err != nil {
			return Claim{}, "", err
		}
		if err := s.checkClaimWindow(ctx, tx, month); err != nil {
			return Claim{}, "", err
		}
		if err := refreshCaps(ctx, tx, &cur); err != nil {
			return Claim{}, "", err
		}
		actual, _, claimed, _ := cur.Totals()
		if actual == 0 {
			return Claim{}, "", FailedPrecondition(name, "NOTHING_CLAIMED", "no line records a cost; enter what was paid first")
		}
		if cur.Kind == "supplementary" && claimed == 0 {
			return Claim{}, "", FailedPrecondition(name, "NOTHING_OWED", "the month's claims already reimburse everything this top-up offered")
		}
		if cur.Kind == "supplementary" {
			if err := monthlySettled(ctx, tx, cur); err != nil {
				return Claim{}, "", err
			}
		}
		if err := checkHeadcount(ctx, tx, cur); err != nil {
			return Claim{}, "", err
		}
		if err := checkWithinEntitlement(ctx, tx, entitlement, id, claimed); err != nil {
			return Claim{}, "", err
		}
		actor, _ := ActorFrom(ctx)
		if _, err := tx.ExecContext(ctx, `UPDATE claims SET state = 'submitted', submitter = $3, submit_time = $4,
			review_note = '', revision = revision + 1, update_time = now() WHERE pcn_code = $1 AND id = $2`,
			pcn, id, actor.Subject, s.now()); err != nil {
			return Claim{}, "", err
		}
		out, err := getClaim(ctx, tx, name)
		if err != nil {
			return out, "", err
		}
		return out, name, appendAudit(ctx, tx, name, "submit", pcn, cur, out)
	}, getClaim)
}

// lockEntitlement locks a PCN's entitlement for a year. Everything that
// changes what counts against it (submitting, editing a queried claim) takes
// this lock first, so those changes queue per PCN and year, across however
// many replicas; sharing the year's row keeps its rate from changing
// underneath.
func lockEntitlement(ctx context.Context, tx *sqlx.Tx, claim, pcn string, year FinancialYear) (Entitlement, error) {
	var e Entitlement
	err := tx.GetContext(ctx, &e, entitlementSelect+`
		WHERE e.pcn_code = $1 AND e.financial_year = $2 FOR UPDATE OF e FOR SHARE OF y`, pcn, year)
	if isNoRows(err) {
		return e, FailedPrecondition(claim, "NO_ENTITLEMENT", fmt.Sprintf("%s has no entitlement for %s yet", pcnName(pcn), year))
	}
	return e, err
}

// checkWithinEntitlement refuses a claim asking for claimed when the
// PCN's other counted claims (submitted, queried, approved, paid) leave less
// than that of its entitlement, and says how much remains. The claim itself
// is left out of the sum, so a queried claim being resubmitted counts once.
func checkWithinEntitlement(ctx context.Context, tx *sqlx.Tx, e Entitlement, claimID string, claimed int64) error {
	committed, err := committedPence(ctx, tx, e.PCNCode, e.Year, claimID)
	if err != nil {
		return err
	}
	if remaining := e.AmountPence() - committed; claimed > remaining {
		return &Error{Kind: KindFailedPrecondition, Reason: "ENTITLEMENT_EXCEEDED", Resource: claimName(e.PCNCode, claimID),
			Message: fmt.Sprintf("the claim asks for %s but only %s of the %s entitlement for %s remains",
				Pounds(claimed), Pounds(remaining), Pounds(e.AmountPence()), e.Year)}
	}
	return nil
}

// refreshCaps works every line's cap out again from the rates in force now:
// a rate entered since the claim was drafted applies.
//
// A top-up line's share already settled is worked out again too: a sibling
// top-up counted when it was offered may since have been rejected.
func refreshCaps(ctx context.Context, tx *sqlx.Tx, c *Claim) error {
	cc, err := loadClaimContext(ctx, tx, c.PCNCode)
	if err != nil {
		return err
	}
	var settled map[string]int64
	if c.Kind == "supplementary" {
		if settled, err = topUpSettled(ctx, tx, *c); err != nil {
			return err
		}
	}
	for i := range c.Lines {
		l := &c.Lines[i]
		post, _ := cc.post(l.PostID)
		// The post may have changed since the claim was drafted (ended
		// before the month, marked baseline): its line can no longer stand.
		if ok, reason := Eligibility(c.Month, post, cc.roles[post.RoleID]); !ok {
			return FailedPrecondition(l.Name(), "LINE_NOT_ELIGIBLE", fmt.Sprintf(
				"%s no longer qualifies for %s (%s): withdraw the claim and draft it again", postName(post.PCNCode, post.ID), c.Month, reason))
		}
		lc, err := cc.lineCap(c.Month, post, l.WTE)
		if err != nil {
			return err
		}
		paid := l.AlreadyPaidPence
		if settled != nil {
			paid = settled[l.PostID]
		}
		if lc.Pence == l.CapPence && paid == l.AlreadyPaidPence {
			continue
		}
		l.AlreadyPaidPence = paid
		l.applyCap(lc)
		if _, err := tx.ExecContext(ctx, `UPDATE claim_lines SET cap_pence = $4, active_days = $5, days_in_year = $6,
			cap_segments = $7, reimbursable_pence = $8, already_paid_pence = $9, revision = revision + 1
			WHERE pcn_code = $1 AND claim_id = $2 AND post_id = $3`,
			l.PCNCode, l.ClaimID, l.PostID, l.CapPence, l.ActiveDays, l.DaysInYear, l.Segments, l.ReimbursablePence,
			l.AlreadyPaidPence); err != nil {
			return err
		}
	}
	return nil
}

// checkHeadcount enforces the catalogue's per-PCN headcount caps for the
// claim's year: a cap limits the posts a PCN holds in a role at a time, so the
// posts of a capped role in the month's claim may not exceed it (a leaver
// replaced mid-year is not two posts).
func checkHeadcount(ctx context.Context, tx *sqlx.Tx, c Claim) error {
	if c.Kind == "supplementary" {
		return nil // a top-up of a month whose claim passed this check
	}
	var over []struct {
		RoleID string `db:"role_id"`
		Posts  int    `db:"posts"`
		Cap    int    `db:"cap"`
	}
	if err := tx.SelectContext(ctx, &over, `
		SELECT role_id, posts, cap FROM (
			SELECT l.role_id, count(*) AS posts,
			       CASE WHEN h.large_list_threshold > 0 AND p.registered_list_size >= h.large_list_threshold
			            THEN h.max_posts_large_list ELSE h.max_posts END AS cap
			FROM claim_lines l
			JOIN pcns p ON p.code = l.pcn_code
			JOIN role_headcount_caps h ON h.role_id = l.role_id AND h.financial_year = $3
			WHERE l.pcn_code = $1 AND l.claim_id = $2
			GROUP BY l.role_id, h.large_list_threshold, h.max_posts_large_list, h.max_posts, p.registered_list_size) AS counted
		WHERE posts > cap`, c.PCNCode, c.ID, c.Year); err != nil {
		return err
	}
	if len(over) == 0 {
		return nil
	}
	parts := make([]string, len(over))
	for i, o := range over {
		parts[i] = fmt.Sprintf("%s: %d posts in %s, cap %d", roleName(o.RoleID), o.Posts, c.Month, o.Cap)
	}
	return FailedPrecondition(c.Name(), "HEADCOUNT_CAP", "the role's headcount cap for "+c.Year.String()+
		" would be exceeded ("+strings.Join(parts, "; ")+")")
}

// WithdrawClaim withdraws a DRAFT or SUBMITTED claim; it then counts for
// nothing, and the month may be claimed afresh.
func (s *Store) WithdrawClaim(ctx context.Context, pcn, id, etag, reason string) (Claim, error) {
	if err := requireRole(ctx, "withdraw claims", RolePCNClinicalDirector, RolePCNManager); err != nil {
		return Claim{}, err
	}
	if len(reason) > 1000 {
		return Claim{}, Invalid("reason", "LENGTH", "at most 1000 characters")
	}
	var out Claim
	err := s.WithTx(ctx, func(tx *sqlx.Tx) error {
		cur, err := lockClaim(ctx, tx, pcn, id, etag, "withdrawn", ClaimDraft, ClaimSubmitted)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE claims SET state = 'withdrawn', withdraw_reason = $3,
			revision = revision + 1, update_time = now() WHERE pcn_code = $1 AND id = $2`, pcn, id, reason); err != nil {
			return err
		}
		if out, err = getClaim(ctx, tx, cur.Name()); err != nil {
			return err
		}
		return appendAudit(ctx, tx, cur.Name(), "withdraw", pcn, cur, out)
	})
	return out, err
}

// Pounds renders pence as pounds for people: 139401754 → "£1,394,017.54".
func Pounds(pence int64) string {
	sign := ""
	if pence < 0 {
		sign, pence = "-", -pence
	}
	whole := fmt.Sprint(pence / 100)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("%s£%s.%02d", sign, b.String(), pence%100)
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

// monthlySettled refuses a top-up whose monthly claim is not yet approved or
// paid: it tops up what was approved, so it waits for the approval.
func monthlySettled(ctx context.Context, tx *sqlx.Tx, c Claim) error {
	var state ClaimState
	if err := tx.GetContext(ctx, &state, `SELECT state FROM claims WHERE pcn_code = $1 AND id = $2`, c.PCNCode, *c.Supplements); err != nil {
		return err
	}
	if state != ClaimApproved && state != ClaimPaid {
		return FailedPrecondition(c.Name(), "MONTH_NOT_APPROVED",
			fmt.Sprintf("%s tops up %s, which is %s: submit it once that claim is approved", c.Name(), claimName(c.PCNCode, *c.Supplements), state))
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

// countedSQL sums what the lines of the claims matching where (over claims
// c and their lines l) count against an entitlement: approved amounts once
// approved, claimed amounts until then.
func countedSQL(where string) string {
	return `SELECT COALESCE(SUM(COALESCE(l.approved_pence, l.reimbursable_pence)), 0)::bigint
		FROM claim_lines l JOIN claims c ON c.pcn_code = l.pcn_code AND c.id = l.claim_id WHERE ` + where
}

// loadLines fills in the lines of every claim in one query (claims are keyed
// by two columns, so the keys travel as two arrays the primary key serves).
func loadLines(ctx context.Context, q sqlx.QueryerContext, claims ...*Claim) error {
	if len(claims) == 0 {
		return nil
	}
	pcns, ids := make([]string, len(claims)), make([]string, len(claims))
	index := make(map[[2]string]*Claim, len(claims))
	for i, c := range claims {
		pcns[i], ids[i] = c.PCNCode, c.ID
		index[[2]string{c.PCNCode, c.ID}] = c
	}
	var lines []ClaimLine
	if err := sqlx.SelectContext(ctx, q, &lines, `SELECT `+lineColumns+` FROM claim_lines
		WHERE (pcn_code, claim_id) IN (SELECT * FROM unnest($1::text[], $2::text[])) ORDER BY pcn_code, claim_id, post_id`,
		pq.Array(pcns), pq.Array(ids)); err != nil {
		return err
	}
	for _, l := range lines {
		c := index[[2]string{l.PCNCode, l.ClaimID}]
		c.Lines = append(c.Lines, l)
	}
	return nil
}
