package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

func TestClaimJourneyOverGRPC(t *testing.T) {
	a := startAPI(t)
	ctx := as(t.Context(), "cd-own")
	c := arrsv1.NewClaimServiceClient(a.conn)

	// The demo's November 2026 claim for Riverside is a draft with costs entered.
	november, err := c.GetClaim(ctx, &arrsv1.GetClaimRequest{Name: "pcns/U12345/claims/2026-11"})
	if err != nil {
		t.Fatal(err)
	}
	if november.GetState() != arrsv1.Claim_STATE_DRAFT || len(november.GetLines()) != 4 || november.GetFinancialYear() != "2026-27" {
		t.Fatalf("November = %s with %d lines", november.GetState(), len(november.GetLines()))
	}
	var pharmacist *arrsv1.ClaimLine
	for _, l := range november.GetLines() {
		if l.GetPost() == "pcns/U12345/posts/pharmacist-1" {
			pharmacist = l
		}
	}
	// A band 8a pharmacist costs 447958 + 52420 + 64416 = 564794p in November,
	// over the cap of 6697200 × 30 ÷ 365 = 550454.79… → 550455p: the cap is
	// paid. (The 2026/27 award came after the draft; submitting applies it.)
	if pharmacist.GetActualPence() != 564794 || pharmacist.GetCapPence() != 550455 || pharmacist.GetReimbursablePence() != 550455 ||
		len(pharmacist.GetCapSegments()) != 1 || pharmacist.GetCapSegments()[0].GetRate() != "roles/clinical-pharmacist/rates/2025-04-01" {
		t.Errorf("pharmacist line = %v", pharmacist)
	}
	excluded := fmt.Sprint(november.GetExcludedPosts())
	if !strings.Contains(excluded, "pharmacist-baseline") || !strings.Contains(excluded, "BASELINE") {
		t.Errorf("excluded = %s, want the baseline pharmacist", excluded)
	}

	line, err := c.UpdateClaimLine(ctx, &arrsv1.UpdateClaimLineRequest{
		ClaimLine:  &arrsv1.ClaimLine{Name: pharmacist.GetName(), Etag: pharmacist.GetEtag(), EmployerPensionPence: 60000},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"employer_pension_pence"}}})
	if err != nil || line.GetEmployerPensionPence() != 60000 || line.GetGrossSalaryPence() != 447958 {
		t.Fatalf("update line = %v, %v", line, err)
	}
	_, err = c.UpdateClaimLine(ctx, &arrsv1.UpdateClaimLineRequest{
		ClaimLine:  &arrsv1.ClaimLine{Name: pharmacist.GetName(), GrossSalaryPence: -5},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"gross_salary_pence"}}})
	if code, got := violations(err); code != codes.InvalidArgument || fmt.Sprint(got) != "[claim_line.gross_salary_pence NOT_NEGATIVE]" {
		t.Errorf("negative salary: %s %v", code, got)
	}

	before, _ := c.GetBudget(ctx, &arrsv1.GetBudgetRequest{Name: "pcns/U12345/budgets/2026-27"})
	submitted, err := c.SubmitClaim(ctx, &arrsv1.SubmitClaimRequest{Name: november.GetName(), RequestId: "7b0c5f0e-8a57-4c8f-9a43-2f1f2a7a1c01"})
	if err != nil || submitted.GetState() != arrsv1.Claim_STATE_SUBMITTED || submitted.GetSubmitter() != "cd1" {
		t.Fatalf("submit = %v, %v", submitted, err)
	}
	again, err := c.SubmitClaim(ctx, &arrsv1.SubmitClaimRequest{Name: november.GetName(), RequestId: "7b0c5f0e-8a57-4c8f-9a43-2f1f2a7a1c01"})
	if err != nil || again.GetEtag() != submitted.GetEtag() {
		t.Errorf("a retried submit = %v, %v; want the first result", again, err)
	}
	after, err := c.GetBudget(ctx, &arrsv1.GetBudgetRequest{Name: "pcns/U12345/budgets/2026-27"})
	if err != nil || after.GetSubmittedPence() != before.GetSubmittedPence()+submitted.GetReimbursablePence() ||
		after.GetRemainingPence() != after.GetEntitlementPence()-after.GetSubmittedPence()-after.GetApprovedPence()-after.GetPaidPence() ||
		after.GetForecastFrom() != "2026-12" {
		t.Errorf("budget before %v after %v", before, after)
	}
	// The months go over the wire, November's claim counted in November.
	if ms := after.GetMonths(); len(ms) != 12 || ms[7].GetMonth() != "2026-11" ||
		ms[7].GetClaimedPence() != submitted.GetReimbursablePence() ||
		ms[11].GetCumulativeClaimedPence() != after.GetSubmittedPence()+after.GetApprovedPence()+after.GetPaidPence() ||
		ms[11].GetEntitlementPacePence() != after.GetEntitlementPence() {
		t.Errorf("budget months %v", ms)
	}
	_, err = c.UpdateClaimLine(ctx, &arrsv1.UpdateClaimLineRequest{ClaimLine: &arrsv1.ClaimLine{Name: pharmacist.GetName(), GrossSalaryPence: 1},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"gross_salary_pence"}}})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("editing a submitted claim: %v, want FAILED_PRECONDITION", err)
	}

	for _, tt := range []struct {
		req  *arrsv1.CreateClaimRequest
		code codes.Code
	}{
		{&arrsv1.CreateClaimRequest{Parent: "pcns/U12345", ClaimId: "2025-4"}, codes.InvalidArgument},
		{&arrsv1.CreateClaimRequest{Parent: "pcns/U12345", ClaimId: "April 2025"}, codes.InvalidArgument},
		{&arrsv1.CreateClaimRequest{Parent: "pcns/U12345", ClaimId: "2026-10"}, codes.AlreadyExists},
		{&arrsv1.CreateClaimRequest{Parent: "pcns/U12345", ClaimId: "2099-01"}, codes.FailedPrecondition},
	} {
		if _, err := c.CreateClaim(ctx, tt.req); status.Code(err) != tt.code {
			t.Errorf("create %s: %v, want %s", tt.req.GetClaimId(), err, tt.code)
		}
	}
}

