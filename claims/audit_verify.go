package claims

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"time"
)

// AuditCheckpoint is a signed statement of every chain's head at a moment,
// after RFC 9162's signed tree heads: published outside the database (a
// directory, a log shipper, a witness polling for it), it lets verification
// show that no chain has since lost events or been rewritten up to that
// point, which the chains alone cannot show against someone who can rewrite
// the database and its heads.
type AuditCheckpoint struct {
	// Time is the database's time when the heads were read.
	Time time.Time
	// Heads are the chains' newest events, by chain.
	Heads []ChainHead
	// KeyID names the key that signed it; Signature is Ed25519 over
	// SignedBytes.
	KeyID     string
	Signature []byte
}

// ChainHead is a chain's newest event: its place and MAC.
type ChainHead struct {
	Chain string
	Seq   int64
	MAC   []byte
}

// Events is how many events the checkpoint covers.
func (c AuditCheckpoint) Events() int64 {
	var n int64
	for _, h := range c.Heads {
		n += h.Seq
	}
	return n
}

// SignedBytes is what the signature covers: a versioned text listing the
// time and each head, one a line, in chain order.
func (c AuditCheckpoint) SignedBytes() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "arrs audit checkpoint v1\n%d\n", c.Time.UnixMicro())
	for _, h := range c.Heads {
		fmt.Fprintf(&b, "%s %d %s\n", h.Chain, h.Seq, hex.EncodeToString(h.MAC))
	}
	return b.Bytes()
}

// Digest identifies the checkpoint: SHA-256 of its signed bytes.
func (c AuditCheckpoint) Digest() string {
	d := sha256.Sum256(c.SignedBytes())
	return hex.EncodeToString(d[:])
}

// CheckpointAudit reads every chain's head at one moment and signs them.
// Publishing the result outside the database is the caller's part.
func (s *Store) CheckpointAudit(ctx context.Context) (AuditCheckpoint, error) {
	var rows []struct {
		Chain string    `db:"chain"`
		Seq   int64     `db:"seq"`
		MAC   []byte    `db:"mac"`
		Now   time.Time `db:"now"`
	}
	// One statement sees one snapshot; an empty trail still has a time.
	if err := s.db.SelectContext(ctx, &rows, `SELECT n.now, h.chain, h.seq, h.mac
		FROM (SELECT now()) AS n(now)
		LEFT JOIN audit_heads h ON h.seq > 0
		ORDER BY h.chain`); err != nil {
		return AuditCheckpoint{}, fmt.Errorf("read audit heads: %w", err)
	}
	var c AuditCheckpoint
	for _, r := range rows {
		c.Time = r.Now
		if r.Chain != "" {
			c.Heads = append(c.Heads, ChainHead{r.Chain, r.Seq, r.MAC})
		}
	}
	c.KeyID, c.Signature = s.keys.Sign(c.SignedBytes())
	return c, nil
}

// AuditVerification is the outcome of checking the audit trail.
type AuditVerification struct {
	// Checked is how many events were examined: all of them when OK,
	// otherwise those up to and including the first break.
	Checked int64
	// Chains is how many chains were examined.
	Chains int
	// Checkpoints is how many checkpoints the trail was checked against.
	Checkpoints int
	// OK is true when every event is intact, authenticated and linked to
	// the one before in its chain, every chain ends at its head, and every
	// checkpoint's heads are in the trail.
	OK bool
	// Chain is the chain that breaks, FirstBadChainSeq the place in it and
	// FirstBadSeq the event there (0 when it is missing). Empty when OK.
	Chain            string
	FirstBadChainSeq int64
	FirstBadSeq      int64
	// Problem says what is wrong, in words.
	Problem string
}

