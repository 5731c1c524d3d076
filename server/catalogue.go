package server

import (
	"context"
	"fmt"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// catalogue serves arrs.v1.CatalogueService.
type catalogue struct {
	arrsv1.UnimplementedCatalogueServiceServer
	store *claims.Store
}

var registers = map[arrsv1.ProfessionalRegister]claims.Register{
	arrsv1.ProfessionalRegister_PROFESSIONAL_REGISTER_NONE: claims.RegisterNone,
	arrsv1.ProfessionalRegister_PROFESSIONAL_REGISTER_HCPC: claims.RegisterHCPC,
	arrsv1.ProfessionalRegister_PROFESSIONAL_REGISTER_NMC:  claims.RegisterNMC,
	arrsv1.ProfessionalRegister_PROFESSIONAL_REGISTER_GPHC: claims.RegisterGPhC,
	arrsv1.ProfessionalRegister_PROFESSIONAL_REGISTER_GMC:  claims.RegisterGMC,
}

var registersOut = reverse(registers)

func roleProto(r claims.Role) *arrsv1.Role {
	out := &arrsv1.Role{
		Name:               r.Name(),
		DisplayName:        r.DisplayName,
		AfcBand:            r.AfCBand,
		Register:           registersOut[r.Register],
		RegistrationPrefix: r.RegistrationPrefix,
		ReimbursableFrom:   r.ReimbursableFrom.String(),
		ReimbursableTo:     r.ReimbursableTo.String(),
		Etag:               claims.Etag(r.Revision),
		CreateTime:         timestamp(r.CreateTime),
		UpdateTime:         timestamp(r.UpdateTime),
		Commissioner:       commissionerOf(r),
		Rules:              rulesProto(r.Rules),
		RetireTime:         optionalTimestamp(r.RetireTime),
	}
	for _, c := range r.HeadcountCaps {
		out.HeadcountCaps = append(out.HeadcountCaps, &arrsv1.HeadcountCap{
			FinancialYear:      c.FinancialYear.String(),
			MaxPosts:           c.MaxPosts,
			LargeListThreshold: c.LargeListThreshold,
			MaxPostsLargeList:  c.MaxPostsLargeList,
		})
	}
	return out
}

// roleFields reads the writable fields of a role message.
func roleFields(vs *claims.Violations, in *arrsv1.Role) claims.Role {
	r := claims.Role{
		DisplayName:        in.GetDisplayName(),
		AfCBand:            in.GetAfcBand(),
		Register:           registers[in.GetRegister()],
		RegistrationPrefix: in.GetRegistrationPrefix(),
		ReimbursableFrom:   parseDate(vs, "role.reimbursable_from", in.GetReimbursableFrom()),
		ReimbursableTo:     parseDate(vs, "role.reimbursable_to", in.GetReimbursableTo()),
	}
	r.Rules = ruleFields(vs, "role.rules", in.GetRules())
	for i, c := range in.GetHeadcountCaps() {
		r.HeadcountCaps = append(r.HeadcountCaps, claims.HeadcountCap{
			FinancialYear:      parseYear(vs, fmt.Sprintf("role.headcount_caps[%d].financial_year", i), c.GetFinancialYear()),
			MaxPosts:           c.GetMaxPosts(),
			LargeListThreshold: c.GetLargeListThreshold(),
			MaxPostsLargeList:  c.GetMaxPostsLargeList(),
		})
	}
	return r
}

func (h *catalogue) GetRole(ctx context.Context, req *arrsv1.GetRoleRequest) (*arrsv1.Role, error) {
	id, err := claims.ParseRoleName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	r, err := h.store.GetRole(ctx, id)
	if err != nil {
		return nil, err
	}
	return roleProto(r), nil
}

func (h *catalogue) ListRoles(ctx context.Context, req *arrsv1.ListRolesRequest) (*arrsv1.ListRolesResponse, error) {
	page, err := parsePage(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListRoles(ctx, page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListRolesResponse{NextPageToken: tokenFor(next)}
	for _, r := range rows {
		resp.Roles = append(resp.Roles, roleProto(r))
	}
	return resp, nil
}

func (h *catalogue) CreateRole(ctx context.Context, req *arrsv1.CreateRoleRequest) (*arrsv1.Role, error) {
	var vs claims.Violations
	r := roleFields(&vs, req.GetRole())
	r.ID = req.GetRoleId()
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.CreateRole(ctx, cr, r)
	if err != nil {
		return nil, err
	}
	return roleProto(out), nil
}

func (h *catalogue) UpdateRole(ctx context.Context, req *arrsv1.UpdateRoleRequest) (*arrsv1.Role, error) {
	in := req.GetRole()
	id, err := claims.ParseRoleName("role.name", in.GetName())
	if err != nil {
		return nil, err
	}
	paths, err := updatePaths(req.GetUpdateMask(), "display_name", "afc_band", "register", "registration_prefix",
		"reimbursable_from", "reimbursable_to", "headcount_caps", "rules")
	if err != nil {
		return nil, err
	}
	var vs claims.Violations
	r := roleFields(&vs, in)
	if err := vs.Err(); err != nil {
		return nil, err
	}
	out, err := h.store.UpdateRole(ctx, id, in.GetEtag(), func(cur *claims.Role) {
		if paths["display_name"] {
			cur.DisplayName = r.DisplayName
		}
		if paths["afc_band"] {
			cur.AfCBand = r.AfCBand
		}
		if paths["register"] {
			cur.Register = r.Register
		}
		if paths["registration_prefix"] {
			cur.RegistrationPrefix = r.RegistrationPrefix
		}
		if paths["reimbursable_from"] {
			cur.ReimbursableFrom = r.ReimbursableFrom
		}
		if paths["reimbursable_to"] {
			cur.ReimbursableTo = r.ReimbursableTo
		}
		if paths["headcount_caps"] {
			cur.HeadcountCaps = r.HeadcountCaps
		}
		if paths["rules"] {
			cur.Rules = r.Rules
		}
	})
	if err != nil {
		return nil, err
	}
	return roleProto(out), nil
}

func rateProto(r claims.Rate) *arrsv1.Rate {
	return &arrsv1.Rate{
		Name:                r.Name(),
		EffectiveDate:       r.EffectiveDate.String(),
		NationalMaxPence:    r.NationalPence,
		OuterLondonMaxPence: r.OuterLondonPence,
		InnerLondonMaxPence: r.InnerLondonPence,
		Source:              r.Source,
		Illustrative:        r.Illustrative,
		Etag:                claims.Etag(r.Revision),
		CreateTime:          timestamp(r.CreateTime),
		UpdateTime:          timestamp(r.UpdateTime),
	}
}

func rateFields(in *arrsv1.Rate) claims.Rate {
	return claims.Rate{
		NationalPence:    in.GetNationalMaxPence(),
		OuterLondonPence: in.OuterLondonMaxPence,
		InnerLondonPence: in.InnerLondonMaxPence,
		Source:           in.GetSource(),
		Illustrative:     in.GetIllustrative(),
	}
}

func (h *catalogue) GetRate(ctx context.Context, req *arrsv1.GetRateRequest) (*arrsv1.Rate, error) {
	role, date, err := claims.ParseRateName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	r, err := h.store.GetRate(ctx, role, date)
	if err != nil {
		return nil, err
	}
	return rateProto(r), nil
}

func (h *catalogue) ListRates(ctx context.Context, req *arrsv1.ListRatesRequest) (*arrsv1.ListRatesResponse, error) {
	role, err := claims.ParseRoleParent("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	page, err := parsePage(req.GetPageSize(), req.GetPageToken(), role)
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListRates(ctx, role, page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListRatesResponse{NextPageToken: tokenFor(next, role)}
	for _, r := range rows {
		resp.Rates = append(resp.Rates, rateProto(r))
	}
	return resp, nil
}

// newRate reads a rate to create (or to preview) under parent, a role.
func newRate(parent string, rate *arrsv1.Rate) (claims.Rate, error) {
	role, err := claims.ParseRoleName("parent", parent)
	if err != nil {
		return claims.Rate{}, err
	}
	var vs claims.Violations
	r := rateFields(rate)
	r.RoleID = role
	r.EffectiveDate = parseDate(&vs, "rate.effective_date", rate.GetEffectiveDate())
	return r, vs.Err()
}

func (h *catalogue) CreateRate(ctx context.Context, req *arrsv1.CreateRateRequest) (*arrsv1.Rate, error) {
	r, err := newRate(req.GetParent(), req.GetRate())
	if err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.CreateRate(ctx, cr, r)
	if err != nil {
		return nil, err
	}
	return rateProto(out), nil
}

func (h *catalogue) UpdateRate(ctx context.Context, req *arrsv1.UpdateRateRequest) (*arrsv1.Rate, error) {
	in := req.GetRate()
	role, date, err := claims.ParseRateName("rate.name", in.GetName())
	if err != nil {
		return nil, err
	}
	paths, err := updatePaths(req.GetUpdateMask(), "national_max_pence", "outer_london_max_pence",
		"inner_london_max_pence", "source", "illustrative")
	if err != nil {
		return nil, err
	}
	r := rateFields(in)
	out, err := h.store.UpdateRate(ctx, role, date, in.GetEtag(), func(cur *claims.Rate) {
		if paths["national_max_pence"] {
			cur.NationalPence = r.NationalPence
		}
		if paths["outer_london_max_pence"] {
			cur.OuterLondonPence = r.OuterLondonPence
		}
		if paths["inner_london_max_pence"] {
			cur.InnerLondonPence = r.InnerLondonPence
		}
		if paths["source"] {
			cur.Source = r.Source
		}
		if paths["illustrative"] {
			cur.Illustrative = r.Illustrative
		}
	})
	if err != nil {
		return nil, err
	}
	return rateProto(out), nil
}

func (h *catalogue) PreviewRateTopUps(ctx context.Context, req *arrsv1.PreviewRateTopUpsRequest) (*arrsv1.PreviewRateTopUpsResponse, error) {
	r, err := newRate(req.GetParent(), req.GetRate())
	if err != nil {
		return nil, err
	}
	topUps, err := h.store.PreviewRateTopUps(ctx, r)
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.PreviewRateTopUpsResponse{}
	for _, t := range topUps {
		out := &arrsv1.RateTopUp{Claim: t.Claim(), Pcn: claims.PCN{Code: t.PCNCode}.Name(), Month: t.Month.String(), TopUpPence: t.Pence()}
		for _, l := range t.Lines {
			out.Lines = append(out.Lines, &arrsv1.RateTopUpLine{Post: claims.Post{PCNCode: l.PCNCode, ID: l.PostID}.Name(),
				CapPence: l.CapPence, AlreadyPaidPence: l.AlreadyPaidPence, TopUpPence: l.MaxTopUpPence()})
		}
		resp.TopUps = append(resp.TopUps, out)
		resp.TotalPence += out.TopUpPence
	}
	return resp, nil
}
