package claims_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/internal/auditkey"
	"arrs.nhs.uk/arrs/internal/pgtest"
)

// auditStore is a store over a fresh, empty database, with a national
// administrator's context: the audit tests need a trail they alone write to.
func auditStore(t *testing.T) (*claims.Store, context.Context) {
	t.Helper()
	t.Parallel()
	db := pgtest.NewDB(t)
	db.SetMaxOpenConns(8)
	return claims.NewStore(db), claims.WithActor(context.Background(), nationalAdmin)
}

var (
	nationalAdmin = claims.Actor{Subject: "admin@england.nhs.uk", Role: claims.RoleNationalAdministrator,
		OrgKind: claims.OrgNational, RPC: "/arrs.v1.CatalogueService/UpdateRole", RequestID: "req-national"}
	pcnManager = claims.Actor{Subject: "manager@u12345.nhs.uk", Role: claims.RolePCNManager,
		OrgKind: claims.OrgPCN, OrgCode: "U12345", RPC: "/arrs.v1.WorkforceService/FillPost", RequestID: "req-pcn"}
)

func record(t *testing.T, s *claims.Store, ctx context.Context, resource, action, pcn string, before, after any) {
	t.Helper()
	if err := s.RecordAudit(ctx, resource, action, pcn, before, after); err != nil {
		t.Fatalf("RecordAudit %s %s: %v", action, resource, err)
	}
}

func listAll(t *testing.T, s *claims.Store, ctx context.Context, resource string) []claims.AuditEvent {
	t.Helper()
	events, next, err := s.ListAuditEvents(ctx, resource, claims.Page{Size: 1000})
	if err != nil || next != "" {
		t.Fatalf("ListAuditEvents(%q) = next %q, %v", resource, next, err)
	}
	return events
}

func wantVerified(t *testing.T, s *claims.Store, checked int64) {
	t.Helper()
	v, err := s.VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK || v.Checked != checked || v.Problem != "" {
		t.Fatalf("VerifyAudit = %+v, want OK over %d events", v, checked)
	}
}

// wantJSON compares JSON by value: the trail returns jsonb's canonical form,
// with keys reordered and spaces added.
func wantJSON(t *testing.T, field string, got json.RawMessage, want any) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Errorf("%s = %s, want none", field, got)
		}
		return
	}
	var g, w any
	wb, _ := json.Marshal(want)
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s = %q: %v", field, got, err)
	}
	_ = json.Unmarshal(wb, &w)
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", field, got, wb)
	}
}

func TestAuditEventsRecordWhoDidWhatInOrder(t *testing.T) {
	s, ctx := auditStore(t)
	pcnCtx := claims.WithActor(ctx, pcnManager)
	const post = "pcns/U12345/posts/ot-frailty"
	planned := map[string]any{"state": "planned", "wte": "1.0000", "staffName": ""}
	filled := map[string]any{"state": "filled", "wte": "1.0000", "staffName": "Ada Lovelace"}
	var noPost *claims.Post // a typed nil is no value, as nil is

	start := time.Now()
	record(t, s, pcnCtx, post, "create", "U12345", noPost, planned)
	record(t, s, ctx, "roles/occupational-therapist", "update", "", map[string]int{"band": 6}, map[string]int{"band": 7})
	record(t, s, pcnCtx, post, "fill", "U12345", planned, filled)

	got := listAll(t, s, ctx, post)
	want := []struct {
		seq           int64
		actor         claims.Actor
		action        string
		before, after any
	}{
		{1, pcnManager, "create", nil, planned},
		{3, pcnManager, "fill", planned, filled},
	}
	if len(got) != len(want) {
		t.Fatalf("history of %s has %d events, want %d: %+v", post, len(got), len(want), got)
	}
	for i, w := range want {
		e := got[i]
		if e.Seq != w.seq || e.Name() != "auditEvents/"+strconv.FormatInt(w.seq, 10) || e.Resource != post || e.Action != w.action ||
			e.Subject != w.actor.Subject || e.Role != string(w.actor.Role) || e.Organisation != "pcns/U12345" ||
			e.RPC != w.actor.RPC || e.RequestID != w.actor.RequestID || e.PCNCode != "U12345" ||
			e.Chain != "U12345" || e.ChainSeq != int64(i+1) {
			t.Errorf("event %d = %+v, want seq %d %s by %+v", i, e, w.seq, w.action, w.actor)
		}
		if e.Time.Before(start.Add(-time.Minute)) || e.Time.After(time.Now().Add(time.Minute)) {
			t.Errorf("event %d time %v is not around now", i, e.Time)
		}
		wantJSON(t, fmt.Sprintf("event %d before", i), e.Before, w.before)
		wantJSON(t, fmt.Sprintf("event %d after", i), e.After, w.after)
	}

	all := listAll(t, s, ctx, "")
	if len(all) != 3 || all[1].Resource != "roles/occupational-therapist" || all[1].PCNCode != "" || all[1].Organisation != "national" ||
		all[1].Chain != "national" || all[1].ChainSeq != 1 {
		t.Errorf("every event = %+v, want the role update second, with no PCN, by national", all)
	}
	wantVerified(t, s, 3)
}

