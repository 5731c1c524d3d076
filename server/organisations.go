package server

import (
	"context"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// organisations serves arrs.v1.OrganisationService.
type organisations struct {
	arrsv1.UnimplementedOrganisationServiceServer
	store *claims.Store
}

var commissionerKinds = map[arrsv1.Commissioner_Kind]claims.CommissionerKind{
	arrsv1.Commissioner_KIND_CCG: claims.KindCCG,
	arrsv1.Commissioner_KIND_ICB: claims.KindICB,
}

var commissionerKindsOut = reverse(commissionerKinds)

func commissionerProto(c claims.Commissioner) *arrsv1.Commissioner {
	return &arrsv1.Commissioner{
		Name:        c.Name(),
		DisplayName: c.DisplayName,
		Kind:        commissionerKindsOut[c.Kind],
		ValidFrom:   c.ValidFrom.String(),
		ValidTo:     c.ValidTo.String(),
		Etag:        claims.Etag(c.Revision),
		CreateTime:  timestamp(c.CreateTime),
		UpdateTime:  timestamp(c.UpdateTime),
	}
}

func (h *organisations) GetCommissioner(ctx context.Context, req *arrsv1.GetCommissionerRequest) (*arrsv1.Commissioner, error) {
	code, err := claims.ParseCommissionerName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	c, err := h.store.GetCommissioner(ctx, code)
	if err != nil {
		return nil, err
	}
	return commissionerProto(c), nil
}

func (h *organisations) ListCommissioners(ctx context.Context, req *arrsv1.ListCommissionersRequest) (*arrsv1.ListCommissionersResponse, error) {
	page, err := parsePage(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListCommissioners(ctx, page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListCommissionersResponse{NextPageToken: tokenFor(next)}
	for _, c := range rows {
		resp.Commissioners = append(resp.Commissioners, commissionerProto(c))
	}
	return resp, nil
}

// commissionerFields reads the writable fields of a commissioner message.
func commissionerFields(vs *claims.Violations, in *arrsv1.Commissioner) claims.Commissioner {
	return claims.Commissioner{
		Kind:        commissionerKinds[in.GetKind()],
		DisplayName: in.GetDisplayName(),
		ValidFrom:   parseDate(vs, "commissioner.valid_from", in.GetValidFrom()),
		ValidTo:     parseDate(vs, "commissioner.valid_to", in.GetValidTo()),
	}
}

func (h *organisations) CreateCommissioner(ctx context.Context, req *arrsv1.CreateCommissionerRequest) (*arrsv1.Commissioner, error) {
	var vs claims.Violations
	c := commissionerFields(&vs, req.GetCommissioner())
	c.Code = req.GetCommissionerId()
	if err := vs.Err(); err != nil {
		return nil, err
	}
	r, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.CreateCommissioner(ctx, r, c)
	if err != nil {
		return nil, err
	}
	return commissionerProto(out), nil
}

func (h *organisations) UpdateCommissioner(ctx context.Context, req *arrsv1.UpdateCommissionerRequest) (*arrsv1.Commissioner, error) {
	in := req.GetCommissioner()
	code, err := claims.ParseCommissionerName("commissioner.name", in.GetName())
	if err != nil {
		return nil, err
	}
	paths, err := updatePaths(req.GetUpdateMask(), "display_name", "valid_from", "valid_to")
	if err != nil {
		return nil, err
	}
	var vs claims.Violations
	c := commissionerFields(&vs, in)
	if err := vs.Err(); err != nil {
		return nil, err
	}
	out, err := h.store.UpdateCommissioner(ctx, code, in.GetEtag(), func(cur *claims.Commissioner) {
		if paths["display_name"] {
			cur.DisplayName = c.DisplayName
		}
		if paths["valid_from"] {
			cur.ValidFrom = c.ValidFrom
		}
		if paths["valid_to"] {
			cur.ValidTo = c.ValidTo
		}
	})
	if err != nil {
		return nil, err
	}
	return commissionerProto(out), nil
}

var weightingZones = map[arrsv1.WeightingZone]claims.WeightingZone{
	arrsv1.WeightingZone_WEIGHTING_ZONE_NATIONAL:     claims.ZoneNational,
	arrsv1.WeightingZone_WEIGHTING_ZONE_OUTER_LONDON: claims.ZoneOuterLondon,
	arrsv1.WeightingZone_WEIGHTING_ZONE_INNER_LONDON: claims.ZoneInnerLondon,
}

var payeeKinds = map[arrsv1.Payee_Kind]claims.PayeeKind{
	arrsv1.Payee_KIND_PRACTICE:    claims.PayeePractice,
	arrsv1.Payee_KIND_FEDERATION:  claims.PayeeFederation,
	arrsv1.Payee_KIND_TRUST:       claims.PayeeTrust,
	arrsv1.Payee_KIND_PCN_ACCOUNT: claims.PayeePCNAccount,
}

var (
	weightingZonesOut = reverse(weightingZones)
	payeeKindsOut     = reverse(payeeKinds)
)

func pcnProto(p claims.PCN) *arrsv1.Pcn {
	out := &arrsv1.Pcn{
		Name:         p.Name(),
		DisplayName:  p.DisplayName,
		Commissioner: claims.Commissioner{Code: p.CommissionerCode}.Name(),
		NominatedPayee: &arrsv1.Payee{
			Kind:        payeeKindsOut[p.PayeeKind],
			OdsCode:     p.PayeeODSCode,
			DisplayName: p.PayeeName,
		},
		WeightingZone:      weightingZonesOut[p.Zone],
		RegisteredListSize: p.ListSize,
		SubIcbLocation:     claims.SubICBLocationName(p.CommissionerCode, string(p.SubICBLocationCode)),
		Etag:               claims.Etag(p.Revision),
		CreateTime:         timestamp(p.CreateTime),
		UpdateTime:         timestamp(p.UpdateTime),
	}
	for _, pr := range p.Practices {
		out.MemberPractices = append(out.MemberPractices, &arrsv1.Practice{OdsCode: pr.ODSCode, DisplayName: pr.DisplayName})
	}
	return out
}

// pcnFields reads the writable fields of a PCN message.
func pcnFields(vs *claims.Violations, in *arrsv1.Pcn) claims.PCN {
	p := claims.PCN{
		DisplayName:  in.GetDisplayName(),
		Zone:         weightingZones[in.GetWeightingZone()],
		ListSize:     in.GetRegisteredListSize(),
		PayeeKind:    payeeKinds[in.GetNominatedPayee().GetKind()],
		PayeeODSCode: in.GetNominatedPayee().GetOdsCode(),
		PayeeName:    in.GetNominatedPayee().GetDisplayName(),
	}
	if in.GetCommissioner() != "" {
		code, err := claims.ParseCommissionerName("pcn.commissioner", in.GetCommissioner())
		vs.Take(err)
		p.CommissionerCode = code
	}
	vs.Take(p.SetSubICBLocation("pcn.sub_icb_location", in.GetSubIcbLocation()))
	for _, pr := range in.GetMemberPractices() {
		p.Practices = append(p.Practices, claims.Practice{ODSCode: pr.GetOdsCode(), DisplayName: pr.GetDisplayName()})
	}
	return p
}

func (h *organisations) GetPcn(ctx context.Context, req *arrsv1.GetPcnRequest) (*arrsv1.Pcn, error) {
	code, err := claims.ParsePCNName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	p, err := h.store.GetPCN(ctx, code)
	if err != nil {
		return nil, err
	}
	return pcnProto(p), nil
}

func (h *organisations) ListPcns(ctx context.Context, req *arrsv1.ListPcnsRequest) (*arrsv1.ListPcnsResponse, error) {
	commissioner := ""
	if req.GetCommissioner() != "" {
		var err error
		if commissioner, err = claims.ParseCommissionerName("commissioner", req.GetCommissioner()); err != nil {
			return nil, err
		}
	}
	page, err := parsePage(req.GetPageSize(), req.GetPageToken(), commissioner)
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListPCNs(ctx, commissioner, page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListPcnsResponse{NextPageToken: tokenFor(next, commissioner)}
	for _, p := range rows {
		resp.Pcns = append(resp.Pcns, pcnProto(p))
	}
	return resp, nil
}

func (h *organisations) CreatePcn(ctx context.Context, req *arrsv1.CreatePcnRequest) (*arrsv1.Pcn, error) {
	var vs claims.Violations
	p := pcnFields(&vs, req.GetPcn())
	p.Code = req.GetPcnId()
	if err := vs.Err(); err != nil {
		return nil, err
	}
	r, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.CreatePCN(ctx, r, p)
	if err != nil {
		return nil, err
	}
	return pcnProto(out), nil
}

func (h *organisations) UpdatePcn(ctx context.Context, req *arrsv1.UpdatePcnRequest) (*arrsv1.Pcn, error) {
	in := req.GetPcn()
	code, err := claims.ParsePCNName("pcn.name", in.GetName())
	if err != nil {
		return nil, err
	}
	paths, err := updatePaths(req.GetUpdateMask(), "display_name", "commissioner", "sub_icb_location", "member_practices",
		"nominated_payee", "weighting_zone", "registered_list_size")
	if err != nil {
		return nil, err
	}
	var vs claims.Violations
	p := pcnFields(&vs, in)
	if err := vs.Err(); err != nil {
		return nil, err
	}
	out, err := h.store.UpdatePCN(ctx, code, in.GetEtag(), func(cur *claims.PCN) {
		if paths["display_name"] {
			cur.DisplayName = p.DisplayName
		}
		if paths["commissioner"] {
			cur.CommissionerCode = p.CommissionerCode
		}
		if paths["sub_icb_location"] {
			// Parsed above: setting it again cannot fail.
			_ = cur.SetSubICBLocation("pcn.sub_icb_location", in.GetSubIcbLocation())
		}
		if paths["member_practices"] {
			cur.Practices = p.Practices
		}
		if paths["nominated_payee"] {
			cur.PayeeKind, cur.PayeeODSCode, cur.PayeeName = p.PayeeKind, p.PayeeODSCode, p.PayeeName
		}
		if paths["weighting_zone"] {
			cur.Zone = p.Zone
		}
		if paths["registered_list_size"] {
			cur.ListSize = p.ListSize
		}
	})
	if err != nil {
		return nil, err
	}
	return pcnProto(out), nil
}

func subICBLocationProto(l claims.SubICBLocation) *arrsv1.SubIcbLocation {
	return &arrsv1.SubIcbLocation{
		Name:        l.Name(),
		DisplayName: l.DisplayName,
		Etag:        claims.Etag(l.Revision),
		CreateTime:  timestamp(l.CreateTime),
		UpdateTime:  timestamp(l.UpdateTime),
	}
}

func (h *organisations) GetSubIcbLocation(ctx context.Context, req *arrsv1.GetSubIcbLocationRequest) (*arrsv1.SubIcbLocation, error) {
	commissioner, code, err := claims.ParseSubICBLocationName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	l, err := h.store.GetSubICBLocation(ctx, commissioner, code)
	if err != nil {
		return nil, err
	}
	return subICBLocationProto(l), nil
}

func (h *organisations) ListSubIcbLocations(ctx context.Context, req *arrsv1.ListSubIcbLocationsRequest) (*arrsv1.ListSubIcbLocationsResponse, error) {
	commissioner, err := claims.ParseCommissionerParent("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	page, err := parsePage(req.GetPageSize(), req.GetPageToken(), commissioner)
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListSubICBLocations(ctx, commissioner, page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListSubIcbLocationsResponse{NextPageToken: tokenFor(next, commissioner)}
	for _, l := range rows {
		resp.SubIcbLocations = append(resp.SubIcbLocations, subICBLocationProto(l))
	}
	return resp, nil
}

func (h *organisations) CreateSubIcbLocation(ctx context.Context, req *arrsv1.CreateSubIcbLocationRequest) (*arrsv1.SubIcbLocation, error) {
	commissioner, err := claims.ParseCommissionerName("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	r, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.CreateSubICBLocation(ctx, r, claims.SubICBLocation{
		Code: req.GetSubIcbLocationId(), CommissionerCode: commissioner, DisplayName: req.GetSubIcbLocation().GetDisplayName(),
	})
	if err != nil {
		return nil, err
	}
	return subICBLocationProto(out), nil
}
