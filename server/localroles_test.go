package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestLocalRolesAreScopedToTheirCommissionerOverREST runs a local role's
// life over REST, as the README shows it: the West ICB (QWO) approves a role
// for its PCNs; NHS Frimley ICB's PCN U12345 can neither see nor use it,
// while it sees and uses its own ICB's demo local role, and West's approver
// sees nothing of Frimley's.
func TestLocalRolesAreScopedToTheirCommissionerOverREST(t *testing.T) {
	t.Parallel()
	r := startMatrixServer(t)
	base := "http://" + r.HTTPAddr() + "/v1/"
	do := func(t *testing.T, method, path, token, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		return resp.StatusCode, out
	}

	code, west := do(t, http.MethodPost, "commissioners/QWO/localRoles?localRoleId=west-link-nurse&requestId=6f1d0a3e-0b7c-4a55-9d1e-2f0c7a1b9e01",
		"approver-foreign", `{"displayName":"Link nurse (West ICB)","register":"PROFESSIONAL_REGISTER_NMC","approvedFrom":"2026-04-01","maxAnnualPence":"5500000","illustrative":true}`)
	if code != http.StatusOK || west["state"] != "STATE_APPROVED" || west["role"] != "roles/west-link-nurse" || west["maxAnnualPence"] != "5500000" {
		t.Fatalf("West's approval: %d %v", code, west)
	}
	code, again := do(t, http.MethodPost, "commissioners/QWO/localRoles?localRoleId=west-link-nurse&requestId=6f1d0a3e-0b7c-4a55-9d1e-2f0c7a1b9e01",
		"approver-foreign", `{"displayName":"Link nurse (West ICB)","register":"PROFESSIONAL_REGISTER_NMC","approvedFrom":"2026-04-01","maxAnnualPence":"5500000","illustrative":true}`)
	if code != http.StatusOK || again["etag"] != west["etag"] {
		t.Errorf("a retried approval: %d %v, want the first result", code, again)
	}

	for _, tc := range []struct {
		name, method, path, token, body string
		want                            int
	}{
		{"Frimley's PCN reads West's role", http.MethodGet, "roles/west-link-nurse", "cd-own", "", http.StatusNotFound},
		{"Frimley's PCN reads West's approval", http.MethodGet, "commissioners/QWO/localRoles/west-link-nurse", "cd-own", "", http.StatusNotFound},
		{"Frimley's PCN reads West's rate", http.MethodGet, "roles/west-link-nurse/rates/2026-04-01", "cd-own", "", http.StatusNotFound},
		{"Frimley's PCN posts in West's role", http.MethodPost, "pcns/U12345/posts", "cd-own",
			`{"role":"roles/west-link-nurse","staffName":"Ann Lee","registrationNumber":"01A2345N","wte":"1","startDate":"2026-05-01"}`, http.StatusBadRequest},
		{"Frimley's approver changes West's role", http.MethodPatch, "commissioners/QWO/localRoles/west-link-nurse?updateMask=displayName", "approver-own",
			`{"displayName":"Taken over"}`, http.StatusNotFound},
		{"West's approver reads Frimley's role", http.MethodGet, "roles/frailty-practitioner", "approver-foreign", "", http.StatusNotFound},
		{"Frimley's PCN reads Frimley's role", http.MethodGet, "roles/frailty-practitioner", "cd-own", "", http.StatusOK},
		{"Frimley's PCN posts in Frimley's role", http.MethodPost, "pcns/U12345/posts", "cd-own",
			`{"role":"roles/frailty-practitioner","staffName":"Grace Mensah","registrationNumber":"09C4567E","wte":"0.6","startDate":"2026-06-01"}`, http.StatusOK},
		{"Frimley's finance approves a role", http.MethodPost, "commissioners/QNQ/localRoles?localRoleId=finance-role", "finance-own",
			`{"displayName":"F","register":"PROFESSIONAL_REGISTER_NONE","approvedFrom":"2026-04-01","maxAnnualPence":"100"}`, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body := do(t, tc.method, tc.path, tc.token, tc.body); code != tc.want {
				t.Errorf("status %d (%v), want %d", code, body, tc.want)
			}
		})
	}

	_, roles := do(t, http.MethodGet, "roles?pageSize=500", "cd-own", "")
	listed := map[string]any{}
	for _, r := range roles["roles"].([]any) {
		role := r.(map[string]any)
		listed[role["name"].(string)] = role["commissioner"]
	}
	if _, ok := listed["roles/west-link-nurse"]; ok {
		t.Error("Frimley's PCN's catalogue lists West's local role")
	}
	if listed["roles/frailty-practitioner"] != "commissioners/QNQ" || listed["roles/general-practitioner"] != "" {
		t.Errorf("Frimley's PCN's catalogue: %v; want its ICB's local role marked as QNQ's and national roles unmarked", listed)
	}

	code, retired := do(t, http.MethodPost, "commissioners/QWO/localRoles/west-link-nurse:retire", "approver-foreign",
		`{"lastDay":"2026-09-30","etag":"`+west["etag"].(string)+`"}`)
	if code != http.StatusOK || retired["state"] != "STATE_RETIRED" || retired["approvedTo"] != "2026-09-30" {
		t.Errorf("retire: %d %v", code, retired)
	}
	code, stale := do(t, http.MethodPatch, "commissioners/QWO/localRoles/west-link-nurse?updateMask=displayName", "approver-foreign",
		`{"displayName":"Renamed","etag":"`+west["etag"].(string)+`"}`)
	if code != http.StatusConflict {
		t.Errorf("an update with a stale etag: %d %v, want 409 (ABORTED)", code, stale)
	}
}
