package server

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

const exportColumns = "commissioner,pcn_code,pcn_name,payee,claim,kind,month,state,post,role,staff_name," +
	"registration_number,wte,actual_pence,cap_pence,reimbursable_pence,approved_pence,approved_gbp," +
	"adjustment_reason,approved_by,approval_date,payment_date,payment_reference"

// approveAndPayOctober approves the demo's October 2026 claim for Riverside
// (submitted by its clinical director) as approver-own and records its
// payment today as finance-own, and returns it paid.
func approveAndPayOctober(t *testing.T, c arrsv1.ClaimServiceClient) *arrsv1.Claim {
	t.Helper()
	const october = "pcns/U12345/claims/2026-10"
	if _, err := c.ApproveClaim(as(t.Context(), "approver-own"), &arrsv1.ApproveClaimRequest{Name: october}); err != nil {
		t.Fatalf("approve October: %v", err)
	}
	today := demoDate
	paid, err := c.RecordClaimPayment(as(t.Context(), "finance-own"), &arrsv1.RecordClaimPaymentRequest{Name: october,
		Payment: &arrsv1.Payment{PaymentDate: today, Reference: "REM-2025-0815"}})
	if err != nil {
		t.Fatalf("pay October: %v", err)
	}
	return paid
}

func TestExportClaimLinesOverGRPC(t *testing.T) {
	a := startAPI(t)
	c := arrsv1.NewClaimServiceClient(a.conn)
	finance := as(t.Context(), "finance-own")
	req := &arrsv1.ExportClaimLinesRequest{Commissioner: "commissioners/QNQ", Month: "2026-10"}

	// Submitted, not yet approved: nothing to export but the header.
	resp, err := c.ExportClaimLines(finance, req)
	if err != nil || resp.GetCsv() != exportColumns+"\r\n" {
		t.Fatalf("export before approval = %q, %v; want the header alone", resp.GetCsv(), err)
	}

	paid := approveAndPayOctober(t, c)
	resp, err = c.ExportClaimLines(finance, req)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(resp.GetCsv(), "\r\n"), "\r\n")
	if lines[0] != exportColumns || len(lines) != 1+len(paid.GetLines()) {
		t.Fatalf("export = %d lines:\n%s\nwant the header and October's %d lines", len(lines), resp.GetCsv(), len(paid.GetLines()))
	}
	today := demoDate
	for i, l := range paid.GetLines() {
		// Lines come in post order, as the claim lists them.
		post := strings.TrimPrefix(l.GetPost(), "pcns/U12345/posts/")
		want := fmt.Sprintf("QNQ,U12345,Riverside Primary Care Network,Riverside Surgery (K81001),2026-10,monthly,2026-10,paid,%s,%s,", post,
			strings.TrimPrefix(l.GetRole(), "roles/"))
		tail := fmt.Sprintf(",%d,%d,%d,%d,%d.%02d,,a1,%s,%s,REM-2025-0815", l.GetActualPence(), l.GetCapPence(),
			l.GetReimbursablePence(), l.GetApprovedPence(), l.GetApprovedPence()/100, l.GetApprovedPence()%100, today, today)
		if !strings.HasPrefix(lines[i+1], want) || !strings.HasSuffix(lines[i+1], tail) {
			t.Errorf("row %d = %s\nwant %s…%s", i+1, lines[i+1], want, tail)
		}
	}

	// Another ICB's finance team cannot learn whether QNQ has lines.
	_, err = c.ExportClaimLines(as(t.Context(), "finance-foreign"), req)
	if status.Code(err) != codes.NotFound {
		t.Errorf("QWO's finance exporting QNQ: %v, want NOT_FOUND", err)
	}
	_, err = c.ExportClaimLines(finance, &arrsv1.ExportClaimLinesRequest{Commissioner: "commissioners/QZZ", Month: "2026-10"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("an unknown commissioner: %v, want NOT_FOUND", err)
	}
	_, err = c.ExportClaimLines(finance, &arrsv1.ExportClaimLinesRequest{Commissioner: "QNQ", Month: "May 2025"})
	if code, got := violations(err); code != codes.InvalidArgument ||
		fmt.Sprint(got) != "[commissioner RESOURCE_NAME_FORMAT month MONTH_FORMAT]" {
		t.Errorf("bad input: %s %v", code, got)
	}
}