func TestStoreWritesAreAudited(t *testing.T) {
	f := newFixture(t)
	// The fixture's writes went through the store: each appended its event.
	events := listAll(t, f.store, f.ctx, "pcns/U12345")
	if len(events) != 1 || events[0].Action != "create" || events[0].PCNCode != "U12345" || events[0].Before != nil {
		t.Fatalf("history of pcns/U12345 = %+v, want one create", events)
	}
	var after struct{ Code, CommissionerCode string }
	if err := json.Unmarshal(events[0].After, &after); err != nil || after.Code != "U12345" || after.CommissionerCode != "QNQ" {
		t.Errorf("create event's after = %s (%v), want the PCN", events[0].After, err)
	}
	n := countRows(t, f, "audit_events")
	wantVerified(t, f.store, int64(n))

	// A refused write records nothing.
	_, err := f.store.CreatePCN(f.ctx, claims.Request{}, pcn("U12345", "A81009"))
	wantKind(t, err, claims.KindAlreadyExists)
	if got := countRows(t, f, "audit_events"); got != n {
		t.Errorf("a failed create left %d events, want %d", got, n)
	}
}

func TestAuditEventsPageBySeq(t *testing.T) {
	s, ctx := auditStore(t)
	for i := range 7 {
		record(t, s, ctx, "roles/r"+strconv.Itoa(i%2), "update", "", nil, map[string]int{"i": i})
	}
	tests := []struct {
		resource string
		size     int
		want     [][]int64
	}{
		{"", 3, [][]int64{{1, 2, 3}, {4, 5, 6}, {7}}},
		{"", 7, [][]int64{{1, 2, 3, 4, 5, 6, 7}}},
		{"roles/r0", 2, [][]int64{{1, 3}, {5, 7}}},
		{"roles/r1", 2, [][]int64{{2, 4}, {6}}},
		{"roles/none", 2, [][]int64{{}}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q by %d", tt.resource, tt.size), func(t *testing.T) {
			page := claims.Page{Size: tt.size}
			for i, want := range tt.want {
				events, next, err := s.ListAuditEvents(ctx, tt.resource, page)
				if err != nil {
					t.Fatal(err)
				}
				got := []int64{}
				for _, e := range events {
					got = append(got, e.Seq)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("page %d = %v, want %v", i, got, want)
				}
				wantNext := ""
				if i < len(tt.want)-1 {
					wantNext = events[len(events)-1].Name()
				}
				if next != wantNext {
					t.Fatalf("page %d next = %q, want %q", i, next, wantNext)
				}
				page.After = next
			}
		})
	}
	t.Run("malformed page key", func(t *testing.T) {
		for _, after := range []string{"auditEvents/x", "pcns/U12345", "auditEvents/0", "auditEvents/-1"} {
			_, _, err := s.ListAuditEvents(ctx, "", claims.Page{After: after, Size: 2})
			wantKind(t, err, claims.KindInvalid)
		}
	})
}

