package migrations_test

import (
	"context"
	"strings"
	"testing"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/migrations"
)

// Events recorded before the per-PCN chains (migration 00009) become the
// frozen chain "legacy": still verified by their SHA-256 chain, now checked
// in Go, and nothing can join it afterwards.
func TestAuditChainsKeepTheLegacyTrailVerifiable(t *testing.T) {
	ctx := claims.WithActor(context.Background(), claims.System("test"))
	db := pgtest.NewDB(t)
	if err := migrations.UpTo(ctx, db.DB, 8); err != nil {
		t.Fatal(err)
	}
	// Three events as the single chain wrote them, hashed by its function.
	for seq := 1; seq <= 3; seq++ {
		if _, err := db.ExecContext(ctx, `WITH e AS (
				SELECT $1::bigint AS seq, now() AS t, (SELECT hash FROM audit_head) AS prev,
					'pcns/U12345/posts/ot-' || $1 AS resource, CASE WHEN $1 = 2 THEN NULL ELSE 'U12345' END AS pcn,
					jsonb_build_object('wte', 1.50, 'name', 'Zoë "quoted"', 'n', $1) AS after
			), ins AS (
				INSERT INTO audit_events SELECT seq, t, 'sub', 'pcn-manager', 'pcns/U12345', '/rpc', 'req', resource,
					'create', pcn, NULL, after, prev,
					audit_event_hash(prev, seq, t, 'sub', 'pcn-manager', 'pcns/U12345', '/rpc', 'req', resource, 'create', pcn, NULL, after)
				FROM e RETURNING seq, hash
			)
			UPDATE audit_head SET seq = ins.seq, hash = ins.hash FROM ins`, seq); err != nil {
			t.Fatal(err)
		}
	}
	if err := migrations.Up(ctx, db.DB); err != nil {
		t.Fatal(err)
	}
	s := claims.NewStore(db)
	if err := s.RecordAudit(ctx, "roles/r", "update", "", nil, map[string]int{"band": 7}); err != nil {
		t.Fatal(err)
	}
	events, _, err := s.ListAuditEvents(ctx, "", claims.Page{Size: 10})
	if err != nil || len(events) != 4 || events[0].Chain != "legacy" || events[2].ChainSeq != 3 ||
		events[3].Seq != 4 || events[3].Chain != "national" || events[3].ChainSeq != 1 {
		t.Fatalf("events = %+v, %v; want legacy 1-3, then national's first as seq 4", events, err)
	}
	if v, err := s.VerifyAudit(ctx); err != nil || !v.OK || v.Checked != 4 || v.Chains != 2 {
		t.Fatalf("VerifyAudit = %+v, %v; want 4 events in 2 chains, OK", v, err)
	}

	// Nothing joins the legacy chain, or claims its keyless status.
	for _, stmt := range []string{
		`INSERT INTO audit_events (seq, chain, chain_seq, event_time, subject, role, organisation, rpc, request_id,
			resource, action, key_id, prev_mac, mac)
		 SELECT 99, 'legacy', 4, now(), 's', 'r', 'o', 'rpc', 'req', 'x', 'a', 'sha256-v1', mac, mac FROM audit_events WHERE seq = 3`,
		`INSERT INTO audit_events (seq, chain, chain_seq, event_time, subject, role, organisation, rpc, request_id,
			resource, action, key_id, prev_mac, mac)
		 SELECT 99, 'national', 2, now(), 's', 'r', 'o', 'rpc', 'req', 'x', 'a', 'sha256-v1', mac, mac FROM audit_events WHERE seq = 4`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "audit_events_legacy_frozen") {
			t.Errorf("%s: %v, want audit_events_legacy_frozen", stmt, err)
		}
	}

	// A legacy event altered by someone able to bypass the triggers.
	tx := db.MustBeginTx(ctx, nil)
	tx.MustExecContext(ctx, `SET LOCAL session_replication_role = replica`)
	tx.MustExecContext(ctx, `UPDATE audit_events SET after = '{"wte": 0.1}' WHERE seq = 2`)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if v, err := s.VerifyAudit(ctx); err != nil || v.OK || v.Chain != "legacy" || v.FirstBadChainSeq != 2 ||
		!strings.Contains(v.Problem, "does not match its hash") {
		t.Fatalf("VerifyAudit after altering legacy event 2 = %+v, %v", v, err)
	}
}
