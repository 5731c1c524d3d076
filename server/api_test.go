package server

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/claims/demo"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
	"arrs.nhs.uk/arrs/internal/pgtest"
)

// api is a server loaded with the demo data and clients for every service.
type api struct {
	*running
	org  arrsv1.OrganisationServiceClient
	cat  arrsv1.CatalogueServiceClient
	fund arrsv1.FundingServiceClient
	work arrsv1.WorkforceServiceClient
}

func startAPI(t *testing.T) api {
	t.Helper()
	t.Parallel()
	db := pgtest.NewDB(t)
	db.SetMaxOpenConns(8)
	loadDemo(t, db)
	r := startServer(t, claims.NewStore(db, claims.WithClock(demoClock())))
	return api{running: r,
		org:  arrsv1.NewOrganisationServiceClient(r.conn),
		cat:  arrsv1.NewCatalogueServiceClient(r.conn),
		fund: arrsv1.NewFundingServiceClient(r.conn),
		work: arrsv1.NewWorkforceServiceClient(r.conn),
	}
}

// demoDay is the day the tests load the demo data "on" (it is about the
// months before the day it is loaded), so that they can name its claims:
// Riverside's (U12345) August 2026 claim is paid, September's approved,
// October's awaits review and November's is a draft; Kingsgate's (U34567)
// September and October claims await review too, September's the oldest.
var demoDay = time.Date(2026, time.December, 2, 9, 30, 0, 0, time.UTC)

// demoClock is a clock that starts on demoDay when it is made and runs on
// from there, so the server the tests start stands on the demo's day.
func demoClock() func() time.Time {
	start := time.Now()
	return func() time.Time { return demoDay.Add(time.Since(start)) }
}

// demoDate is demoDay's date, as the API writes dates.
const demoDate = "2026-12-02"

func loadDemo(t testing.TB, db *sqlx.DB) {
	t.Helper()
	if err := demo.Load(t.Context(), claims.NewStore(db, claims.WithClock(func() time.Time { return demoDay }))); err != nil {
		t.Fatalf("demo data does not load: %v", err)
	}
}

// as returns ctx carrying a test identity's bearer token (see testIdentities).
func as(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// violations returns the status code and "field RULE" of each field violation.
func violations(err error) (codes.Code, []string) {
	st := status.Convert(err)
	var out []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out = append(out, v.GetField()+" "+v.GetReason())
			}
		}
	}
	return st.Code(), out
}

func TestDemoDataIsServed(t *testing.T) {
	a := startAPI(t)
	ctx := as(t.Context(), "national")
	pcns, err := a.org.ListPcns(ctx, &arrsv1.ListPcnsRequest{Commissioner: "commissioners/QNQ"})
	if err != nil || len(pcns.GetPcns()) != 3 {
		t.Fatalf("PCNs of QNQ = %d, %v; want 3", len(pcns.GetPcns()), err)
	}
	posts, err := a.work.ListPosts(ctx, &arrsv1.ListPostsRequest{Parent: "pcns/-", Role: "roles/occupational-therapist"})
	if err != nil || len(posts.GetPosts()) != 4 {
		t.Fatalf("OT posts = %d, %v; want 4", len(posts.GetPosts()), err)
	}
	e, err := a.fund.GetEntitlement(ctx, &arrsv1.GetEntitlementRequest{Name: "pcns/U12345/entitlements/2025-26"})
	// £26.631 × 52,345.67 weighted patients = £1,394,017.53777 → 139,401,754p.
	if err != nil || e.GetAmountPence() != 139401754 || e.GetRatePerWeightedPatient() != "26.631" {
		t.Fatalf("entitlement = %v, %v", e, err)
	}
	rate, err := a.cat.GetRate(ctx, &arrsv1.GetRateRequest{Name: "roles/clinical-pharmacist/rates/2025-04-01"})
	if err != nil || rate.GetInnerLondonMaxPence() != 7754500 || rate.GetNationalMaxPence() != 6697200 {
		t.Fatalf("rate = %v, %v", rate, err)
	}
}

