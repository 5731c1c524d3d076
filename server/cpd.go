package server

import (
	"context"
	"strconv"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/cpd"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// cpdService serves arrs.v1.CpdService, the Training Hub CPD ledger, on
// package cpd's store.
type cpdService struct {
	arrsv1.UnimplementedCpdServiceServer
	store *cpd.Store
}

var (
	staffGroups = map[arrsv1.CpdStaffGroup]cpd.StaffGroup{
		arrsv1.CpdStaffGroup_CPD_STAFF_GROUP_REGISTERED_NURSE:           cpd.RegisteredNurse,
		arrsv1.CpdStaffGroup_CPD_STAFF_GROUP_ALLIED_HEALTH_PROFESSIONAL: cpd.AlliedHealthProfessional,
	}
	staffGroupsOut = reverse(staffGroups)
	amountBases    = map[arrsv1.CpdScheme_AmountBasis]cpd.AmountBasis{
		arrsv1.CpdScheme_AMOUNT_BASIS_PER_YEAR:    cpd.PerYear,
		arrsv1.CpdScheme_AMOUNT_BASIS_OVER_SCHEME: cpd.OverScheme,
	}
	amountBasesOut = reverse(amountBases)
	cpdCategories  = map[arrsv1.CpdRequest_Category]cpd.Category{
		arrsv1.CpdRequest_CATEGORY_COURSE:             cpd.CategoryCourse,
		arrsv1.CpdRequest_CATEGORY_CONFERENCE:         cpd.CategoryConference,
		arrsv1.CpdRequest_CATEGORY_E_LEARNING:         cpd.CategoryELearning,
		arrsv1.CpdRequest_CATEGORY_QUALIFICATION:      cpd.CategoryQualification,
		arrsv1.CpdRequest_CATEGORY_BACKFILL:           cpd.CategoryBackfill,
		arrsv1.CpdRequest_CATEGORY_ADMINISTRATIVE:     cpd.CategoryAdministrative,
		arrsv1.CpdRequest_CATEGORY_EQUIPMENT:          cpd.CategoryEquipment,
		arrsv1.CpdRequest_CATEGORY_MANDATORY_TRAINING: cpd.CategoryMandatory,
	}
	cpdCategoriesOut = reverse(cpdCategories)
	cpdStates        = map[arrsv1.CpdRequest_State]cpd.State{
		arrsv1.CpdRequest_STATE_SUBMITTED:   cpd.StateSubmitted,
		arrsv1.CpdRequest_STATE_APPROVED:    cpd.StateApproved,
		arrsv1.CpdRequest_STATE_PART_FUNDED: cpd.StatePartFunded,
		arrsv1.CpdRequest_STATE_REJECTED:    cpd.StateRejected,
		arrsv1.CpdRequest_STATE_PAID:        cpd.StatePaid,
	}
	cpdStatesOut = reverse(cpdStates)
)

// optionalDate parses a date that may be empty.
func optionalDate(vs *claims.Violations, field, s string) claims.Date {
	if s == "" {
		return claims.Date{}
	}
	return parseDate(vs, field, s)
}

func hubProto(h cpd.Hub) *arrsv1.TrainingHub {
	out := &arrsv1.TrainingHub{Name: h.Name(), DisplayName: h.DisplayName, Etag: claims.Etag(h.Revision),
		CreateTime: timestamp(h.CreateTime), UpdateTime: timestamp(h.UpdateTime)}
	for _, p := range h.Practices {
		end := ""
		if !p.ValidTo.IsZero() {
			end = p.ValidTo.String()
		}
		out.Practices = append(out.Practices, &arrsv1.TrainingHub_Practice{Practice: cpd.PracticeName(p.ODSCode),
			StartDate: p.ValidFrom.String(), EndDate: end})
	}
	return out
}

func (h *cpdService) CreateTrainingHub(ctx context.Context, req *arrsv1.CreateTrainingHubRequest) (*arrsv1.TrainingHub, error) {
	var vs claims.Violations
	in := req.GetTrainingHub()
	hub := cpd.Hub{ID: req.GetTrainingHubId(), DisplayName: in.GetDisplayName(), Practices: hubPractices(&vs, in.GetPractices())}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.CreateHub(ctx, cr, hub)
	if err != nil {
		return nil, err
	}
	return hubProto(out), nil
}

func (h *cpdService) UpdateTrainingHub(ctx context.Context, req *arrsv1.UpdateTrainingHubRequest) (*arrsv1.TrainingHub, error) {
	in := req.GetTrainingHub()
	id, err := cpd.ParseHubName("training_hub.name", in.GetName())
	if err != nil {
		return nil, err
	}
	paths, err := updatePaths(req.GetUpdateMask(), "display_name", "practices")
	if err != nil {
		return nil, err
	}
	var vs claims.Violations
	hub := cpd.Hub{ID: id, DisplayName: in.GetDisplayName(), Practices: hubPractices(&vs, in.GetPractices())}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	out, err := h.store.UpdateHub(ctx, hub, in.GetEtag(), paths["display_name"], paths["practices"])
	if err != nil {
		return nil, err
	}
	return hubProto(out), nil
}

// hubPractices parses a hub's practices and their dates.
func hubPractices(vs *claims.Violations, in []*arrsv1.TrainingHub_Practice) []cpd.HubPractice {
	var out []cpd.HubPractice
	for i, p := range in {
		f := "training_hub.practices[" + strconv.Itoa(i) + "]"
		ods, err := cpd.ParsePracticeName(f+".practice", p.GetPractice())
		vs.Take(err)
		out = append(out, cpd.HubPractice{ODSCode: ods,
			ValidFrom: parseDate(vs, f+".start_date", p.GetStartDate()), ValidTo: optionalDate(vs, f+".end_date", p.GetEndDate())})
	}
	return out
}

func (h *cpdService) GetTrainingHub(ctx context.Context, req *arrsv1.GetTrainingHubRequest) (*arrsv1.TrainingHub, error) {
	out, err := h.store.GetHub(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return hubProto(out), nil
}

func (h *cpdService) ListTrainingHubs(ctx context.Context, req *arrsv1.ListTrainingHubsRequest) (*arrsv1.ListTrainingHubsResponse, error) {
	page, err := parsePage(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListHubs(ctx, page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListTrainingHubsResponse{NextPageToken: tokenFor(next)}
	for _, r := range rows {
		resp.TrainingHubs = append(resp.TrainingHubs, hubProto(r))
	}
	return resp, nil
}

func schemeProto(s cpd.Scheme) *arrsv1.CpdScheme {
	out := &arrsv1.CpdScheme{Name: s.Name(), DisplayName: s.DisplayName, FirstYear: s.FirstYear.String(),
		Years: int32(s.Years), AmountBasis: amountBasesOut[s.Basis], AmountPerHeadPence: s.AmountPerHeadPence,
		EndDate: s.EndDate.String(), Etag: claims.Etag(s.Revision),
		CreateTime: timestamp(s.CreateTime), UpdateTime: timestamp(s.UpdateTime)}
	for _, g := range s.StaffGroups {
		out.StaffGroups = append(out.StaffGroups, staffGroupsOut[g])
	}
	return out
}

func (h *cpdService) CreateCpdScheme(ctx context.Context, req *arrsv1.CreateCpdSchemeRequest) (*arrsv1.CpdScheme, error) {
	var vs claims.Violations
	in := req.GetCpdScheme()
	s := cpd.Scheme{ID: req.GetCpdSchemeId(), DisplayName: in.GetDisplayName(),
		FirstYear: parseYear(&vs, "cpd_scheme.first_year", in.GetFirstYear()), Years: int(in.GetYears()),
		Basis: amountBases[in.GetAmountBasis()], AmountPerHeadPence: in.GetAmountPerHeadPence(),
		EndDate: parseDate(&vs, "cpd_scheme.end_date", in.GetEndDate())}
	for _, g := range in.GetStaffGroups() {
		sg, ok := staffGroups[g]
		if !ok {
			vs.Add("cpd_scheme.staff_groups", "STAFF_GROUP", "%s is not a staff group", g)
		}
		s.StaffGroups = append(s.StaffGroups, sg)
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.CreateScheme(ctx, cr, s)
	if err != nil {
		return nil, err
	}
	return schemeProto(out), nil
}

func (h *cpdService) GetCpdScheme(ctx context.Context, req *arrsv1.GetCpdSchemeRequest) (*arrsv1.CpdScheme, error) {
	out, err := h.store.GetScheme(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return schemeProto(out), nil
}

func (h *cpdService) ListCpdSchemes(ctx context.Context, req *arrsv1.ListCpdSchemesRequest) (*arrsv1.ListCpdSchemesResponse, error) {
	page, err := parsePage(req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListSchemes(ctx, page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListCpdSchemesResponse{NextPageToken: tokenFor(next)}
	for _, r := range rows {
		resp.CpdSchemes = append(resp.CpdSchemes, schemeProto(r))
	}
	return resp, nil
}

func allocationProto(a cpd.Allocation) *arrsv1.CpdAllocation {
	return &arrsv1.CpdAllocation{Name: a.Name(), Practice: cpd.PracticeName(a.ODSCode), Scheme: cpd.SchemeName(a.Scheme),
		FinancialYear: a.Year.String(), AllocationPence: a.AmountPence, CommittedPence: a.CommittedPence,
		PaidPence: a.PaidPence, RemainingPence: a.RemainingPence()}
}

func (h *cpdService) CreateCpdBaseline(ctx context.Context, req *arrsv1.CreateCpdBaselineRequest) (*arrsv1.CpdBaseline, error) {
	scheme, err := cpd.ParseSchemeName("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	b, allocs, err := h.store.CreateBaseline(ctx, cr, cpd.Baseline{Scheme: scheme, ODSCode: req.GetCpdBaselineId(),
		EligibleHeadcount: int(req.GetCpdBaseline().GetEligibleHeadcount())})
	if err != nil {
		return nil, err
	}
	return baselineProto(b, allocs), nil
}

func (h *cpdService) UpdateCpdBaseline(ctx context.Context, req *arrsv1.UpdateCpdBaselineRequest) (*arrsv1.CpdBaseline, error) {
	in := req.GetCpdBaseline()
	scheme, ods, err := cpd.ParseBaselineName("cpd_baseline.name", in.GetName())
	if err != nil {
		return nil, err
	}
	// The headcount is the only mutable field, so every valid mask means it.
	if _, err := updatePaths(req.GetUpdateMask(), "eligible_headcount"); err != nil {
		return nil, err
	}
	b, allocs, err := h.store.UpdateBaseline(ctx, cpd.Baseline{Scheme: scheme, ODSCode: ods,
		EligibleHeadcount: int(in.GetEligibleHeadcount())}, in.GetEtag())
	if err != nil {
		return nil, err
	}
	return baselineProto(b, allocs), nil
}

func baselineProto(b cpd.Baseline, allocs []cpd.Allocation) *arrsv1.CpdBaseline {
	out := &arrsv1.CpdBaseline{Name: b.Name(), EligibleHeadcount: int32(b.EligibleHeadcount), Etag: claims.Etag(b.Revision),
		CreateTime: timestamp(b.CreateTime)}
	for _, a := range allocs {
		out.Allocations = append(out.Allocations, allocationProto(a))
	}
	return out
}

func (h *cpdService) ListCpdAllocations(ctx context.Context, req *arrsv1.ListCpdAllocationsRequest) (*arrsv1.ListCpdAllocationsResponse, error) {
	var vs claims.Violations
	ods, err := cpd.ParsePracticeName("parent", req.GetParent())
	vs.Take(err)
	var scheme string
	if req.GetScheme() != "" {
		scheme, err = cpd.ParseSchemeName("scheme", req.GetScheme())
		vs.Take(err)
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	page, err := parsePage(req.GetPageSize(), req.GetPageToken(), req.GetParent(), req.GetScheme())
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListAllocations(ctx, ods, page.store(), scheme)
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListCpdAllocationsResponse{NextPageToken: tokenFor(next, req.GetParent(), req.GetScheme())}
	for _, r := range rows {
		resp.CpdAllocations = append(resp.CpdAllocations, allocationProto(r))
	}
	return resp, nil
}

func needProto(n cpd.Need) *arrsv1.CpdNeed {
	return &arrsv1.CpdNeed{Name: n.Name(), Professional: n.Professional, StaffGroup: staffGroupsOut[n.StaffGroup],
		AppraisalDate: n.AppraisalDate.String(), Need: n.Need, Topic: n.Topic, PreferredCourse: n.PreferredCourse,
		Stale: n.Stale, Etag: claims.Etag(n.Revision), CreateTime: timestamp(n.CreateTime)}
}

func (h *cpdService) CreateCpdNeed(ctx context.Context, req *arrsv1.CreateCpdNeedRequest) (*arrsv1.CpdNeed, error) {
	var vs claims.Violations
	ods, err := cpd.ParsePracticeName("parent", req.GetParent())
	vs.Take(err)
	in := req.GetCpdNeed()
	n := cpd.Need{ODSCode: ods, ID: req.GetCpdNeedId(), Professional: in.GetProfessional(), StaffGroup: staffGroups[in.GetStaffGroup()],
		AppraisalDate: parseDate(&vs, "cpd_need.appraisal_date", in.GetAppraisalDate()), Need: in.GetNeed(),
		Topic: in.GetTopic(), PreferredCourse: in.GetPreferredCourse()}
	if ods == "-" {
		vs.Add("parent", "NAME_FORMAT", "names one practice, not practices/-")
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.CreateNeed(ctx, cr, n)
	if err != nil {
		return nil, err
	}
	return needProto(out), nil
}

func (h *cpdService) GetCpdNeed(ctx context.Context, req *arrsv1.GetCpdNeedRequest) (*arrsv1.CpdNeed, error) {
	out, err := h.store.GetNeed(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return needProto(out), nil
}

func (h *cpdService) ListCpdNeeds(ctx context.Context, req *arrsv1.ListCpdNeedsRequest) (*arrsv1.ListCpdNeedsResponse, error) {
	ods, err := cpd.ParsePracticeName("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	page, err := parsePage(req.GetPageSize(), req.GetPageToken(), req.GetParent())
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListNeeds(ctx, ods, page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListCpdNeedsResponse{NextPageToken: tokenFor(next, req.GetParent())}
	for _, r := range rows {
		resp.CpdNeeds = append(resp.CpdNeeds, needProto(r))
	}
	return resp, nil
}

// hubView parses `trainingHubs/{hub}/{view}`.
func hubView(name, view string) (string, error) {
	const prefix = "trainingHubs/"
	suffix := "/" + view
	if len(name) <= len(prefix)+len(suffix) || name[:len(prefix)] != prefix || name[len(name)-len(suffix):] != suffix {
		return "", claims.Invalid("name", "NAME_FORMAT", "must be trainingHubs/{hub}%s", suffix)
	}
	return cpd.ParseHubName("name", name[:len(name)-len(suffix)])
}

func (h *cpdService) GetCpdNeedSummary(ctx context.Context, req *arrsv1.GetCpdNeedSummaryRequest) (*arrsv1.CpdNeedSummary, error) {
	hub, err := hubView(req.GetName(), "cpdNeedSummary")
	if err != nil {
		return nil, err
	}
	rows, err := h.store.NeedSummary(ctx, hub)
	if err != nil {
		return nil, err
	}
	out := &arrsv1.CpdNeedSummary{Name: req.GetName()}
	for _, r := range rows {
		out.Topics = append(out.Topics, &arrsv1.CpdNeedSummary_Topic{Topic: r.Topic, Needs: int32(r.Needs),
			Practices: int32(r.Practices), Stale: int32(r.Stale)})
	}
	return out, nil
}

func (h *cpdService) GetCpdFairness(ctx context.Context, req *arrsv1.GetCpdFairnessRequest) (*arrsv1.CpdFairness, error) {
	var vs claims.Violations
	hub, err := hubView(req.GetName(), "cpdFairness")
	vs.Take(err)
	scheme, err := cpd.ParseSchemeName("scheme", req.GetScheme())
	vs.Take(err)
	if err := vs.Err(); err != nil {
		return nil, err
	}
	f, err := h.store.Fairness(ctx, hub, scheme)
	if err != nil {
		return nil, err
	}
	out := &arrsv1.CpdFairness{Name: req.GetName(), Scheme: req.GetScheme()}
	for _, p := range f.Practices {
		out.Practices = append(out.Practices, &arrsv1.CpdFairness_Practice{Practice: cpd.PracticeName(p.ODSCode),
			EligibleHeadcount: int32(p.EligibleHeadcount), AllocationPence: p.AllocationPence,
			CommittedPence: p.CommittedPence, SpendPerHeadPence: p.SpendPerHeadPence})
	}
	for _, u := range f.Unfunded {
		out.Unfunded = append(out.Unfunded, &arrsv1.CpdFairness_Unfunded{Practice: cpd.PracticeName(u.ODSCode),
			Professional: u.Professional, Needs: int32(u.Needs)})
	}
	return out, nil
}

func courseProto(c cpd.Course) *arrsv1.CpdCourse {
	return &arrsv1.CpdCourse{Name: c.Name(), Title: c.Title, Topic: c.Topic, Provider: c.Provider,
		StartDate: c.StartDate.String(), EndDate: c.EndDate.String(), Places: int32(c.Places),
		CostPerPlacePence: c.CostPerPlacePence, PlacesAllocated: int32(c.PlacesAllocated),
		Etag: claims.Etag(c.Revision), CreateTime: timestamp(c.CreateTime)}
}

func (h *cpdService) CreateCpdCourse(ctx context.Context, req *arrsv1.CreateCpdCourseRequest) (*arrsv1.CpdCourse, error) {
	var vs claims.Violations
	hub, err := cpd.ParseHubName("parent", req.GetParent())
	vs.Take(err)
	in := req.GetCpdCourse()
	c := cpd.Course{Hub: hub, ID: req.GetCpdCourseId(), Title: in.GetTitle(), Topic: in.GetTopic(), Provider: in.GetProvider(),
		StartDate: parseDate(&vs, "cpd_course.start_date", in.GetStartDate()),
		EndDate:   parseDate(&vs, "cpd_course.end_date", in.GetEndDate()),
		Places:    int(in.GetPlaces()), CostPerPlacePence: in.GetCostPerPlacePence()}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.CreateCourse(ctx, cr, c)
	if err != nil {
		return nil, err
	}
	return courseProto(out), nil
}

func (h *cpdService) GetCpdCourse(ctx context.Context, req *arrsv1.GetCpdCourseRequest) (*arrsv1.CpdCourse, error) {
	out, err := h.store.GetCourse(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return courseProto(out), nil
}

func (h *cpdService) ListCpdCourses(ctx context.Context, req *arrsv1.ListCpdCoursesRequest) (*arrsv1.ListCpdCoursesResponse, error) {
	hub, err := cpd.ParseHubName("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	page, err := parsePage(req.GetPageSize(), req.GetPageToken(), req.GetParent())
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListCourses(ctx, hub, page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListCpdCoursesResponse{NextPageToken: tokenFor(next, req.GetParent())}
	for _, r := range rows {
		resp.CpdCourses = append(resp.CpdCourses, courseProto(r))
	}
	return resp, nil
}

func cpdRequestProto(r cpd.Request) *arrsv1.CpdRequest {
	return &arrsv1.CpdRequest{Name: r.Name(), Need: r.Need, Professional: r.Professional, Scheme: cpd.SchemeName(r.Scheme),
		FinancialYear: r.Year.String(), Category: cpdCategoriesOut[r.Category], Provider: r.Provider,
		CourseTitle: r.CourseTitle, StartDate: r.StartDate.String(), EndDate: r.EndDate.String(),
		CostPence: r.CostPence, FundedPence: r.FundedPence, PaidPence: r.PaidPence, State: cpdStatesOut[r.State],
		RejectionReason: r.RejectionReason, Course: r.Course, Etag: claims.Etag(r.Revision),
		CreateTime: timestamp(r.CreateTime), UpdateTime: timestamp(r.UpdateTime),
		PaymentDate: r.PaymentDate.String(), PaymentReference: r.PaymentReference}
}

func (h *cpdService) CreateCpdRequest(ctx context.Context, req *arrsv1.CreateCpdRequestRequest) (*arrsv1.CpdRequest, error) {
	var vs claims.Violations
	ods, err := cpd.ParsePracticeName("parent", req.GetParent())
	vs.Take(err)
	if ods == "-" {
		vs.Add("parent", "NAME_FORMAT", "names one practice, not practices/-")
	}
	in := req.GetCpdRequest()
	var scheme string
	if in.GetScheme() != "" {
		scheme, err = cpd.ParseSchemeName("cpd_request.scheme", in.GetScheme())
		vs.Take(err)
	}
	r := cpd.Request{ODSCode: ods, ID: req.GetCpdRequestId(), Need: in.GetNeed(), Scheme: scheme, Category: cpdCategories[in.GetCategory()],
		Provider: in.GetProvider(), CourseTitle: in.GetCourseTitle(),
		StartDate: optionalDate(&vs, "cpd_request.start_date", in.GetStartDate()),
		EndDate:   optionalDate(&vs, "cpd_request.end_date", in.GetEndDate()), CostPence: in.GetCostPence()}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.CreateRequest(ctx, cr, r)
	if err != nil {
		return nil, err
	}
	return cpdRequestProto(out), nil
}

func (h *cpdService) GetCpdRequest(ctx context.Context, req *arrsv1.GetCpdRequestRequest) (*arrsv1.CpdRequest, error) {
	out, err := h.store.GetRequest(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return cpdRequestProto(out), nil
}

func (h *cpdService) ListCpdRequests(ctx context.Context, req *arrsv1.ListCpdRequestsRequest) (*arrsv1.ListCpdRequestsResponse, error) {
	ods, err := cpd.ParsePracticeName("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	page, err := parsePage(req.GetPageSize(), req.GetPageToken(), req.GetParent(), req.GetState().String())
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListRequests(ctx, ods, cpdStates[req.GetState()], page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListCpdRequestsResponse{NextPageToken: tokenFor(next, req.GetParent(), req.GetState().String())}
	for _, r := range rows {
		resp.CpdRequests = append(resp.CpdRequests, cpdRequestProto(r))
	}
	return resp, nil
}

// decided answers a decision on a request.
func decided(r cpd.Request, err error) (*arrsv1.CpdRequest, error) {
	if err != nil {
		return nil, err
	}
	return cpdRequestProto(r), nil
}

func (h *cpdService) AllocateCpdCoursePlace(ctx context.Context, req *arrsv1.AllocateCpdCoursePlaceRequest) (*arrsv1.CpdRequest, error) {
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	return decided(h.store.AllocatePlace(ctx, cr, req.GetName(), req.GetEtag(), req.GetCourse()))
}

func (h *cpdService) ApproveCpdRequest(ctx context.Context, req *arrsv1.ApproveCpdRequestRequest) (*arrsv1.CpdRequest, error) {
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	return decided(h.store.Approve(ctx, cr, req.GetName(), req.GetEtag()))
}

func (h *cpdService) PartFundCpdRequest(ctx context.Context, req *arrsv1.PartFundCpdRequestRequest) (*arrsv1.CpdRequest, error) {
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	return decided(h.store.PartFund(ctx, cr, req.GetName(), req.GetEtag(), req.GetFundedPence()))
}

func (h *cpdService) RejectCpdRequest(ctx context.Context, req *arrsv1.RejectCpdRequestRequest) (*arrsv1.CpdRequest, error) {
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	return decided(h.store.Reject(ctx, cr, req.GetName(), req.GetEtag(), req.GetReason()))
}

func (h *cpdService) RecordCpdPayment(ctx context.Context, req *arrsv1.RecordCpdPaymentRequest) (*arrsv1.CpdRequest, error) {
	// An empty date is the store's to refuse (REQUIRED), with the rest of
	// a payment's rules.
	var vs claims.Violations
	date := optionalDate(&vs, "payment_date", req.GetPaymentDate())
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	return decided(h.store.RecordPayment(ctx, cr, req.GetName(), req.GetEtag(), date, req.GetReference()))
}
