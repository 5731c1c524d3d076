package claims

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// AuditEvent is one write to arrs as it happened: who made it, through which
// call, to which resource, and the resource before and after. Events are
// never changed or removed (the database refuses), and each one's hash covers
// its predecessor's, so VerifyAudit can tell when someone who can bypass the
// database's refusal has.
type AuditEvent struct {
	// Seq counts events from 1 without gaps.
	Seq int64 `db:"seq"`
	// Time is the writing transaction's start, the update_time it wrote.
	Time         time.Time `db:"event_time"`
	Subject      string    `db:"subject"`
	Role         string    `db:"role"`
	Organisation string    `db:"organisation"`
	RPC          string    `db:"rpc"`
	RequestID    string    `db:"request_id"`
	// Resource is the name of the resource written.
	Resource string `db:"resource"`
	// Action is a short verb: "create", "update", "recruit", "fill", "end".
	Action string `db:"action"`
	// PCNCode is the PCN the resource belongs to; empty for national
	// reference data, which every reader of the trail may see.
	PCNCode string `db:"pcn_code"`
	// Before and After are the resource as JSON, as PostgreSQL's jsonb prints
	// it (keys sorted); Before is empty for a create.
	Before json.RawMessage `db:"before"`
	After  json.RawMessage `db:"after"`
}

// Name is the resource name.
func (e AuditEvent) Name() string { return auditEventName(e.Seq) }

func auditEventName(seq int64) string { return "auditEvents/" + strconv.FormatInt(seq, 10) }

// AuditRecord is a write to record in the audit trail, not yet appended.
// Resource is the written resource's name, Action a short verb, PCNCode the
// PCN the resource belongs to ("" for reference data). Before and After are
// marshalled to JSON; nil, including a nil pointer or map, is stored as SQL
// NULL. The actor and time come from the appending transaction.
type AuditRecord struct {
	Resource, Action, PCNCode string
	Before, After             any
}

// appendAudit records a write in the audit trail. Every write method calls it
// inside its own transaction, so the event commits or rolls back with the
// write, and as the last step: the head row it locks serialises every write
// in arrs, so it should stay locked only from here to the commit. It is
// appendAudits with one event.
func (s *Store) appendAudit(ctx context.Context, tx *sqlx.Tx, resource, action, pcnCode string, before, after any) error {
	return s.appendAudits(ctx, tx, []AuditRecord{{resource, action, pcnCode, before, after}})
}

// appendAudits records writes in the audit trail, in order, as appendAudit
// called for each would: the same seqs, times and hashes. However many there
// are, it locks the head once and appends them all, moving the head to the
// last, in one statement: a write recording thousands of events spends two
// statements holding the head, which every other write waits for, rather
// than two per event. No events is a no-op.
func (s *Store) appendAudits(ctx context.Context, tx *sqlx.Tx, events []AuditRecord) error {
	if len(events) == 0 {
		return nil
	}
	a, ok := ActorFrom(ctx)
	if !ok {
		return errNoActor
	}
	what := events[0].Resource
	if len(events) > 1 {
		what += fmt.Sprintf(" and %d more", len(events)-1)
	}
	// Everything that can be done without the head is done before it is
	// locked: marshalling thousands of claims takes a while.
	batch, err := auditBatch(events)
	if err != nil {
		return err
	}
	var head struct {
		Seq  int64  `db:"seq"`
		Hash []byte `db:"hash"`
	}
	// FOR UPDATE makes concurrent appends queue here until this transaction
	// ends, so each builds on the head the one before it left and the chain
	// has neither gaps nor forks. Under READ COMMITTED, which WithTx uses,
	// the row read after the wait is the newest committed head; a REPEATABLE
	// READ or SERIALIZABLE transaction would fail here with 40001 instead.
	if err := tx.GetContext(ctx, &head, `SELECT seq, hash FROM audit_head FOR UPDATE`); err != nil {
		return fmt.Errorf("audit %s: lock head: %w", what, err)
	}
	// One statement inserts the events and moves the head to the last. The
	// hashes are computed by audit_event_hash from the values as stored, not
	// in Go, so that verification hashes exactly the same bytes. Each covers
	// the one before, so a recursive CTE walks the batch: step n takes the
	// nth event (from 0) and the hash step n-1 made, starting from the head.
	//
	// The events come as one jsonb array and each step takes its element by
	// index, which jsonb does in constant time, so the walk is linear in the
	// batch. Joining each step to a set of the events instead scans the whole
	// set every step, and subscripting a text array walks it from the start.
	// $8 is mentioned once because the planner copies a parameter's value
	// into the plan for every mention, which made planning a batch of
	// thousands take seconds. jsonb_to_record reads "before": {...} as the
	// jsonb {...}, the value before::jsonb gave when it came by itself; a key
	// left out, nil in Go, is SQL NULL.
	_, err = tx.ExecContext(ctx, `WITH RECURSIVE chain (n, seq, prev_hash, hash, resource, action, pcn_code, before, after) AS (
			SELECT 0, $1::bigint, NULL::bytea, $2::bytea, NULL::text, NULL::text, NULL::text, NULL::jsonb, NULL::jsonb
			UNION ALL
			SELECT c.n + 1, c.seq + 1, c.hash,
				audit_event_hash(c.hash, c.seq + 1, now(), $3::text, $4::text, $5::text, $6::text, $7::text,
					e.resource, e.action, NULLIF(e.pcn_code, ''), e.before, e.after),
				e.resource, e.action, NULLIF(e.pcn_code, ''), e.before, e.after
			FROM chain c,
				jsonb_to_record($8::jsonb -> c.n) AS e(resource text, action text, pcn_code text, before jsonb, after jsonb)
			WHERE c.n < $9::int
		), ins AS (
			INSERT INTO audit_events (seq, event_time, subject, role, organisation, rpc, request_id,
				resource, action, pcn_code, before, after, prev_hash, hash)
			SELECT seq, now(), $3, $4, $5, $6, $7, resource, action, pcn_code, before, after, prev_hash, hash
			FROM chain WHERE n > 0
			RETURNING seq, hash
		)
		UPDATE audit_head SET seq = last.seq, hash = last.hash
		FROM (SELECT seq, hash FROM ins ORDER BY seq DESC LIMIT 1) AS last`,
		head.Seq, head.Hash, a.Subject, string(a.Role), a.Organisation(), a.RPC, a.RequestID, batch, len(events))
	if err != nil {
		return fmt.Errorf("audit %s: append: %w", what, err)
	}
	return nil
}

