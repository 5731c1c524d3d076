package server

import (
	"context"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// funding serves arrs.v1.FundingService.
type funding struct {
	arrsv1.UnimplementedFundingServiceServer
	store *claims.Store
}

func financialYearProto(y claims.FundingYear) *arrsv1.FinancialYear {
	return &arrsv1.FinancialYear{
		Name:                   y.Name(),
		StartDate:              y.Year.Start().String(),
		EndDate:                y.Year.End().String(),
		RatePerWeightedPatient: y.RatePerWeightedPatient.String(),
		ClaimsDeadline:         y.ClaimsDeadline.String(),
		NationalPoolPence:      y.NationalPoolPence,
		Illustrative:           y.Illustrative,
		Etag:                   claims.Etag(y.Revision),
		CreateTime:             timestamp(y.CreateTime),
		UpdateTime:             timestamp(y.UpdateTime),
	}
}

func (h *funding) GetFinancialYear(ctx context.Context, req *arrsv1.GetFinancialYearRequest) (*arrsv1.FinancialYear, error) {
	y, err := claims.ParseFinancialYearName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	out, err := h.store.GetFundingYear(ctx, y)
	if err != nil {
		return nil, err
	}
	return financialYearProto(out), nil
}

func (h *funding) ListFinancialYears(ctx context.Context, req *arrsv1.ListFinancialYearsRequest) (*arrsv1.ListFinancialYearsResponse, error) {
	page, err := parsePage(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListFundingYears(ctx, page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListFinancialYearsResponse{NextPageToken: tokenFor(next)}
	for _, y := range rows {
		resp.FinancialYears = append(resp.FinancialYears, financialYearProto(y))
	}
	return resp, nil
}

func (h *funding) CreateFinancialYear(ctx context.Context, req *arrsv1.CreateFinancialYearRequest) (*arrsv1.FinancialYear, error) {
	var vs claims.Violations
	y := claims.FundingYear{
		Year:                   parseYear(&vs, "financial_year_id", req.GetFinancialYearId()),
		RatePerWeightedPatient: parseDecimal(&vs, "financial_year.rate_per_weighted_patient", req.GetFinancialYear().GetRatePerWeightedPatient()),
		ClaimsDeadline:         parseDate(&vs, "financial_year.claims_deadline", req.GetFinancialYear().GetClaimsDeadline()),
		NationalPoolPence:      req.GetFinancialYear().GetNationalPoolPence(),
		Illustrative:           req.GetFinancialYear().GetIllustrative(),
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.CreateFundingYear(ctx, cr, y)
	if err != nil {
		return nil, err
	}
	return financialYearProto(out), nil
}

func (h *funding) UpdateFinancialYear(ctx context.Context, req *arrsv1.UpdateFinancialYearRequest) (*arrsv1.FinancialYear, error) {
	in := req.GetFinancialYear()
	year, err := claims.ParseFinancialYearName("financial_year.name", in.GetName())
	if err != nil {
		return nil, err
	}
	paths, err := updatePaths(req.GetUpdateMask(), "rate_per_weighted_patient", "claims_deadline",
		"national_pool_pence", "illustrative")
	if err != nil {
		return nil, err
	}
	var vs claims.Violations
	var rate claims.Decimal
	if paths["rate_per_weighted_patient"] {
		rate = parseDecimal(&vs, "financial_year.rate_per_weighted_patient", in.GetRatePerWeightedPatient())
	}
	deadline := parseDate(&vs, "financial_year.claims_deadline", in.GetClaimsDeadline())
	if err := vs.Err(); err != nil {
		return nil, err
	}
	out, err := h.store.UpdateFundingYear(ctx, year, in.GetEtag(), func(cur *claims.FundingYear) {
		if paths["rate_per_weighted_patient"] {
			cur.RatePerWeightedPatient = rate
		}
		if paths["claims_deadline"] {
			cur.ClaimsDeadline = deadline
		}
		if paths["national_pool_pence"] {
			cur.NationalPoolPence = in.GetNationalPoolPence()
		}
		if paths["illustrative"] {
			cur.Illustrative = in.GetIllustrative()
		}
	})
	if err != nil {
		return nil, err
	}
	return financialYearProto(out), nil
}

func entitlementProto(e claims.Entitlement) *arrsv1.Entitlement {
	return &arrsv1.Entitlement{
		Name:                   e.Name(),
		WeightedPopulation:     e.WeightedPopulation.String(),
		RatePerWeightedPatient: e.RatePerWeightedPatient.String(),
		AmountPence:            e.AmountPence(),
		Etag:                   claims.Etag(e.Revision),
		CreateTime:             timestamp(e.CreateTime),
		UpdateTime:             timestamp(e.UpdateTime),
	}
}

func (h *funding) GetEntitlement(ctx context.Context, req *arrsv1.GetEntitlementRequest) (*arrsv1.Entitlement, error) {
	pcn, year, err := claims.ParseEntitlementName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	out, err := h.store.GetEntitlement(ctx, pcn, year)
	if err != nil {
		return nil, err
	}
	return entitlementProto(out), nil
}

func (h *funding) ListEntitlements(ctx context.Context, req *arrsv1.ListEntitlementsRequest) (*arrsv1.ListEntitlementsResponse, error) {
	pcn, err := claims.ParsePCNParent("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	page, err := parsePage(req.GetPageSize(), req.GetPageToken(), pcn)
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListEntitlements(ctx, pcn, page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListEntitlementsResponse{NextPageToken: tokenFor(next, pcn)}
	for _, e := range rows {
		resp.Entitlements = append(resp.Entitlements, entitlementProto(e))
	}
	return resp, nil
}

func (h *funding) CreateEntitlement(ctx context.Context, req *arrsv1.CreateEntitlementRequest) (*arrsv1.Entitlement, error) {
	pcn, err := claims.ParsePCNName("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	var vs claims.Violations
	e := claims.Entitlement{
		PCNCode:            pcn,
		Year:               parseYear(&vs, "entitlement_id", req.GetEntitlementId()),
		WeightedPopulation: parseDecimal(&vs, "entitlement.weighted_population", req.GetEntitlement().GetWeightedPopulation()),
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.CreateEntitlement(ctx, cr, e)
	if err != nil {
		return nil, err
	}
	return entitlementProto(out), nil
}

func (h *funding) UpdateEntitlement(ctx context.Context, req *arrsv1.UpdateEntitlementRequest) (*arrsv1.Entitlement, error) {
	in := req.GetEntitlement()
	pcn, year, err := claims.ParseEntitlementName("entitlement.name", in.GetName())
	if err != nil {
		return nil, err
	}
	if _, err := updatePaths(req.GetUpdateMask(), "weighted_population"); err != nil {
		return nil, err
	}
	var vs claims.Violations
	pop := parseDecimal(&vs, "entitlement.weighted_population", in.GetWeightedPopulation())
	if err := vs.Err(); err != nil {
		return nil, err
	}
	out, err := h.store.UpdateEntitlement(ctx, pcn, year, in.GetEtag(), func(cur *claims.Entitlement) {
		cur.WeightedPopulation = pop
	})
	if err != nil {
		return nil, err
	}
	return entitlementProto(out), nil
}
