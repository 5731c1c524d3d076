package server

import (
	"net/http"
	"testing"
	"time"

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
	april, err := c.GetClaim(cd, &arrsv1.GetClaimRequest{Name: "pcns/U12345/claims/2025-04"})
	if err != nil {
		t.Fatal(err)
	}
	april, err = c.ApproveClaim(approver, &arrsv1.ApproveClaimRequest{Name: april.GetName(), Etag: april.GetEtag(),
		Adjustments: []*arrsv1.LineAdjustment{{Line: april.GetLines()[0].GetName(), ApprovedPence: 1000, Reason: "Part month"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RecordClaimPayment(finance, &arrsv1.RecordClaimPaymentRequest{Name: april.GetName(),
		Payment: &arrsv1.Payment{PaymentDate: time.Now().In(london(t)).Format(time.DateOnly), Reference: "REM-1"}}); err != nil {
		t.Fatal(err)
	}

	basic, err := c.ListClaims(cd, &arrsv1.ListClaimsRequest{Parent: "pcns/U12345"})
	if err != nil || len(basic.GetClaims()) != 3 {
		t.Fatalf("ListClaims = %v, %v; want the demo's 3", basic, err)
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
		if totalsOf(listed) != totalsOf(got) || got.GetLineCount() != int32(len(got.GetLines())) || listed.GetReimbursablePence() == 0 {
			t.Errorf("%s: listed totals %v, read %v with %d lines", listed.GetName(), totalsOf(listed), totalsOf(got), len(got.GetLines()))
		}
		if !proto.Equal(full.GetClaims()[i], got) {
			t.Errorf("%s: the full view is not the claim as read:\n%v\n%v", listed.GetName(), full.GetClaims()[i], got)
		}
	}
	if paid := basic.GetClaims()[0]; paid.GetState() != arrsv1.Claim_STATE_PAID || paid.GetPaidPence() != paid.GetApprovedPence() ||
		paid.GetApprovedPence() != paid.GetReimbursablePence()-(april.GetLines()[0].GetReimbursablePence()-1000) {
		t.Errorf("paid April: %v", totalsOf(paid))
	}

	// The review queue: May is waiting, with totals and flags, its lines only
	// in the full view.
	queue, err := c.ListReviewQueue(approver, &arrsv1.ListReviewQueueRequest{Commissioner: "commissioners/QNQ"})
	if err != nil || len(queue.GetItems()) != 1 {
		t.Fatalf("queue = %v, %v", queue, err)
	}
	may := queue.GetItems()[0].GetClaim()
	if len(may.GetLines()) != 0 || may.GetLineCount() != 4 || may.GetReimbursablePence() == 0 {
		t.Errorf("queued May: %d lines, totals %v", len(may.GetLines()), totalsOf(may))
	}
	queue, err = c.ListReviewQueue(approver, &arrsv1.ListReviewQueueRequest{Commissioner: "commissioners/QNQ", View: arrsv1.ClaimView_CLAIM_VIEW_FULL})
	if err != nil || len(queue.GetItems()[0].GetClaim().GetLines()) != 4 || totalsOf(queue.GetItems()[0].GetClaim()) != totalsOf(may) {
		t.Errorf("full queue: %v, %v", queue, err)
	}

	// Over REST, the money is there in the listing.
	reply := send(t, "http://"+a.HTTPAddr(), restCall{method: http.MethodGet, path: "/v1/pcns/U12345/claims?view=CLAIM_VIEW_BASIC", token: "cd-own"})
	listed := reply.json(t)["claims"].([]any)[2].(map[string]any)
	if listed["reimbursablePence"] == "0" || listed["lineCount"] != float64(4) || len(listed["lines"].([]any)) != 0 {
		t.Errorf("REST listing: %v", listed)
	}
}