func TestClaimsOverREST(t *testing.T) {
	a := startAPI(t)
	base := "http://" + a.HTTPAddr() + "/v1/"
	code, body := do(t, "cd-foreign", http.MethodPost, base+"pcns/U23456/claims?claimId=2025-04", nil)
	if code != http.StatusOK || body["state"] != "STATE_DRAFT" {
		t.Fatalf("create = %d %v", code, body)
	}
	lines := body["lines"].([]any)
	first := lines[0].(map[string]any)
	code, body = do(t, "cd-foreign", http.MethodPatch, base+first["name"].(string)+"?updateMask=grossSalaryPence,evidenceUris",
		map[string]any{"grossSalaryPence": "300000", "evidenceUris": []string{"https://payroll.example/2025-04.pdf"}})
	// The first line is the half-time care co-ordinator: 300000p paid is over
	// her cap, so the cap is what the line reimburses.
	if code != http.StatusOK || body["reimbursablePence"] == nil || body["reimbursablePence"] != body["capPence"] {
		t.Fatalf("update line = %d %v", code, body)
	}
	code, body = do(t, "cd-foreign", http.MethodPost, base+"pcns/U23456/claims/2025-04:submit", map[string]any{})
	if code != http.StatusOK || body["state"] != "STATE_SUBMITTED" {
		t.Fatalf("submit = %d %v", code, body)
	}
	code, body = do(t, "cd-foreign", http.MethodGet, base+"pcns/U23456/budgets/2025-26", nil)
	if code != http.StatusOK || body["submittedPence"] == nil || body["forecastPence"] == nil {
		t.Errorf("budget = %d %v", code, body)
	}
	code, _ = do(t, "cd-foreign", http.MethodPost, base+"pcns/U23456/claims/2025-04:withdraw", map[string]any{"reason": "wrong month"})
	if code != http.StatusOK {
		t.Errorf("withdraw = %d", code)
	}
	code, _ = do(t, "cd-foreign", http.MethodGet, base+"pcns/U12345/claims/2026-10", nil)
	if code != http.StatusNotFound {
		t.Errorf("another PCN's claim = %d, want 404", code)
	}
}

// TestCreateClaimWithItsLinesCostsOverGRPC: a month's claim in one call, its
// lines' costs recorded by the create, a line of another claim refused by
// its place in the request.
func TestCreateClaimWithItsLinesCostsOverGRPC(t *testing.T) {
	a := startAPI(t)
	ctx := as(t.Context(), "cd-own")
	c := arrsv1.NewClaimServiceClient(a.conn)
	update := func(name string) *arrsv1.UpdateClaimLineRequest {
		return &arrsv1.UpdateClaimLineRequest{ClaimLine: &arrsv1.ClaimLine{Name: name, GrossSalaryPence: 210000},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"gross_salary_pence"}}}
	}
	_, err := c.CreateClaim(ctx, &arrsv1.CreateClaimRequest{Parent: "pcns/U12345", ClaimId: "2026-07",
		LineUpdates: []*arrsv1.UpdateClaimLineRequest{update("pcns/U12345/claims/2026-07/lines/splw-1"), update("pcns/U12345/claims/2026-06/lines/splw-1")}})
	var fields []string
	if _, br := details(t, status.Convert(err)); br != nil {
		for _, v := range br.GetFieldViolations() {
			fields = append(fields, v.GetField()+" "+v.GetReason())
		}
	}
	if status.Code(err) != codes.InvalidArgument || fmt.Sprint(fields) != "[line_updates[1].claim_line.name PARENT_MISMATCH]" {
		t.Fatalf("a line of another claim: %v %v", err, fields)
	}
	claim, err := c.CreateClaim(ctx, &arrsv1.CreateClaimRequest{Parent: "pcns/U12345", ClaimId: "2026-07",
		LineUpdates: []*arrsv1.UpdateClaimLineRequest{update("pcns/U12345/claims/2026-07/lines/splw-1")}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range claim.GetLines() {
		if want := l.GetPost() == "pcns/U12345/posts/splw-1"; want != (l.GetGrossSalaryPence() == 210000 && l.GetReimbursablePence() > 0) {
			t.Errorf("line %s: gross %d, reimbursable %d", l.GetName(), l.GetGrossSalaryPence(), l.GetReimbursablePence())
		}
	}
}
