package server

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// claimService serves arrs.v1.ClaimService.
type claimService struct {
	arrsv1.UnimplementedClaimServiceServer
	store   *claims.Store
	metrics *reviewMetrics
}

var claimStates = map[arrsv1.Claim_State]claims.ClaimState{
	arrsv1.Claim_STATE_DRAFT:     claims.ClaimDraft,
	arrsv1.Claim_STATE_SUBMITTED: claims.ClaimSubmitted,
	arrsv1.Claim_STATE_WITHDRAWN: claims.ClaimWithdrawn,
	arrsv1.Claim_STATE_APPROVED:  claims.ClaimApproved,
	arrsv1.Claim_STATE_PAID:      claims.ClaimPaid,
	arrsv1.Claim_STATE_REJECTED:  claims.ClaimRejected,
	arrsv1.Claim_STATE_QUERIED:   claims.ClaimQueried,
}

var claimStatesOut = reverse(claimStates)

var claimKindsOut = map[claims.ClaimKind]arrsv1.Claim_Kind{
	claims.MonthlyClaim:       arrsv1.Claim_KIND_MONTHLY,
	claims.SupplementaryClaim: arrsv1.Claim_KIND_SUPPLEMENTARY,
}

// claimProto renders a claim; its held days are counted to the store's now.
func (h *claimService) claimProto(c claims.Claim, withLines bool) *arrsv1.Claim {
	totals := c.Sums()
	commissionerDays, pcnDays := c.HeldDays(c.State, h.store.Now())
	out := &arrsv1.Claim{
		Name:                 c.Name(),
		Month:                c.Month.String(),
		FinancialYear:        c.Year.String(),
		State:                claimStatesOut[c.State],
		ActualPence:          totals.ActualPence,
		CapPence:             totals.CapPence,
		ReimbursablePence:    totals.ReimbursablePence,
		LineCount:            int32(totals.LineCount),
		Submitter:            c.Submitter,
		WithdrawReason:       c.WithdrawReason,
		Etag:                 claims.Etag(c.Revision),
		CreateTime:           timestamp(c.CreateTime),
		UpdateTime:           timestamp(c.UpdateTime),
		Kind:                 claimKindsOut[c.Kind],
		Commissioner:         claims.Commissioner{Code: c.CommissionerCode}.Name(),
		Reviewer:             c.Reviewer,
		Supplements:          supplementsName(c),
		ReviewNote:           c.ReviewNote,
		CommissionerHeldDays: int32(commissionerDays),
		PcnHeldDays:          int32(pcnDays),
		ArrearsDeclaredBy:    c.ArrearsDeclaredBy,
	}
	if c.ArrearsDeclareTime != nil {
		out.ArrearsDeclareTime = timestamppb.New(*c.ArrearsDeclareTime)
	}
	if c.SubmitTime != nil {
		out.SubmitTime = timestamppb.New(*c.SubmitTime)
	}
	if c.ReviewTime != nil {
		out.ReviewTime = timestamppb.New(*c.ReviewTime)
	}
	if c.State == claims.ClaimApproved || c.State == claims.ClaimPaid {
		out.ApprovedPence = totals.ApprovedPence
	}
	if c.State == claims.ClaimPaid {
		out.PaidPence = totals.ApprovedPence
	}
	if !c.PaymentDate.IsZero() {
		out.Payment = &arrsv1.Payment{PaymentDate: c.PaymentDate.String(), Reference: c.PaymentReference,
			Payee: c.PaymentPayee, RecordedBy: c.PaymentRecordedBy}
	}
	if withLines {
		for _, l := range c.Lines {
			out.Lines = append(out.Lines, claimLineProto(l))
		}
		for _, m := range c.Messages {
			out.Messages = append(out.Messages, claimMessageProto(m))
		}
	}
	for _, e := range c.Excluded {
		out.ExcludedPosts = append(out.ExcludedPosts, &arrsv1.ExcludedPost{
			Post: claims.Post{PCNCode: c.PCNCode, ID: e.PostID}.Name(), Reason: e.Reason})
	}
	return out
}

var messageKindsOut = map[claims.MessageKind]arrsv1.ClaimMessage_Kind{
	claims.MessageQuestion: arrsv1.ClaimMessage_KIND_QUESTION,
	claims.MessageReply:    arrsv1.ClaimMessage_KIND_REPLY,
}

func claimMessageProto(m claims.ClaimMessage) *arrsv1.ClaimMessage {
	return &arrsv1.ClaimMessage{Name: m.Name(), Kind: messageKindsOut[m.Kind], Author: m.Author, Role: string(m.Role),
		Organisation: m.Organisation, Text: m.Text, EvidenceUris: m.EvidenceURIs, CreateTime: timestamp(m.CreateTime)}
}

