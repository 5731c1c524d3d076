package server

import (
	"context"
	"fmt"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// audit serves arrs.v1.AuditService.
type audit struct {
	arrsv1.UnimplementedAuditServiceServer
	store       *claims.Store
	checkpoints *checkpoints
}

func auditEventProto(e claims.AuditEvent) *arrsv1.AuditEvent {
	return &arrsv1.AuditEvent{
		Name:         e.Name(),
		EventTime:    timestamp(e.Time),
		Subject:      e.Subject,
		Role:         e.Role,
		Organisation: e.Organisation,
		Rpc:          e.RPC,
		RequestId:    e.RequestID,
		Resource:     e.Resource,
		Action:       e.Action,
		BeforeJson:   string(e.Before),
		AfterJson:    string(e.After),
		Chain:        e.Chain,
		ChainSeq:     e.ChainSeq,
	}
}

func (h *audit) ListAuditEvents(ctx context.Context, req *arrsv1.ListAuditEventsRequest) (*arrsv1.ListAuditEventsResponse, error) {
	page, err := parsePage(req.GetPageSize(), req.GetPageToken(), req.GetResource())
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListAuditEvents(ctx, req.GetResource(), page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListAuditEventsResponse{NextPageToken: tokenFor(next, req.GetResource())}
	for _, e := range rows {
		resp.AuditEvents = append(resp.AuditEvents, auditEventProto(e))
	}
	return resp, nil
}

// maxCheckpoints bounds the checkpoints one verification takes: each is
// signature-checked and held in memory while the trail streams past.
const maxCheckpoints = 100

func (h *audit) VerifyAuditChain(ctx context.Context, req *arrsv1.VerifyAuditChainRequest) (*arrsv1.VerifyAuditChainResponse, error) {
	if n := len(req.GetCheckpoints()); n > maxCheckpoints {
		return nil, claims.Invalid("checkpoints", "CHECKPOINTS_LIMIT", "at most %d checkpoints, not %d", maxCheckpoints, n)
	}
	var cps []claims.AuditCheckpoint
	for _, p := range req.GetCheckpoints() {
		cps = append(cps, checkpointFromProto(p))
	}
	// The newest checkpoint this server published too: the chains are
	// linked, so the trail holding it holds every earlier one's heads.
	newest, err := h.checkpoints.newest()
	if err != nil {
		return nil, fmt.Errorf("read published checkpoints: %w", err)
	}
	if newest != nil {
		cps = append(cps, checkpointFromProto(newest))
	}
	v, err := h.store.VerifyAudit(ctx, cps...)
	if err != nil {
		return nil, err
	}
	return &arrsv1.VerifyAuditChainResponse{Ok: v.OK, EventsChecked: v.Checked, FirstBadSeq: v.FirstBadSeq, Problem: v.Problem,
		ChainsChecked: int32(v.Chains), CheckpointsChecked: int32(v.Checkpoints), Chain: v.Chain, FirstBadChainSeq: v.FirstBadChainSeq}, nil
}

func (h *audit) PublishAuditCheckpoint(ctx context.Context, _ *arrsv1.PublishAuditCheckpointRequest) (*arrsv1.AuditCheckpoint, error) {
	return h.checkpoints.publish(ctx)
}

func (h *audit) GetAuditCheckpoint(ctx context.Context, req *arrsv1.GetAuditCheckpointRequest) (*arrsv1.AuditCheckpoint, error) {
	if req.GetName() != "auditCheckpoints/latest" {
		return nil, claims.Invalid("name", "RESOURCE_NAME", "only auditCheckpoints/latest can be read: keep each checkpoint as it is published")
	}
	cp, err := h.checkpoints.newest()
	if err != nil {
		return nil, fmt.Errorf("read published checkpoints: %w", err)
	}
	if cp == nil {
		// Nothing published yet (a new deployment, no sink): publish one,
		// so a witness asking always gets a checkpoint it can keep.
		return h.checkpoints.publish(ctx)
	}
	return cp, nil
}