// auditBatch marshals events for appendAudits: a JSON array of objects with
// the fields as stored, before and after left out when nil.
func auditBatch(events []AuditRecord) (string, error) {
	type entry struct {
		Resource string          `json:"resource"`
		Action   string          `json:"action"`
		PCNCode  string          `json:"pcn_code"`
		Before   json.RawMessage `json:"before,omitempty"`
		After    json.RawMessage `json:"after,omitempty"`
	}
	entries := make([]entry, len(events))
	for i, e := range events {
		// PostgreSQL refuses text that is not UTF-8, as it did when these
		// were parameters of their own; encoding/json would instead quietly
		// replace the bad bytes, recording a name that is not the resource's.
		for _, s := range []string{e.Resource, e.Action, e.PCNCode} {
			if !utf8.ValidString(s) {
				return "", fmt.Errorf("audit %q: not UTF-8", e.Resource)
			}
		}
		before, err := auditJSON(e.Before)
		if err != nil {
			return "", fmt.Errorf("audit %s: before: %w", e.Resource, err)
		}
		after, err := auditJSON(e.After)
		if err != nil {
			return "", fmt.Errorf("audit %s: after: %w", e.Resource, err)
		}
		entries[i] = entry{Resource: e.Resource, Action: e.Action, PCNCode: e.PCNCode}
		if before.Valid {
			entries[i].Before = json.RawMessage(before.String)
		}
		if after.Valid {
			entries[i].After = json.RawMessage(after.String)
		}
	}
	b, err := json.Marshal(entries)
	return string(b), err
}

