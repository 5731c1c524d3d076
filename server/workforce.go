package server

import (
	"context"
	"fmt"
	"strings"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// workforce serves arrs.v1.WorkforceService.
type workforce struct {
	arrsv1.UnimplementedWorkforceServiceServer
	store *claims.Store
}

var postStates = map[arrsv1.Post_State]claims.PostState{
	arrsv1.Post_STATE_PLANNED:    claims.PostPlanned,
	arrsv1.Post_STATE_RECRUITING: claims.PostRecruiting,
	arrsv1.Post_STATE_FILLED:     claims.PostFilled,
	arrsv1.Post_STATE_ENDED:      claims.PostEnded,
}

var focusCohorts = map[arrsv1.FocusCohort]claims.FocusCohort{
	arrsv1.FocusCohort_FOCUS_COHORT_UNSPECIFIED:        claims.CohortUnspecified,
	arrsv1.FocusCohort_FOCUS_COHORT_FRAIL_OLDER_PEOPLE: claims.CohortFrailOlderPeople,
	arrsv1.FocusCohort_FOCUS_COHORT_OFF_WORK:           claims.CohortOffWork,
	arrsv1.FocusCohort_FOCUS_COHORT_MENTAL_HEALTH:      claims.CohortMentalHealth,
	arrsv1.FocusCohort_FOCUS_COHORT_OTHER:              claims.CohortOther,
}

var (
	postStatesOut   = reverse(postStates)
	focusCohortsOut = reverse(focusCohorts)
)

func postProto(p claims.Post) *arrsv1.Post {
	return &arrsv1.Post{
		Name:               p.Name(),
		Role:               claims.Role{ID: p.RoleID}.Name(),
		State:              postStatesOut[p.State],
		StaffName:          p.StaffName,
		RegistrationNumber: p.RegistrationNumber,
		Wte:                p.WTE.String(),
		StartDate:          p.StartDate.String(),
		EndDate:            p.EndDate.String(),
		Employer:           p.Employer,
		FocusCohort:        focusCohortsOut[p.FocusCohort],
		Baseline:           p.Baseline,
		CctDate:            p.CCTDate.String(),
		Etag:               claims.Etag(p.Revision),
		CreateTime:         timestamp(p.CreateTime),
		UpdateTime:         timestamp(p.UpdateTime),
	}
}

// postFields reads the writable fields of a post message, except the WTE,
// which a create needs and an update reads only when its mask names it.
func postFields(vs *claims.Violations, in *arrsv1.Post) claims.Post {
	return postFieldsAt(vs, "", in)
}

// postFieldsAt is postFields for a post inside a larger request, its fields
// named prefix+"post.…" (a batch's "requests[i].").
func postFieldsAt(vs *claims.Violations, prefix string, in *arrsv1.Post) claims.Post {
	cohort, ok := focusCohorts[in.GetFocusCohort()]
	if !ok {
		vs.Add(prefix+"post.focus_cohort", "UNKNOWN", "unknown focus cohort")
	}
	return claims.Post{
		StaffName:          in.GetStaffName(),
		RegistrationNumber: in.GetRegistrationNumber(),
		StartDate:          parseDate(vs, prefix+"post.start_date", in.GetStartDate()),
		EndDate:            parseDate(vs, prefix+"post.end_date", in.GetEndDate()),
		Employer:           in.GetEmployer(),
		FocusCohort:        cohort,
		Baseline:           in.GetBaseline(),
		CCTDate:            parseDate(vs, prefix+"post.cct_date", in.GetCctDate()),
	}
}

func (h *workforce) GetPost(ctx context.Context, req *arrsv1.GetPostRequest) (*arrsv1.Post, error) {
	pcn, id, err := claims.ParsePostName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	p, err := h.store.GetPost(ctx, pcn, id)
	if err != nil {
		return nil, err
	}
	return postProto(p), nil
}

func (h *workforce) ListPosts(ctx context.Context, req *arrsv1.ListPostsRequest) (*arrsv1.ListPostsResponse, error) {
	var vs claims.Violations
	pcn, err := claims.ParsePCNParent("parent", req.GetParent())
	vs.Take(err)
	filter := claims.PostFilter{PCNCode: pcn, State: postStates[req.GetState()]}
	if req.GetRole() != "" {
		role, err := claims.ParseRoleName("role", req.GetRole())
		vs.Take(err)
		filter.RoleID = role
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	page, err := parsePage(req.GetPageSize(), req.GetPageToken(), filter.PCNCode, filter.RoleID, string(filter.State))
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListPosts(ctx, filter, page.store())
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.ListPostsResponse{NextPageToken: tokenFor(next, filter.PCNCode, filter.RoleID, string(filter.State))}
	for _, p := range rows {
		resp.Posts = append(resp.Posts, postProto(p))
	}
	return resp, nil
}

func (h *workforce) CreatePost(ctx context.Context, req *arrsv1.CreatePostRequest) (*arrsv1.Post, error) {
	pcn, err := claims.ParsePCNName("parent", req.GetParent())
	if err != nil {
		return nil, err
	}
	var vs claims.Violations
	p := newPost(&vs, "", req)
	p.PCNCode = pcn
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.CreatePost(ctx, cr, p)
	if err != nil {
		return nil, err
	}
	return postProto(out), nil
}

// newPost reads a CreatePostRequest (its fields named under prefix) into
// the post it asks for.
func newPost(vs *claims.Violations, prefix string, req *arrsv1.CreatePostRequest) claims.Post {
	p := postFieldsAt(vs, prefix, req.GetPost())
	p.ID = req.GetPostId()
	p.WTE = parseDecimal(vs, prefix+"post.wte", req.GetPost().GetWte())
	requireName(vs, prefix+"post.role", req.GetPost().GetRole())
	if req.GetPost().GetRole() != "" {
		role, err := claims.ParseRoleName(prefix+"post.role", req.GetPost().GetRole())
		vs.Take(err)
		p.RoleID = role
	}
	return p
}

func (h *workforce) BatchCreatePosts(ctx context.Context, req *arrsv1.BatchCreatePostsRequest) (*arrsv1.BatchCreatePostsResponse, error) {
	var vs claims.Violations
	pcn, err := claims.ParsePCNName("parent", req.GetParent())
	vs.Take(err)
	if n := len(req.GetRequests()); n == 0 || n > claims.MaxBatchPosts {
		vs.Add("requests", "BATCH_SIZE", "1 to %d posts", claims.MaxBatchPosts)
	}
	posts := make([]claims.Post, len(req.GetRequests()))
	for i, r := range req.GetRequests() {
		prefix := fmt.Sprintf("requests[%d].", i)
		if r.GetParent() != "" && r.GetParent() != req.GetParent() {
			vs.Add(prefix+"parent", "PARENT_MISMATCH", "empty, or the batch's parent %s", req.GetParent())
		}
		if r.GetRequestId() != "" {
			vs.Add(prefix+"request_id", "BATCH_REQUEST_ID", "empty: the batch's request_id makes the whole call idempotent")
		}
		posts[i] = newPost(&vs, prefix, r)
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	cr, err := createRequest(ctx, req.GetRequestId(), req)
	if err != nil {
		return nil, err
	}
	out, err := h.store.BatchCreatePosts(ctx, cr, pcn, posts)
	if err != nil {
		return nil, err
	}
	resp := &arrsv1.BatchCreatePostsResponse{Posts: make([]*arrsv1.Post, len(out))}
	for i, p := range out {
		resp.Posts[i] = postProto(p)
	}
	return resp, nil
}

func (h *workforce) UpdatePost(ctx context.Context, req *arrsv1.UpdatePostRequest) (*arrsv1.Post, error) {
	in := req.GetPost()
	pcn, id, err := claims.ParsePostName("post.name", in.GetName())
	if err != nil {
		return nil, err
	}
	paths, err := updatePaths(req.GetUpdateMask(), "staff_name", "registration_number", "wte", "start_date",
		"end_date", "employer", "focus_cohort", "baseline", "cct_date")
	if err != nil {
		return nil, err
	}
	var vs claims.Violations
	p := postFields(&vs, in)
	if paths["wte"] {
		p.WTE = parseDecimal(&vs, "post.wte", in.GetWte())
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	out, err := h.store.UpdatePost(ctx, pcn, id, in.GetEtag(), func(cur *claims.Post) {
		if paths["staff_name"] {
			cur.StaffName = p.StaffName
		}
		if paths["registration_number"] {
			cur.RegistrationNumber = p.RegistrationNumber
		}
		if paths["wte"] {
			cur.WTE = p.WTE
		}
		if paths["start_date"] {
			cur.StartDate = p.StartDate
		}
		if paths["end_date"] {
			cur.EndDate = p.EndDate
		}
		if paths["employer"] {
			cur.Employer = p.Employer
		}
		if paths["focus_cohort"] {
			cur.FocusCohort = p.FocusCohort
		}
		if paths["baseline"] {
			cur.Baseline = p.Baseline
		}
		if paths["cct_date"] {
			cur.CCTDate = p.CCTDate
		}
	})
	if err != nil {
		return nil, err
	}
	return postProto(out), nil
}

func (h *workforce) RecruitPost(ctx context.Context, req *arrsv1.RecruitPostRequest) (*arrsv1.Post, error) {
	pcn, id, err := claims.ParsePostName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	out, err := h.store.RecruitPost(ctx, pcn, id, req.GetEtag())
	if err != nil {
		return nil, err
	}
	return postProto(out), nil
}

func (h *workforce) FillPost(ctx context.Context, req *arrsv1.FillPostRequest) (*arrsv1.Post, error) {
	pcn, id, err := claims.ParsePostName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	var vs claims.Violations
	start := parseDate(&vs, "start_date", req.GetStartDate())
	if err := vs.Err(); err != nil {
		return nil, err
	}
	out, err := h.store.FillPost(ctx, pcn, id, req.GetEtag(), req.GetStaffName(), req.GetRegistrationNumber(), start)
	if err != nil {
		// The store checks the whole post; this request's fields are top level.
		return nil, unprefixViolations(err, "post.")
	}
	return postProto(out), nil
}

func (h *workforce) EndPost(ctx context.Context, req *arrsv1.EndPostRequest) (*arrsv1.Post, error) {
	pcn, id, err := claims.ParsePostName("name", req.GetName())
	if err != nil {
		return nil, err
	}
	var vs claims.Violations
	end := parseDate(&vs, "end_date", req.GetEndDate())
	if err := vs.Err(); err != nil {
		return nil, err
	}
	out, err := h.store.EndPost(ctx, pcn, id, req.GetEtag(), end)
	if err != nil {
		return nil, unprefixViolations(err, "post.")
	}
	return postProto(out), nil
}

// unprefixViolations renames field violations for a custom method whose
// request carries the post's fields at the top level.
func unprefixViolations(err error, prefix string) error {
	e, ok := claims.AsError(err)
	if !ok || len(e.Violations) == 0 {
		return err
	}
	out := *e
	out.Violations = make([]claims.Violation, len(e.Violations))
	for i, v := range e.Violations {
		v.Field = strings.TrimPrefix(v.Field, prefix)
		out.Violations[i] = v
	}
	return &out
}
