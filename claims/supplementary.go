package claims

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Supplementary claims. A maximum is often published after it takes effect
// (the 2025/26 rates came out on 1 August 2025, effective 1 April), so a month
// the commissioner has already approved may be owed a top-up. When a
// backdated rate is written, arrs offers each PCN one DRAFT supplementary
// claim per month owed, a line per post showing the maximum top-up (new cap
// − what the month has settled). As the national process pays it, the PCN
// pays its staff the arrears first, records them on the lines of the staff
// it paid (arrears.go), and its clinical director submits the claim with a
// declaration that they were paid; it is checked against the entitlement
// and reviewed with four eyes like any claim.

// offerSupplementaryClaims offers the top-ups a rate for roleID effective
// from has made owing. It runs in the transaction that writes the rate, after
// the write, so the rates in force include it. A rate taking effect after
// today owes nothing yet: the months it covers are claimed at it.
//
// The lines considered are the role's lines of APPROVED and PAID monthly
// claims for months ending on or after from, in financial years whose claims
// deadline has not passed, across every PCN. Each line's cap is worked out
// again from the rates in force (as SubmitClaim does), and compared with
// what the month has settled for the post: what its monthly line claimed
// plus what its supplementary lines in submitted, queried, approved or paid
// claims claimed. Claimed amounts, not approved ones, so that what a
// commissioner cut on approval is not asked for again by a top-up. Where the
// new cap is more, the difference is the maximum top-up, and the post gets
// a line; it claims nothing until the PCN records the arrears it paid.
//
// Owed lines go into the month's DRAFT supplementary claim, created as
// {month}-s{N} (N one more than the month's highest) when there is none.
// An existing draft is refreshed instead: this role's lines are replaced by
// what is owed now, other roles' lines are kept, and a draft left with no
// line is withdrawn. Every claim created, refreshed or withdrawn gets an
// audit event, appended last, once every row this needs is locked. A
// refreshed line keeps the arrears and evidence the PCN recorded on it.
func (s *Store) offerSupplementaryClaims(ctx context.Context, tx *txn, roleID string, from Date) error {
	o, err := topUpsOwing(ctx, tx, roleID, from, s.today(), true, nil)
	if err != nil || o.claims == 0 {
		return err
	}
	owed, supplements := o.lines, o.supplements
	drafts := map[pcnMonth]*Claim{}
	highest := map[pcnMonth]int{}
	for i := range supplements {
		c := &supplements[i]
		k := pcnMonth{c.PCNCode, c.Month}
		highest[k] = max(highest[k], supplementNumber(c.ID))
		if c.State == ClaimDraft && drafts[k] == nil {
			drafts[k] = c
		}
	}
	if err := loadLines(ctx, tx, slices.Collect(maps.Values(drafts))...); err != nil {
		return err
	}
	keys := make([]pcnMonth, 0, len(owed)+len(drafts))
	for k := range owed {
		keys = append(keys, k)
	}
	for k := range drafts {
		if _, ok := owed[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].pcn != keys[j].pcn {
			return keys[i].pcn < keys[j].pcn
		}
		return keys[i].month.Before(keys[j].month)
	})
	var events []AuditRecord
	for _, k := range keys {
		var ev *AuditRecord
		var err error
		if d := drafts[k]; d != nil {
			ev, err = refreshTopUp(ctx, tx, *d, roleID, owed[k])
		} else {
			ev, err = createTopUp(ctx, tx, k, highest[k]+1, owed[k])
		}
		if err != nil {
			return err
		}
		if ev != nil {
			events = append(events, *ev)
		}
	}
	// One append for all of them: a backdated national award can change
	// thousands of claims, and the head stays locked from here to the commit.
	return s.appendAudits(ctx, tx, events)
}

// TopUp is one PCN's month that a rate would offer a top-up for: the lines
// of the role its draft supplementary claim would hold.
type TopUp struct {
	PCNCode string
	Month   Month
	Lines   []ClaimLine
}

// Claim names the monthly claim the top-up is for.
func (t TopUp) Claim() string { return claimName(t.PCNCode, t.Month.String()) }

