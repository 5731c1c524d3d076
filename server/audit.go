package server

import (
	"context"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// audit serves arrs.v1.AuditService.
type audit struct {
	arrsv1.UnimplementedAuditServiceServer
	store *claims.Store
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

func (h *audit) VerifyAuditChain(ctx context.Context, _ *arrsv1.VerifyAuditChainRequest) (*arrsv1.VerifyAuditChainResponse, error) {
	v, err := h.store.VerifyAudit(ctx)
	if err != nil {
		return nil, err
	}
	return &arrsv1.VerifyAuditChainResponse{Ok: v.OK, EventsChecked: v.Checked, FirstBadSeq: v.FirstBadSeq, Problem: v.Problem}, nil
}