// VerifyAudit checks the whole audit trail, and that it still holds every
// event the checkpoints recorded, reporting the first break. It detects an
// event whose contents, place or time no longer match its MAC (altered, or
// written without the key), a gap in a chain (removed events), an event
// that does not follow its predecessor, a head that is not its chain's
// newest event, and, given checkpoints, a chain rewound or rewritten since
// one was made. The checkpoints' signatures are checked first; one that
// does not verify is an error, not a break: it says nothing about the trail.
//
// It streams: one pass over the events in chain order, holding one event
// and each chain's checkpointed heads, so memory stays flat however long
// the trail.
func (s *Store) VerifyAudit(ctx context.Context, checkpoints ...AuditCheckpoint) (AuditVerification, error) {
	// Each chain's heads from the checkpoints, by place.
	want := map[string]map[int64][]checkpointHead{}
	for i, c := range checkpoints {
		if err := s.keys.Verify(c.KeyID, c.SignedBytes(), c.Signature); err != nil {
			return AuditVerification{}, &Error{Kind: KindInvalid, Reason: "INVALID_ARGUMENT", Message: "a checkpoint does not verify",
				Violations: []Violation{{Field: fmt.Sprintf("checkpoints[%d]", i), Rule: "CHECKPOINT_SIGNATURE",
					Description: fmt.Sprintf("the checkpoint of %s is not signed by a key this server holds: %v", c.Time.UTC().Format(time.RFC3339), err)}}}
		}
		for _, h := range c.Heads {
			if want[h.Chain] == nil {
				want[h.Chain] = map[int64][]checkpointHead{}
			}
			want[h.Chain][h.Seq] = append(want[h.Chain][h.Seq], checkpointHead{h, c.Time})
		}
	}

	// One snapshot for the heads and the events, so appends committing
	// meanwhile show as neither events beyond a head nor a missing head.
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return AuditVerification{}, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	heads := map[string]auditHead{}
	{
		var rows []struct {
			Chain string `db:"chain"`
			Seq   int64  `db:"seq"`
			MAC   []byte `db:"mac"`
		}
		if err := tx.SelectContext(ctx, &rows, `SELECT chain, seq, mac FROM audit_heads`); err != nil {
			return AuditVerification{}, fmt.Errorf("read audit heads: %w", err)
		}
		for _, r := range rows {
			heads[r.Chain] = auditHead{r.Seq, r.MAC}
		}
	}
	rows, err := tx.QueryxContext(ctx, `SELECT seq, chain, chain_seq, event_time, subject, role, organisation,
			rpc, request_id, resource, action, COALESCE(pcn_code, '') AS pcn_code, before::text AS before,
			after::text AS after, key_id, prev_mac, mac
		FROM audit_events ORDER BY chain, chain_seq`)
	if err != nil {
		return AuditVerification{}, fmt.Errorf("read audit events: %w", err)
	}
	defer func() { _ = rows.Close() }()

	w := verifier{store: s, heads: heads, want: want, checkpoints: len(checkpoints)}
	for rows.Next() {
		var r verifiedRow
		if err := rows.StructScan(&r); err != nil {
			return AuditVerification{}, fmt.Errorf("read audit event: %w", err)
		}
		r.Before, r.After = r.BeforeText, r.AfterText
		if v, broken := w.event(r); broken {
			return v, nil
		}
	}
	if err := rows.Err(); err != nil {
		return AuditVerification{}, fmt.Errorf("read audit events: %w", err)
	}
	return w.finish(), nil
}

type checkpointHead struct {
	ChainHead
	time time.Time
}

type verifiedRow struct {
	AuditEvent
	BeforeText []byte `db:"before"`
	AfterText  []byte `db:"after"`
	KeyID      string `db:"key_id"`
	PrevMAC    []byte `db:"prev_mac"`
	MAC        []byte `db:"mac"`
}

// verifier walks the events in chain order.
type verifier struct {
	store       *Store
	heads       map[string]auditHead
	want        map[string]map[int64][]checkpointHead
	checkpoints int
	seen        map[string]bool
	checked     int64
	chains      int
	chain       string // the chain being walked
	last        int64  // its last event's chain_seq
	lastMAC     []byte // and MAC
}

func (w *verifier) broken(chain string, chainSeq, seq int64, problem string, args ...any) (AuditVerification, bool) {
	return AuditVerification{Checked: w.checked, Chains: w.chains, Checkpoints: w.checkpoints,
		Chain: chain, FirstBadChainSeq: chainSeq, FirstBadSeq: seq,
		Problem: fmt.Sprintf("chain %s: ", chain) + fmt.Sprintf(problem, args...)}, true
}

// event checks the next event, first closing the chain before it if it is
// the first of its chain.
func (w *verifier) event(r verifiedRow) (AuditVerification, bool) {
	if r.Chain != w.chain {
		if w.chain != "" {
			if v, broken := w.endChain(); broken {
				return v, true
			}
		}
		w.chain, w.last, w.lastMAC = r.Chain, 0, auditGenesis(r.Chain)
		if r.Chain == "legacy" {
			w.lastMAC = legacyGenesis[:]
		}
		w.chains++
		if w.seen == nil {
			w.seen = map[string]bool{}
		}
		w.seen[r.Chain] = true
	}
	w.checked++
	switch {
	case r.ChainSeq != w.last+1:
		return w.broken(r.Chain, w.last+1, 0, "%s", missing(w.last+1, r.ChainSeq-1))
	case !bytes.Equal(r.PrevMAC, w.lastMAC) && w.last == 0:
		return w.broken(r.Chain, r.ChainSeq, r.Seq, "event %d (seq %d) does not start the chain", r.ChainSeq, r.Seq)
	case !bytes.Equal(r.PrevMAC, w.lastMAC):
		return w.broken(r.Chain, r.ChainSeq, r.Seq, "event %d (seq %d) does not follow event %d: one of them was altered", r.ChainSeq, r.Seq, w.last)
	}
	if problem := w.authentic(r); problem != "" {
		return w.broken(r.Chain, r.ChainSeq, r.Seq, "event %d (seq %d) %s", r.ChainSeq, r.Seq, problem)
	}
	for _, c := range w.want[r.Chain][r.ChainSeq] {
		if !bytes.Equal(c.MAC, r.MAC) {
			return w.broken(r.Chain, r.ChainSeq, r.Seq, "event %d (seq %d) is not the event the checkpoint of %s recorded: the chain was rewritten",
				r.ChainSeq, r.Seq, c.time.UTC().Format(time.RFC3339))
		}
	}
	w.last, w.lastMAC = r.ChainSeq, r.MAC
	return AuditVerification{}, false
}

