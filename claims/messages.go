package claims

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// A query is a conversation: the approver's questions and the PCN's
// replies, numbered per claim, each with its author. A claim keeps its
// thread across rounds (queried, answered, resubmitted, queried again), so
// whoever reviews it next reads the whole exchange.

// MessageKind says who a message is from: the commissioner asks, the PCN
// replies.
type MessageKind string

// The kinds of message.
const (
	MessageQuestion MessageKind = "question"
	MessageReply    MessageKind = "reply"
)

// messageEvidenceLimit bounds a reply's evidence links (and the table's
// CHECK says the same).
const messageEvidenceLimit = 10

// ClaimMessage is one message in a claim's thread.
type ClaimMessage struct {
	PCNCode      string         `db:"pcn_code" json:"pcn_code"`
	ClaimID      string         `db:"claim_id" json:"claim_id"`
	Number       int            `db:"number" json:"number"`
	Kind         MessageKind    `db:"kind" json:"kind"`
	Author       string         `db:"author" json:"author"`
	Role         AccessRole     `db:"role" json:"role"`
	Organisation string         `db:"organisation" json:"organisation"`
	Text         string         `db:"text" json:"text"`
	EvidenceURIs pq.StringArray `db:"evidence_uris" json:"evidence_uris"`
	CreateTime   time.Time      `db:"create_time" json:"create_time"`
}

// Name is the resource name, `pcns/{pcn}/claims/{claim}/messages/{n}`: under
// the claim, so the claim's audit history includes its messages.
func (m ClaimMessage) Name() string {
	return fmt.Sprintf("%s/messages/%d", claimName(m.PCNCode, m.ClaimID), m.Number)
}

const messageColumns = `pcn_code, claim_id, number, kind, author, role, organisation, text, evidence_uris, create_time`

// addMessage appends a message from the actor to a claim the transaction
// holds locked, numbered after the newest (the lock keeps the numbers
// gapless), and audits it with action.
func (s *Store) addMessage(ctx context.Context, tx *txn, c Claim, kind MessageKind, text string, evidence []string, action string) (ClaimMessage, error) {
	actor, _ := ActorFrom(ctx)
	if evidence == nil {
		evidence = []string{}
	}
	var m ClaimMessage
	if err := tx.GetContext(ctx, &m, `INSERT INTO claim_messages (`+messageColumns+`)
		SELECT $1, $2, coalesce(max(number), 0) + 1, $3, $4, $5, $6, $7, $8, $9
		FROM claim_messages WHERE pcn_code = $1 AND claim_id = $2
		RETURNING `+messageColumns, c.PCNCode, c.ID, kind, actor.Subject, actor.Role, actor.Organisation(),
		text, pq.StringArray(evidence), s.now()); err != nil {
		return m, err
	}
	return m, s.appendAudit(ctx, tx, m.Name(), action, c.PCNCode, nil, m)
}

// newestMessage is a claim's newest message, if it has one.
func newestMessage(ctx context.Context, q sqlx.QueryerContext, c Claim) (ClaimMessage, bool, error) {
	var ms []ClaimMessage
	if err := sqlx.SelectContext(ctx, q, &ms, `SELECT `+messageColumns+` FROM claim_messages
		WHERE pcn_code = $1 AND claim_id = $2 ORDER BY number DESC LIMIT 1`, c.PCNCode, c.ID); err != nil || len(ms) == 0 {
		return ClaimMessage{}, false, err
	}
	return ms[0], true, nil
}

// checkAnswered refuses to resubmit a queried claim whose newest message is
// a question: the commissioner asked something, and resubmitting without a
// word would send the claim back to them with the question still open.
func checkAnswered(ctx context.Context, tx *txn, c Claim) error {
	if c.State != ClaimQueried {
		return nil
	}
	m, ok, err := newestMessage(ctx, tx, c)
	if err != nil || !ok || m.Kind != MessageQuestion {
		return err
	}
	return FailedPrecondition(c.Name(), "QUERY_UNANSWERED", fmt.Sprintf(
		"reply to the commissioner's question before resubmitting: %q (%s)", m.Text, m.Name()))
}

