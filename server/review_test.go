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
	var names []string
	for _, item := range queue.GetItems() {
		names = append(names, item.GetClaim().GetName())
	}
	if err != nil || fmt.Sprint(names) != "[pcns/U34567/claims/2026-09 pcns/U12345/claims/2026-10 pcns/U34567/claims/2026-10 pcns/U23456/claims/2026-10]" {
		t.Fatalf("queue = %v, %v; want the oldest submission first, then the queried claim", names, err)
	}
	// Northfield's October 2026 was submitted 21 days ago and queried at
	// 10:00 7 days ago: the commissioner held it 14 days; at 09:30 the PCN
	// has held it 6 whole days (half an hour short of 7).
	for i, item := range queue.GetItems() {
		want := arrsv1.ReviewItem_WAITING_FOR_COMMISSIONER
		if i == 3 {
			want = arrsv1.ReviewItem_WAITING_FOR_PCN
		}
		if item.GetWaitingFor() != want {
			t.Errorf("%s waits for %v, want %v", item.GetClaim().GetName(), item.GetWaitingFor(), want)
		}
	}
	if q := queue.GetItems()[3]; q.GetCommissionerHeldDays() != 14 || q.GetPcnHeldDays() != 6 || q.GetDaysWaiting() != 6 ||
		len(q.GetClaim().GetMessages()) != 1 || q.GetClaim().GetPcnHeldDays() != 6 {
		t.Errorf("the queried claim: held %d days by the commissioner and %d by the PCN, waiting %d, %d messages; want 14, 6, 6, 1",
			q.GetCommissionerHeldDays(), q.GetPcnHeldDays(), q.GetDaysWaiting(), len(q.GetClaim().GetMessages()))
	}
	var flags []string
	for _, f := range queue.GetItems()[0].GetFlags() {
		flags = append(flags, strings.TrimPrefix(f.GetLine(), "pcns/U34567/claims/2026-09/lines/")+" "+f.GetReason())
	}
	// Kingsgate's September 2026: the pharmacist who started on the 14th is
	// new and, paid a full month, over her 17-day cap.
	if fmt.Sprint(flags) != "[pharmacist-2 COST_OVER_CAP pharmacist-2 NEW_STARTER]" {
		t.Errorf("September's flags = %v", flags)
	}

	october := queue.GetItems()[1].GetClaim()
	var pharmacist *arrsv1.ClaimLine
	for _, l := range october.GetLines() {
		if strings.HasSuffix(l.GetName(), "/pharmacist-1") {
			pharmacist = l
		}
	}
	approved, err := c.ApproveClaim(approver, &arrsv1.ApproveClaimRequest{Name: october.GetName(), Etag: october.GetEtag(),
		Adjustments: []*arrsv1.LineAdjustment{{Line: pharmacist.GetName(), ApprovedPence: 500000, Reason: "Only 25 days worked"}}})
	if err != nil || approved.GetState() != arrsv1.Claim_STATE_APPROVED ||
		approved.GetApprovedPence() != october.GetReimbursablePence()-(pharmacist.GetReimbursablePence()-500000) {
		t.Fatalf("approve = %v, %v", approved, err)
	}
	_, err = c.ApproveClaim(approver, &arrsv1.ApproveClaimRequest{Name: october.GetName(), Etag: october.GetEtag()})
	if status.Code(err) != codes.Aborted {
		t.Errorf("approving again with the old etag: %v, want ABORTED", err)
	}
	_, err = c.ApproveClaim(approver, &arrsv1.ApproveClaimRequest{Name: "pcns/U34567/claims/2026-10",
		Adjustments: []*arrsv1.LineAdjustment{{Line: "pcns/U34567/claims/2026-10/lines/pharmacy-tech-1", ApprovedPence: 999999999, Reason: "x"}}})
	if code, got := violations(err); code != codes.InvalidArgument || fmt.Sprint(got) != "[adjustments[0].approved_pence ADJUSTMENT_RANGE]" {
		t.Errorf("raising a line on approval: %s %v", code, got)
	}

	before, err := c.GetBudget(as(t.Context(), "cd-own"), &arrsv1.GetBudgetRequest{Name: "pcns/U12345/budgets/2026-27"})
	if err != nil {
		t.Fatal(err)
	}
	today := demoDate
	paid, err := c.RecordClaimPayment(as(t.Context(), "finance-own"), &arrsv1.RecordClaimPaymentRequest{Name: october.GetName(),
		Payment: &arrsv1.Payment{PaymentDate: today, Reference: "REM-2025-0815"}, RequestId: "0b6f7f43-5f1e-4ad5-8f7a-0a5b3f1d2c11"})
	if err != nil || paid.GetState() != arrsv1.Claim_STATE_PAID || paid.GetPayment().GetPayee() != "Riverside Surgery (K81001)" || paid.GetPayment().GetRecordedBy() != "f1" {
		t.Fatalf("pay = %v, %v", paid, err)
	}

	// Over REST, a query goes back to the PCN with its question.
	code, body := do(t, "approver-own", http.MethodPost, "http://"+a.HTTPAddr()+"/v1/pcns/U34567/claims/2026-10:query",
		map[string]any{"question": "Please attach the October payslips"})
	if code != http.StatusOK || body["state"] != "STATE_QUERIED" || body["reviewNote"] != "Please attach the October payslips" {
		t.Errorf("query over REST = %d %v", code, body)
	}
	if messages, _ := body["messages"].([]any); len(messages) != 1 {
		t.Errorf("the queried claim's thread = %v, want its question", body["messages"])
	}

	// Northfield's queried October cannot go back unanswered; over REST its
	// clinical director replies with evidence, then resubmits.
	northfield := as(t.Context(), "cd-foreign")
	_, err = c.SubmitClaim(northfield, &arrsv1.SubmitClaimRequest{Name: "pcns/U23456/claims/2026-10"})
	if st, _ := status.FromError(err); st.Code() != codes.FailedPrecondition {
		t.Errorf("resubmitting without a reply: %v, want FAILED_PRECONDITION", err)
	} else if info, _ := details(t, st); info.GetReason() != "QUERY_UNANSWERED" {
		t.Errorf("resubmitting without a reply: reason %s, want QUERY_UNANSWERED", info.GetReason())
	}
	code, body = do(t, "cd-foreign", http.MethodPost, "http://"+a.HTTPAddr()+"/v1/pcns/U23456/claims/2026-10:reply",
		map[string]any{"text": "The payslips are attached.", "evidenceUris": []string{"https://evidence.example/northfield"}})
	messages, _ := body["messages"].([]any)
	if code != http.StatusOK || body["state"] != "STATE_QUERIED" || len(messages) != 2 {
		t.Fatalf("reply over REST = %d %v", code, body)
	}
	if reply, _ := messages[1].(map[string]any); reply["kind"] != "KIND_REPLY" || reply["author"] != "cd2" ||
		reply["role"] != "pcn-clinical-director" || reply["organisation"] != "pcns/U23456" ||
		fmt.Sprint(reply["evidenceUris"]) != "[https://evidence.example/northfield]" {
		t.Errorf("the reply = %v", reply)
	}
	code, _ = do(t, "approver-own", http.MethodPost, "http://"+a.HTTPAddr()+"/v1/pcns/U23456/claims/2026-10:reply",
		map[string]any{"text": "Answering my own question."})
	if code != http.StatusForbidden {
		t.Errorf("an approver replying: %d, want 403", code)
	}
	resubmitted, err := c.SubmitClaim(northfield, &arrsv1.SubmitClaimRequest{Name: "pcns/U23456/claims/2026-10"})
	if err != nil || resubmitted.GetState() != arrsv1.Claim_STATE_SUBMITTED || resubmitted.GetPcnHeldDays() != 6 {
		t.Errorf("resubmitting after the reply = %v, %v", resubmitted, err)
	}

	budget, err := c.GetBudget(as(t.Context(), "cd-own"), &arrsv1.GetBudgetRequest{Name: "pcns/U12345/budgets/2026-27"})
	if err != nil || budget.GetPaidPence() != before.GetPaidPence()+paid.GetApprovedPence() ||
		budget.GetSubmittedPence() != before.GetSubmittedPence() {
		t.Errorf("budget after review = %v, %v; before payment %v", budget, err, before)
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