// Pence is the most the top-up can reimburse: its lines' maximum top-ups,
// each the new cap less what the month has settled. What it does reimburse
// depends on the arrears the PCN pays.
func (t TopUp) Pence() int64 {
	var sum int64
	for _, l := range t.Lines {
		sum += l.MaxTopUpPence()
	}
	return sum
}

// PreviewRateTopUps says which months of which PCNs creating rate r would
// offer top-ups for, and how much, before it is created: the lines
// topUpsOwing works out for CreateRate, priced with r among the role's
// rates. It writes nothing and locks nothing: it reads one read-only
// snapshot. A rate CreateRate would refuse (not valid, its role unknown,
// its date already taken) is refused here the same way, so that a preview
// is never shown for a rate that cannot be saved.
func (s *Store) PreviewRateTopUps(ctx context.Context, r Rate) ([]TopUp, error) {
	if err := requireNational(ctx); err != nil {
		return nil, err
	}
	var vs Violations
	r.validate(&vs)
	if err := vs.Err(); err != nil {
		return nil, err
	}
	today := s.today()
	return snapshot(ctx, s, func(q sqlx.QueryerContext) ([]TopUp, error) {
		var taken bool
		role, err := getRole(ctx, q, roleName(r.RoleID))
		if err != nil {
			return nil, err
		}
		if role.Local() {
			return nil, localRoleElsewhere(role)
		}
		if err := sqlx.GetContext(ctx, q, &taken, `SELECT EXISTS (SELECT 1 FROM rates WHERE role_id = $1 AND effective_date = $2)`,
			r.RoleID, r.EffectiveDate); err != nil {
			return nil, err
		}
		if taken {
			return nil, AlreadyExists(r.Name(), r.Name()+" already exists; update it to correct its amounts")
		}
		o, err := topUpsOwing(ctx, q, r.RoleID, r.EffectiveDate, today, false, &r)
		if err != nil {
			return nil, err
		}
		out := make([]TopUp, 0, len(o.lines))
		for k, lines := range o.lines {
			out = append(out, TopUp{PCNCode: k.pcn, Month: k.month, Lines: lines})
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].PCNCode != out[j].PCNCode {
				return out[i].PCNCode < out[j].PCNCode
			}
			return out[i].Month.Before(out[j].Month)
		})
		return out, nil
	})
}

// pcnMonth names a PCN's month: one monthly claim, and at most one draft
// supplementary claim.
type pcnMonth struct {
	pcn   string
	month Month
}

// owing is what a rate has made owing: how many monthly claims it was
// worked out over, the lines owed by PCN and month, and (when locked) the
// months' supplementary claims.
type owing struct {
	claims      int
	lines       map[pcnMonth][]ClaimLine
	supplements []Claim
}

// topUpsOwing works out the top-ups a rate for roleID effective from owes
// today, by the rule offerSupplementaryClaims describes: the one place that
// rule is applied, for the offer and for its preview alike. With lock, for
// the offer, the monthly claims and then their months' supplementary claims
// are locked before anything owed is read. Without it, for a preview in a
// read-only snapshot, nothing is locked, and draft (a rate not yet stored)
// is priced as if it were among the role's rates.
func topUpsOwing(ctx context.Context, q sqlx.QueryerContext, roleID string, from, today Date, lock bool, draft *Rate) (owing, error) {
	var o owing
	if from.IsZero() || from.After(today) {
		return o, nil
	}
	monthly, err := toppableClaims(ctx, q, roleID, MonthOf(from), today, lock)
	if err != nil || len(monthly) == 0 {
		return o, err
	}
	o.claims = len(monthly)
	pcns, ids := make([]string, len(monthly)), make([]string, len(monthly))
	for i, c := range monthly {
		pcns[i], ids[i] = c.PCNCode, c.ID
	}
	if lock {
		// The month's supplementary claims, locked, in a statement of its own
		// so that under READ COMMITTED it sees whatever committed while this
		// transaction waited for the monthly claims' locks. Every offer locks
		// the monthly claim first, so no other one creates an sN meanwhile.
		if err := sqlx.SelectContext(ctx, q, &o.supplements, `SELECT `+claimColumns+` FROM claims
			WHERE kind = 'supplementary' AND (pcn_code, supplements) IN (SELECT * FROM unnest($1::text[], $2::text[]))
			ORDER BY pcn_code, id FOR UPDATE`, pq.Array(pcns), pq.Array(ids)); err != nil {
			return o, err
		}
	}
	o.lines, err = topUpsOwed(ctx, q, roleID, pcns, ids, draft)
	return o, err
}

