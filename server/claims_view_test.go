package server

import (
	"net/http"
	"testing"

	"google.golang.org/protobuf/proto"

	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// totalsOf is what a listing must show of a claim without its lines.
func totalsOf(c *arrsv1.Claim) [7]int64 {
	return [7]int64{c.GetActualPence(), c.GetCapPence(), c.GetReimbursablePence(), c.GetApprovedPence(),
		c.GetPaidPence(), int64(c.GetLineCount()), int64(len(c.GetExcludedPosts()))}
}

// The SQL that totals a page of claims (claims.claimTotalsJoin) and the Go
// that totals a loaded claim (claims.Claim.Totals) must agree, claim by
// claim, whatever the state: draft, submitted, approved with a line lowered,
// paid.
func TestAListingShowsEachClaimsTotalsWithoutItsLines(t *testing.T) {
	a := startAPI(t)
	c := arrsv1.NewClaimServiceClient(a.conn)
	approver, finance, cd := as(t.Context(), "approver-own"), as(t.Context(), "finance-own"), as(t.Context(), "cd-own")
	// Riverside's October 2026 claim awaits review in the demo: approve it
	// with a line lowered, and pay it.
	october, err := c.GetClaim(cd, &arrsv1.GetClaimRequest{Name: "pcns/U12345/claims/2026-10"})
	if err != nil {
		t.Fatal(err)
	}
	october, err = c.ApproveClaim(approver, &arrsv1.ApproveClaimRequest{Name: october.GetName(), Etag: october.GetEtag(),
		Adjustments: []*arrsv1.LineAdjustment{{Line: october.GetLines()[0].GetName(), ApprovedPence: 1000, Reason: "Part month"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RecordClaimPayment(finance, &arrsv1.RecordClaimPaymentRequest{Name: october.GetName(),
		Payment: &arrsv1.Payment{PaymentDate: demoDate, Reference: "REM-1"}}); err != nil {
		t.Fatal(err)
	}

	basic, err := c.ListClaims(cd, &arrsv1.ListClaimsRequest{Parent: "pcns/U12345"})
	if err != nil || len(basic.GetClaims()) < 4 {
		t.Fatalf("ListClaims = %v, %v; want the demo's four months and their top-ups", basic, err)
	}
	full, err := c.ListClaims(cd, &arrsv1.ListClaimsRequest{Parent: "pcns/U12345", View: arrsv1.ClaimView_CLAIM_VIEW_FULL})
	if err != nil {
		t.Fatal(err)
	}
	for i, listed := range basic.GetClaims() {
		got, err := c.GetClaim(cd, &arrsv1.GetClaimRequest{Name: listed.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		if len(listed.GetLines()) != 0 {
			t.Errorf("%s: the basic view has %d lines", listed.GetName(), len(listed.GetLines()))
		}
		// An offered top-up claims nothing until the PCN records the arrears
		// it paid; every other claim of the demo claims something.
		offered := listed.GetKind() == arrsv1.Claim_KIND_SUPPLEMENTARY
		if totalsOf(listed) != totalsOf(got) || got.GetLineCount() != int32(len(got.GetLines())) || (listed.GetReimbursablePence() == 0 && !offered) {
			t.Errorf("%s: listed totals %v, read %v with %d lines", listed.GetName(), totalsOf(listed), totalsOf(got), len(got.GetLines()))
		}
		if !proto.Equal(full.GetClaims()[i], got) {
			t.Errorf("%s: the full view is not the claim as read:\n%v\n%v", listed.GetName(), full.GetClaims()[i], got)
		}
	}
	var paid *arrsv1.Claim
	for _, listed := range basic.GetClaims() {
		if listed.GetName() == october.GetName() {
			paid = listed
		}
	}
	if paid.GetState() != arrsv1.Claim_STATE_PAID || paid.GetPaidPence() != paid.GetApprovedPence() ||
		paid.GetApprovedPence() != paid.GetReimbursablePence()-(october.GetLines()[0].GetReimbursablePence()-1000) {
		t.Errorf("paid October: %v", totalsOf(paid))
	}

	// The review queue: Kingsgate's September and October wait, with totals
	// and flags, their lines only in the full view; then Northfield's
	// queried October, its thread only in the full view too.
	queue, err := c.ListReviewQueue(approver, &arrsv1.ListReviewQueueRequest{Commissioner: "commissioners/QNQ"})
	if err != nil || len(queue.GetItems()) != 3 {
		t.Fatalf("queue = %v, %v", queue, err)
	}
	if queried := queue.GetItems()[2].GetClaim(); len(queried.GetMessages()) != 0 || len(queried.GetLines()) != 0 {
		t.Errorf("queued %s in the basic view: %d messages, %d lines", queried.GetName(), len(queried.GetMessages()), len(queried.GetLines()))
	}
	waiting := queue.GetItems()[0].GetClaim()
	if len(waiting.GetLines()) != 0 || waiting.GetLineCount() == 0 || waiting.GetReimbursablePence() == 0 {
		t.Errorf("queued %s: %d lines, totals %v", waiting.GetName(), len(waiting.GetLines()), totalsOf(waiting))
	}
	queue, err = c.ListReviewQueue(approver, &arrsv1.ListReviewQueueRequest{Commissioner: "commissioners/QNQ", View: arrsv1.ClaimView_CLAIM_VIEW_FULL})
	if err != nil || int32(len(queue.GetItems()[0].GetClaim().GetLines())) != waiting.GetLineCount() || totalsOf(queue.GetItems()[0].GetClaim()) != totalsOf(waiting) ||
		len(queue.GetItems()[2].GetClaim().GetMessages()) != 1 {
		t.Errorf("full queue: %v, %v", queue, err)
	}

	// Over REST, the money is there in the listing.
	reply := send(t, "http://"+a.HTTPAddr(), restCall{method: http.MethodGet, path: "/v1/pcns/U12345/claims?view=CLAIM_VIEW_BASIC", token: "cd-own"})
	for _, c := range reply.json(t)["claims"].([]any) {
		listed := c.(map[string]any)
		if listed["name"] != october.GetName() {
			continue
		}
		if listed["reimbursablePence"] == "0" || listed["lineCount"] != float64(len(october.GetLines())) || len(listed["lines"].([]any)) != 0 {
			t.Errorf("REST listing: %v", listed)
		}
	}
}
