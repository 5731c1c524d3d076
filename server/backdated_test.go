package server

import (
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// TestABackdatedAwardIsClaimedAsArrearsPaid walks the demo's 2026/27 award
// (loaded on 2 December 2026) as the national process pays it. Riverside's
// pharmacist costs 447958 + 52420 + 64416 = 564794p a month; September (30
// days) was capped at 6697200 × 30 ÷ 365 = 550454.79 → 550455p and the
// award makes it 6918200 × 30 ÷ 365 = 568619.18 → 568619p: at most 568619 −
// 550455 = 18164p. Arrears of 14783 + 1730 + 2126 = 18639p paid give
// min(564794 + 18639, 568619) − 550455 = 18164p, the maximum.
func TestABackdatedAwardIsClaimedAsArrearsPaid(t *testing.T) {
	a := startAPI(t)
	c := arrsv1.NewClaimServiceClient(a.conn)
	ctx := t.Context()
	const award, september = "pcns/U12345/backdatedAwards/2026-27", "pcns/U12345/claims/2026-09-s1"

	// The award over REST, for the PCN and its commissioner alike: the
	// maximum, none of it claimed yet (August's arrears are in a draft).
	base := "http://" + a.HTTPAddr()
	var figures []string
	for _, token := range []string{"cd-own", "approver-own"} {
		reply := send(t, base, restCall{method: http.MethodGet, path: "/v1/" + award, token: token})
		body := reply.json(t)
		if reply.status != http.StatusOK || body["name"] != award || len(body["lines"].([]any)) == 0 ||
			body["claimedPence"] != "0" || body["maximumTopUpPence"] == "0" {
			t.Fatalf("%s: GET %s = %d %v", token, award, reply.status, body)
		}
		figures = append(figures, body["maximumTopUpPence"].(string)+"/"+body["claimedPence"].(string))
	}
	if figures[0] != figures[1] {
		t.Errorf("the PCN sees %s, its commissioner %s", figures[0], figures[1])
	}
	if reply := send(t, base, restCall{method: http.MethodGet, path: "/v1/" + award, token: "approver-foreign"}); reply.status != http.StatusNotFound {
		t.Errorf("another ICB's approver: %d, want 404", reply.status)
	}

	line := september + "/lines/pharmacist-1"
	update := func(arrears *arrsv1.Arrears) (*arrsv1.ClaimLine, error) {
		return c.UpdateClaimLine(as(ctx, "manager-own"), &arrsv1.UpdateClaimLineRequest{
			ClaimLine:  &arrsv1.ClaimLine{Name: line, Arrears: arrears},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"arrears"}}})
	}
	_, err := update(&arrsv1.Arrears{GrossSalaryPence: 14783, PaidDate: "01/12/2026"})
	if code, vs := violations(err); code != codes.InvalidArgument || !strings.Contains(strings.Join(vs, ","), "claim_line.arrears.paid_date DATE_FORMAT") {
		t.Errorf("a bad paid date: %v %v", code, vs)
	}
	l, err := update(&arrsv1.Arrears{GrossSalaryPence: 14783, EmployerNiPence: 1730, EmployerPensionPence: 2126, PaidDate: "2026-11-28"})
	if err != nil || l.GetMaximumTopUpPence() != 18164 || l.GetReimbursablePence() != 18164 || l.GetArrears().GetTotalPence() != 18639 ||
		l.GetGrossSalaryPence() != 447958 {
		t.Fatalf("arrears recorded: %v, %v", l, err)
	}

	// Submitting needs the clinical director's declaration.
	_, err = c.SubmitClaim(as(ctx, "cd-own"), &arrsv1.SubmitClaimRequest{Name: september})
	if code, vs := violations(err); code != codes.FailedPrecondition || strings.Join(vs, ",") != "arrears_paid_declared REQUIRED" {
		t.Errorf("undeclared: %v %v", code, vs)
	}
	_, err = c.SubmitClaim(as(ctx, "manager-own"), &arrsv1.SubmitClaimRequest{Name: september, ArrearsPaidDeclared: true})
	if code, _ := violations(err); code != codes.PermissionDenied {
		t.Errorf("a manager declaring: %v", err)
	}
	s, err := c.SubmitClaim(as(ctx, "cd-own"), &arrsv1.SubmitClaimRequest{Name: september, ArrearsPaidDeclared: true})
	if err != nil || s.GetState() != arrsv1.Claim_STATE_SUBMITTED || s.GetArrearsDeclaredBy() != "cd1" || s.GetArrearsDeclareTime() == nil {
		t.Fatalf("declared: %v, %v", s, err)
	}
	// The other September lines were not chosen and claim nothing.
	for _, sl := range s.GetLines() {
		if want := int64(0); sl.GetName() != line && sl.GetReimbursablePence() != want {
			t.Errorf("%s, not chosen, claims %d", sl.GetName(), sl.GetReimbursablePence())
		}
	}
	got, err := c.GetBackdatedAward(as(ctx, "approver-own"), &arrsv1.GetBackdatedAwardRequest{Name: award})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, al := range got.GetLines() {
		if al.GetMonth() != "2026-09" || al.GetPost() != "pcns/U12345/posts/pharmacist-1" {
			continue
		}
		found = true
		if al.GetClaimedPence() != 18164 || al.GetMaximumTopUpPence() != 18164 || al.GetClaimState() != arrsv1.Claim_STATE_SUBMITTED ||
			al.GetArrearsPaidDate() != "2026-11-28" || al.GetStaffName() != "Priya Natarajan" {
			t.Errorf("the commissioner's view of September's pharmacist: %v", al)
		}
	}
	if !found {
		t.Fatal("September's pharmacist is missing from the commissioner's award view")
	}
	// A monthly claim takes no declaration.
	_, err = c.SubmitClaim(as(ctx, "cd-own"), &arrsv1.SubmitClaimRequest{Name: "pcns/U12345/claims/2026-11", ArrearsPaidDeclared: true})
	if code, vs := violations(err); code != codes.InvalidArgument || strings.Join(vs, ",") != "arrears_paid_declared NOT_A_TOP_UP" {
		t.Errorf("a monthly claim declared: %v %v", code, vs)
	}
}