// ReplyToClaimQuery adds the PCN's reply, with any evidence links, to a
// QUERIED claim's thread. The claim stays QUERIED, with the PCN, until it is
// resubmitted; its revision moves, so an approver acting on the claim as it
// was before the reply is told it changed.
func (s *Store) ReplyToClaimQuery(ctx context.Context, pcn, id, etag, text string, evidence []string) (Claim, error) {
	if err := mayAct(ctx, ActionReply); err != nil {
		return Claim{}, err
	}
	var vs Violations
	if strings.TrimSpace(text) == "" || len(text) > reviewNoteLimit {
		vs.Add("text", "REQUIRED", "write a reply, in at most %d characters", reviewNoteLimit)
	}
	checkEvidence(&vs, "evidence_uris", evidence, messageEvidenceLimit)
	if err := vs.Err(); err != nil {
		return Claim{}, err
	}
	var out Claim
	err := s.inTx(ctx, func(tx *txn) error {
		cur, _, err := lockClaimRow(ctx, tx, pcn, id, etag, ActionReply)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE claims SET revision = revision + 1, update_time = now()
			WHERE pcn_code = $1 AND id = $2`, pcn, id); err != nil {
			return err
		}
		if _, err := s.addMessage(ctx, tx, cur, MessageReply, text, evidence, "reply"); err != nil {
			return err
		}
		out, err = getClaim(ctx, tx, cur.Name())
		return err
	})
	return out, err
}

// loadMessages fills in the threads of claims in one query, oldest message
// first.
func loadMessages(ctx context.Context, q sqlx.QueryerContext, claims ...*Claim) error {
	if len(claims) == 0 {
		return nil
	}
	pcns, ids, index := claimKeys(claims)
	var ms []ClaimMessage
	if err := sqlx.SelectContext(ctx, q, &ms, `SELECT `+messageColumns+` FROM claim_messages
		WHERE (pcn_code, claim_id) IN (SELECT * FROM unnest($1::text[], $2::text[])) ORDER BY pcn_code, claim_id, number`,
		pq.Array(pcns), pq.Array(ids)); err != nil {
		return err
	}
	for _, m := range ms {
		c := index[[2]string{m.PCNCode, m.ClaimID}]
		c.Messages = append(c.Messages, m)
	}
	return nil
}

// Holding: who has the claim, and for how long.

// holder is who holds a claim in a state: the commissioner while it awaits
// review, the PCN while it answers a query; no one otherwise (a draft is
// the PCN's own business, and an approved claim waits on finance, not on a
// decision).
type holder int

const (
	heldByNoOne holder = iota
	heldByCommissioner
	heldByPCN
)

func holderIn(state ClaimState) holder {
	switch state {
	case ClaimSubmitted:
		return heldByCommissioner
	case ClaimQueried:
		return heldByPCN
	}
	return heldByNoOne
}

// Holding is how long each side has held a claim: the seconds of holdings
// that have ended, and when the current one began.
type Holding struct {
	CommissionerSeconds int64      `db:"commissioner_held_seconds"`
	PCNSeconds          int64      `db:"pcn_held_seconds"`
	Since               *time.Time `db:"held_since"`
}

// moved is the holding once a claim moves from one state to another at
// now: a holding that ends is added to its side's seconds, one that begins
// starts now, and a move that keeps the same side (a further question on a
// queried claim) changes nothing.
func (h Holding) moved(from, to ClaimState, now time.Time) Holding {
	before, after := holderIn(from), holderIn(to)
	if before == after {
		return h
	}
	if h.Since != nil {
		held := int64(max(now.Sub(*h.Since), 0) / time.Second)
		switch before {
		case heldByCommissioner:
			h.CommissionerSeconds += held
		case heldByPCN:
			h.PCNSeconds += held
		}
	}
	h.Since = nil
	if after != heldByNoOne {
		h.Since = &now
	}
	return h
}

// HeldDays is the whole days the commissioner and the PCN have held a claim
// in state, as of now, the holding under way included. Days are counted on
// the sum of the seconds, so two holdings of 36 hours make 3 days, not 2.
func (h Holding) HeldDays(state ClaimState, now time.Time) (commissioner, pcn int) {
	c, p := h.CommissionerSeconds, h.PCNSeconds
	if h.Since != nil {
		current := int64(max(now.Sub(*h.Since), 0) / time.Second)
		switch holderIn(state) {
		case heldByCommissioner:
			c += current
		case heldByPCN:
			p += current
		}
	}
	const day = 24 * 60 * 60
	return int(c / day), int(p / day)
}

// setHolding is the SQL that writes a holding, its values from $from on.
func setHolding(from int) string {
	return fmt.Sprintf("commissioner_held_seconds = $%d, pcn_held_seconds = $%d, held_since = $%d", from, from+1, from+2)
}

func (h Holding) values() []any { return []any{h.CommissionerSeconds, h.PCNSeconds, h.Since} }
