package claims

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// AuditEvent is one write to arrs as it happened: who made it, through which
// call, to which resource, and the resource before and after. Events are
// never changed or removed (the database refuses). Each joins the chain of
// its PCN (reference data: the chain "national") and carries a MAC, made
// with a key the database never holds, over its contents, its place in the
// chain and its predecessor's MAC; so VerifyAudit can tell when someone who
// can bypass the database's refusal has changed, removed or added events.
type AuditEvent struct {
	// Seq names the event and orders the whole trail. It increases, with
	// gaps where a transaction rolled back; events of different chains may
	// commit out of seq order, so a reader following the trail as it grows
	// should follow one chain, whose ChainSeq has no gaps.
	Seq int64 `db:"seq"`
	// Chain is the chain the event belongs to: its PCN's code, "national"
	// for reference data, "legacy" for events recorded before the chains.
	Chain string `db:"chain"`
	// ChainSeq counts the chain's events from 1 without gaps.
	ChainSeq int64 `db:"chain_seq"`
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
	return s.inTx(ctx, func(tx *txn) error {
		return s.appendAudits(ctx, tx, events)
	})
}

const auditEventColumns = `seq, chain, chain_seq, event_time, subject, role, organisation, rpc, request_id, resource, action,
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