// toppableClaims reads the monthly claims in review or settled (SUBMITTED,
// QUERIED, APPROVED, PAID) — a claim awaiting review when an award is
// backdated is approved at its old caps, so it is owed too — from month
// first on with a line of roleID, in years still open for claims. With lock
// it locks them, in one statement and in key order, so that two offers
// racing lock in the same order.
func toppableClaims(ctx context.Context, q sqlx.QueryerContext, roleID string, first Month, today Date, lock bool) ([]Claim, error) {
	forUpdate := ""
	if lock {
		forUpdate = " FOR UPDATE OF c"
	}
	var out []Claim
	err := sqlx.SelectContext(ctx, q, &out, `SELECT c.pcn_code, c.id FROM claims c
		JOIN financial_years y ON y.id = c.financial_year
		WHERE c.kind = $5 AND c.state = ANY($4) AND c.month >= $2
		  AND (y.claims_deadline IS NULL OR y.claims_deadline >= $3)
		  AND EXISTS (SELECT 1 FROM claim_lines l WHERE l.pcn_code = c.pcn_code AND l.claim_id = c.id AND l.role_id = $1)
		ORDER BY c.pcn_code, c.id`+forUpdate, roleID, first, today, committedStates, MonthlyClaim)
	return out, err
}

// topUpsOwed works out, for the role's lines of the given monthly claims,
// which posts are owed a top-up now, keyed by PCN and month. One query reads
// every line with what its month has settled for the post: the monthly line's
// claimed amount plus the claimed amounts of the post's supplementary lines
// that month in submitted, queried, approved or paid claims (pending ones
// too, so that a second offer never asks for the same money twice). Each
// PCN's posts, roles and rates are then loaded once; a draft rate, when
// given, joins the role's rates in place of any stored on its date.
func topUpsOwed(ctx context.Context, q sqlx.QueryerContext, roleID string, pcns, ids []string, draft *Rate) (map[pcnMonth][]ClaimLine, error) {
	var rows []struct {
		ClaimLine
		Month   Month `db:"month"`
		Settled int64 `db:"settled"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+prefixed("l.", lineColumns)+`, l.month, `+settledSQL("$4", "''")+` AS settled
		FROM claim_lines l
		WHERE l.kind = 'monthly' AND l.role_id = $1
		  AND (l.pcn_code, l.claim_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))
		ORDER BY l.pcn_code, l.month, l.post_id`,
		roleID, pq.Array(pcns), pq.Array(ids), committedStates); err != nil {
		return nil, err
	}
	owed := map[pcnMonth][]ClaimLine{}
	var cc claimContext
	loaded := ""
	for _, r := range rows {
		if r.PCNCode != loaded {
			var err error
			if cc, err = loadClaimContext(ctx, q, r.PCNCode); err != nil {
				return nil, err
			}
			if draft != nil {
				cc.rates[roleID] = withRate(cc.rates[roleID], *draft)
			}
			loaded = r.PCNCode
		}
		post, _ := cc.post(r.PostID)
		lc, err := cc.lineCap(r.Month, post, r.WTE)
		if err != nil {
			return nil, err
		}
		// Owed is the maximum top-up, new cap − settled, whatever the
		// original actual was: a staff member paid under the old cap may
		// still have been paid arrears. What the line reimburses waits for
		// the PCN to record them (ClaimLine.reimburse).
		if lc.Pence <= r.Settled {
			continue
		}
		l := ClaimLine{PCNCode: r.PCNCode, PostID: r.PostID, RoleID: r.RoleID, WTE: r.WTE,
			GrossSalary: r.GrossSalary, EmployerNI: r.EmployerNI, EmployerPension: r.EmployerPension,
			Overtime: r.Overtime, AbsenceAdjustment: r.AbsenceAdjustment,
			EvidenceURIs: append(pq.StringArray{}, r.EvidenceURIs...), AlreadyPaidPence: r.Settled}
		l.applyCap(lc, SupplementaryClaim)
		k := pcnMonth{r.PCNCode, r.Month}
		owed[k] = append(owed[k], l)
	}
	return owed, nil
}

// withRate returns rates with r in place of any of them on its date.
func withRate(rates []Rate, r Rate) []Rate {
	out := make([]Rate, 0, len(rates)+1)
	for _, x := range rates {
		if !sameDay(x.EffectiveDate, r.EffectiveDate) {
			out = append(out, x)
		}
	}
	return append(out, r)
}

// settledSQL is what a month has settled for the post of monthly line l:
// the line's claimed amount plus the claimed amounts of the post's
// supplementary lines that month in the claim states states (an SQL array),
// leaving out the claim with id except.
func settledSQL(states, except string) string {
	return `l.reimbursable_pence + COALESCE((SELECT SUM(s.reimbursable_pence) FROM claim_lines s
		JOIN claims sc ON sc.pcn_code = s.pcn_code AND sc.id = s.claim_id
		WHERE s.kind = 'supplementary' AND s.pcn_code = l.pcn_code AND s.month = l.month AND s.post_id = l.post_id
		  AND sc.state = ANY(` + states + `) AND sc.id <> ` + except + `), 0)::bigint`
}

// topUpSettled returns, for each post of supplementary claim c's month, what
// the month has settled for it apart from c itself, by the rule topUpsOwed
// applies. It is for SubmitClaim: a sibling top-up that was pending when c
// was offered, and so counted, may since have been rejected or withdrawn,
// so a supplementary line's AlreadyPaidPence is worked out again on
// submission, as its cap is.
func topUpSettled(ctx context.Context, q sqlx.QueryerContext, c Claim) (map[string]int64, error) {
	var rows []struct {
		PostID  string `db:"post_id"`
		Settled int64  `db:"settled"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT l.post_id, `+settledSQL("$3", "$4")+` AS settled
		FROM claim_lines l WHERE l.kind = 'monthly' AND l.pcn_code = $1 AND l.claim_id = $2`,
		c.PCNCode, c.Month.String(), committedStates, c.ID); err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.PostID] = r.Settled
	}
	return out, nil
}

// supplementNumber returns N of a supplementary claim id "YYYY-MM-sN".
func supplementNumber(id string) int {
	m := claimIDPattern.FindStringSubmatch(id)
	if m == nil || len(m[2]) < 3 {
		return 0
	}
	n, _ := strconv.Atoi(m[2][2:])
	return n
}

// maxSupplements is the highest N the claim id format allows.
const maxSupplements = 99

// createTopUp drafts supplementary claim number n of a month with lines.
func createTopUp(ctx context.Context, tx *txn, k pcnMonth, n int, lines []ClaimLine) (*AuditRecord, error) {
	monthlyID := k.month.String()
	if n > maxSupplements {
		return nil, FailedPrecondition(claimName(k.pcn, monthlyID), "TOO_MANY_SUPPLEMENTS",
			fmt.Sprintf("%s already has %d supplementary claims", claimName(k.pcn, monthlyID), maxSupplements))
	}
	c := Claim{PCNCode: k.pcn, ID: fmt.Sprintf("%s-s%d", monthlyID, n), Kind: SupplementaryClaim, Month: k.month}
	where, err := placeOf(ctx, tx, k.pcn, k.month)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO claims (pcn_code, id, kind, month, financial_year, state,
		commissioner_code, sub_icb_location_code, supplements) VALUES ($1, $2, 'supplementary', $3, $4, 'draft', $5, $6, $7)`,
		c.PCNCode, c.ID, c.Month, c.Month.FinancialYear(), where.Commissioner, where.SubICB, monthlyID); err != nil {
		return nil, err
	}
	for i := range lines {
		lines[i].PCNCode, lines[i].ClaimID = c.PCNCode, c.ID
	}
	if _, err := insertLines(ctx, tx, c, lines); err != nil {
		return nil, err
	}
	out, err := getClaim(ctx, tx, c.Name())
	if err != nil {
		return nil, err
	}
	return &AuditRecord{Resource: out.Name(), Action: "offer", PCNCode: out.PCNCode, After: out}, nil
}

