package claims

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/lib/pq"
)

// appendAudit records a write in the audit trail. Every write method calls it
// inside its own transaction, so the event commits or rolls back with the
// write, and as the last step: it locks the head of the PCN's chain, which
// the PCN's other writes wait for, so it should stay locked only from here
// to the commit. It is appendAudits with one event.
func (s *Store) appendAudit(ctx context.Context, tx *txn, resource, action, pcnCode string, before, after any) error {
	return s.appendAudits(ctx, tx, []AuditRecord{{resource, action, pcnCode, before, after}})
}

// pendingEvent is an event with everything that needs no lock done: its
// JSON canonical and its body hashed.
type pendingEvent struct {
	AuditEvent
	bodyHash [32]byte
}

// appendAudits records writes in the audit trail, in order. Each event
// joins its PCN's chain (auditChain). However many events and chains there
// are, it takes two statements: one locks the chains' heads (in chain order,
// so two batches cannot deadlock) and reads the transaction's time and the
// events' seqs; the other inserts the events and moves the heads. Writes of
// other PCNs never wait here. No events is a no-op.
func (s *Store) appendAudits(ctx context.Context, tx *txn, records []AuditRecord) error {
	if len(records) == 0 {
		return nil
	}
	a, ok := ActorFrom(ctx)
	if !ok {
		return errNoActor
	}
	what := records[0].Resource
	if len(records) > 1 {
		what += fmt.Sprintf(" and %d more", len(records)-1)
	}
	// Everything that can be done without a head is done before one is
	// locked: marshalling and hashing thousands of claims takes a while.
	events := make([]pendingEvent, len(records))
	var chains []string
	for i, r := range records {
		e, err := pendingAudit(a, r)
		if err != nil {
			return fmt.Errorf("audit %s: %w", r.Resource, err)
		}
		events[i] = e
		chains = append(chains, e.Chain)
	}
	slices.Sort(chains)
	chains = slices.Compact(chains)

	heads, now, seqs, err := lockAuditHeads(ctx, tx, chains, len(events))
	if err != nil {
		return fmt.Errorf("audit %s: lock heads: %w", what, err)
	}
	// The MACs, in order: each event follows the one before it in its chain.
	keyID := s.keys.ActiveKeyID()
	eventsJSON := make([]byte, 0, eventsJSONSize(events))
	eventsJSON = append(eventsJSON, '[')
	for i, e := range events {
		h := heads[e.Chain]
		prev := h.MAC
		if h.Seq == 0 {
			prev = auditGenesis(e.Chain)
		}
		h.Seq++
		mac, err := s.keys.MAC(keyID, auditMACInput(e.Chain, h.Seq, seqs[i], now, prev, e.bodyHash))
		if err != nil {
			return fmt.Errorf("audit %s: %w", e.Resource, err)
		}
		h.MAC = mac
		if i > 0 {
			eventsJSON = append(eventsJSON, ',')
		}
		eventsJSON = appendEventJSON(eventsJSON, e, seqs[i], h.Seq, prev, mac)
	}
	eventsJSON = append(eventsJSON, ']')
	type headRow struct {
		Chain string `json:"chain"`
		Seq   int64  `json:"seq"`
		MAC   []byte `json:"mac"`
	}
	moved := make([]headRow, 0, len(heads))
	for _, c := range chains {
		moved = append(moved, headRow{c, heads[c].Seq, heads[c].MAC})
	}
	headsJSON, err := json.Marshal(moved)
	if err != nil {
		return fmt.Errorf("audit %s: %w", what, err)
	}
	// One statement inserts the events and moves the heads. Go's JSON
	// carries bytes as base64. The before and after documents are stored
	// as the canonical JSON their MAC covers; jsonb keeps their value.
	_, err = tx.ExecContext(ctx, `WITH ins AS (
			INSERT INTO audit_events (seq, chain, chain_seq, event_time, subject, role, organisation, rpc,
				request_id, resource, action, pcn_code, before, after, key_id, prev_mac, mac)
			SELECT e.seq, e.chain, e.chain_seq, $3, e.subject, e.role, e.organisation, e.rpc,
				e.request_id, e.resource, e.action, e.pcn_code, e.before, e.after, $4,
				decode(e.prev_mac, 'base64'), decode(e.mac, 'base64')
			FROM jsonb_to_recordset($1::jsonb) AS e(seq bigint, chain text, chain_seq bigint, subject text,
				role text, organisation text, rpc text, request_id text, resource text, action text,
				pcn_code text, before jsonb, after jsonb, prev_mac text, mac text)
		)
		UPDATE audit_heads h SET seq = m.seq, mac = decode(m.mac, 'base64')
		FROM jsonb_to_recordset($2::jsonb) AS m(chain text, seq bigint, mac text)
		WHERE h.chain = m.chain`,
		string(eventsJSON), string(headsJSON), now, keyID)
	if err != nil {
		return fmt.Errorf("audit %s: append: %w", what, err)
	}
	return nil
}