func TestBadInputIsRefusedWithFieldViolations(t *testing.T) {
	a := startAPI(t)
	post := func(change func(*arrsv1.Post)) *arrsv1.CreatePostRequest {
		p := &arrsv1.Post{Role: "roles/occupational-therapist", StaffName: "Nia Evans", RegistrationNumber: "OT123456",
			Wte: "0.6", StartDate: "2025-04-17"}
		change(p)
		return &arrsv1.CreatePostRequest{Parent: "pcns/U12345", Post: p}
	}
	tests := []struct {
		name  string
		call  func(ctx context.Context) error
		code  codes.Code
		want  []string
		token string // the caller; a clinical director of U12345 when empty
	}{
		{"WTE above 1", func(ctx context.Context) error {
			_, err := a.work.CreatePost(ctx, post(func(p *arrsv1.Post) { p.Wte = "1.2" }))
			return err
		}, codes.InvalidArgument, []string{"post.wte WTE_RANGE"}, ""},
		{"WTE as a float", func(ctx context.Context) error {
			_, err := a.work.CreatePost(ctx, post(func(p *arrsv1.Post) { p.Wte = "6e-1" }))
			return err
		}, codes.InvalidArgument, []string{"post.wte DECIMAL_FORMAT"}, ""},
		{"a physiotherapist's number for an OT", func(ctx context.Context) error {
			_, err := a.work.CreatePost(ctx, post(func(p *arrsv1.Post) { p.RegistrationNumber = "PH123456" }))
			return err
		}, codes.InvalidArgument, []string{"post.registration_number REGISTRATION_FORMAT"}, ""},
		{"end before start", func(ctx context.Context) error {
			_, err := a.work.CreatePost(ctx, post(func(p *arrsv1.Post) { p.EndDate = "2025-04-16" }))
			return err
		}, codes.InvalidArgument, []string{"post.end_date DATE_ORDER"}, ""},
		{"malformed date", func(ctx context.Context) error {
			_, err := a.work.CreatePost(ctx, post(func(p *arrsv1.Post) { p.StartDate = "17/04/2025" }))
			return err
		}, codes.InvalidArgument, []string{"post.start_date DATE_FORMAT"}, ""},
		{"unknown role", func(ctx context.Context) error {
			_, err := a.work.CreatePost(ctx, post(func(p *arrsv1.Post) { p.Role = "roles/astronaut" }))
			return err
		}, codes.InvalidArgument, []string{"post.role UNKNOWN_ROLE"}, ""},
		{"role missing", func(ctx context.Context) error {
			_, err := a.work.CreatePost(ctx, post(func(p *arrsv1.Post) { p.Role = "" }))
			return err
		}, codes.InvalidArgument, []string{"post.role REQUIRED"}, ""},
		{"unknown PCN", func(ctx context.Context) error {
			req := post(func(*arrsv1.Post) {})
			req.Parent = "pcns/U99999"
			_, err := a.work.CreatePost(ctx, req)
			return err
		}, codes.NotFound, nil, ""},
		{"malformed parent", func(ctx context.Context) error {
			req := post(func(*arrsv1.Post) {})
			req.Parent = "pcns/12345"
			_, err := a.work.CreatePost(ctx, req)
			return err
		}, codes.InvalidArgument, []string{"parent RESOURCE_NAME_FORMAT"}, ""},
		{"the same OT already in post on those dates", func(ctx context.Context) error {
			_, err := a.work.CreatePost(ctx, post(func(p *arrsv1.Post) { p.RegistrationNumber = "OT071234" }))
			return err
		}, codes.AlreadyExists, nil, ""},
		{"malformed PCN code and practice code", func(ctx context.Context) error {
			_, err := a.org.CreatePcn(ctx, &arrsv1.CreatePcnRequest{PcnId: "V12345", Pcn: &arrsv1.Pcn{
				DisplayName: "New PCN", Commissioner: "commissioners/QNQ", WeightingZone: arrsv1.WeightingZone_WEIGHTING_ZONE_NATIONAL,
				MemberPractices: []*arrsv1.Practice{{OdsCode: "812345", DisplayName: "P"}},
				NominatedPayee:  &arrsv1.Payee{Kind: arrsv1.Payee_KIND_PCN_ACCOUNT}}})
			return err
		}, codes.InvalidArgument, []string{"pcn_id PCN_CODE_FORMAT", "pcn.member_practices[0].ods_code PRACTICE_CODE_FORMAT"}, "national"},
		{"negative page size", func(ctx context.Context) error {
			_, err := a.work.ListPosts(ctx, &arrsv1.ListPostsRequest{Parent: "pcns/-", PageSize: -1})
			return err
		}, codes.InvalidArgument, []string{"page_size PAGE_SIZE_NEGATIVE"}, ""},
		{"update mask names an immutable field", func(ctx context.Context) error {
			_, err := a.work.UpdatePost(ctx, &arrsv1.UpdatePostRequest{Post: &arrsv1.Post{Name: "pcns/U12345/posts/ot-frailty"},
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"role"}}})
			return err
		}, codes.InvalidArgument, []string{"update_mask FIELD_NOT_MUTABLE"}, ""},
		{"filling a post that is filled", func(ctx context.Context) error {
			_, err := a.work.FillPost(ctx, &arrsv1.FillPostRequest{Name: "pcns/U12345/posts/ot-frailty", StaffName: "X", RegistrationNumber: "OT1"})
			return err
		}, codes.FailedPrecondition, nil, ""},
		{"filling with a registration of another register", func(ctx context.Context) error {
			_, err := a.work.FillPost(ctx, &arrsv1.FillPostRequest{Name: "pcns/U12345/posts/ot-mental-health-plan", StaffName: "X", RegistrationNumber: "01A2345N"})
			return err
		}, codes.InvalidArgument, []string{"registration_number REGISTRATION_FORMAT"}, ""},
		{"rate over £1m a year", func(ctx context.Context) error {
			_, err := a.cat.CreateRate(ctx, &arrsv1.CreateRateRequest{Parent: "roles/occupational-therapist",
				Rate: &arrsv1.Rate{EffectiveDate: "2026-04-01", NationalMaxPence: 100_000_001}})
			return err
		}, codes.InvalidArgument, []string{"rate.national_max_pence AMOUNT_RANGE"}, "national"},
		{"financial year written wrongly", func(ctx context.Context) error {
			_, err := a.fund.CreateFinancialYear(ctx, &arrsv1.CreateFinancialYearRequest{FinancialYearId: "2026-2027",
				FinancialYear: &arrsv1.FinancialYear{RatePerWeightedPatient: "27"}})
			return err
		}, codes.InvalidArgument, []string{"financial_year_id FINANCIAL_YEAR_FORMAT"}, "national"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, got := violations(tt.call(as(t.Context(), cmp.Or(tt.token, "cd-own"))))
			if code != tt.code || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %s %v, want %s %v", code, got, tt.code, tt.want)
			}
		})
	}
	posts, err := a.work.ListPosts(as(t.Context(), "national"), &arrsv1.ListPostsRequest{Parent: "pcns/-", PageSize: 500})
	if err != nil || len(posts.GetPosts()) != 13 {
		t.Errorf("after bad input there are %d posts (%v), want the demo's 13", len(posts.GetPosts()), err)
	}
}