func TestAuditEventsAreScopedToTheReadersPCNs(t *testing.T) {
	s, ctx := auditStore(t)
	sys := claims.WithActor(context.Background(), claims.System("test"))
	// QNQ commissions U12345, QRL commissions U54321; creating them records
	// commissioners/… (reference data) and pcns/… (the PCN's own) events.
	for _, c := range []string{"QNQ", "QRL"} {
		must(t)(s.CreateCommissioner(sys, claims.Request{}, claims.Commissioner{
			Code: c, Kind: claims.KindICB, DisplayName: "ICB " + c, ValidFrom: day(t, "2022-07-01")}))
	}
	must(t)(s.CreatePCN(sys, claims.Request{}, pcn("U12345", "A81001")))
	other := pcn("U54321", "B82001")
	other.CommissionerCode = "QRL"
	must(t)(s.CreatePCN(sys, claims.Request{}, other))
	record(t, s, ctx, "roles/occupational-therapist", "create", "", nil, map[string]string{"id": "occupational-therapist"})
	record(t, s, ctx, "pcns/U12345/posts/ot-1", "create", "U12345", nil, map[string]string{"id": "ot-1"})
	record(t, s, ctx, "pcns/U54321/posts/ot-2", "create", "U54321", nil, map[string]string{"id": "ot-2"})

	reference := []string{"commissioners/QNQ", "commissioners/QRL", "roles/occupational-therapist"}
	ours := []string{"pcns/U12345", "pcns/U12345/posts/ot-1"}
	theirs := []string{"pcns/U54321", "pcns/U54321/posts/ot-2"}
	tests := []struct {
		name  string
		actor claims.Actor
		want  [][]string
	}{
		{"national sees everything", nationalAdmin, [][]string{reference, ours, theirs}},
		{"PCN sees its own and reference data", pcnManager, [][]string{reference, ours}},
		{"other PCN sees its own and reference data", claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector,
			OrgKind: claims.OrgPCN, OrgCode: "U54321"}, [][]string{reference, theirs}},
		{"commissioner sees the PCNs it commissions", claims.Actor{Subject: "approver", Role: claims.RoleCommissionerApprover,
			OrgKind: claims.OrgCommissioner, OrgCode: "QNQ"}, [][]string{reference, ours}},
		{"training hub sees reference data only", claims.Actor{Subject: "hub", Role: claims.RoleTrainingHubOfficer,
			OrgKind: claims.OrgTrainingHub, OrgCode: "TH1"}, [][]string{reference}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]bool{}
			for _, e := range listAll(t, s, claims.WithActor(ctx, tt.actor), "") {
				got[e.Resource] = true
			}
			want := map[string]bool{}
			for _, names := range tt.want {
				for _, n := range names {
					want[n] = true
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("sees %v, want %v", keys(got), keys(want))
			}
			// Asking for another PCN's resource by name shows nothing.
			if tt.actor.OrgKind == claims.OrgPCN && tt.actor.OrgCode == "U12345" {
				if events := listAll(t, s, claims.WithActor(ctx, tt.actor), "pcns/U54321"); len(events) != 0 {
					t.Errorf("U12345 sees pcns/U54321's history: %+v", events)
				}
			}
		})
	}
	if _, _, err := s.ListAuditEvents(context.Background(), "", claims.Page{Size: 10}); err == nil {
		t.Error("ListAuditEvents without an actor succeeded")
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// appRole makes a non-superuser role owning the audit tables of the database
// at dbURL, as the application's role does in production, and returns a
// connection to it as that role.
func appRole(t *testing.T, dbURL string, superuser *sqlx.DB) *sqlx.DB {
	t.Helper()
	ctx := context.Background()
	// Roles are cluster-wide and tests share the cluster: the name is unique.
	role := fmt.Sprintf("arrs_app_%d", rand.Uint64())
	password := strconv.FormatUint(rand.Uint64(), 36)
	if _, err := superuser.ExecContext(ctx, fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD '%s';
		GRANT ALL ON ALL TABLES IN SCHEMA public TO %[1]s;
		ALTER TABLE audit_events OWNER TO %[1]s;
		ALTER TABLE audit_heads OWNER TO %[1]s`, role, password)); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(role, password)
	app, err := sqlx.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = app.Close()
		// The role must own nothing before it can go; the database goes later.
		_, err := superuser.ExecContext(ctx, `REASSIGN OWNED BY `+role+` TO CURRENT_USER; DROP OWNED BY `+role+`; DROP ROLE `+role)
		if err != nil {
			t.Errorf("drop role %s: %v", role, err)
		}
	})
	var super bool
	if err := app.GetContext(ctx, &super, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`); err != nil || super {
		t.Fatalf("app role is superuser %v (%v), want an ordinary role", super, err)
	}
	return app
}

func TestAuditTrailIsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := claims.WithActor(context.Background(), nationalAdmin)
	dbURL := pgtest.NewDatabase(t)
	superuser, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = superuser.Close() })
	app := appRole(t, dbURL, superuser)
	// The application's role appends through the store as usual.
	s := claims.NewStore(app)
	for i := range 3 {
		record(t, s, ctx, "roles/r", "update", "", nil, map[string]int{"i": i})
	}
	statements := []string{
		`UPDATE audit_events SET action = 'delete' WHERE seq = 2`,
		`DELETE FROM audit_events WHERE seq = 3`,
		`TRUNCATE audit_events`,
		`DELETE FROM audit_heads`,
		`TRUNCATE audit_heads`,
		`UPDATE audit_heads SET seq = 2 WHERE chain = 'national'`,
		`UPDATE audit_heads SET seq = 9 WHERE chain = 'national'`,
		`UPDATE audit_heads SET chain = 'U12345' WHERE chain = 'national'`,
	}
	for _, conn := range []struct {
		name string
		db   *sqlx.DB
	}{{"owner", app}, {"superuser", superuser}} {
		for _, stmt := range statements {
			t.Run(conn.name+": "+stmt, func(t *testing.T) {
				_, err := conn.db.ExecContext(ctx, stmt)
				// Refused by the audit triggers, not for want of a privilege.
				var pqErr *pq.Error
				if !errors.As(err, &pqErr) || pqErr.Code != "42501" || !strings.Contains(pqErr.Where, "function audit_") {
					t.Fatalf("got %v, want insufficient_privilege (42501) raised by an audit trigger", err)
				}
			})
		}
	}
	wantVerified(t, s, 3)
}