// authentic checks the event's MAC (or, for a legacy event, its hash), and
// that it is in the chain its PCN belongs to. It says what is wrong, or "".
func (w *verifier) authentic(r verifiedRow) string {
	if r.KeyID == legacyKeyID {
		if r.Chain != "legacy" || r.ChainSeq != r.Seq {
			return "claims to be a legacy event but is not in the legacy chain at its seq"
		}
		if !bytes.Equal(legacyHash(r.PrevMAC, r.AuditEvent), r.MAC) {
			return "does not match its hash: it was altered"
		}
		return ""
	}
	if r.Chain != auditChain(r.PCNCode) {
		return fmt.Sprintf("belongs to chain %s, not this one: it was moved", auditChain(r.PCNCode))
	}
	body, err := auditBody(r.AuditEvent, false)
	if err != nil {
		return fmt.Sprintf("cannot be read: %v", err)
	}
	mac, err := w.store.keys.MAC(r.KeyID, auditMACInput(r.Chain, r.ChainSeq, r.Seq, r.Time, r.PrevMAC, sha256.Sum256(body)))
	if err != nil {
		return fmt.Sprintf("names a key this server does not hold (%q): it was forged, or the key file lacks a retired key", r.KeyID)
	}
	if !bytes.Equal(mac, r.MAC) {
		return "does not match its MAC: it was altered, or written without the key"
	}
	return ""
}

// endChain checks that the chain just walked ends at its head and reaches
// every place a checkpoint recorded.
func (w *verifier) endChain() (AuditVerification, bool) {
	h, ok := w.heads[w.chain]
	switch {
	case !ok:
		return w.broken(w.chain, w.last, 0, "has %d events but no head: the head was removed", w.last)
	case h.Seq < w.last:
		return w.broken(w.chain, h.Seq+1, 0, "events %d to %d were added without moving the head, which records %d", h.Seq+1, w.last, h.Seq)
	case h.Seq > w.last:
		return w.broken(w.chain, w.last+1, 0, "%s: the head records %d events", missing(w.last+1, h.Seq), h.Seq)
	case !bytes.Equal(h.MAC, w.lastMAC):
		return w.broken(w.chain, w.last, 0, "the head's MAC is not event %d's", w.last)
	}
	return w.reached(w.chain, w.last)
}

// reached fails when a checkpoint recorded more of chain than the trail
// has: events removed after the checkpoint, and the head rewound to match.
func (w *verifier) reached(chain string, last int64) (AuditVerification, bool) {
	var beyond []checkpointHead
	for seq, cs := range w.want[chain] {
		if seq > last {
			beyond = append(beyond, cs...)
		}
	}
	if len(beyond) == 0 {
		return AuditVerification{}, false
	}
	c := slices.MaxFunc(beyond, func(a, b checkpointHead) int { return int(a.Seq - b.Seq) })
	return w.broken(chain, last+1, 0, "the checkpoint of %s recorded %d events, the trail has %d: %s",
		c.time.UTC().Format(time.RFC3339), c.Seq, last, missing(last+1, c.Seq))
}

// finish closes the last chain and checks the chains with no events at all.
func (w *verifier) finish() AuditVerification {
	if w.chain != "" {
		if v, broken := w.endChain(); broken {
			return v
		}
	}
	var empty []string
	for c := range w.heads {
		if !w.seen[c] {
			empty = append(empty, c)
		}
	}
	for c := range w.want {
		if !w.seen[c] {
			empty = append(empty, c)
		}
	}
	slices.Sort(empty)
	for _, c := range slices.Compact(empty) {
		if h := w.heads[c]; h.Seq > 0 {
			v, _ := w.broken(c, 1, 0, "%s: the head records %d events", missing(1, h.Seq), h.Seq)
			return v
		}
		if v, broken := w.reached(c, 0); broken {
			return v
		}
	}
	return AuditVerification{Checked: w.checked, Chains: w.chains, Checkpoints: w.checkpoints, OK: true}
}

// missing says that events from to to are missing.
func missing(from, to int64) string {
	if from == to {
		return fmt.Sprintf("event %d is missing", from)
	}
	return fmt.Sprintf("events %d to %d are missing", from, to)
}

// AuditPublicKey is the key id's checkpoint verification key, which
// witnesses keep.
func (s *Store) AuditPublicKey(keyID string) ([]byte, error) {
	return s.keys.PublicKey(keyID)
}
