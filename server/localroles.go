package server

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// Role rules and commissioners' local roles, on the wire.

var ruleKinds = map[arrsv1.RoleRuleKind]claims.RuleKind{
	arrsv1.RoleRuleKind_ROLE_RULE_KIND_CCT_WITHIN_YEARS: claims.RuleCCTWithinYears,
}

var ruleKindsOut = reverse(ruleKinds)

func rulesProto(rules []claims.RoleRule) []*arrsv1.RoleRule {
	var out []*arrsv1.RoleRule
	for _, r := range rules {
		out = append(out, &arrsv1.RoleRule{Kind: ruleKindsOut[r.Kind], EffectiveFrom: r.EffectiveFrom.String(),
			EffectiveTo: r.EffectiveTo.String(), Years: r.Years})
	}
	return out
}

func ruleFields(vs *claims.Violations, field string, in []*arrsv1.RoleRule) []claims.RoleRule {
	var out []claims.RoleRule
	for i, r := range in {
		f := fmt.Sprintf("%s[%d]", field, i)
		out = append(out, claims.RoleRule{
			Kind:          ruleKinds[r.GetKind()],
			EffectiveFrom: parseDate(vs, f+".effective_from", r.GetEffectiveFrom()),
			EffectiveTo:   parseDate(vs, f+".effective_to", r.GetEffectiveTo()),
			Years:         r.GetYears(),
		})
	}
	return out
}

// commissionerOf names a local role's commissioner; "" for a national role.
func commissionerOf(r claims.Role) string {
	if !r.Local() {
		return ""
	}
	return claims.Commissioner{Code: string(r.CommissionerCode)}.Name()
}

func optionalTimestamp(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamp(*t)
}

func localRoleProto(l claims.LocalRole) *arrsv1.LocalRole {
	state := arrsv1.LocalRole_STATE_APPROVED
	if l.Retired() {
		state = arrsv1.LocalRole_STATE_RETIRED
	}
	return &arrsv1.LocalRole{
		Name:               l.Name(),
		Role:               l.Role.Name(),
		DisplayName:        l.DisplayName,
		AfcBand:            l.AfCBand,
		Register:           registersOut[l.Register],
		RegistrationPrefix: l.RegistrationPrefix,
		ApprovedFrom:       l.ReimbursableFrom.String(),
		ApprovedTo:         l.ReimbursableTo.String(),
		MaxAnnualPence:     l.MaxAnnualPence,
		Source:             l.Source,
		Illustrative:       l.Illustrative,
		State:              state,
		Etag:               claims.Etag(l.Revision),
		CreateTime:         timestamp(l.CreateTime),
		UpdateTime:         timestamp(l.UpdateTime),
		RetireTime:         optionalTimestamp(l.RetireTime),
	}
}

// localRoleFields reads the writable fields of a local role message.
func localRoleFields(vs *claims.Violations, in *arrsv1.LocalRole) claims.LocalRole {
	var l claims.LocalRole
	l.DisplayName = in.GetDisplayName()
	l.AfCBand = in.GetAfcBand()
	l.Register = registers[in.GetRegister()]
	l.RegistrationPrefix = in.GetRegistrationPrefix()
	l.ReimbursableFrom = parseDate(vs, "local_role.approved_from", in.GetApprovedFrom())
	l.ReimbursableTo = parseDate(vs, "local_role.approved_to", in.GetApprovedTo())
	l.MaxAnnualPence = in.GetMaxAnnualPence()
	l.Source = in.GetSource()
	l.Illustrative = in.GetIllustrative()
	return l
}

func (h *catalogue) GetLocalRole(ctx context.Context, req *arrsv1.GetLocalRoleRequest) (*arrsv1.LocalRole, error) {
	code, id, err := claims.ParseLocalRoleName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	out, err := h.store.GetLocalRole(ctx, code, id)
	if err != nil {
		return nil, err
	}
	return localRoleProto(out), nil
}

func (h *catalogue) ListLocalRoles(ctx context.Context, req *arrsv1.ListLocalRolesRequest) (*arrsv1.ListLocalRolesResponse, error) {
	code, err := claims.ParseCommissionerParent("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	page, err := parsePage(req.GetPageSize(), req.GetPageToken(), code)
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListLocalRoles(ctx, code, page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListLocalRolesResponse{NextPageToken: tokenFor(next, code)}
	for _, l := range rows {
		resp.LocalRoles = append(resp.LocalRoles, localRoleProto(l))
	}
	return resp, nil
}

func (h *catalogue) CreateLocalRole(ctx context.Context, req *arrsv1.CreateLocalRoleRequest) (*arrsv1.LocalRole, error) {
	var vs claims.Violations
	code, err := claims.ParseCommissionerName("parent", req.GetParent())
	vs.Take(err)
	l := localRoleFields(&vs, req.GetLocalRole())
	l.ID, l.CommissionerCode = req.GetLocalRoleId(), claims.OptionalCode(code)
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.CreateLocalRole(ctx, cr, l)
	if err != nil {
		return nil, err
	}
	return localRoleProto(out), nil
}

func (h *catalogue) UpdateLocalRole(ctx context.Context, req *arrsv1.UpdateLocalRoleRequest) (*arrsv1.LocalRole, error) {
	in := req.GetLocalRole()
	code, id, err := claims.ParseLocalRoleName("local_role.name", in.GetName())
	if err != nil {
		return nil, err
	}
	paths, err := updatePaths(req.GetUpdateMask(), "display_name", "afc_band", "register", "registration_prefix",
		"approved_to", "max_annual_pence", "source", "illustrative")
	if err != nil {
		return nil, err
	}
	var vs claims.Violations
	l := localRoleFields(&vs, in)
	if err := vs.Err(); err != nil {
		return nil, err
	}
	out, err := h.store.UpdateLocalRole(ctx, code, id, in.GetEtag(), func(cur *claims.LocalRole) {
		if paths["display_name"] {
			cur.DisplayName = l.DisplayName
		}
		if paths["afc_band"] {
			cur.AfCBand = l.AfCBand
		}
		if paths["register"] {
			cur.Register = l.Register
		}
		if paths["registration_prefix"] {
			cur.RegistrationPrefix = l.RegistrationPrefix
		}
		if paths["approved_to"] {
			cur.ReimbursableTo = l.ReimbursableTo
		}
		if paths["max_annual_pence"] {
			cur.MaxAnnualPence = l.MaxAnnualPence
		}
		if paths["source"] {
			cur.Source = l.Source
		}
		if paths["illustrative"] {
			cur.Illustrative = l.Illustrative
		}
	})
	if err != nil {
		return nil, err
	}
	return localRoleProto(out), nil
}

func (h *catalogue) RetireLocalRole(ctx context.Context, req *arrsv1.RetireLocalRoleRequest) (*arrsv1.LocalRole, error) {
	var vs claims.Violations
	code, id, err := claims.ParseLocalRoleName("name", req.GetName())
	vs.Take(err)
	last := parseDate(&vs, "last_day", req.GetLastDay())
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.RetireLocalRole(ctx, cr, code, id, req.GetEtag(), last)
	if err != nil {
		return nil, err
	}
	return localRoleProto(out), nil
}