func TestExportClaimLinesOverREST(t *testing.T) {
	a := startAPI(t)
	c := arrsv1.NewClaimServiceClient(a.conn)
	approveAndPayOctober(t, c)
	want, err := c.ExportClaimLines(as(t.Context(), "finance-own"),
		&arrsv1.ExportClaimLinesRequest{Commissioner: "commissioners/QNQ", Month: "2026-10"})
	if err != nil || !strings.HasPrefix(want.GetCsv(), exportColumns+"\r\n") {
		t.Fatalf("export over gRPC = %q, %v", want.GetCsv(), err)
	}
	url := "http://" + a.HTTPAddr() + "/v1/commissioners/QNQ/claimLines:export?month=2026-10"
	header := func(token, accept string) http.Header {
		h := http.Header{"Authorization": {"Bearer " + token}}
		if accept != "" {
			h.Set("Accept", accept)
		}
		return h
	}
	mediaType := func(resp *http.Response) string {
		mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if err != nil {
			t.Errorf("Content-Type %q: %v", resp.Header.Get("Content-Type"), err)
		}
		return mt
	}

	// Accept: text/csv downloads the CSV itself.
	resp, body := get(t, url, header("finance-own", "text/csv"))
	if resp.StatusCode != http.StatusOK || mediaType(resp) != "text/csv" || string(body) != want.GetCsv() {
		t.Errorf("GET as CSV = %d %s\n%s\nwant 200 text/csv and the gRPC answer's csv", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if got := resp.Header.Get("Content-Disposition"); got != `attachment; filename="arrs-claim-lines-QNQ-2026-10.csv"` {
		t.Errorf("Content-Disposition = %q", got)
	}

	// Without it, the response is JSON like any other.
	resp, body = get(t, url, header("finance-own", ""))
	var asJSON struct{ Csv string }
	if err := json.Unmarshal(body, &asJSON); err != nil || resp.StatusCode != http.StatusOK ||
		mediaType(resp) != "application/json" || asJSON.Csv != want.GetCsv() || resp.Header.Get("Content-Disposition") != "" {
		t.Errorf("GET as JSON = %d %s %s (%v)", resp.StatusCode, resp.Header.Get("Content-Type"), body, err)
	}

	// Errors asked for as CSV are still google.rpc.Status JSON.
	for _, tt := range []struct {
		url, token string
		status     int
		code       codes.Code
	}{
		{url, "finance-foreign", http.StatusNotFound, codes.NotFound},
		{url, "cd-own", http.StatusForbidden, codes.PermissionDenied},
		{strings.Replace(url, "2026-10", "2026-1", 1), "finance-own", http.StatusBadRequest, codes.InvalidArgument},
	} {
		resp, body := get(t, tt.url, header(tt.token, "text/csv"))
		var st struct{ Code codes.Code }
		if err := json.Unmarshal(body, &st); err != nil || resp.StatusCode != tt.status || st.Code != tt.code ||
			mediaType(resp) != "application/json" || resp.Header.Get("Content-Disposition") != "" {
			t.Errorf("%s as %s: %d %s %s, want %d with a JSON status", tt.url, tt.token, resp.StatusCode,
				resp.Header.Get("Content-Type"), body, tt.status)
		}
	}

	// Any other RPC answers only JSON: asked for CSV alone, it says so (406,
	// as a JSON status); asked for CSV or anything else, it answers JSON.
	resp, body = get(t, "http://"+a.HTTPAddr()+"/v1/pcns/U12345", header("finance-own", "text/csv"))
	if resp.StatusCode != http.StatusNotAcceptable || mediaType(resp) != "application/json" || !strings.Contains(string(body), "NOT_ACCEPTABLE") {
		t.Errorf("GET a PCN as CSV = %d %s %s, want 406", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = get(t, "http://"+a.HTTPAddr()+"/v1/pcns/U12345", header("finance-own", "text/csv, */*;q=0.1"))
	if resp.StatusCode != http.StatusOK || mediaType(resp) != "application/json" || !json.Valid(body) {
		t.Errorf("GET a PCN as CSV or anything = %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}