func claimLineProto(l claims.ClaimLine) *arrsv1.ClaimLine {
	out := &arrsv1.ClaimLine{
		Name:                   l.Name(),
		Post:                   claims.Post{PCNCode: l.PCNCode, ID: l.PostID}.Name(),
		Role:                   claims.Role{ID: l.RoleID}.Name(),
		Wte:                    l.WTE.String(),
		GrossSalaryPence:       l.GrossSalary,
		EmployerNiPence:        l.EmployerNI,
		EmployerPensionPence:   l.EmployerPension,
		OvertimePence:          l.Overtime,
		AbsenceAdjustmentPence: l.AbsenceAdjustment,
		EvidenceUris:           l.EvidenceURIs,
		ActualPence:            l.Costs().ActualPence(),
		CapPence:               l.CapPence,
		ReimbursablePence:      l.ReimbursablePence,
		ActiveDays:             int32(l.ActiveDays),
		DaysInYear:             int32(l.DaysInYear),
		Etag:                   claims.Etag(l.Revision),
		ApprovedPence:          l.ApprovedPence,
		AdjustmentReason:       l.AdjustmentReason,
		AlreadyPaidPence:       l.AlreadyPaidPence,
	}
	if l.TopUp() {
		out.MaximumTopUpPence = l.MaxTopUpPence()
	}
	if l.Arrears.Paid() {
		out.Arrears = &arrsv1.Arrears{GrossSalaryPence: l.Arrears.GrossSalary, EmployerNiPence: l.Arrears.EmployerNI,
			EmployerPensionPence: l.Arrears.EmployerPension, PaidDate: l.Arrears.PaidDate.String(), TotalPence: l.Arrears.Pence()}
	}
	for _, s := range l.Segments {
		out.CapSegments = append(out.CapSegments, &arrsv1.CapSegment{
			FromDate:       s.From.String(),
			ToDate:         s.To.String(),
			Days:           int32(s.Days),
			AnnualMaxPence: s.AnnualMaxPence,
			Rate:           claims.Rate{RoleID: l.RoleID, EffectiveDate: s.RateEffective}.Name(),
		})
	}
	return out
}

func (h *claimService) GetClaim(ctx context.Context, req *arrsv1.GetClaimRequest) (*arrsv1.Claim, error) {
	pcn, id, err := claims.ParseClaimName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	c, err := h.store.GetClaim(ctx, pcn, id)
	if err != nil {
		return nil, err
	}
	return h.claimProto(c, true), nil
}