// refreshTopUp brings a month's draft supplementary claim up to date for
// roleID: its lines of the role become owed (the arrears and evidence the PCN
// has recorded on a line are kept, and what it reimburses is worked out
// again at the new cap), other roles' lines stay. A draft left with no line is
// withdrawn. It returns nil when nothing changed.
func refreshTopUp(ctx context.Context, tx *txn, d Claim, roleID string, owed []ClaimLine) (*AuditRecord, error) {
	current := map[string]ClaimLine{}
	remaining := 0
	for _, l := range d.Lines {
		if l.RoleID == roleID {
			current[l.PostID] = l
		} else {
			remaining++
		}
	}
	// New, changed and no-longer-owed lines are each written in one
	// statement, however many posts the rate moved.
	var added, rewritten []ClaimLine
	for _, o := range owed {
		remaining++
		cur, ok := current[o.PostID]
		delete(current, o.PostID)
		if !ok {
			o.PCNCode, o.ClaimID = d.PCNCode, d.ID
			added = append(added, o)
			continue
		}
		// The PCN's evidence and arrears stay.
		o.PCNCode, o.ClaimID, o.EvidenceURIs, o.Arrears = d.PCNCode, d.ID, cur.EvidenceURIs, cur.Arrears
		o.reimburse(SupplementaryClaim)
		if !sameTopUp(cur, o) {
			rewritten = append(rewritten, o)
		}
	}
	if len(added) > 0 {
		if _, err := insertLines(ctx, tx, d, added); err != nil {
			return nil, err
		}
	}
	if len(rewritten) > 0 {
		if _, err := writeLines(ctx, tx, rewritten); err != nil {
			return nil, err
		}
	}
	dropped := slices.Collect(maps.Keys(current)) // the role's lines no longer owed anything
	if len(dropped) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM claim_lines WHERE pcn_code = $1 AND claim_id = $2 AND post_id = ANY($3)`,
			d.PCNCode, d.ID, pq.StringArray(dropped)); err != nil {
			return nil, err
		}
	}
	if len(added)+len(rewritten)+len(dropped) == 0 {
		return nil, nil
	}
	action, state, reason := "offer", d.State, ""
	if remaining == 0 {
		// arrs withdraws its own offer, as the table lets a draft be.
		to, ok := NextClaimState(d.State, ActionWithdraw)
		if !ok {
			return nil, fmt.Errorf("claims: a %s top-up cannot be withdrawn", d.State)
		}
		action, state, reason = string(ActionWithdraw), to, "no top-up is owed any more: the rates in force were corrected"
	}
	if _, err := tx.ExecContext(ctx, `UPDATE claims SET state = $3, withdraw_reason = $4, revision = revision + 1,
		update_time = now() WHERE pcn_code = $1 AND id = $2`, d.PCNCode, d.ID, state, reason); err != nil {
		return nil, err
	}
	out, err := getClaim(ctx, tx, d.Name())
	if err != nil {
		return nil, err
	}
	record := claimChangeRecord(action, d, out)
	return &record, nil
}

// sameTopUp reports whether a draft's line already says what is owed; the
// evidence and arrears are the PCN's to record and are not compared.
func sameTopUp(cur, owed ClaimLine) bool {
	if cur.WTE != owed.WTE || cur.Costs() != owed.Costs() || cur.CapPence != owed.CapPence ||
		cur.ActiveDays != owed.ActiveDays || cur.DaysInYear != owed.DaysInYear ||
		cur.AlreadyPaidPence != owed.AlreadyPaidPence || cur.ReimbursablePence != owed.ReimbursablePence {
		return false
	}
	a, errA := cur.Segments.Value()
	b, errB := owed.Segments.Value()
	return errA == nil && errB == nil && bytes.Equal([]byte(a.(string)), []byte(b.(string)))
}
