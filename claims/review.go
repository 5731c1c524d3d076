package claims

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// The commissioner's side of a claim: the review queue, approval (whole or
// with lines lowered), rejection, queries, and payment. Each is one
// transaction holding the claim's row lock, so two reviewers acting at once
// cannot both succeed: the second finds the state moved (FAILED_PRECONDITION)
// or, with an etag, the claim changed (ABORTED).

// LineAdjustment lowers one line on approval.
type LineAdjustment struct {
	PostID        string
	ApprovedPence int64
	Reason        string
}

// reviewNoteLimit bounds a reason or question.
const reviewNoteLimit = 2000

func checkNote(field, note string) error {
	if strings.TrimSpace(note) == "" || len(note) > reviewNoteLimit {
		return Invalid(field, "REQUIRED", "say why, in at most %d characters", reviewNoteLimit)
	}
	return nil
}

// ApproveClaim approves a SUBMITTED claim. Each adjustment lowers a line to
// between 0 and what it claims, with a reason; the other lines are approved
// as claimed. Whoever submitted the claim cannot approve it (four eyes).
func (s *Store) ApproveClaim(ctx context.Context, req Request, pcn, id, etag string, adjustments []LineAdjustment) (Claim, error) {
	if err := mayAct(ctx, ActionApprove); err != nil {
		return Claim{}, err
	}
	return once(ctx, s, req, func(tx *txn) (Claim, string, error) {
		cur, to, err := lockClaim(ctx, tx, pcn, id, etag, ActionApprove)
		if err != nil {
			return Claim{}, "", err
		}
		actor, _ := ActorFrom(ctx)
		if actor.Subject == cur.Submitter {
			return Claim{}, "", &Error{Kind: KindPermissionDenied, Reason: "FOUR_EYES", Resource: cur.Name(),
				Message: "whoever submitted a claim cannot approve it; another approver must"}
		}
		approved := make(map[string]LineAdjustment, len(adjustments))
		var vs Violations
		for i, adj := range adjustments {
			field := fmt.Sprintf("adjustments[%d]", i)
			line, ok := cur.line(adj.PostID)
			switch {
			case !ok:
				vs.Add(field+".line", "UNKNOWN_LINE", "the claim has no line for post %s", adj.PostID)
			case approved[adj.PostID] != (LineAdjustment{}):
				vs.Add(field+".line", "DUPLICATE", "the line is adjusted twice")
			case adj.ApprovedPence < 0 || adj.ApprovedPence > line.ReimbursablePence:
				vs.Add(field+".approved_pence", "ADJUSTMENT_RANGE",
					"an adjustment can only lower a line: from 0 to the %d pence it claims", line.ReimbursablePence)
			case strings.TrimSpace(adj.Reason) == "" || len(adj.Reason) > 1000:
				vs.Add(field+".reason", "REQUIRED", "say why the line is lowered, in at most 1000 characters")
			}
			approved[adj.PostID] = adj
		}
		if err := vs.Err(); err != nil {
			return Claim{}, "", err
		}
		// Every line is approved in one statement: as claimed, or as
		// adjusted with its reason.
		posts := make(pq.StringArray, len(cur.Lines))
		pence := make(pq.Int64Array, len(cur.Lines))
		reasons := make(pq.StringArray, len(cur.Lines))
		for i, l := range cur.Lines {
			posts[i], pence[i] = l.PostID, l.ReimbursablePence
			if adj, ok := approved[l.PostID]; ok {
				pence[i], reasons[i] = adj.ApprovedPence, adj.Reason
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE claim_lines l SET approved_pence = v.pence, adjustment_reason = v.reason,
			revision = l.revision + 1 FROM unnest($3::text[], $4::bigint[], $5::text[]) AS v(post_id, pence, reason)
			WHERE l.pcn_code = $1 AND l.claim_id = $2 AND l.post_id = v.post_id`,
			pcn, id, posts, pence, reasons); err != nil {
			return Claim{}, "", err
		}
		return s.review(ctx, tx, cur, to, ActionApprove, "")
	}, getClaim)
}

// line returns the claim's line for a post.
func (c Claim) line(postID string) (ClaimLine, bool) {
	for _, l := range c.Lines {
		if l.PostID == postID {
			return l, true
		}
	}
	return ClaimLine{}, false
}

// review moves a locked claim to state, recording the reviewer and ending
// the commissioner's holding, and writes the audit event.
func (s *Store) review(ctx context.Context, tx *txn, cur Claim, state ClaimState, action ClaimAction, note string) (Claim, string, error) {
	actor, _ := ActorFrom(ctx)
	now := s.now()
	if _, err := tx.ExecContext(ctx, `UPDATE claims SET state = $3, reviewer = $4, review_time = $6, review_note = $5,
		revision = revision + 1, update_time = now(), `+setHolding(7)+` WHERE pcn_code = $1 AND id = $2`,
		append([]any{cur.PCNCode, cur.ID, state, actor.Subject, note, now}, cur.moved(cur.State, state, now).values()...)...); err != nil {
		return Claim{}, "", err
	}
	out, err := getClaim(ctx, tx, cur.Name())
	if err != nil {
		return out, "", err
	}
	return out, out.Name(), s.appendClaimChange(ctx, tx, string(action), cur, out)
}

// RejectClaim rejects a SUBMITTED claim with a reason; it then counts for
// nothing.
func (s *Store) RejectClaim(ctx context.Context, pcn, id, etag, reason string) (Claim, error) {
	return s.reviewWithNote(ctx, pcn, id, etag, "reason", reason, ActionReject)
}

// QueryClaim returns a SUBMITTED claim to the PCN with a question, or asks
// a further one of a QUERIED claim; the question joins the claim's thread.
// The PCN replies, edits it and submits it again; meanwhile it still counts
// against the entitlement, so the answer cannot be crowded out.
func (s *Store) QueryClaim(ctx context.Context, pcn, id, etag, question string) (Claim, error) {
	return s.reviewWithNote(ctx, pcn, id, etag, "question", question, ActionQuery)
}

func (s *Store) reviewWithNote(ctx context.Context, pcn, id, etag, field, note string, action ClaimAction) (Claim, error) {
	if err := mayAct(ctx, action); err != nil {
		return Claim{}, err
	}
	if err := checkNote(field, note); err != nil {
		return Claim{}, err
	}
	var out Claim
	err := s.inTx(ctx, func(tx *txn) error {
		cur, to, err := lockClaim(ctx, tx, pcn, id, etag, action)
		if err != nil {
			return err
		}
		if out, _, err = s.review(ctx, tx, cur, to, action, note); err != nil || action != ActionQuery {
			return err
		}
		// The question joins the thread after the claim's own event, so the
		// history reads "query", then "ask"; the claim read back by review
		// does not have it yet.
		m, err := s.addMessage(ctx, tx, cur, MessageQuestion, note, nil, "ask")
		out.Messages = append(out.Messages, m)
		return err
	})
	return out, err
}

// Payment is a payment of an approved claim.
type Payment struct {
	Date      Date
	Reference string
	// Payee defaults to the PCN's nominated payee.
	Payee string
}

// RecordClaimPayment records the payment of an APPROVED claim, which makes it
// PAID: final.
func (s *Store) RecordClaimPayment(ctx context.Context, req Request, pcn, id, etag string, p Payment) (Claim, error) {
	if err := mayAct(ctx, ActionPay); err != nil {
		return Claim{}, err
	}
	var vs Violations
	switch {
	case p.Date.IsZero():
		vs.Add("payment.payment_date", "REQUIRED", "the date paid is required")
	case p.Date.After(s.today()):
		vs.Add("payment.payment_date", "NOT_FUTURE", "a payment is recorded once made, not before")
	}
	if strings.TrimSpace(p.Reference) == "" || len(p.Reference) > 200 {
		vs.Add("payment.reference", "REQUIRED", "the ledger or remittance reference is required (at most 200 characters)")
	}
	if len(p.Payee) > 200 {
		vs.Add("payment.payee", "LENGTH", "at most 200 characters")
	}
	if err := vs.Err(); err != nil {
		return Claim{}, err
	}
	return once(ctx, s, req, func(tx *txn) (Claim, string, error) {
		cur, to, err := lockClaim(ctx, tx, pcn, id, etag, ActionPay)
		if err != nil {
			return Claim{}, "", err
		}
		if p.Date.Before(DateOf(cur.ReviewTime.In(london))) {
			return Claim{}, "", Invalid("payment.payment_date", "BEFORE_APPROVAL", "the claim was approved on %s", DateOf(cur.ReviewTime.In(london)))
		}
		payee := p.Payee
		if payee == "" {
			if err := tx.GetContext(ctx, &payee, `SELECT `+nominatedPayee+`
				FROM pcns p LEFT JOIN pcn_practices pr ON pr.ods_code = p.payee_ods_code WHERE p.code = $1`, pcn); err != nil {
				return Claim{}, "", err
			}
		}
		actor, _ := ActorFrom(ctx)
		if _, err := tx.ExecContext(ctx, `UPDATE claims SET state = $3, payment_date = $4, payment_reference = $5,
			payment_payee = $6, payment_recorded_by = $7, revision = revision + 1, update_time = now()
			WHERE pcn_code = $1 AND id = $2`, pcn, id, to, p.Date, p.Reference, payee, actor.Subject); err != nil {
			return Claim{}, "", err
		}
		out, err := getClaim(ctx, tx, cur.Name())
		if err != nil {
			return out, "", err
		}
		return out, out.Name(), s.appendClaimChange(ctx, tx, "pay", cur, out)
	}, getClaim)
}

// LineFlag says why a line needs the reviewer's eye.
type LineFlag struct {
	PostID string
	Reason string
	Detail string
}

// ReviewItem is a claim in a commissioner's review queue.
type ReviewItem struct {
	Claim Claim
	// WaitingForPCN is set when the claim is QUERIED: it waits for the
	// PCN's reply and resubmission, not for the commissioner.
	WaitingForPCN bool
	// DaysWaiting is the whole days since the current holding began: since
	// the submission, or, for a queried claim, since it was queried.
	DaysWaiting int
	// CommissionerHeldDays and PCNHeldDays are the whole days each side
	// has held the claim over all its rounds (see Holding.HeldDays).
	CommissionerHeldDays, PCNHeldDays int
	Flags                             []LineFlag
}

// ReviewQueue lists a commissioner's SUBMITTED claims, oldest submission
// first, then its QUERIED claims, waiting for the PCN's reply, oldest query
// first; with the lines worth a look flagged: cost over the cap, a new
// starter, a WTE different from the post's previous month, a registration
// that no longer fits the register, or a line more than 20% above the post's
// previous month.
//
// The queried claims are listed after the submitted ones because the
// commissioner acts on those; the queried ones are listed at all because
// "we are waiting for them" is part of the commissioner's picture.
func (s *Store) ReviewQueue(ctx context.Context, commissioner string, page Page) ([]ReviewItem, string, error) {
	return snapshotPage(ctx, s, func(q sqlx.QueryerContext) ([]ReviewItem, string, error) {
		return s.reviewQueue(ctx, q, commissioner, page)
	})
}

// queueCursor is where a page of the queue ended: the key the queue is
// ordered by (queried after submitted, the holding's start, the claim). It
// carries the key itself, not only the claim, so a claim approved or
// answered between two pages does not lose the reader's place.
type queueCursor struct {
	queried bool
	since   time.Time
	pcn, id string
}

func (c queueCursor) String() string {
	g := "s"
	if c.queried {
		g = "q"
	}
	return g + " " + c.since.UTC().Format(time.RFC3339Nano) + " " + claimName(c.pcn, c.id)
}

func parseQueueCursor(token string) (queueCursor, error) {
	bad := Invalid("page_token", "PAGE_TOKEN_INVALID", "page_token is not a token this service returned")
	parts := strings.Split(token, " ")
	if len(parts) != 3 || (parts[0] != "s" && parts[0] != "q") {
		return queueCursor{}, bad
	}
	since, err := time.Parse(time.RFC3339Nano, parts[1])
	if err != nil {
		return queueCursor{}, bad
	}
	pcn, id, err := ParseClaimName("page_token", parts[2])
	if err != nil {
		return queueCursor{}, bad
	}
	return queueCursor{parts[0] == "q", since, pcn, id}, nil
}

func (s *Store) reviewQueue(ctx context.Context, q sqlx.QueryerContext, commissioner string, page Page) ([]ReviewItem, string, error) {
	a := args{commissioner, page.Size + 1}
	after := "true"
	if page.After != "" {
		c, err := parseQueueCursor(page.After)
		if err != nil {
			return nil, "", err
		}
		after = `(state <> 'submitted', held_since, pcn_code, id) > (` + a.add(c.queried) + `::bool, ` +
			a.add(c.since) + `::timestamptz, ` + a.add(c.pcn) + `, ` + a.add(c.id) + `)`
	}
	// A submitted claim's holding began at its submission, so ordering by
	// held_since keeps the submitted claims oldest submission first.
	var claims []Claim
	if err := sqlx.SelectContext(ctx, q, &claims, `SELECT `+claimColumns+` FROM claims
		WHERE commissioner_code = $1 AND state IN ('submitted', 'queried') AND `+after+` AND `+claimCondition(ctx, &a)+`
		ORDER BY state <> 'submitted', held_since, pcn_code, id LIMIT $2`, a...); err != nil {
		return nil, "", err
	}
	next := ""
	if len(claims) > page.Size {
		claims = claims[:page.Size]
		last := claims[page.Size-1]
		next = queueCursor{last.State == ClaimQueried, *last.Since, last.PCNCode, last.ID}.String()
	}
	if len(claims) == 0 {
		return nil, next, nil
	}
	if err := loadLinesOf(ctx, q, claims); err != nil {
		return nil, "", err
	}
	ptrs := make([]*Claim, len(claims))
	for i := range claims {
		ptrs[i] = &claims[i]
	}
	if err := loadMessages(ctx, q, ptrs...); err != nil {
		return nil, "", err
	}
	previous, err := previousLines(ctx, q, claims)
	if err != nil {
		return nil, "", err
	}
	posts, roles, err := postsAndRoles(ctx, q, claims)
	if err != nil {
		return nil, "", err
	}
	now := s.now()
	items := make([]ReviewItem, len(claims))
	for i, c := range claims {
		commissionerDays, pcnDays := c.HeldDays(c.State, now)
		items[i] = ReviewItem{Claim: c, WaitingForPCN: c.State == ClaimQueried,
			DaysWaiting:          int(max(now.Sub(*c.Since), 0) / (24 * time.Hour)),
			CommissionerHeldDays: commissionerDays, PCNHeldDays: pcnDays,
			Flags: flagLines(c, previous, posts, roles)}
	}
	return items, next, nil
}

type postKey struct{ pcn, post string }

type monthKey struct {
	pcn, post string
	month     Month
}

// previousLines returns, in one query, each claimed post's line in the
// month before its claim's (from any monthly claim not withdrawn).
func previousLines(ctx context.Context, q sqlx.QueryerContext, claims []Claim) (map[monthKey]ClaimLine, error) {
	var pcns, posts []string
	var months []Month
	for _, c := range claims {
		for _, l := range c.Lines {
			pcns, posts = append(pcns, c.PCNCode), append(posts, l.PostID)
			months = append(months, previousMonth(c.Month))
		}
	}
	dates := make([]string, len(months))
	for i, m := range months {
		dates[i] = m.First().String()
	}
	var rows []struct {
		ClaimLine
		Month Month `db:"month"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+prefixed("l.", lineColumns)+`, l.month FROM claim_lines l
		JOIN claims c ON c.pcn_code = l.pcn_code AND c.id = l.claim_id
		WHERE l.kind = 'monthly' AND c.state <> 'withdrawn'
		AND (l.pcn_code, l.post_id, l.month) IN (SELECT p, q, m::date FROM unnest($1::text[], $2::text[], $3::text[]) AS t(p, q, m))`,
		pq.Array(pcns), pq.Array(posts), pq.Array(dates)); err != nil {
		return nil, err
	}
	out := make(map[monthKey]ClaimLine, len(rows))
	for _, r := range rows {
		out[monthKey{r.PCNCode, r.PostID, r.Month}] = r.ClaimLine
	}
	return out, nil
}

// postsAndRoles loads the posts the claims' lines are for, with their roles.
func postsAndRoles(ctx context.Context, q sqlx.QueryerContext, claims []Claim) (map[postKey]Post, map[string]Role, error) {
	var pcns, ids []string
	for _, c := range claims {
		for _, l := range c.Lines {
			pcns, ids = append(pcns, c.PCNCode), append(ids, l.PostID)
		}
	}
	var rows []Post
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+postColumns+` FROM posts
		WHERE (pcn_code, id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, pq.Array(pcns), pq.Array(ids)); err != nil {
		return nil, nil, err
	}
	var roles []Role
	if err := sqlx.SelectContext(ctx, q, &roles, `SELECT `+roleColumns+` FROM roles`); err != nil {
		return nil, nil, err
	}
	posts := make(map[postKey]Post, len(rows))
	for _, p := range rows {
		posts[postKey{p.PCNCode, p.ID}] = p
	}
	byID := make(map[string]Role, len(roles))
	for _, r := range roles {
		byID[r.ID] = r
	}
	return posts, byID, nil
}

// flagLines applies the review flags to one claim.
func flagLines(c Claim, previous map[monthKey]ClaimLine, posts map[postKey]Post, roles map[string]Role) []LineFlag {
	var flags []LineFlag
	for _, l := range c.Lines {
		flag := func(reason, format string, args ...any) {
			flags = append(flags, LineFlag{PostID: l.PostID, Reason: reason, Detail: fmt.Sprintf(format, args...)})
		}
		if actual := l.Costs().ActualPence(); actual > l.CapPence {
			flag("COST_OVER_CAP", "costs %s against a cap of %s", Pounds(actual), Pounds(l.CapPence))
		}
		post := posts[postKey{c.PCNCode, l.PostID}]
		if MonthOf(post.StartDate) == c.Month {
			flag("NEW_STARTER", "started on %s", post.StartDate)
		}
		if err := roles[l.RoleID].CheckRegistration(post.RegistrationNumber); err != nil {
			flag("REGISTRATION_MISSING", "%v", err)
		}
		prev, ok := previous[monthKey{c.PCNCode, l.PostID, previousMonth(c.Month)}]
		if !ok {
			continue
		}
		if prev.WTE != l.WTE {
			flag("WTE_CHANGED", "%s WTE, %s last month", l.WTE, prev.WTE)
		}
		// More than 20% above last month: 5 × this > 6 × last, in integers.
		if 5*l.ReimbursablePence > 6*prev.ReimbursablePence {
			flag("ABOVE_PREVIOUS_MONTH", "%s, against %s last month", Pounds(l.ReimbursablePence), Pounds(prev.ReimbursablePence))
		}
	}
	return flags
}

func previousMonth(m Month) Month { return MonthOf(m.First().AddDays(-1)) }

func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// aliased is prefixed with each column also named under as: for reading
// a joined row's columns into a nested struct (sqlx reads "role.id" into a
// field Role tagged "role").
func aliased(prefix, as, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		parts[i] = prefix + p + ` AS "` + as + p + `"`
	}
	return strings.Join(parts, ", ")
}

// QueueSize is one commissioner's review queue.
type QueueSize struct {
	Commissioner string     `db:"code"`
	Claims       int64      `db:"claims"`
	Oldest       *time.Time `db:"oldest"`
}

// ReviewQueueSizes reports every commissioner's queue (empty ones too) for
// monitoring. It returns counts, never claims, so it needs no actor.
func (s *Store) ReviewQueueSizes(ctx context.Context) ([]QueueSize, error) {
	var rows []QueueSize
	err := s.db.SelectContext(ctx, &rows, `SELECT co.code, count(cl.id) AS claims, min(cl.submit_time) AS oldest
		FROM commissioners co
		LEFT JOIN claims cl ON cl.commissioner_code = co.code AND cl.state = 'submitted'
		GROUP BY co.code ORDER BY co.code`)
	return rows, err
}
