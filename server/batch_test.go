package server

import (
	"fmt"
	"net/http"
	"testing"
)

// TestBatchUpdateClaimLinesOverREST: a month's payroll in one call, and a
// bad line named by its place in the batch, changing nothing.
func TestBatchUpdateClaimLinesOverREST(t *testing.T) {
	a := startAPI(t)
	url := "http://" + a.HTTPAddr() + "/v1/pcns/U12345/claims/2026-11/lines:batchUpdate"
	line := func(post, wte, gross string) map[string]any {
		l := map[string]any{"name": "pcns/U12345/claims/2026-11/lines/" + post, "grossSalaryPence": gross}
		mask := "grossSalaryPence"
		if wte != "" {
			l["wte"], mask = wte, mask+",wte"
		}
		return map[string]any{"claimLine": l, "updateMask": mask}
	}
	code, body := do(t, "cd-own", http.MethodPost, url, map[string]any{"requests": []any{
		line("ot-frailty", "", "420000"), line("splw-1", "", "210000"),
	}})
	lines, _ := body["claimLines"].([]any)
	if code != http.StatusOK || len(lines) != 2 {
		t.Fatalf("batch: %d %v", code, body)
	}
	for i, want := range []string{"420000", "210000"} {
		l := lines[i].(map[string]any)
		if l["grossSalaryPence"] != want || l["reimbursablePence"] == "0" {
			t.Errorf("line %d: %v", i, l)
		}
	}

	for _, tc := range []struct {
		requests []any
		want     string
	}{
		{[]any{line("ot-frailty", "", "1"), line("splw-1", "1.5", "1")}, "[requests[1].claim_line.wte WTE_RANGE requests[1].claim_line.wte WTE_ABOVE_POST]"},
		{[]any{line("ot-frailty", "", "1"), map[string]any{"claimLine": map[string]any{"name": "pcns/U23456/claims/2026-11/lines/x-post",
			"grossSalaryPence": "1"}, "updateMask": "grossSalaryPence"}}, "[requests[1].claim_line.name PARENT_MISMATCH]"},
	} {
		code, body = do(t, "cd-own", http.MethodPost, url, map[string]any{"requests": tc.requests})
		if _, fields := violationsOf(body); code != http.StatusBadRequest || fmt.Sprint(fields) != tc.want {
			t.Errorf("a bad batch: %d %v, want 400 %s", code, fields, tc.want)
		}
	}
	_, claim := do(t, "cd-own", http.MethodGet, "http://"+a.HTTPAddr()+"/v1/pcns/U12345/claims/2026-11", nil)
	for _, l := range claim["lines"].([]any) {
		if l := l.(map[string]any); l["post"] == "pcns/U12345/posts/ot-frailty" && l["grossSalaryPence"] != "420000" {
			t.Errorf("a refused batch changed a line: %v", l)
		}
	}
}

// violationsOf returns a REST error's google.rpc.BadRequest field violations
// as "field REASON".
func violationsOf(body map[string]any) (string, []string) {
	var out []string
	details, _ := body["details"].([]any)
	for _, d := range details {
		d, _ := d.(map[string]any)
		if d["@type"] != "type.googleapis.com/google.rpc.BadRequest" {
			continue
		}
		for _, v := range d["fieldViolations"].([]any) {
			v := v.(map[string]any)
			out = append(out, fmt.Sprint(v["field"], " ", v["reason"]))
		}
	}
	msg, _ := body["message"].(string)
	return msg, out
}

// TestImportClaimLinesFromAPayrollExport: the same batch from a CSV, lines
// named by post or by the staff member's registration number, amounts in
// pounds, and a bad cell named by its row and column.
func TestImportClaimLinesFromAPayrollExport(t *testing.T) {
	a := startAPI(t)
	url := "http://" + a.HTTPAddr() + "/v1/pcns/U12345/claims/2026-11/lines:import"
	code, body := do(t, "cd-own", http.MethodPost, url, map[string]any{"csvData": "Registration_Number,Gross_Salary,Employer_NI,employer_pension\r\n" +
		"ot 071234,\"£4,400.00\",510.00,632.72\r\n" +
		"OT65432,2640.5,,\r\n"})
	lines, _ := body["claimLines"].([]any)
	if code != http.StatusOK || len(lines) != 2 {
		t.Fatalf("import: %d %v", code, body)
	}
	for i, want := range [][3]string{{"pcns/U12345/posts/ot-frailty", "440000", "63272"}, {"pcns/U12345/posts/ot-return-to-work", "264050", "0"}} {
		l := lines[i].(map[string]any)
		if l["post"] != want[0] || l["grossSalaryPence"] != want[1] || l["employerPensionPence"] != want[2] {
			t.Errorf("row %d: %v, want %v", i+2, l, want)
		}
	}
	for _, tc := range []struct{ csv, want string }{
		{"post,gross_salary\not-frailty,44.001\n", "[csv_data CSV_AMOUNT]"},
		{"post,registration_number,gross_salary\not-frailty,OT071234,1\n", "[csv_data CSV_HEADER]"},
		{"post,salary\not-frailty,1\n", "[csv_data CSV_COLUMN]"},
		{"registration_number,gross_salary\nOT999999,1\n", "[csv_data UNKNOWN_PERSON]"},
		{"post,wte\nsplw-1,1.5\n", "[csv_data WTE_RANGE csv_data WTE_ABOVE_POST]"},
	} {
		code, body := do(t, "cd-own", http.MethodPost, url, map[string]any{"csvData": tc.csv})
		if _, fields := violationsOf(body); code != http.StatusBadRequest || fmt.Sprint(fields) != tc.want {
			t.Errorf("%q: %d %v, want 400 %s (%v)", tc.csv, code, fields, tc.want, body["details"])
		}
	}
}
