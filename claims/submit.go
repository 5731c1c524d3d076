package claims

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Submitting and withdrawing a claim.

// SubmitClaim submits a DRAFT or QUERIED claim. Its caps are worked out again
// from the rates in force, headcount caps are checked, and the PCN's
// submitted, approved and paid total for the year must stay within its
// entitlement. Submissions for one PCN and year queue on the entitlement's
// row lock, so the rule holds however many arrsd replicas race.
//
// A supplementary claim needs the clinical director's declaration that the
// arrears were paid: see DeclareArrearsAndSubmit.
func (s *Store) SubmitClaim(ctx context.Context, req Request, pcn, id, etag string) (Claim, error) {
	return s.submit(ctx, req, pcn, id, etag, false)
}

// DeclareArrearsAndSubmit submits a supplementary claim as SubmitClaim does,
// with the clinical director's declaration that the arrears it claims were
// paid to the staff before the claim; who declared and when are recorded on
// the claim, and so in the submission's audit event. Only a top-up takes the
// declaration; a monthly claim given one is refused.
func (s *Store) DeclareArrearsAndSubmit(ctx context.Context, req Request, pcn, id, etag string) (Claim, error) {
	return s.submit(ctx, req, pcn, id, etag, true)
}

func (s *Store) submit(ctx context.Context, req Request, pcn, id, etag string, declared bool) (Claim, error) {
	if err := mayAct(ctx, ActionSubmit); err != nil {
		return Claim{}, err
	}
	month, err := monthOfClaim(pcn, id)
	if err != nil {
		return Claim{}, err
	}
	if declared && supplementNumber(id) == 0 {
		return Claim{}, Invalid("arrears_paid_declared", "NOT_A_TOP_UP",
			"only a supplementary claim, after a backdated award, declares arrears paid")
	}
	return once(ctx, s, req, func(tx *txn) (Claim, string, error) {
		name := claimName(pcn, id)
		entitlement, err := lockEntitlement(ctx, tx, name, pcn, month.FinancialYear())
		if err != nil {
			return Claim{}, "", err
		}
		cur, to, err := lockClaim(ctx, tx, pcn, id, etag, ActionSubmit)
		if err != nil {
			return Claim{}, "", err
		}
		if err := checkAnswered(ctx, tx, cur); err != nil {
			return Claim{}, "", err
		}
		// The year's deadline came with the entitlement's lock.
		if err := s.checkArrears(month); err != nil {
			return Claim{}, "", err
		}
		if err := s.checkDeadline(month, entitlement.Deadline); err != nil {
			return Claim{}, "", err
		}
		// What the claim was, for the audit trail, before a rate entered
		// since it was drafted moved its lines' caps.
		before := cur
		before.Lines = slices.Clone(cur.Lines)
		if err := refreshCaps(ctx, tx, &cur); err != nil {
			return Claim{}, "", err
		}
		if cur.Kind == SupplementaryClaim {
			if err := monthlySettled(ctx, tx, cur); err != nil {
				return Claim{}, "", err
			}
			if err := checkTopUpSubmission(cur, declared, s.today()); err != nil {
				return Claim{}, "", err
			}
		}
		actual, _, claimed, _ := cur.Totals()
		if actual == 0 {
			return Claim{}, "", FailedPrecondition(name, "NOTHING_CLAIMED", "no line records a cost; enter what was paid first")
		}
		if cur.Kind == SupplementaryClaim && claimed == 0 {
			return Claim{}, "", FailedPrecondition(name, "NOTHING_OWED", "the arrears recorded add nothing to what the month's claims already reimburse")
		}
		committed, over, err := submitLimits(ctx, tx, cur)
		if err != nil {
			return Claim{}, "", err
		}
		if err := checkHeadcount(cur, over); err != nil {
			return Claim{}, "", err
		}
		if err := withinEntitlement(entitlement.Entitlement, id, claimed, committed); err != nil {
			return Claim{}, "", err
		}
		actor, _ := ActorFrom(ctx)
		// The claim comes back from its update; its lines are those just
		// priced, as written, so nothing is read again.
		out := Claim{Lines: cur.Lines}
		now := s.now()
		var declaredBy string
		var declaredAt *time.Time
		if cur.Kind == SupplementaryClaim {
			declaredBy, declaredAt = actor.Subject, &now
		}
		if err := tx.GetContext(ctx, &out, `UPDATE claims SET state = $3, submitter = $4, submit_time = $5,
			review_note = '', revision = revision + 1, update_time = now(),
			arrears_declared_by = $6, arrears_declare_time = $7, `+setHolding(8)+`
			WHERE pcn_code = $1 AND id = $2 RETURNING `+claimColumns,
			append([]any{pcn, id, to, actor.Subject, now, declaredBy, declaredAt}, cur.moved(cur.State, to, now).values()...)...); err != nil {
			return Claim{}, "", err
		}
		return out, name, s.appendClaimChange(ctx, tx, "submit", before, out)
	}, getClaim)
}

