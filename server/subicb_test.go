package server

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/google/uuid"
)

// fieldViolations reads "field REASON" of each BadRequest field violation
// in a REST error body.
func fieldViolations(body map[string]any) []string {
	var out []string
	details, _ := body["details"].([]any)
	for _, d := range details {
		m, _ := d.(map[string]any)
		vs, _ := m["fieldViolations"].([]any)
		for _, v := range vs {
			fv, _ := v.(map[string]any)
			out = append(out, fv["field"].(string)+" "+fv["reason"].(string))
		}
	}
	return out
}

// Over REST, as the README shows: NHS England records a sub-ICB location,
// everyone reads them, a PCN is put in one of its own ICB's (another ICB's
// is a 400 naming the field), and the workforce statistics filter by one.
func TestRESTSubICBLocations(t *testing.T) {
	a := startAPI(t)
	base := "http://" + a.HTTPAddr() + "/v1/"

	code, body := do(t, "national", http.MethodPost, base+"commissioners/QNQ/subIcbLocations?subIcbLocationId=10C&requestId="+uuid.NewString(),
		map[string]any{"displayName": "Surrey Heath"})
	if code != http.StatusOK || body["name"] != "commissioners/QNQ/subIcbLocations/10C" || body["etag"] == "" {
		t.Fatalf("create = %d %v", code, body)
	}
	code, body = do(t, "approver-own", http.MethodPost, base+"commissioners/QNQ/subIcbLocations?subIcbLocationId=10G", map[string]any{"displayName": "X"})
	if code != http.StatusForbidden {
		t.Errorf("an ICB's approver creating one = %d %v, want 403", code, body)
	}
	code, body = do(t, "national", http.MethodPost, base+"commissioners/QNQ/subIcbLocations?subIcbLocationId=QAB", map[string]any{"displayName": "X"})
	if code != http.StatusBadRequest || !slices.Contains(fieldViolations(body), "sub_icb_location_id SUB_ICB_CODE_FORMAT") {
		t.Errorf("an ICB's code = %d %v", code, body)
	}
	code, body = do(t, "cd-own", http.MethodGet, base+"commissioners/QNQ/subIcbLocations", nil)
	var names []string
	for _, l := range body["subIcbLocations"].([]any) {
		names = append(names, l.(map[string]any)["name"].(string))
	}
	if code != http.StatusOK || !slices.Equal(names, []string{"commissioners/QNQ/subIcbLocations/10C",
		"commissioners/QNQ/subIcbLocations/15D", "commissioners/QNQ/subIcbLocations/99M"}) {
		t.Errorf("list = %d %v", code, names)
	}

	// Another ICB with a location of its own.
	code, _ = do(t, "national", http.MethodPost, base+"commissioners?commissionerId=QWO",
		map[string]any{"kind": "KIND_ICB", "displayName": "West ICB", "validFrom": "2022-07-01"})
	if code != http.StatusOK {
		t.Fatalf("create QWO = %d", code)
	}
	if code, body = do(t, "national", http.MethodPost, base+"commissioners/QWO/subIcbLocations?subIcbLocationId=92A",
		map[string]any{"displayName": "West"}); code != http.StatusOK {
		t.Fatalf("create 92A = %d %v", code, body)
	}

	code, body = do(t, "national", http.MethodGet, base+"pcns/U12345", nil)
	if code != http.StatusOK || body["subIcbLocation"] != "commissioners/QNQ/subIcbLocations/99M" {
		t.Fatalf("Riverside = %d %v, want in 99M", code, body["subIcbLocation"])
	}
	for _, tt := range []struct{ location, violation string }{
		{"commissioners/QWO/subIcbLocations/92A", "pcn.sub_icb_location SUB_ICB_LOCATION_OF_OTHER_COMMISSIONER"},
		{"commissioners/QNQ/subIcbLocations/92A", "pcn.sub_icb_location UNKNOWN_SUB_ICB_LOCATION"},
		{"commissioners/QNQ/localRoles/99M", "pcn.sub_icb_location RESOURCE_NAME_FORMAT"},
	} {
		code, body = do(t, "national", http.MethodPatch, base+"pcns/U12345?updateMask=subIcbLocation", map[string]any{"subIcbLocation": tt.location})
		if code != http.StatusBadRequest || !slices.Equal(fieldViolations(body), []string{tt.violation}) {
			t.Errorf("PATCH to %s = %d %v, want 400 %s", tt.location, code, fieldViolations(body), tt.violation)
		}
	}
	code, body = do(t, "national", http.MethodPatch, base+"pcns/U12345?updateMask=subIcbLocation",
		map[string]any{"subIcbLocation": "commissioners/QNQ/subIcbLocations/10C"})
	if code != http.StatusOK || body["subIcbLocation"] != "commissioners/QNQ/subIcbLocations/10C" {
		t.Fatalf("PATCH to 10C = %d %v", code, body)
	}
	// The change is on the PCN's record, as every write is.
	code, body = do(t, "national", http.MethodGet, base+"auditEvents?resource=pcns/U12345", nil)
	events, _ := body["auditEvents"].([]any)
	if code != http.StatusOK || len(events) == 0 || events[len(events)-1].(map[string]any)["action"] != "update" {
		t.Errorf("audit = %d %v", code, body)
	}

	stats := base + "commissioners/QNQ/workforceStatistics?financialYear=2026-27&pageSize=500"
	code, body = do(t, "approver-own", http.MethodGet, stats+"&subIcbLocation="+url.QueryEscape("commissioners/QNQ/subIcbLocations/15D"), nil)
	rows, _ := body["workforceStatistics"].([]any)
	if code != http.StatusOK || len(rows) == 0 {
		t.Fatalf("15D's statistics = %d %v", code, body)
	}
	for _, r := range rows {
		if r.(map[string]any)["subIcbLocation"] != "commissioners/QNQ/subIcbLocations/15D" {
			t.Errorf("a row of 15D's listing: %v", r)
		}
	}
	for _, tt := range []struct {
		token, parent, location string
		want                    int
	}{
		{"approver-foreign", "QNQ", "commissioners/QNQ/subIcbLocations/15D", http.StatusNotFound},
		{"approver-own", "QWO", "commissioners/QWO/subIcbLocations/92A", http.StatusNotFound},
		{"approver-own", "-", "commissioners/QWO/subIcbLocations/92A", http.StatusNotFound},
		{"approver-own", "QNQ", "commissioners/QWO/subIcbLocations/92A", http.StatusBadRequest},
		{"national", "-", "commissioners/QWO/subIcbLocations/92A", http.StatusOK},
	} {
		u := base + "commissioners/" + tt.parent + "/workforceStatistics?financialYear=2026-27&subIcbLocation=" + url.QueryEscape(tt.location)
		if code, body = do(t, tt.token, http.MethodGet, u, nil); code != tt.want {
			t.Errorf("%s asking %s under %s = %d %v, want %d", tt.token, tt.location, tt.parent, code, body, tt.want)
		}
	}

	// The position shows each PCN's location now.
	code, body = do(t, "approver-own", http.MethodGet, base+"commissioners/QNQ/positions/2026-27", nil)
	got := map[string]any{}
	for _, p := range body["pcns"].([]any) {
		got[p.(map[string]any)["pcn"].(string)] = p.(map[string]any)["subIcbLocation"]
	}
	if code != http.StatusOK || got["pcns/U12345"] != "commissioners/QNQ/subIcbLocations/10C" ||
		got["pcns/U34567"] != "commissioners/QNQ/subIcbLocations/15D" {
		t.Errorf("positions' locations = %d %v", code, got)
	}
}