// appendEventJSON appends the event e, at seq and chainSeq with its MACs,
// as the JSON object the append statement's jsonb_to_recordset reads:
// bytes as base64, a missing PCN as null, a missing document left out.
// It is written by hand because encoding/json checks and compacts a
// json.RawMessage again as it marshals it, and the before and after
// documents (a claim with its lines, each) are canonical already: that was
// 11% of SubmitClaim's CPU in arrsd (bench/national --cpu-profile).
func appendEventJSON(out []byte, e pendingEvent, seq, chainSeq int64, prevMAC, mac []byte) []byte {
	out = append(out, `{"seq":`...)
	out = strconv.AppendInt(out, seq, 10)
	out = append(out, `,"chain":`...)
	out = appendJSONString(out, e.Chain)
	out = append(out, `,"chain_seq":`...)
	out = strconv.AppendInt(out, chainSeq, 10)
	for _, f := range [...]struct{ key, value string }{
		{"subject", e.Subject}, {"role", e.Role}, {"organisation", e.Organisation}, {"rpc", e.RPC},
		{"request_id", e.RequestID}, {"resource", e.Resource}, {"action", e.Action},
	} {
		out = append(out, ',', '"')
		out = append(out, f.key...)
		out = append(out, '"', ':')
		out = appendJSONString(out, f.value)
	}
	out = append(out, `,"pcn_code":`...)
	if e.PCNCode == "" {
		out = append(out, "null"...)
	} else {
		out = appendJSONString(out, e.PCNCode)
	}
	if e.Before != nil {
		out = append(out, `,"before":`...)
		out = append(out, e.Before...)
	}
	if e.After != nil {
		out = append(out, `,"after":`...)
		out = append(out, e.After...)
	}
	out = append(out, `,"prev_mac":"`...)
	out = base64.StdEncoding.AppendEncode(out, prevMAC)
	out = append(out, `","mac":"`...)
	out = base64.StdEncoding.AppendEncode(out, mac)
	return append(out, '"', '}')
}

// eventsJSONSize is about the size of events as appendEventJSON writes
// them, so the array is allocated once.
func eventsJSONSize(events []pendingEvent) int {
	n := 2
	for _, e := range events {
		n += 400 + len(e.Subject) + len(e.Resource) + len(e.RequestID) + len(e.Before) + len(e.After)
	}
	return n
}

// pendingAudit prepares a record for appending by the actor a.
func pendingAudit(a Actor, r AuditRecord) (pendingEvent, error) {
	// PostgreSQL refuses text that is not UTF-8; encoding/json would instead
	// quietly replace the bad bytes, recording a name that is not the
	// resource's.
	for _, s := range []string{r.Resource, r.Action, r.PCNCode} {
		if !utf8.ValidString(s) {
			return pendingEvent{}, fmt.Errorf("audit %q: not UTF-8", r.Resource)
		}
	}
	e := AuditEvent{Chain: auditChain(r.PCNCode), Subject: a.Subject, Role: string(a.Role),
		Organisation: a.Organisation(), RPC: a.RPC, RequestID: a.RequestID,
		Resource: r.Resource, Action: r.Action, PCNCode: r.PCNCode}
	var err error
	if e.Before, err = auditDocument(r.Before); err != nil {
		return pendingEvent{}, fmt.Errorf("before: %w", err)
	}
	if e.After, err = auditDocument(r.After); err != nil {
		return pendingEvent{}, fmt.Errorf("after: %w", err)
	}
	body, err := auditBody(e, true)
	if err != nil {
		return pendingEvent{}, err
	}
	return pendingEvent{AuditEvent: e, bodyHash: sha256.Sum256(body)}, nil
}

// auditDocument marshals v to canonical JSON. nil, including a nil pointer
// or map, is no document (SQL NULL) rather than JSON null, so "no value" has
// one form and one MAC.
func auditDocument(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return nil, err
	}
	return canonicalJSON(b)
}

// auditHead is a chain's newest event as the lock found it.
type auditHead struct {
	Seq int64
	MAC []byte
}

// lockAuditHeads locks the heads of chains, in order, creating those that
// do not exist yet (a new PCN's), and returns them with the transaction's
// time and n new event seqs. The time is the transaction's start, the
// update_time its writes carry.
func lockAuditHeads(ctx context.Context, tx *txn, chains []string, n int) (map[string]*auditHead, time.Time, []int64, error) {
	for attempt := 0; ; attempt++ {
		// ORDER BY puts the sort below the row locks, so rows are locked
		// in chain order. The seqs' subquery runs once, as an init plan,
		// and only when every head exists, so a retry wastes none.
		rows, err := tx.QueryContext(ctx, `SELECT chain, seq, mac, now(),
				CASE WHEN (SELECT count(*) FROM audit_heads WHERE chain = ANY($1::text[])) = cardinality($1::text[])
				THEN (SELECT array_agg(nextval('audit_events_seq')) FROM generate_series(1, $2::int)) END
			FROM audit_heads WHERE chain = ANY($1::text[]) ORDER BY chain FOR UPDATE`, pq.StringArray(chains), n)
		if err != nil {
			return nil, time.Time{}, nil, err
		}
		heads := make(map[string]*auditHead, len(chains))
		var now time.Time
		var seqs pq.Int64Array
		for rows.Next() {
			var chain string
			h := &auditHead{}
			if err := rows.Scan(&chain, &h.Seq, &h.MAC, &now, &seqs); err != nil {
				_ = rows.Close()
				return nil, time.Time{}, nil, err
			}
			heads[chain] = h
		}
		if err := rows.Close(); err != nil {
			return nil, time.Time{}, nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, time.Time{}, nil, err
		}
		if len(heads) == len(chains) {
			slices.Sort(seqs)
			return heads, now, seqs, nil
		}
		if attempt > 0 {
			return nil, time.Time{}, nil, fmt.Errorf("chains %v have no head", chains)
		}
		// A chain's first event: its head starts at 0. Another transaction
		// may create it meanwhile; either way it exists to lock next time.
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_heads (chain, seq)
			SELECT unnest($1::text[]), 0 ON CONFLICT (chain) DO NOTHING`, pq.StringArray(chains)); err != nil {
			return nil, time.Time{}, nil, err
		}
	}
}
