package server

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

func TestCommissionerPositionSortsAndDownloads(t *testing.T) {
	a := startAPI(t)
	rep := arrsv1.NewReportingServiceClient(a.conn)
	ctx := as(t.Context(), "approver-own")
	pos, err := rep.GetCommissionerPosition(ctx, &arrsv1.GetCommissionerPositionRequest{
		Name: "commissioners/QNQ/positions/2026-27", OrderBy: "claims_waiting desc"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pos.GetPcns()) != 3 || pos.GetReadTime() == nil {
		t.Fatalf("position = %v", pos)
	}
	var waiting int32
	for i, p := range pos.GetPcns() {
		waiting += p.GetClaimsWaiting()
		if i > 0 && p.GetClaimsWaiting() > pos.GetPcns()[i-1].GetClaimsWaiting() {
			t.Errorf("not by claims waiting, most first: %v", pos.GetPcns())
		}
		if p.GetClaimsWaiting() > 0 && (p.GetOldestWaitingSince() == nil || p.GetOldestWaitingDays() < 1) {
			t.Errorf("%s: %d waiting, oldest %v (%d days)", p.GetPcn(), p.GetClaimsWaiting(), p.GetOldestWaitingSince(), p.GetOldestWaitingDays())
		}
		// Each PCN's figures are its budget's.
		b, err := arrsv1.NewClaimServiceClient(a.conn).GetBudget(ctx, &arrsv1.GetBudgetRequest{Name: p.GetPcn() + "/budgets/2026-27"})
		if err != nil || b.GetRemainingPence() != p.GetRemainingPence() || b.GetForecastUnderspendPence() != p.GetForecastUnderspendPence() {
			t.Errorf("%s: position remaining %d underspend %d, budget %v (%v)", p.GetPcn(), p.GetRemainingPence(), p.GetForecastUnderspendPence(), b, err)
		}
	}
	if pos.GetTotal().GetClaimsWaiting() != waiting || waiting == 0 || pos.GetCsv() != "" {
		t.Errorf("total waiting %d, want %d (and some); csv %q unasked", pos.GetTotal().GetClaimsWaiting(), waiting, pos.GetCsv())
	}

	for _, bad := range []string{"nonsense", "pcn sideways", "pcn desc extra"} {
		_, err := rep.GetCommissionerPosition(ctx, &arrsv1.GetCommissionerPositionRequest{Name: "commissioners/QNQ/positions/2026-27", OrderBy: bad})
		if code, vs := violations(err); code != codes.InvalidArgument || len(vs) != 1 || vs[0] != "order_by ORDER_BY" {
			t.Errorf("order_by %q: %v %v", bad, code, vs)
		}
	}

	// REST, accepting CSV: the download, the PCNs then the total.
	resp, body := get(t, "http://"+a.HTTPAddr()+"/v1/commissioners/QNQ/positions/2026-27?orderBy=pcn",
		http.Header{"Authorization": {"Bearer approver-own"}, "Accept": {"text/csv"}})
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if resp.StatusCode != http.StatusOK || err != nil || len(rows) != 5 || rows[0][0] != "pcn" || rows[4][0] != "TOTAL" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename="arrs-position-QNQ-2026-27.csv"` {
		t.Errorf("CSV = %d %q %s (%v)", resp.StatusCode, resp.Header.Get("Content-Disposition"), body, err)
	}
	// And as JSON, every field there even when zero.
	resp, body = get(t, "http://"+a.HTTPAddr()+"/v1/commissioners/QNQ/positions/2026-27",
		http.Header{"Authorization": {"Bearer approver-own"}})
	var asJSON struct {
		Pcns []map[string]any
	}
	if err := json.Unmarshal(body, &asJSON); err != nil || resp.StatusCode != http.StatusOK || len(asJSON.Pcns) != 3 {
		t.Fatalf("JSON = %d %s (%v)", resp.StatusCode, body, err)
	}
	if _, ok := asJSON.Pcns[0]["forecastUnderspendPence"]; !ok {
		t.Errorf("JSON PCN lacks forecastUnderspendPence: %v", asJSON.Pcns[0])
	}
}

func TestWorkforceStatisticsOverREST(t *testing.T) {
	a := startAPI(t)
	url := "http://" + a.HTTPAddr() + "/v1/commissioners/QNQ/workforceStatistics?financialYear=2026-27"
	resp, body := get(t, url, http.Header{"Authorization": {"Bearer finance-own"}})
	var page struct {
		WorkforceStatistics []struct {
			Month, Role, Fte string
			Headcount        int
			SpendPence       string
		}
	}
	if err := json.Unmarshal(body, &page); err != nil || resp.StatusCode != http.StatusOK || len(page.WorkforceStatistics) == 0 {
		t.Fatalf("statistics = %d %s (%v)", resp.StatusCode, body, err)
	}
	resp, body = get(t, url+"&pageSize=500", http.Header{"Authorization": {"Bearer finance-own"}, "Accept": {"text/csv"}})
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if resp.StatusCode != http.StatusOK || err != nil || len(rows) != len(page.WorkforceStatistics)+1 ||
		strings.Join(rows[0], ",") != "month,commissioner,sub_icb_location,role,headcount,fte,spend_pence,pending_headcount,pending_fte,pending_spend_pence" {
		t.Errorf("CSV = %d %s (%v)", resp.StatusCode, body, err)
	}
	resp, _ = get(t, url, http.Header{"Authorization": {"Bearer approver-foreign"}})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("another ICB's staff: %d, want 404", resp.StatusCode)
	}
	resp, _ = get(t, strings.Replace(url, "2026-27", "2026-28", 1), http.Header{"Authorization": {"Bearer finance-own"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("year 2026-28: %d, want 400", resp.StatusCode)
	}
}
