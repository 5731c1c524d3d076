package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

func TestReviewJourney(t *testing.T) {
	a := startAPI(t)
	c := arrsv1.NewClaimServiceClient(a.conn)
	approver := as(t.Context(), "approver-own")

	queue, err := c.ListReviewQueue(approver, &arrsv1.ListReviewQueueRequest{Commissioner: "commissioners/QNQ",
		View: arrsv1.ClaimView_CLAIM_VIEW_FULL})
	if err != nil || len(queue.GetItems()) != 2 || queue.GetItems()[0].GetClaim().GetName() != "pcns/U12345/claims/2025-04" {
		t.Fatalf("queue = %v, %v", queue, err)
	}
	var flags []string
	for _, f := range queue.GetItems()[0].GetFlags() {
		flags = append(flags, strings.TrimPrefix(f.GetLine(), "pcns/U12345/claims/2025-04/lines/")+" "+f.GetReason())
	}
	// April 2025: the pharmacist costs more than the cap; the OT who started
	// on 17 April is new and, paid a full month, over her 14-day cap.
	if fmt.Sprint(flags) != "[ot-return-to-work COST_OVER_CAP ot-return-to-work NEW_STARTER pharmacist-1 COST_OVER_CAP]" {
		t.Errorf("April's flags = %v", flags)
	}

	april := queue.GetItems()[0].GetClaim()
	var pharmacist *arrsv1.ClaimLine
	for _, l := range april.GetLines() {
		if strings.HasSuffix(l.GetName(), "/pharmacist-1") {
			pharmacist = l
		}
	}
	approved, err := c.ApproveClaim(approver, &arrsv1.ApproveClaimRequest{Name: april.GetName(), Etag: april.GetEtag(),
		Adjustments: []*arrsv1.LineAdjustment{{Line: pharmacist.GetName(), ApprovedPence: 500000, Reason: "Only 25 days worked"}}})
	if err != nil || approved.GetState() != arrsv1.Claim_STATE_APPROVED ||
		approved.GetApprovedPence() != april.GetReimbursablePence()-(pharmacist.GetReimbursablePence()-500000) {
		t.Fatalf("approve = %v, %v", approved, err)
	}
	_, err = c.ApproveClaim(approver, &arrsv1.ApproveClaimRequest{Name: april.GetName(), Etag: april.GetEtag()})
	if status.Code(err) != codes.Aborted {
		t.Errorf("approving again with the old etag: %v, want ABORTED", err)
	}
	_, err = c.ApproveClaim(approver, &arrsv1.ApproveClaimRequest{Name: "pcns/U12345/claims/2025-05",
		Adjustments: []*arrsv1.LineAdjustment{{Line: "pcns/U12345/claims/2025-05/lines/splw-1", ApprovedPence: 999999999, Reason: "x"}}})
	if code, got := violations(err); code != codes.InvalidArgument || fmt.Sprint(got) != "[adjustments[0].approved_pence ADJUSTMENT_RANGE]" {
		t.Errorf("raising a line on approval: %s %v", code, got)
	}

	today := time.Now().In(london(t)).Format(time.DateOnly)
	paid, err := c.RecordClaimPayment(as(t.Context(), "finance-own"), &arrsv1.RecordClaimPaymentRequest{Name: april.GetName(),
		Payment: &arrsv1.Payment{PaymentDate: today, Reference: "REM-2025-0815"}, RequestId: "0b6f7f43-5f1e-4ad5-8f7a-0a5b3f1d2c11"})
	if err != nil || paid.GetState() != arrsv1.Claim_STATE_PAID || paid.GetPayment().GetPayee() != "Riverside Surgery (K81001)" || paid.GetPayment().GetRecordedBy() != "f1" {
		t.Fatalf("pay = %v, %v", paid, err)
	}

	// Over REST, a query goes back to the PCN with its question.
	code, body := do(t, "approver-own", http.MethodPost, "http://"+a.HTTPAddr()+"/v1/pcns/U12345/claims/2025-05:query",
		map[string]any{"question": "Please attach the May payslips"})
	if code != http.StatusOK || body["state"] != "STATE_QUERIED" || body["reviewNote"] != "Please attach the May payslips" {
		t.Errorf("query over REST = %d %v", code, body)
	}
	budget, err := c.GetBudget(as(t.Context(), "cd-own"), &arrsv1.GetBudgetRequest{Name: "pcns/U12345/budgets/2025-26"})
	if err != nil || budget.GetPaidPence() != paid.GetApprovedPence() || budget.GetSubmittedPence() == 0 {
		t.Errorf("budget after review = %v, %v", budget, err)
	}

	_, metrics := get(t, "http://"+a.MetricsAddr()+"/metrics", nil)
	for _, want := range []string{
		`arrs_claim_submission_to_approval_seconds_count{commissioner="QNQ"} 1`,
		`arrs_claim_submission_to_payment_seconds_count{commissioner="QNQ"} 1`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func london(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
