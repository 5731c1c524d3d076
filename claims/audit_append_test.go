package claims

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestEventJSONIsWhatEncodingJSONWrote: the append statement reads the
// events appendEventJSON writes by hand as it read encoding/json's
// marshalling of them before: the same keys and values, bytes as base64, a
// missing PCN as null and a missing document left out, names that need
// escaping escaped.
func TestEventJSONIsWhatEncodingJSONWrote(t *testing.T) {
	type row struct {
		Seq          int64           `json:"seq"`
		Chain        string          `json:"chain"`
		ChainSeq     int64           `json:"chain_seq"`
		Subject      string          `json:"subject"`
		Role         string          `json:"role"`
		Organisation string          `json:"organisation"`
		RPC          string          `json:"rpc"`
		RequestID    string          `json:"request_id"`
		Resource     string          `json:"resource"`
		Action       string          `json:"action"`
		PCNCode      *string         `json:"pcn_code"`
		Before       json.RawMessage `json:"before,omitempty"`
		After        json.RawMessage `json:"after,omitempty"`
		PrevMAC      []byte          `json:"prev_mac"`
		MAC          []byte          `json:"mac"`
	}
	claim := json.RawMessage(`{"lines":[{"post":"cc-1","reimbursablePence":250000}],"name":"pcns/U12345/claims/2025-04"}`)
	for _, tc := range []struct {
		name string
		e    pendingEvent
	}{
		{"a claim submitted", pendingEvent{AuditEvent: AuditEvent{Chain: "U12345", Subject: "cd@riverside.example",
			Role: "pcn-clinical-director", Organisation: "pcns/U12345", RPC: "/arrs.v1.ClaimService/SubmitClaim",
			RequestID: "6f1c2d3e-0000-4000-8000-000000000001", Resource: "pcns/U12345/claims/2025-04", Action: "submit",
			PCNCode: "U12345", Before: claim, After: claim}}},
		{"national, created, nothing before", pendingEvent{AuditEvent: AuditEvent{Chain: "national", Subject: "admin",
			Role: "national-administrator", Resource: "roles/dietitian", Action: "create", After: json.RawMessage(`{"a":1}`)}}},
		{"names that need escaping", pendingEvent{AuditEvent: AuditEvent{Chain: "U12345", Subject: "O\"Brien \\ <tab>\t\u2028 \x01",
			Role: "pcn-manager", Resource: "pcns/U12345", Action: "update", PCNCode: "U12345", Before: json.RawMessage(`[]`)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev, mac := []byte{0, 1, 2, 250, 251, 252}, []byte("0123456789abcdef0123456789abcdef")
			got := appendEventJSON(nil, tc.e, 41, 7, prev, mac)
			e := tc.e
			want := row{Seq: 41, Chain: e.Chain, ChainSeq: 7, Subject: e.Subject, Role: e.Role, Organisation: e.Organisation,
				RPC: e.RPC, RequestID: e.RequestID, Resource: e.Resource, Action: e.Action, Before: e.Before, After: e.After,
				PrevMAC: prev, MAC: mac}
			if e.PCNCode != "" {
				want.PCNCode = &e.PCNCode
			}
			wantJSON, err := json.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			var g, w map[string]any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("%s: %v", got, err)
			}
			if err := json.Unmarshal(wantJSON, &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("appendEventJSON:\n%s\nencoding/json:\n%s", got, wantJSON)
			}
		})
	}
}
