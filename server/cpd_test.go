package server

import (
	"fmt"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// The CPD ledger over gRPC on the demo data: refusals name the field and
// the rule, bad input changes nothing, a decision's retry with its
// request_id returns the first result, and a stale etag is ABORTED.
func TestCpdOverTheAPI(t *testing.T) {
	a := startAPI(t)
	cpd := arrsv1.NewCpdServiceClient(a.conn)
	practice := as(t.Context(), "practice-own")
	hub := as(t.Context(), "hub")
	request := func(change func(*arrsv1.CpdRequest)) *arrsv1.CreateCpdRequestRequest {
		r := &arrsv1.CpdRequest{Need: "practices/K81001/cpdNeeds/grace-diabetes", Scheme: "cpdSchemes/cpd-2026-27",
			Category: arrsv1.CpdRequest_CATEGORY_COURSE, Provider: "Uni", CourseTitle: "Insulin", StartDate: "2027-01-10",
			EndDate: "2027-01-10", CostPence: 5000}
		change(r)
		return &arrsv1.CreateCpdRequestRequest{Parent: "practices/K81001", CpdRequest: r}
	}
	before, err := cpd.ListCpdRequests(practice, &arrsv1.ListCpdRequestsRequest{Parent: "practices/K81001"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rule   string
		change func(*arrsv1.CpdRequest)
		want   string
	}{
		{"equipment is refused", func(r *arrsv1.CpdRequest) { r.Category = arrsv1.CpdRequest_CATEGORY_EQUIPMENT }, "cpd_request.category NOT_FUNDABLE"},
		{"no carry-over past the scheme's end", func(r *arrsv1.CpdRequest) { r.EndDate = "2027-04-02" }, "cpd_request.end_date AFTER_SCHEME_END"},
		{"the need is required", func(r *arrsv1.CpdRequest) { r.Need = "" }, "cpd_request.need REQUIRED"},
		{"dates are dates", func(r *arrsv1.CpdRequest) { r.StartDate = "10/01/2027" }, "cpd_request.start_date DATE_FORMAT"},
	} {
		_, err := cpd.CreateCpdRequest(practice, request(tc.change))
		if code, vs := violations(err); code != codes.InvalidArgument || !slices.Contains(vs, tc.want) {
			t.Errorf("%s: %v %v, want INVALID_ARGUMENT with %s", tc.rule, code, vs, tc.want)
		}
	}
	after, err := cpd.ListCpdRequests(practice, &arrsv1.ListCpdRequestsRequest{Parent: "practices/K81001"})
	if err != nil || len(after.GetCpdRequests()) != len(before.GetCpdRequests()) {
		t.Fatalf("refused requests changed the listing: %d → %d (%v)", len(before.GetCpdRequests()), len(after.GetCpdRequests()), err)
	}

	r, err := cpd.CreateCpdRequest(practice, request(func(*arrsv1.CpdRequest) {}))
	if err != nil {
		t.Fatal(err)
	}
	approve := &arrsv1.ApproveCpdRequestRequest{Name: r.GetName(), RequestId: "9b2f7e0c-7d1a-4a8e-9a51-3c6f0e2d4b17"}
	first, err := cpd.ApproveCpdRequest(hub, approve)
	if err != nil || first.GetState() != arrsv1.CpdRequest_STATE_APPROVED || first.GetFundedPence() != 5000 {
		t.Fatalf("approve = %v, %v", first, err)
	}
	again, err := cpd.ApproveCpdRequest(hub, approve)
	if err != nil || again.GetEtag() != first.GetEtag() {
		t.Fatalf("retried approve = %v, %v; want the first result", again, err)
	}
	_, err = cpd.RecordCpdPayment(hub, &arrsv1.RecordCpdPaymentRequest{Name: r.GetName(), Reference: "REM-7"})
	if code, got := violations(err); code != codes.InvalidArgument || fmt.Sprint(got) != "[payment_date REQUIRED]" {
		t.Fatalf("payment with no date: %s %v, want INVALID_ARGUMENT payment_date REQUIRED", code, got)
	}
	_, err = cpd.RecordCpdPayment(hub, &arrsv1.RecordCpdPaymentRequest{Name: r.GetName(), Etag: r.GetEtag(),
		PaymentDate: "2026-12-01", Reference: "REM-7"})
	if status.Code(err) != codes.Aborted {
		t.Fatalf("payment with a stale etag: %v, want ABORTED", err)
	}
	_, err = cpd.RejectCpdRequest(hub, &arrsv1.RejectCpdRequestRequest{Name: r.GetName(), Reason: "late"})
	if status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("reject an approved request: %v, want FAILED_PRECONDITION", err)
	}
}