// tamper runs stmts as the superuser with triggers off, as an attacker with
// superuser access could; SET LOCAL keeps that to this one transaction.
func tamper(t *testing.T, db *sqlx.DB, stmts string) {
	t.Helper()
	tx, err := db.BeginTxx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.Exec(`SET LOCAL session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(stmts); err != nil {
		t.Fatalf("tamper: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// The tampering an administrator of the database could do, and whether
// verification shows it: with no checkpoint, and against a checkpoint taken
// before the tampering (and kept outside the database).
func TestAuditVerificationFindsTampering(t *testing.T) {
	// Events 1 to 5 are U12345's (its chain, places 1 to 5); 6 is national.
	const forged = `INSERT INTO audit_events (seq, chain, chain_seq, event_time, subject, role, organisation, rpc,
			request_id, resource, action, pcn_code, before, after, key_id, prev_mac, mac)
		SELECT 7, chain, 6, event_time, subject, role, organisation, rpc, request_id, resource, 'approve',
			pcn_code, before, after, key_id, mac, sha256(mac)
		FROM audit_events WHERE seq = 5;`
	tests := []struct {
		name, tamper string
		// What verification says, without and with the checkpoint; ""
		// means it finds nothing.
		without, with string
	}{
		{"an event altered", `UPDATE audit_events SET after = '{"wte": "0.1"}' WHERE seq = 3`,
			"event 3 (seq 3) does not match its MAC", "event 3 (seq 3) does not match its MAC"},
		{"an actor altered", `UPDATE audit_events SET subject = 'someone else' WHERE seq = 2`,
			"event 2 (seq 2) does not match its MAC", "event 2 (seq 2) does not match its MAC"},
		{"an event's time altered", `UPDATE audit_events SET event_time = event_time - interval '1 day' WHERE seq = 4`,
			"event 4 (seq 4) does not match its MAC", "event 4 (seq 4) does not match its MAC"},
		{"an event renumbered", `UPDATE audit_events SET seq = 100 WHERE seq = 3`,
			"event 3 (seq 100) does not match its MAC", "event 3 (seq 100) does not match its MAC"},
		{"an event moved to another PCN", `UPDATE audit_events SET pcn_code = 'U54321' WHERE seq = 5`,
			"belongs to chain U54321", "belongs to chain U54321"},
		{"an event's MAC replaced by a hash anyone can compute", `UPDATE audit_events SET mac = sha256(mac) WHERE seq = 3`,
			"event 3 (seq 3) does not match its MAC", "event 3 (seq 3) does not match its MAC"},
		{"a middle event deleted", `DELETE FROM audit_events WHERE seq = 3`, "event 3 is missing", "event 3 is missing"},
		{"the oldest event deleted", `DELETE FROM audit_events WHERE seq = 1`, "event 1 is missing", "event 1 is missing"},
		{"the newest event deleted", `DELETE FROM audit_events WHERE seq = 5`,
			"event 5 is missing: the head records 5", "event 5 is missing: the head records 5"},
		{"the newest event deleted, the head rewound", `DELETE FROM audit_events WHERE seq = 5;
			UPDATE audit_heads SET seq = 4, mac = (SELECT mac FROM audit_events WHERE seq = 4) WHERE chain = 'U12345'`,
			"", "recorded 5 events, the trail has 4: event 5 is missing"},
		{"the whole trail truncated", `TRUNCATE audit_events, audit_heads`,
			"", "chain U12345: the checkpoint of"},
		{"a forged approval appended, the head moved", forged +
			`UPDATE audit_heads SET seq = 6, mac = (SELECT mac FROM audit_events WHERE seq = 7) WHERE chain = 'U12345'`,
			"event 6 (seq 7) does not match its MAC", "event 6 (seq 7) does not match its MAC"},
		{"a forged event added without the head", forged,
			"event 6 (seq 7) does not match its MAC", "event 6 (seq 7) does not match its MAC"},
		{"the head's MAC replaced", `UPDATE audit_heads SET mac = sha256(mac) WHERE chain = 'U12345'`,
			"the head's MAC is not event 5's", "the head's MAC is not event 5's"},
		{"the national chain's head removed", `DELETE FROM audit_heads WHERE chain = 'national'`,
			"chain national: has 1 events but no head", "chain national: has 1 events but no head"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ctx := auditStore(t)
			for i := range 5 {
				record(t, s, ctx, "pcns/U12345/posts/ot-1", "update", "U12345", map[string]int{"i": i}, map[string]int{"i": i + 1})
			}
			record(t, s, ctx, "roles/r", "update", "", nil, map[string]int{"band": 7})
			wantVerified(t, s, 6)
			cp, err := s.CheckpointAudit(ctx)
			if err != nil || cp.Events() != 6 || len(cp.Heads) != 2 {
				t.Fatalf("CheckpointAudit = %+v, %v; want 2 chains, 6 events", cp, err)
			}
			tamper(t, s.DB(), tt.tamper)
			for _, c := range []struct {
				name        string
				checkpoints []claims.AuditCheckpoint
				want        string
			}{{"without a checkpoint", nil, tt.without}, {"with a checkpoint", []claims.AuditCheckpoint{cp}, tt.with}} {
				v, err := s.VerifyAudit(ctx, c.checkpoints...)
				if err != nil {
					t.Fatal(err)
				}
				if c.want == "" {
					if !v.OK {
						t.Errorf("%s: VerifyAudit = %+v, want it to find nothing", c.name, v)
					}
					continue
				}
				if v.OK || !strings.Contains(v.Problem, c.want) {
					t.Errorf("%s: VerifyAudit = %+v, want a break saying %q", c.name, v, c.want)
				}
			}
		})
	}
}

// Someone who also holds the key (root on an arrsd host) can rewrite a
// chain so that every MAC verifies; a checkpoint published before shows
// it, up to the checkpoint.
func TestAuditCheckpointShowsAChainRewrittenWithTheKey(t *testing.T) {
	s, ctx := auditStore(t)
	post := func(i int) {
		record(t, s, ctx, "pcns/U12345/posts/ot-1", "update", "U12345", nil, map[string]int{"i": i})
	}
	for i := range 5 {
		post(i)
	}
	cp, err := s.CheckpointAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	post(5) // after the checkpoint
	// Rewind to 3 and write 3 other events with the key: a valid chain.
	tamper(t, s.DB(), `DELETE FROM audit_events WHERE chain_seq > 3;
		UPDATE audit_heads SET seq = 3, mac = (SELECT mac FROM audit_events WHERE chain_seq = 3) WHERE chain = 'U12345'`)
	for i := range 3 {
		post(100 + i)
	}
	if v, err := s.VerifyAudit(ctx); err != nil || !v.OK || v.Checked != 6 {
		t.Fatalf("without the checkpoint: VerifyAudit = %+v, %v; want OK: the rewrite is invisible", v, err)
	}
	v, err := s.VerifyAudit(ctx, cp)
	// The checkpoint holds the head, event 5: the rewrite shows there.
	if err != nil || v.OK || v.Chain != "U12345" || v.FirstBadChainSeq != 5 || !strings.Contains(v.Problem, "the chain was rewritten") {
		t.Fatalf("with the checkpoint: VerifyAudit = %+v, %v; want event 5 rewritten", v, err)
	}
}

func TestAuditCheckpointsMustBeSignedByTheServersKey(t *testing.T) {
	s, ctx := auditStore(t)
	record(t, s, ctx, "roles/r", "update", "", nil, map[string]int{"band": 7})
	cp, err := s.CheckpointAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other, err := auditkey.New("other", map[string][]byte{"other": []byte("another key altogether, 32 bytes or more")})
	if err != nil {
		t.Fatal(err)
	}
	otherCP, err := claims.NewStore(s.DB(), claims.WithAuditKeys(other)).CheckpointAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	edited := cp
	edited.Heads = []claims.ChainHead{{Chain: "national", Seq: 9, MAC: cp.Heads[0].MAC}}
	for name, c := range map[string]claims.AuditCheckpoint{"another server's": otherCP, "edited": edited} {
		_, err := s.VerifyAudit(ctx, cp, c)
		var e *claims.Error
		if !errors.As(err, &e) || e.Kind != claims.KindInvalid || len(e.Violations) != 1 ||
			e.Violations[0].Field != "checkpoints[1]" || e.Violations[0].Rule != "CHECKPOINT_SIGNATURE" {
			t.Errorf("%s checkpoint: err = %v, want checkpoints[1] CHECKPOINT_SIGNATURE", name, err)
		}
	}
	if v, err := s.VerifyAudit(ctx, cp); err != nil || !v.OK || v.Checkpoints != 1 {
		t.Errorf("VerifyAudit(own checkpoint) = %+v, %v", v, err)
	}
}

func TestAuditConcurrentAppendsFormOneGaplessChain(t *testing.T) {
	s, ctx := auditStore(t)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.RecordAudit(ctx, fmt.Sprintf("roles/r%d", i), "create", "", nil, map[string]int{"i": i})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	places := map[int64]bool{}
	for _, e := range listAll(t, s, ctx, "") {
		if e.Chain != "national" || e.ChainSeq < 1 || e.ChainSeq > n || places[e.ChainSeq] {
			t.Fatalf("event seq %d is at %s %d, want a place of its own in national 1..%d", e.Seq, e.Chain, e.ChainSeq, n)
		}
		places[e.ChainSeq] = true
		seen[e.Resource] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct events recorded, want %d", len(seen), n)
	}
	wantVerified(t, s, n)
}

func TestAuditAppendThatFailsWritesNothing(t *testing.T) {
	s, ctx := auditStore(t)
	tests := []struct {
		name   string
		ctx    context.Context
		before any
	}{
		{"no actor", context.Background(), nil},
		{"unmarshallable before", ctx, func() {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.RecordAudit(tt.ctx, "roles/r", "update", "", tt.before, map[string]int{"i": 1}); err == nil {
				t.Fatal("RecordAudit succeeded")
			}
		})
	}
	var head int64
	if err := s.DB().Get(&head, `SELECT (SELECT count(*) FROM audit_events) + (SELECT COALESCE(sum(seq), 0) FROM audit_heads)`); err != nil || head != 0 {
		t.Errorf("events + head seq = %d (%v), want 0", head, err)
	}
	wantVerified(t, s, 0)
}

// pinnedNow is the time now() gives in a pinnedStore's database.
var pinnedNow = time.Date(2025, 8, 1, 9, 30, 0, 123456000, time.UTC)

// pinnedStore is a store over a fresh, empty database in which now() is
// always pinnedNow, connected as the application's role, with a superuser
// connection to inspect it. Every append hashes its transaction's start, so
// trails written by different transactions can only be compared byte for
// byte once that is fixed: a public.now() shadows pg_catalog's for sessions
// whose search_path puts public first.
func pinnedStore(t *testing.T) (*claims.Store, *sqlx.DB) {
	t.Helper()
	dbURL := pgtest.NewDatabase(t)
	superuser, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = superuser.Close() })
	if _, err := superuser.Exec(`CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql IMMUTABLE
		AS $$ SELECT timestamptz '` + pinnedNow.Format("2006-01-02 15:04:05.999999Z07:00") + `' $$`); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", "public, pg_catalog")
	u.RawQuery = q.Encode()
	return claims.NewStore(appRole(t, u.String(), superuser)), superuser
}

// auditRows is every event as stored, the hashes and the hashed time
// included, and then the head.
func auditRows(t *testing.T, db *sqlx.DB) []string {
	t.Helper()
	var rows []string
	if err := db.Select(&rows, `SELECT concat_ws(' | ', seq, (extract(epoch FROM event_time) * 1000000)::bigint,
			subject, role, organisation, rpc, request_id, resource, action, COALESCE(pcn_code, '<null>'),
			COALESCE(before::text, '<null>'), COALESCE(after::text, '<null>'), chain, chain_seq, key_id,
			encode(prev_mac, 'hex'), encode(mac, 'hex'))
		FROM audit_events ORDER BY seq`); err != nil {
		t.Fatal(err)
	}
	var heads []string
	if err := db.Select(&heads, `SELECT concat_ws(' | ', 'head', chain, seq, encode(mac, 'hex')) FROM audit_heads ORDER BY chain`); err != nil {
		t.Fatal(err)
	}
	return append(rows, heads...)
}

// auditBatchOf50 is 50 events of every shape: reference data and PCNs',
// creates with a typed nil before, values that marshal to objects, arrays,
// strings and numbers, keys jsonb reorders, text encoding/json escapes.
func auditBatchOf50() []claims.AuditRecord {
	var noPost *claims.Post
	events := make([]claims.AuditRecord, 50)
	for i := range events {
		e := claims.AuditRecord{Resource: fmt.Sprintf("pcns/U12345/posts/ot-%d", i), Action: "update", PCNCode: "U12345",
			Before: map[string]int{"i": i}, After: map[string]int{"i": i + 1}}
		switch i % 5 {
		case 0:
			e.Resource, e.Action, e.PCNCode = fmt.Sprintf("roles/r%d", i), "create", ""
			e.Before, e.After = noPost, map[string]any{"zeta": i, "alpha": "Zoë <b> & \u2028 \"quoted\"", "band": 7}
		case 1:
			e.Before, e.After = json.RawMessage(`{"wte": 1.50, "lines": [1, "2", null, {"z": true, "a": 0.10}]}`), "a JSON string"
		case 2:
			e.Resource, e.PCNCode, e.Action = fmt.Sprintf("pcns/U54321/claims/2025-%02d", i%12+1), "U54321", "submit"
			e.After = []any{i, 12345678901234567, -0.5}
		case 3:
			e.Action, e.After = "end", nil
		}
		events[i] = e
	}
	return events
}

func TestAuditBatchAppendsWhatSingleAppendsWould(t *testing.T) {
	t.Parallel()
	ctx := claims.WithActor(context.Background(), pcnManager)
	batched, batchedDB := pinnedStore(t)
	single, singleDB := pinnedStore(t)
	// The same three events first, so that the batch starts from a head
	// other than the genesis.
	for _, s := range []*claims.Store{batched, single} {
		for i := range 3 {
			record(t, s, ctx, "roles/r", "update", "", map[string]int{"i": i}, map[string]int{"i": i + 1})
		}
	}
	events := auditBatchOf50()
	if err := batched.RecordAudits(ctx, events); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		record(t, single, ctx, e.Resource, e.Action, e.PCNCode, e.Before, e.After)
	}

	wantVerified(t, batched, 53)
	wantVerified(t, single, 53)
	got, want := auditRows(t, batchedDB), auditRows(t, singleDB)
	if len(got) != len(want) {
		t.Fatalf("the batch left %d rows, single appends %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d after the batch:\n  %s\nafter single appends:\n  %s", i, got[i], want[i])
		}
	}

	// And the trail reads as written: the batch from seq 4 on, in order.
	all := listAll(t, batched, claims.WithActor(ctx, nationalAdmin), "")
	if len(all) != 53 {
		t.Fatalf("%d events, want 53", len(all))
	}
	for i, w := range events {
		e := all[3+i]
		if e.Seq != int64(4+i) || e.Resource != w.Resource || e.Action != w.Action || e.PCNCode != w.PCNCode ||
			e.Subject != pcnManager.Subject || e.RequestID != pcnManager.RequestID || !e.Time.Equal(pinnedNow) {
			t.Errorf("event %d = %+v, want seq %d %s %s", i, e, 4+i, w.Action, w.Resource)
		}
		before := w.Before
		if p, ok := before.(*claims.Post); ok && p == nil {
			before = nil
		}
		wantJSON(t, fmt.Sprintf("event %d before", i), e.Before, before)
		wantJSON(t, fmt.Sprintf("event %d after", i), e.After, w.After)
	}
}

func TestAuditEmptyBatchIsANoOp(t *testing.T) {
	s, ctx := auditStore(t)
	record(t, s, ctx, "roles/r", "create", "", nil, map[string]int{"i": 1})
	for _, events := range [][]claims.AuditRecord{nil, {}} {
		if err := s.RecordAudits(ctx, events); err != nil {
			t.Fatalf("RecordAudits(%#v) = %v", events, err)
		}
	}
	var n int64
	if err := s.DB().Get(&n, `SELECT (SELECT count(*) FROM audit_events) * 10 + (SELECT sum(seq) FROM audit_heads)`); err != nil || n != 11 {
		t.Errorf("10 × events + head seq = %d (%v), want 11", n, err)
	}
	wantVerified(t, s, 1)
}

func TestAuditBatchThatFailsWritesNothing(t *testing.T) {
	s, ctx := auditStore(t)
	batch := func(bad claims.AuditRecord) []claims.AuditRecord {
		events := auditBatchOf50()
		events[37] = bad
		return events
	}
	tests := []struct {
		name   string
		ctx    context.Context
		events []claims.AuditRecord
	}{
		{"no actor", context.Background(), auditBatchOf50()},
		{"unmarshallable after", ctx, batch(claims.AuditRecord{Resource: "roles/r", Action: "update", After: func() {}})},
		{"resource not UTF-8", ctx, batch(claims.AuditRecord{Resource: "roles/\xff", Action: "update"})},
		// Refused by the database, as it reads the batch.
		{"resource with a NUL", ctx, batch(claims.AuditRecord{Resource: "roles/\x00", Action: "update"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.RecordAudits(tt.ctx, tt.events); err == nil {
				t.Fatal("RecordAudits succeeded")
			}
		})
	}
	var head int64
	if err := s.DB().Get(&head, `SELECT (SELECT count(*) FROM audit_events) + (SELECT COALESCE(sum(seq), 0) FROM audit_heads)`); err != nil || head != 0 {
		t.Errorf("events + head seq = %d (%v), want 0", head, err)
	}
	wantVerified(t, s, 0)

	// Refused by the database part way through: an event slipped in where
	// the batch's U54321 events would go takes their chain's first place.
	tamper(t, s.DB(), `INSERT INTO audit_heads VALUES ('U54321', 0, NULL);
		INSERT INTO audit_events (seq, chain, chain_seq, event_time, subject, role, organisation, rpc,
			request_id, resource, action, key_id, prev_mac, mac)
		VALUES (1000, 'U54321', 1, now(), 's', 'r', 'o', 'rpc', 'req', 'roles/x', 'update', 'k', sha256(''), sha256(''))`)
	if err := s.RecordAudits(ctx, auditBatchOf50()); err == nil {
		t.Fatal("RecordAudits over a taken place succeeded")
	}
	var left string
	if err := s.DB().Get(&left, `SELECT concat_ws(' ', (SELECT string_agg(seq::text, ',') FROM audit_events),
		(SELECT sum(seq) FROM audit_heads))`); err != nil || left != "1000 0" {
		t.Errorf("events and heads' seqs = %q (%v), want the slipped-in 1000 and heads at 0", left, err)
	}
}

func TestAuditConcurrentBatchesStayWhole(t *testing.T) {
	s, ctx := auditStore(t)
	const batches, size = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, batches)
	for b := range batches {
		wg.Go(func() {
			events := make([]claims.AuditRecord, size)
			for i := range events {
				events[i] = claims.AuditRecord{Resource: fmt.Sprintf("roles/b%d", b), Action: "update", After: map[string]int{"i": i}}
			}
			errs <- s.RecordAudits(ctx, events)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	all := listAll(t, s, ctx, "")
	if len(all) != batches*size {
		t.Fatalf("%d events, want %d", len(all), batches*size)
	}
	// Each batch holds the head from its first event to its last, so its
	// events are consecutive in the chain, in its order.
	slices.SortFunc(all, func(a, b claims.AuditEvent) int { return int(a.ChainSeq - b.ChainSeq) })
	for i, e := range all {
		first := all[i-i%size]
		var after struct{ I int }
		if err := json.Unmarshal(e.After, &after); err != nil || e.ChainSeq != int64(i+1) || e.Resource != first.Resource || after.I != i%size {
			t.Fatalf("event %d = place %d %s %s (%v), want place %d %s {\"i\": %d}", i, e.ChainSeq, e.Resource, e.After, err, i+1, first.Resource, i%size)
		}
	}
	wantVerified(t, s, batches*size)
}