// refreshCaps works every line's cap out again from the rates in force now:
// a rate entered since the claim was drafted applies.
//
// A top-up line's share already settled is worked out again too: a sibling
// top-up counted when it was offered may since have been rejected.
func refreshCaps(ctx context.Context, tx *txn, c *Claim) error {
	var keys postKeys
	for _, l := range c.Lines {
		keys.ids = append(keys.ids, l.PostID)
	}
	cc, err := loadPricing(ctx, tx, c.PCNCode, &keys)
	if err != nil {
		return err
	}
	var settled map[string]int64
	if c.Kind == SupplementaryClaim {
		if settled, err = topUpSettled(ctx, tx, *c); err != nil {
			return err
		}
	}
	var changed []int // the lines whose cap or settled share moved
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
		l.applyCap(lc, c.Kind)
		changed = append(changed, i)
	}
	if len(changed) == 0 {
		return nil
	}
	// Written in one statement, however many a new rate moved.
	lines := make([]ClaimLine, len(changed))
	for j, i := range changed {
		lines[j] = c.Lines[i]
	}
	written, err := writeLines(ctx, tx, lines)
	if err != nil {
		return err
	}
	for j, i := range changed {
		c.Lines[i] = written[j]
	}
	return nil
}

// headcountOver is a capped role with more posts in a claim than its cap.
type headcountOver struct {
	RoleID string `db:"role_id"`
	Posts  int    `db:"posts"`
	Cap    int    `db:"cap"`
}

// submitLimits reads, in one statement, the two limits a submission is
// checked against: what the PCN's other counted claims already take from
// the entitlement (see committedPence), and the roles whose headcount cap
// for the claim's year its lines exceed (see checkHeadcount). The caps
// limit the posts a PCN holds in a role at a time, so the posts of a capped
// role in the month's claim may not exceed it (a leaver replaced mid-year is
// not two posts); a top-up is of a month whose claim passed that check, so
// none is over for it.
func submitLimits(ctx context.Context, tx *txn, c Claim) (int64, []headcountOver, error) {
	var rows []struct {
		Committed int64   `db:"committed"`
		RoleID    *string `db:"role_id"`
		Posts     *int    `db:"posts"`
		Cap       *int    `db:"cap"`
	}
	// The LEFT JOIN onto one row brings the total even when no role is over.
	if err := tx.SelectContext(ctx, &rows, `
		SELECT (`+countedSQL(`c.pcn_code = $1 AND c.financial_year = $3 AND c.state = ANY($4) AND c.id <> $2`)+`) AS committed,
			o.role_id, o.posts, o.cap
		FROM (SELECT 1) AS one LEFT JOIN (
			SELECT role_id, posts, cap FROM (
				SELECT l.role_id, count(*) AS posts,
				       CASE WHEN h.large_list_threshold > 0 AND p.registered_list_size >= h.large_list_threshold
				            THEN h.max_posts_large_list ELSE h.max_posts END AS cap
				FROM claim_lines l
				JOIN pcns p ON p.code = l.pcn_code
				JOIN role_headcount_caps h ON h.role_id = l.role_id AND h.financial_year = $3
				WHERE l.pcn_code = $1 AND l.claim_id = $2 AND $5
				GROUP BY l.role_id, h.large_list_threshold, h.max_posts_large_list, h.max_posts, p.registered_list_size) AS counted
			WHERE posts > cap) AS o ON true
		ORDER BY o.role_id`, c.PCNCode, c.ID, c.Year, committedStates, c.Kind != SupplementaryClaim); err != nil {
		return 0, nil, err
	}
	var over []headcountOver
	for _, r := range rows {
		if r.RoleID != nil {
			over = append(over, headcountOver{*r.RoleID, *r.Posts, *r.Cap})
		}
	}
	return rows[0].Committed, over, nil
}

// checkHeadcount refuses a claim whose lines exceed roles' headcount caps
// (see submitLimits), naming each.
func checkHeadcount(c Claim, over []headcountOver) error {
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

// monthlySettled refuses a top-up whose monthly claim is not yet approved or
// paid: it tops up what was approved, so it waits for the approval.
func monthlySettled(ctx context.Context, tx *txn, c Claim) error {
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

// WithdrawClaim withdraws a DRAFT or SUBMITTED claim; it then counts for
// nothing, and the month may be claimed afresh.
func (s *Store) WithdrawClaim(ctx context.Context, pcn, id, etag, reason string) (Claim, error) {
	if err := mayAct(ctx, ActionWithdraw); err != nil {
		return Claim{}, err
	}
	if len(reason) > 1000 {
		return Claim{}, Invalid("reason", "LENGTH", "at most 1000 characters")
	}
	var out Claim
	err := s.inTx(ctx, func(tx *txn) error {
		cur, to, err := lockClaim(ctx, tx, pcn, id, etag, ActionWithdraw)
		if err != nil {
			return err
		}
		// A withdrawal ends the commissioner's holding of a submitted claim.
		if _, err := tx.ExecContext(ctx, `UPDATE claims SET state = $3, withdraw_reason = $4,
			revision = revision + 1, update_time = now(), `+setHolding(5)+` WHERE pcn_code = $1 AND id = $2`,
			append([]any{pcn, id, to, reason}, cur.moved(cur.State, to, s.now()).values()...)...); err != nil {
			return err
		}
		if out, err = getClaim(ctx, tx, cur.Name()); err != nil {
			return err
		}
		return s.appendClaimChange(ctx, tx, "withdraw", cur, out)
	})
	return out, err
}