func TestListPostsPagesThroughEveryPCN(t *testing.T) {
	a := startAPI(t)
	ctx := as(t.Context(), "national")
	seen := map[string]bool{}
	var order []string
	req := &arrsv1.ListPostsRequest{Parent: "pcns/-", PageSize: 5}
	pages := 0
	for {
		resp, err := a.work.ListPosts(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, p := range resp.GetPosts() {
			if seen[p.GetName()] {
				t.Errorf("%s listed twice", p.GetName())
			}
			seen[p.GetName()] = true
			order = append(order, p.GetName())
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if len(seen) != 13 || pages != 3 {
		t.Errorf("%d posts over %d pages, want 13 over 3", len(seen), pages)
	}
	for i := 1; i < len(order); i++ {
		if order[i-1] >= order[i] {
			t.Errorf("out of order: %s before %s", order[i-1], order[i])
		}
	}
	first, err := a.work.ListPosts(ctx, &arrsv1.ListPostsRequest{Parent: "pcns/-", PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.work.ListPosts(ctx, &arrsv1.ListPostsRequest{Parent: "pcns/U12345", PageSize: 1, PageToken: first.GetNextPageToken()})
	if code, got := violations(err); code != codes.InvalidArgument || fmt.Sprint(got) != "[page_token PAGE_TOKEN_MISMATCH]" {
		t.Errorf("token reused with another parent: %s %v", code, got)
	}
}

func TestUpdateWithAStaleEtagIsAborted(t *testing.T) {
	a := startAPI(t)
	ctx := as(t.Context(), "cd-own")
	p, err := a.work.GetPost(ctx, &arrsv1.GetPostRequest{Name: "pcns/U12345/posts/ot-return-to-work"})
	if err != nil {
		t.Fatal(err)
	}
	mask := &fieldmaskpb.FieldMask{Paths: []string{"wte"}}
	updated, err := a.work.UpdatePost(ctx, &arrsv1.UpdatePostRequest{
		Post: &arrsv1.Post{Name: p.GetName(), Etag: p.GetEtag(), Wte: "0.8"}, UpdateMask: mask})
	if err != nil || updated.GetWte() != "0.8" || updated.GetEtag() == p.GetEtag() || updated.GetStaffName() != "Owen Pritchard" {
		t.Fatalf("update = %v, %v", updated, err)
	}
	_, err = a.work.UpdatePost(ctx, &arrsv1.UpdatePostRequest{
		Post: &arrsv1.Post{Name: p.GetName(), Etag: p.GetEtag(), Wte: "1"}, UpdateMask: mask})
	if status.Code(err) != codes.Aborted {
		t.Errorf("stale etag: %v, want ABORTED", err)
	}
	_, err = a.work.RecruitPost(ctx, &arrsv1.RecruitPostRequest{Name: "pcns/U12345/posts/ot-mental-health-plan", Etag: "stale"})
	if status.Code(err) != codes.Aborted {
		t.Errorf("custom method with a stale etag: %v, want ABORTED", err)
	}
}

func TestCreateRetriedWithTheSameRequestIDReturnsTheFirstPost(t *testing.T) {
	a := startAPI(t)
	req := &arrsv1.CreatePostRequest{Parent: "pcns/U23456", RequestId: uuid.NewString(),
		Post: &arrsv1.Post{Role: "roles/care-coordinator", Wte: "1", StartDate: "2026-02-02"}}
	first, err := a.work.CreatePost(as(t.Context(), "cd-foreign"), req)
	if err != nil {
		t.Fatal(err)
	}
	again, err := a.work.CreatePost(as(t.Context(), "cd-foreign"), req)
	if err != nil || again.GetName() != first.GetName() || again.GetEtag() != first.GetEtag() {
		t.Fatalf("retry = %v, %v; want %s", again, err, first.GetName())
	}
	req.Post.Wte = "0.5"
	_, err = a.work.CreatePost(as(t.Context(), "cd-foreign"), req)
	if code, got := violations(err); code != codes.InvalidArgument || fmt.Sprint(got) != "[request_id REQUEST_ID_REUSED]" {
		t.Errorf("request_id reused for another body: %s %v", code, got)
	}
}

// do sends a JSON request to the REST gateway.
func do(t *testing.T, token, method, url string, body any) (int, map[string]any) {
	t.Helper()
	var buf io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		buf = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, buf)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", method, url, err)
	}
	return resp.StatusCode, out
}

func TestRESTWorkforceJourney(t *testing.T) {
	a := startAPI(t)
	base := "http://" + a.HTTPAddr() + "/v1/"

	code, body := do(t, "cd-foreign", http.MethodPost, base+"pcns/U23456/posts?postId=ot-frailty-2&requestId="+uuid.NewString(), map[string]any{
		"role": "roles/occupational-therapist", "wte": "0.6", "startDate": "2026-03-02", "focusCohort": "FOCUS_COHORT_FRAIL_OLDER_PEOPLE"})
	if code != http.StatusOK || body["state"] != "STATE_PLANNED" || body["name"] != "pcns/U23456/posts/ot-frailty-2" {
		t.Fatalf("create = %d %v", code, body)
	}
	code, body = do(t, "cd-foreign", http.MethodPost, base+"pcns/U23456/posts/ot-frailty-2:recruit", map[string]any{"etag": body["etag"]})
	if code != http.StatusOK || body["state"] != "STATE_RECRUITING" {
		t.Fatalf("recruit = %d %v", code, body)
	}
	code, body = do(t, "cd-foreign", http.MethodPost, base+"pcns/U23456/posts/ot-frailty-2:fill", map[string]any{
		"etag": body["etag"], "staffName": "Nia Evans", "registrationNumber": "OT123456"})
	if code != http.StatusOK || body["state"] != "STATE_FILLED" || body["startDate"] != "2026-03-02" {
		t.Fatalf("fill = %d %v", code, body)
	}
	staleEtag := "1"
	code, _ = do(t, "cd-foreign", http.MethodPatch, base+"pcns/U23456/posts/ot-frailty-2?updateMask=wte", map[string]any{"wte": "1", "etag": staleEtag})
	if code != http.StatusConflict {
		t.Errorf("PATCH with a stale etag = %d, want 409", code)
	}
	code, body = do(t, "cd-foreign", http.MethodPost, base+"pcns/U23456/posts", map[string]any{"role": "roles/occupational-therapist", "wte": "2", "startDate": "2026-03-02"})
	if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body["details"]), "WTE_RANGE") {
		t.Errorf("bad WTE over REST = %d %v, want 400 with details", code, body)
	}
	code, _ = do(t, "cd-foreign", http.MethodGet, base+"pcns/U99999/posts/nobody", nil)
	if code != http.StatusNotFound {
		t.Errorf("unknown post = %d, want 404", code)
	}
}

func TestWritesAreOnTheRecordWithTheCaller(t *testing.T) {
	a := startAPI(t)
	ctx := as(t.Context(), "cd-own")
	const post = "pcns/U12345/posts/ot-mental-health-plan"
	if _, err := a.work.FillPost(ctx, &arrsv1.FillPostRequest{Name: post, StaffName: "Nia Evans", RegistrationNumber: "PH123"}); err == nil {
		t.Fatal("a bad registration number filled the post")
	}
	if _, err := a.work.FillPost(ctx, &arrsv1.FillPostRequest{Name: post, StaffName: "Nia Evans", RegistrationNumber: "OT123456"}); err != nil {
		t.Fatal(err)
	}
	history, err := arrsv1.NewAuditServiceClient(a.conn).ListAuditEvents(ctx, &arrsv1.ListAuditEventsRequest{Resource: post})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range history.GetAuditEvents() {
		got = append(got, e.GetAction()+" by "+e.GetSubject()+" ("+e.GetRole()+", "+e.GetOrganisation()+") via "+e.GetRpc())
	}
	want := []string{
		"create by system:demo (system, national) via ",
		"fill by cd1 (pcn-clinical-director, pcns/U12345) via /arrs.v1.WorkforceService/FillPost",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("history =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	last := history.GetAuditEvents()[len(history.GetAuditEvents())-1]
	if !strings.Contains(last.GetBeforeJson(), `"planned"`) || !strings.Contains(last.GetAfterJson(), `"Nia Evans"`) {
		t.Errorf("before/after = %s / %s", last.GetBeforeJson(), last.GetAfterJson())
	}
	v, err := arrsv1.NewAuditServiceClient(a.conn).VerifyAuditChain(as(t.Context(), "national"), &arrsv1.VerifyAuditChainRequest{})
	if err != nil || !v.GetOk() {
		t.Errorf("chain = %v, %v", v, err)
	}
}