// auditJSON marshals v for a jsonb parameter. It returns a string, not
// bytes, because lib/pq sends []byte as bytea. nil, including a nil pointer
// or map, becomes SQL NULL rather than JSON null, so "no value" has one
// form and one hash.
func auditJSON(v any) (sql.NullString, error) {
	if v == nil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(v)
	if err != nil || bytes.Equal(b, []byte("null")) {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

// RecordAudit appends one event to the audit trail in a transaction of its
// own. It is for writes made outside the store's own methods, for example by
// tools; the store's write methods record their events themselves, in the
// write's transaction. The actor comes from ctx, as for every write.
func (s *Store) RecordAudit(ctx context.Context, resource, action, pcnCode string, before, after any) error {
	return s.RecordAudits(ctx, []AuditRecord{{resource, action, pcnCode, before, after}})
}

// RecordAudits appends events to the audit trail, in order, in a transaction
// of its own, as RecordAudit would one at a time but holding the trail's head
// for a few round trips however many there are. No events is a no-op.
func (s *Store) RecordAudits(ctx context.Context, events []AuditRecord) error {
	if len(events) == 0 {
		return nil
	}
	return s.WithTx(ctx, func(tx *sqlx.Tx) error {
		return s.appendAudits(ctx, tx, events)
	})
}

const auditEventColumns = `seq, event_time, subject, role, organisation, rpc, request_id, resource, action,
	COALESCE(pcn_code, '') AS pcn_code, before, after`

// ListAuditEvents lists audit events oldest first: one resource's history
// (with its sub-resources'), or with resource "" every event. The actor sees events of the PCNs in its
// scope and of national reference data (no PCN). Reading the trail is a
// deliberate, policy-checked act, so a context without an actor is an error
// here rather than an empty list.
func (s *Store) ListAuditEvents(ctx context.Context, resource string, page Page) ([]AuditEvent, string, error) {
	if _, ok := ActorFrom(ctx); !ok {
		return nil, "", errNoActor
	}
	var after int64
	if page.After != "" {
		var err error
		if after, err = parseAuditEventName("page_token", page.After); err != nil {
			return nil, "", err
		}
	}
	// The conditions are composed rather than written as "$2 = '' OR ...", so
	// that the planner sees which of the (resource, seq) and (pcn_code, seq)
	// indexes can serve the listing.
	a := args{after}
	where := "seq > $1"
	if resource != "" {
		// A resource's story includes its parts': a claim's history shows
		// the edits to its lines. Names hold no LIKE wildcards.
		r := a.add(resource)
		where += " AND (resource = " + r + " OR resource LIKE " + r + " || '/%')"
	}
	where += " AND " + auditCondition(ctx, &a)
	var scanned []auditEventRow
	if err := s.db.SelectContext(ctx, &scanned, `SELECT `+auditEventColumns+` FROM audit_events
		WHERE `+where+` ORDER BY seq LIMIT `+a.add(page.Size+1), a...); err != nil {
		return nil, "", err
	}
	rows := make([]AuditEvent, len(scanned))
	for i, r := range scanned {
		rows[i] = r.AuditEvent
		rows[i].Before, rows[i].After = r.Before, r.After
	}
	rows, next := pageOf(rows, page.Size)
	return rows, next, nil
}

// auditEventRow scans an event. database/sql stores SQL NULL in a []byte but
// not in a json.RawMessage, so before and after land here first; these fields
// take the columns from the embedded ones.
type auditEventRow struct {
	AuditEvent
	Before []byte `db:"before"`
	After  []byte `db:"after"`
}

// parseAuditEventName reads "auditEvents/{seq}".
func parseAuditEventName(field, name string) (int64, error) {
	seq, err := strconv.ParseInt(strings.TrimPrefix(name, "auditEvents/"), 10, 64)
	if !strings.HasPrefix(name, "auditEvents/") || err != nil || seq < 1 {
		return 0, nameError(field, name, "auditEvents/{seq}")
	}
	return seq, nil
}

// AuditVerification is the outcome of checking the audit chain.
type AuditVerification struct {
	// Checked is how many events were examined: all of them when OK,
	// otherwise those up to and including the first break.
	Checked int64
	// OK is true when every event is intact and linked to the one before,
	// from the genesis hash to the head.
	OK bool
	// FirstBadSeq is the seq at which the chain first breaks: an altered
	// event, the first of some missing events, or an event that does not
	// follow its predecessor. 0 when OK.
	FirstBadSeq int64
	// Problem says what is wrong there, in words.
	Problem string
}

// VerifyAudit recomputes the whole audit chain and reports the first break.
// It detects an event whose contents no longer match its hash, an event whose
// prev_hash is not its predecessor's hash, missing seqs (removed events, the
// oldest included, as the first event must follow the genesis hash) and a
// head that is not the newest event (the newest events removed, or an event
// added without moving the head).
//
// The chain is only as trustworthy as the head: someone able to rewrite every
// event from the point of tampering onwards, and the head, leaves a chain that
// verifies. Comparing the head with a copy kept elsewhere closes that gap.
func (s *Store) VerifyAudit(ctx context.Context) (AuditVerification, error) {
	// One snapshot for the head and the events, so that appends committing
	// meanwhile neither show as events beyond the head nor as a missing head.
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return AuditVerification{}, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	var head struct {
		Seq  int64  `db:"seq"`
		Hash []byte `db:"hash"`
	}
	if err := tx.GetContext(ctx, &head, `SELECT seq, hash FROM audit_head`); err != nil {
		return AuditVerification{}, fmt.Errorf("read audit head: %w", err)
	}

	// The walk runs in the database: one pass in seq order over the primary
	// key, hashing each event with the same function that appended it and
	// comparing it with the one before through lag(). Only the first break
	// comes back, and the LIMIT stops the scan there, so memory and traffic
	// stay flat however long the trail. The first event's predecessor is
	// seq 0 with the genesis hash.
	var brk struct {
		Seq     int64  `db:"seq"`
		PrevSeq int64  `db:"prev_seq"`
		N       int64  `db:"n"`
		Problem string `db:"problem"`
	}
	err = tx.GetContext(ctx, &brk, `SELECT seq, prev_seq, n, problem FROM (
			SELECT seq, prev_seq, n, CASE
				WHEN seq <> prev_seq + 1 THEN 'missing'
				WHEN prev_hash <> prev_row_hash AND prev_seq = 0 THEN 'genesis'
				WHEN prev_hash <> prev_row_hash THEN 'unlinked'
				WHEN hash <> audit_event_hash(prev_hash, seq, event_time, subject, role, organisation,
					rpc, request_id, resource, action, pcn_code, before, after) THEN 'altered'
			END AS problem
			FROM (
				SELECT e.*,
					lag(seq, 1, 0::bigint) OVER w AS prev_seq,
					lag(hash, 1, audit_genesis_hash()) OVER w AS prev_row_hash,
					row_number() OVER w AS n
				FROM audit_events e
				WINDOW w AS (ORDER BY seq)
			) walk
		) checked
		WHERE problem IS NOT NULL
		ORDER BY seq
		LIMIT 1`)
	switch {
	case err == nil:
		return brokenAt(brk.N, brk.Seq, brk.PrevSeq, brk.Problem), nil
	case !isNoRows(err):
		return AuditVerification{}, fmt.Errorf("verify audit chain: %w", err)
	}

	// Every event follows the one before from seq 1, so the newest event's
	// seq is also how many there are. An empty trail ends at the genesis.
	var last struct {
		Seq  int64  `db:"seq"`
		Hash []byte `db:"hash"`
	}
	if err := tx.GetContext(ctx, &last, `SELECT COALESCE(max(seq), 0) AS seq,
			COALESCE((SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1), audit_genesis_hash()) AS hash
		FROM audit_events`); err != nil {
		return AuditVerification{}, fmt.Errorf("verify audit head: %w", err)
	}
	v := AuditVerification{Checked: last.Seq, OK: true}
	switch {
	case last.Seq < head.Seq:
		v.OK, v.FirstBadSeq = false, last.Seq+1
		v.Problem = missing(last.Seq+1, head.Seq) + fmt.Sprintf(": the head records %d events", head.Seq)
	case last.Seq > head.Seq:
		v.OK, v.FirstBadSeq = false, head.Seq+1
		v.Problem = fmt.Sprintf("events %d to %d were added without moving the head, which records %d events", head.Seq+1, last.Seq, head.Seq)
	case !bytes.Equal(last.Hash, head.Hash) && head.Seq == 0:
		v.OK, v.FirstBadSeq = false, 1
		v.Problem = "the head of the empty trail is not the genesis hash"
	case !bytes.Equal(last.Hash, head.Hash):
		v.OK, v.FirstBadSeq = false, head.Seq
		v.Problem = fmt.Sprintf("the head's hash is not event %d's", head.Seq)
	}
	return v, nil
}

// brokenAt describes the first break the walk found: the nth event, seq, came
// after prevSeq (0 for the first event).
func brokenAt(n, seq, prevSeq int64, problem string) AuditVerification {
	v := AuditVerification{Checked: n, FirstBadSeq: seq}
	switch problem {
	case "missing":
		v.FirstBadSeq = prevSeq + 1
		v.Problem = missing(prevSeq+1, seq-1)
	case "genesis":
		v.Problem = fmt.Sprintf("event %d does not follow the genesis hash", seq)
	case "unlinked":
		v.Problem = fmt.Sprintf("event %d's prev_hash is not event %d's hash: one of them was altered", seq, prevSeq)
	case "altered":
		v.Problem = fmt.Sprintf("event %d's contents do not match its hash: it was altered", seq)
	default:
		v.Problem = problem
	}
	return v
}

// missing says that events from to to are missing.
func missing(from, to int64) string {
	if from == to {
		return fmt.Sprintf("event %d is missing", from)
	}
	return fmt.Sprintf("events %d to %d are missing", from, to)
}

// auditCondition limits events to those the actor may read: national
// reference data (no PCN), and its PCNs' events. For a commissioner's staff,
// a claim's events follow the claim — they belong to the commissioner of its
// month, as GetClaim does — and other events to the PCNs it commissions now.
func auditCondition(ctx context.Context, a *args) string {
	s := scopeOf(ctx)
	if s.kind != scopeCommissioner {
		return "(pcn_code IS NULL OR " + pcnCondition(ctx, "pcn_code", a) + ")"
	}
	c := a.add(s.code)
	return `(pcn_code IS NULL
		OR (split_part(resource, '/', 3) <> 'claims' AND pcn_code IN (SELECT code FROM pcns WHERE commissioner_code = ` + c + `))
		OR (split_part(resource, '/', 3) = 'claims' AND EXISTS (SELECT 1 FROM claims cl
			WHERE cl.pcn_code = audit_events.pcn_code AND cl.id = split_part(resource, '/', 4) AND cl.commissioner_code = ` + c + `)))`
}
