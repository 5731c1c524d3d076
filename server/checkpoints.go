package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// AuditCheckpoints says where the audit trail's signed checkpoints are
// published: somewhere the database's administrators cannot rewrite, so that
// the trail can later be checked against them (claims.AuditCheckpoint).
type AuditCheckpoints struct {
	// Dir, when set, receives one file per checkpoint, named by its time,
	// never rewritten; VerifyAuditChain checks the trail against the newest.
	// Ship it somewhere append-only (object storage with retention, a WORM
	// volume) to keep it from whoever administers this host.
	Dir string
	// Log, when set, receives each checkpoint as one JSON line, for a log
	// shipper to carry off the host.
	Log io.Writer
	// Interval is how often a checkpoint is published; 0 publishes only on
	// demand (PublishAuditCheckpoint).
	Interval time.Duration
}

// checkpoints publishes the audit checkpoints and remembers the newest.
type checkpoints struct {
	store  *claims.Store
	cfg    AuditCheckpoints
	logger *slog.Logger

	mu     sync.Mutex // serialises publishing, guards latest
	latest *arrsv1.AuditCheckpoint
}

// checkpointFileTime names checkpoint files and resources: sortable, and
// free of characters a file system or a URL path dislikes.
const checkpointFileTime = "20060102T150405.000000Z"

// publish makes a checkpoint and writes it to the configured sinks.
func (c *checkpoints) publish(ctx context.Context) (*arrsv1.AuditCheckpoint, error) {
	cp, err := c.store.CheckpointAudit(ctx)
	if err != nil {
		return nil, err
	}
	out, err := c.proto(cp)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	line, err := protojson.Marshal(out)
	if err != nil {
		return nil, err
	}
	if c.cfg.Dir != "" {
		if err := writeOnce(c.cfg.Dir, strings.TrimPrefix(out.GetName(), "auditCheckpoints/")+".json", line); err != nil {
			return nil, fmt.Errorf("publish audit checkpoint: %w", err)
		}
	}
	if c.cfg.Log != nil {
		if _, err := fmt.Fprintf(c.cfg.Log, "%s\n", line); err != nil {
			return nil, fmt.Errorf("publish audit checkpoint: %w", err)
		}
	}
	c.latest = out
	c.logger.InfoContext(ctx, "audit checkpoint published", "name", out.GetName(), "events", out.GetEvents(),
		"chains", len(out.GetHeads()), "digest", cp.Digest())
	return out, nil
}

// run publishes a checkpoint every Interval until ctx ends.
func (c *checkpoints) run(ctx context.Context) {
	if c.cfg.Interval <= 0 {
		return
	}
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := c.publish(ctx); err != nil && ctx.Err() == nil {
				c.logger.WarnContext(ctx, "audit checkpoint not published; trying again next interval", "err", err)
			}
		}
	}
}

// newest is the newest checkpoint published: this process's, or else the
// newest file in Dir, which another replica or an earlier run may have
// written. nil when there is none.
func (c *checkpoints) newest() (*arrsv1.AuditCheckpoint, error) {
	c.mu.Lock()
	latest := c.latest
	c.mu.Unlock()
	if c.cfg.Dir == "" {
		return latest, nil
	}
	entries, err := os.ReadDir(c.cfg.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return latest, nil
	}
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") && e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return latest, nil
	}
	newest := slices.Max(names)
	if latest != nil && strings.TrimPrefix(latest.GetName(), "auditCheckpoints/")+".json" >= newest {
		return latest, nil
	}
	data, err := os.ReadFile(filepath.Join(c.cfg.Dir, newest))
	if err != nil {
		return nil, err
	}
	var cp arrsv1.AuditCheckpoint
	if err := protojson.Unmarshal(data, &cp); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", newest, err)
	}
	return &cp, nil
}

func (c *checkpoints) proto(cp claims.AuditCheckpoint) (*arrsv1.AuditCheckpoint, error) {
	pub, err := c.store.AuditPublicKey(cp.KeyID)
	if err != nil {
		return nil, err
	}
	out := &arrsv1.AuditCheckpoint{
		Name:      "auditCheckpoints/" + cp.Time.UTC().Format(checkpointFileTime),
		Time:      timestamp(cp.Time),
		Events:    cp.Events(),
		KeyId:     cp.KeyID,
		Signature: cp.Signature,
		PublicKey: pub,
	}
	for _, h := range cp.Heads {
		out.Heads = append(out.Heads, &arrsv1.AuditChainHead{Chain: h.Chain, Seq: h.Seq, Mac: h.MAC})
	}
	return out, nil
}

// checkpointFromProto reads a checkpoint a caller kept. Its signature is
// checked by the store, against the keys it holds, not the public key the
// message carries.
func checkpointFromProto(p *arrsv1.AuditCheckpoint) claims.AuditCheckpoint {
	cp := claims.AuditCheckpoint{Time: p.GetTime().AsTime(), KeyID: p.GetKeyId(), Signature: p.GetSignature()}
	for _, h := range p.GetHeads() {
		cp.Heads = append(cp.Heads, claims.ChainHead{Chain: h.GetChain(), Seq: h.GetSeq(), MAC: h.GetMac()})
	}
	return cp
}

// writeOnce writes a new file in dir that is never partly there: written
// beside it, synced, then renamed into place, refusing to replace one.
func writeOnce(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	final := filepath.Join(dir, name)
	if _, err := os.Stat(final); err == nil {
		return fmt.Errorf("%s exists", final)
	}
	tmp, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	if err := errors.Join(werr, tmp.Sync(), tmp.Chmod(0o444), tmp.Close()); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return nil
}
