package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
	"arrs.nhs.uk/arrs/internal/pgtest"
)

// A checkpoint is published to the directory and the log, on demand and on
// the interval; a witness reads the newest; and verification uses it, so
// the newest events removed and the heads rewound afterwards are found.
func TestAuditCheckpointsArePublishedAndCatchARewind(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	db.SetMaxOpenConns(8)
	loadDemo(t, db)
	dir := filepath.Join(t.TempDir(), "checkpoints")
	var log syncBuffer
	r := startServerWith(t, claims.NewStore(db, claims.WithClock(demoClock())), func(c *Config) {
		c.AuditCheckpoints = AuditCheckpoints{Dir: dir, Log: &log, Interval: 50 * time.Millisecond}
	})
	audit := arrsv1.NewAuditServiceClient(r.conn)
	ctx := as(t.Context(), "national")

	published, err := audit.PublishAuditCheckpoint(ctx, &arrsv1.PublishAuditCheckpointRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var events int64
	for _, h := range published.GetHeads() {
		events += h.GetSeq()
	}
	if events == 0 || published.GetEvents() != events || len(published.GetSignature()) != 64 || len(published.GetPublicKey()) != 32 ||
		!strings.HasPrefix(published.GetName(), "auditCheckpoints/") {
		t.Fatalf("published = %v; want the demo's heads, signed", published)
	}
	file, err := os.ReadFile(filepath.Join(dir, strings.TrimPrefix(published.GetName(), "auditCheckpoints/")+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var fromFile arrsv1.AuditCheckpoint
	if err := protojson.Unmarshal(file, &fromFile); err != nil || !proto.Equal(&fromFile, published) {
		t.Fatalf("file = %s (%v), want the checkpoint published", file, err)
	}
	if !strings.Contains(logged(&log), published.GetName()) {
		t.Errorf("log = %q, want the checkpoint as a JSON line", logged(&log))
	}
	// The interval publishes more: the directory grows, files are never rewritten.
	deadline := time.Now().Add(5 * time.Second)
	for {
		entries, _ := os.ReadDir(dir)
		if len(entries) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d checkpoint files after 5 s at a 50 ms interval", len(entries))
		}
		time.Sleep(20 * time.Millisecond)
	}
	latest, err := audit.GetAuditCheckpoint(ctx, &arrsv1.GetAuditCheckpointRequest{Name: "auditCheckpoints/latest"})
	if err != nil || latest.GetName() < published.GetName() {
		t.Fatalf("latest = %v, %v; want one at least as new as %s", latest, err, published.GetName())
	}

	v, err := audit.VerifyAuditChain(ctx, &arrsv1.VerifyAuditChainRequest{Checkpoints: []*arrsv1.AuditCheckpoint{published}})
	if err != nil || !v.GetOk() || v.GetCheckpointsChecked() != 2 || v.GetEventsChecked() != events {
		t.Fatalf("VerifyAuditChain = %v, %v; want OK against the given and the newest published", v, err)
	}

	// A database superuser removes U12345's newest event and rewinds its
	// head: the chain alone is consistent, the checkpoints are not.
	tx := db.MustBeginTx(t.Context(), nil)
	tx.MustExec(`SET LOCAL session_replication_role = replica`)
	tx.MustExec(`DELETE FROM audit_events WHERE chain = 'U12345' AND chain_seq = (SELECT seq FROM audit_heads WHERE chain = 'U12345')`)
	tx.MustExec(`UPDATE audit_heads h SET seq = h.seq - 1, mac = (SELECT mac FROM audit_events e WHERE e.chain = 'U12345' AND e.chain_seq = h.seq - 1)
		WHERE chain = 'U12345'`)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	// Verified against the newest checkpoint a witness holds from before
	// the rewind: the interval goes on publishing, and a checkpoint signed
	// after the rewind records the rewound heads (what left the host before
	// the rewind is what catches it; docs/audit.md).
	v, err = audit.VerifyAuditChain(ctx, &arrsv1.VerifyAuditChainRequest{Checkpoints: []*arrsv1.AuditCheckpoint{latest}})
	if err != nil || v.GetOk() || v.GetChain() != "U12345" || !strings.Contains(v.GetProblem(), "the checkpoint of") {
		t.Fatalf("VerifyAuditChain after a rewind = %v, %v; want U12345 short of the published checkpoint", v, err)
	}

	// A checkpoint not signed by this server's key is refused, naming it.
	forged := proto.Clone(published).(*arrsv1.AuditCheckpoint)
	forged.Heads[0].Seq++
	_, err = audit.VerifyAuditChain(ctx, &arrsv1.VerifyAuditChainRequest{Checkpoints: []*arrsv1.AuditCheckpoint{forged}})
	if code, vs := violations(err); code != 3 || len(vs) != 1 || vs[0] != "checkpoints[0] CHECKPOINT_SIGNATURE" {
		t.Errorf("forged checkpoint: %v %v, want INVALID_ARGUMENT checkpoints[0] CHECKPOINT_SIGNATURE", code, vs)
	}
}

func logged(b *syncBuffer) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