func (h *claimService) ListClaims(ctx context.Context, req *arrsv1.ListClaimsRequest) (*arrsv1.ListClaimsResponse, error) {
	var vs claims.Violations
	pcn, err := claims.ParsePCNParent("parent", req.GetParent())
	vs.Take(err)
	filter := claims.ClaimFilter{PCNCode: pcn, State: claimStates[req.GetState()]}
	if req.GetFinancialYear() != "" {
		filter.Year = parseYear(&vs, "financial_year", req.GetFinancialYear())
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	keys := []string{pcn, string(filter.State), req.GetFinancialYear()}
	page, err := parsePage(req.GetPageSize(), req.GetPageToken(), keys...)
	if err != nil {
		return nil, err
	}
	full := req.GetView() == arrsv1.ClaimView_CLAIM_VIEW_FULL
	filter.WithLines = full
	rows, next, err := h.store.ListClaims(ctx, filter, page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListClaimsResponse{NextPageToken: tokenFor(next, keys...)}
	for _, c := range rows {
		resp.Claims = append(resp.Claims, h.claimProto(c, full))
	}
	return resp, nil
}

func (h *claimService) CreateClaim(ctx context.Context, req *arrsv1.CreateClaimRequest) (*arrsv1.Claim, error) {
	pcn, err := claims.ParsePCNName("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	month, err := claims.ParseMonth(req.GetClaimId())
	if err != nil {
		return nil, claims.Invalid("claim_id", "MONTH_FORMAT", "a claim is for a month written YYYY-MM, for example 2025-04")
	}
	var vs claims.Violations
	edits := make([]claims.LineEdit, len(req.GetLineUpdates()))
	for i, r := range req.GetLineUpdates() {
		prefix := fmt.Sprintf("line_updates[%d].", i)
		linePCN, lineClaim, edit := lineEdit(&vs, prefix, r)
		if edit.PostID != "" && (linePCN != pcn || lineClaim != month.String()) {
			vs.Add(prefix+"claim_line.name", "PARENT_MISMATCH", "the line must be one of %s/claims/%s's", req.GetParent(), month)
		}
		edits[i] = edit
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	c, err := h.store.CreateClaim(ctx, cr, pcn, month, edits...)
	if err != nil {
		return nil, err
	}
	return h.claimProto(c, true), nil
}

func (h *claimService) UpdateClaimLine(ctx context.Context, req *arrsv1.UpdateClaimLineRequest) (*arrsv1.ClaimLine, error) {
	var vs claims.Violations
	pcn, id, edit := lineEdit(&vs, "", req)
	if err := vs.Err(); err != nil {
		return nil, err
	}
	out, err := h.store.UpdateClaimLine(ctx, pcn, id, edit.PostID, edit.Etag, edit.Change)
	if err != nil {
		return nil, err
	}
	return claimLineProto(out), nil
}

func (h *claimService) BatchUpdateClaimLines(ctx context.Context, req *arrsv1.BatchUpdateClaimLinesRequest) (*arrsv1.BatchUpdateClaimLinesResponse, error) {
	var vs claims.Violations
	pcn, id, err := claims.ParseClaimName("parent", req.GetParent())
	vs.Take(err)
	edits := make([]claims.LineEdit, len(req.GetRequests()))
	for i, r := range req.GetRequests() {
		prefix := fmt.Sprintf("requests[%d].", i)
		linePCN, lineClaim, edit := lineEdit(&vs, prefix, r)
		if err == nil && edit.PostID != "" && (linePCN != pcn || lineClaim != id) {
			vs.Add(prefix+"claim_line.name", "PARENT_MISMATCH", "the line must be one of %s's", req.GetParent())
		}
		edits[i] = edit
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	lines, err := h.store.BatchUpdateClaimLines(ctx, pcn, id, edits)
	if err != nil {
		return nil, err
	}
	out := &arrsv1.BatchUpdateClaimLinesResponse{ClaimLines: make([]*arrsv1.ClaimLine, len(lines))}
	for i, l := range lines {
		out.ClaimLines[i] = claimLineProto(l)
	}
	return out, nil
}

// lineEdit reads one UpdateClaimLineRequest (its fields named under prefix)
// into the line it names and the change its update mask asks for.
func lineEdit(vs *claims.Violations, prefix string, req *arrsv1.UpdateClaimLineRequest) (pcn, id string, edit claims.LineEdit) {
	in := req.GetClaimLine()
	pcn, id, post, err := claims.ParseClaimLineName(prefix+"claim_line.name", in.GetName())
	vs.Take(err)
	paths, err := updatePaths(req.GetUpdateMask(), "wte", "gross_salary_pence", "employer_ni_pence",
		"employer_pension_pence", "overtime_pence", "absence_adjustment_pence", "evidence_uris", "arrears")
	if e, ok := claims.AsError(err); ok {
		for _, v := range e.Violations {
			vs.Add(prefix+v.Field, v.Rule, "%s", v.Description)
		}
	}
	var wte claims.Decimal
	if paths["wte"] {
		wte = parseDecimal(vs, prefix+"claim_line.wte", in.GetWte())
	}
	// Arrears unset leave the staff member out of the top-up; set, they
	// need the day paid (the domain says so, naming the field).
	var arrears claims.Arrears
	if a := in.GetArrears(); paths["arrears"] && a != nil {
		arrears = claims.Arrears{GrossSalary: a.GetGrossSalaryPence(), EmployerNI: a.GetEmployerNiPence(),
			EmployerPension: a.GetEmployerPensionPence()}
		if a.GetPaidDate() != "" {
			arrears.PaidDate = parseDate(vs, prefix+"claim_line.arrears.paid_date", a.GetPaidDate())
		}
	}
	return pcn, id, claims.LineEdit{PostID: post, Etag: in.GetEtag(), Change: func(l *claims.ClaimLine) {
		if paths["wte"] {
			l.WTE = wte
		}
		if paths["gross_salary_pence"] {
			l.GrossSalary = in.GetGrossSalaryPence()
		}
		if paths["employer_ni_pence"] {
			l.EmployerNI = in.GetEmployerNiPence()
		}
		if paths["employer_pension_pence"] {
			l.EmployerPension = in.GetEmployerPensionPence()
		}
		if paths["overtime_pence"] {
			l.Overtime = in.GetOvertimePence()
		}
		if paths["absence_adjustment_pence"] {
			l.AbsenceAdjustment = in.GetAbsenceAdjustmentPence()
		}
		if paths["evidence_uris"] {
			l.EvidenceURIs = in.GetEvidenceUris()
		}
		if paths["arrears"] {
			l.Arrears = arrears
		}
	}}
}

func (h *claimService) SubmitClaim(ctx context.Context, req *arrsv1.SubmitClaimRequest) (*arrsv1.Claim, error) {
	pcn, id, err := claims.ParseClaimName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	submit := h.store.SubmitClaim
	if req.GetArrearsPaidDeclared() {
		submit = h.store.DeclareArrearsAndSubmit
	}
	c, err := submit(ctx, cr, pcn, id, req.GetEtag())
	if err != nil {
		return nil, err
	}
	return h.claimProto(c, true), nil
}

func (h *claimService) GetBackdatedAward(ctx context.Context, req *arrsv1.GetBackdatedAwardRequest) (*arrsv1.BackdatedAward, error) {
	pcn, year, err := claims.ParseBackdatedAwardName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	a, err := h.store.GetBackdatedAward(ctx, pcn, year)
	if err != nil {
		return nil, err
	}
	out := &arrsv1.BackdatedAward{Name: a.Name(), FinancialYear: a.Year.String(),
		MaximumTopUpPence: a.MaxTopUpPence(), ClaimedPence: a.ClaimedPence()}
	for _, l := range a.Lines {
		line := &arrsv1.BackdatedAwardLine{
			Month:             l.Month.String(),
			Post:              claims.Post{PCNCode: pcn, ID: l.PostID}.Name(),
			StaffName:         l.StaffName,
			Role:              claims.Role{ID: l.RoleID}.Name(),
			Claim:             claims.Claim{PCNCode: pcn, ID: l.ClaimID}.Name(),
			ClaimState:        claimStatesOut[l.ClaimState],
			CapPence:          l.CapPence,
			ReimbursedPence:   l.ReimbursedPence,
			MaximumTopUpPence: l.MaxTopUpPence,
			ArrearsPence:      l.ArrearsPence,
			ClaimedPence:      l.ClaimedPence,
			DraftPence:        l.DraftPence,
		}
		if !l.ArrearsPaidDate.IsZero() {
			line.ArrearsPaidDate = l.ArrearsPaidDate.String()
		}
		out.Lines = append(out.Lines, line)
	}
	return out, nil
}

func (h *claimService) WithdrawClaim(ctx context.Context, req *arrsv1.WithdrawClaimRequest) (*arrsv1.Claim, error) {
	pcn, id, err := claims.ParseClaimName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	c, err := h.store.WithdrawClaim(ctx, pcn, id, req.GetEtag(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return h.claimProto(c, true), nil
}

func (h *claimService) GetBudget(ctx context.Context, req *arrsv1.GetBudgetRequest) (*arrsv1.Budget, error) {
	pcn, year, err := claims.ParseBudgetName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	b, err := h.store.GetBudget(ctx, pcn, year)
	if err != nil {
		return nil, err
	}
	out := &arrsv1.Budget{
		Name:                    b.Name(),
		EntitlementPence:        b.EntitlementPence,
		DraftPence:              b.DraftPence,
		SubmittedPence:          b.SubmittedPence,
		ApprovedPence:           b.ApprovedPence,
		PaidPence:               b.PaidPence,
		RemainingPence:          b.RemainingPence(),
		ForecastFrom:            b.ForecastFrom.String(),
		ForecastPence:           b.ForecastPence,
		ForecastUnderspendPence: b.UnderspendPence(),
	}
	for _, r := range b.Roles {
		out.Roles = append(out.Roles, &arrsv1.RoleBudget{Role: claims.Role{ID: r.RoleID}.Name(),
			SubmittedPence: r.SubmittedPence, ApprovedPence: r.ApprovedPence, PaidPence: r.PaidPence, ForecastPence: r.ForecastPence})
	}
	for _, m := range b.Months {
		out.Months = append(out.Months, &arrsv1.BudgetMonth{Month: m.Month.String(), ClaimedPence: m.ClaimedPence,
			CumulativeClaimedPence: m.CumulativeClaimedPence, EntitlementPacePence: m.PacePence,
			ForecastPence: m.ForecastPence, ProjectedPence: m.ProjectedPence})
	}
	return out, nil
}

func (h *claimService) ListReviewQueue(ctx context.Context, req *arrsv1.ListReviewQueueRequest) (*arrsv1.ListReviewQueueResponse, error) {
	commissioner, err := claims.ParseCommissionerName("commissioner", req.GetCommissioner())
	if err != nil {
		return nil, err
	}
	page, err := parsePage(req.GetPageSize(), req.GetPageToken(), commissioner)
	if err != nil {
		return nil, err
	}
	items, next, err := h.store.ReviewQueue(ctx, commissioner, page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListReviewQueueResponse{NextPageToken: tokenFor(next, commissioner)}
	for _, it := range items {
		// The queue loads every line to flag them; it returns them only in
		// the full view.
		item := &arrsv1.ReviewItem{Claim: h.claimProto(it.Claim, req.GetView() == arrsv1.ClaimView_CLAIM_VIEW_FULL),
			DaysWaiting: int32(it.DaysWaiting), WaitingFor: arrsv1.ReviewItem_WAITING_FOR_COMMISSIONER,
			CommissionerHeldDays: int32(it.CommissionerHeldDays), PcnHeldDays: int32(it.PCNHeldDays)}
		if it.WaitingForPCN {
			item.WaitingFor = arrsv1.ReviewItem_WAITING_FOR_PCN
		}
		for _, f := range it.Flags {
			item.Flags = append(item.Flags, &arrsv1.LineFlag{
				Line:   claims.ClaimLine{PCNCode: it.Claim.PCNCode, ClaimID: it.Claim.ID, PostID: f.PostID}.Name(),
				Reason: f.Reason, Detail: f.Detail})
		}
		resp.Items = append(resp.Items, item)
	}
	return resp, nil
}

func (h *claimService) ApproveClaim(ctx context.Context, req *arrsv1.ApproveClaimRequest) (*arrsv1.Claim, error) {
	pcn, id, err := claims.ParseClaimName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	var vs claims.Violations
	var adjustments []claims.LineAdjustment
	for i, a := range req.GetAdjustments() {
		linePCN, lineClaim, post, err := claims.ParseClaimLineName(fmt.Sprintf("adjustments[%d].line", i), a.GetLine())
		if err != nil {
			vs.Take(err)
			continue
		}
		if linePCN != pcn || lineClaim != id {
			vs.Add(fmt.Sprintf("adjustments[%d].line", i), "UNKNOWN_LINE", "%s is not a line of %s", a.GetLine(), req.GetName())
		}
		adjustments = append(adjustments, claims.LineAdjustment{PostID: post, ApprovedPence: a.GetApprovedPence(), Reason: a.GetReason()})
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	c, err := h.store.ApproveClaim(ctx, cr, pcn, id, req.GetEtag(), adjustments)
	if err != nil {
		return nil, err
	}
	h.metrics.observeApproval(c)
	return h.claimProto(c, true), nil
}

func (h *claimService) RejectClaim(ctx context.Context, req *arrsv1.RejectClaimRequest) (*arrsv1.Claim, error) {
	pcn, id, err := claims.ParseClaimName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	c, err := h.store.RejectClaim(ctx, pcn, id, req.GetEtag(), req.GetReason())
	if err != nil {
		return nil, err
	}
	return h.claimProto(c, true), nil
}

func (h *claimService) QueryClaim(ctx context.Context, req *arrsv1.QueryClaimRequest) (*arrsv1.Claim, error) {
	pcn, id, err := claims.ParseClaimName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	c, err := h.store.QueryClaim(ctx, pcn, id, req.GetEtag(), req.GetQuestion())
	if err != nil {
		return nil, err
	}
	return h.claimProto(c, true), nil
}

func (h *claimService) ReplyToClaimQuery(ctx context.Context, req *arrsv1.ReplyToClaimQueryRequest) (*arrsv1.Claim, error) {
	pcn, id, err := claims.ParseClaimName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	c, err := h.store.ReplyToClaimQuery(ctx, pcn, id, req.GetEtag(), req.GetText(), req.GetEvidenceUris())
	if err != nil {
		return nil, err
	}
	return h.claimProto(c, true), nil
}

func (h *claimService) RecordClaimPayment(ctx context.Context, req *arrsv1.RecordClaimPaymentRequest) (*arrsv1.Claim, error) {
	pcn, id, err := claims.ParseClaimName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	var vs claims.Violations
	p := claims.Payment{
		Date:      parseDate(&vs, "payment.payment_date", req.GetPayment().GetPaymentDate()),
		Reference: req.GetPayment().GetReference(),
		Payee:     req.GetPayment().GetPayee(),
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	c, err := h.store.RecordClaimPayment(ctx, cr, pcn, id, req.GetEtag(), p)
	if err != nil {
		return nil, err
	}
	h.metrics.observePayment(c)
	return h.claimProto(c, true), nil
}

func supplementsName(c claims.Claim) string {
	if c.Supplements == nil {
		return ""
	}
	return claims.Claim{PCNCode: c.PCNCode, ID: *c.Supplements}.Name()
}
