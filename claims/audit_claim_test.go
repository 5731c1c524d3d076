package claims

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestClaimChangeRecordsOnlyTheLinesItChanged(t *testing.T) {
	line := func(post string, gross int64) ClaimLine {
		return ClaimLine{PCNCode: "U12345", ClaimID: "2025-04", PostID: post, RoleID: "care-coordinator",
			WTE: DecimalScale, GrossSalary: gross, Segments: capSegments{{From: NewDate(2025, 4, 1), Days: 30}}}
	}
	claim := func(state ClaimState, lines ...ClaimLine) Claim {
		return Claim{PCNCode: "U12345", ID: "2025-04", State: state, Lines: lines}
	}
	posts := func(ls []ClaimLine) []string {
		var ids []string
		for _, l := range ls {
			ids = append(ids, l.PostID)
		}
		return ids
	}
	tests := []struct {
		name                  string
		before, after         Claim
		wantBefore, wantAfter []string
	}{
		{"a state change alone records no line",
			claim(ClaimDraft, line("a", 1), line("b", 2)), claim(ClaimSubmitted, line("a", 1), line("b", 2)), nil, nil},
		{"a changed line is recorded on both sides, the others on neither",
			claim(ClaimDraft, line("a", 1), line("b", 2)), claim(ClaimDraft, line("a", 1), line("b", 3)), []string{"b"}, []string{"b"}},
		{"an added line is recorded after only",
			claim(ClaimDraft, line("a", 1)), claim(ClaimDraft, line("a", 1), line("c", 5)), nil, []string{"c"}},
		{"a removed line is recorded before only",
			claim(ClaimDraft, line("a", 1), line("b", 2)), claim(ClaimDraft, line("b", 2)), []string{"a"}, nil},
		{"a line's cap segments count as the line",
			claim(ClaimDraft, line("a", 1)), func() Claim {
				l := line("a", 1)
				l.Segments = capSegments{{From: NewDate(2025, 4, 1), Days: 29}}
				return claim(ClaimDraft, l)
			}(), []string{"a"}, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, a := claimChange(tt.before, tt.after)
			if got := posts(b.Lines); !slices.Equal(got, tt.wantBefore) {
				t.Errorf("before records lines %v, want %v", got, tt.wantBefore)
			}
			if got := posts(a.Lines); !slices.Equal(got, tt.wantAfter) {
				t.Errorf("after records lines %v, want %v", got, tt.wantAfter)
			}
			if a.State != tt.after.State || b.State != tt.before.State {
				t.Errorf("states recorded %s → %s, want %s → %s", b.State, a.State, tt.before.State, tt.after.State)
			}
			// In JSON a claim's own field names stay; Lines is there only
			// when a line changed.
			doc, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(doc, &fields); err != nil {
				t.Fatal(err)
			}
			if _, ok := fields["Lines"]; ok != (len(tt.wantAfter) > 0) {
				t.Errorf("after's JSON has Lines: %v, want %v: %s", ok, len(tt.wantAfter) > 0, doc)
			}
			if string(fields["State"]) != `"`+string(tt.after.State)+`"` || string(fields["PCNCode"]) != `"U12345"` {
				t.Errorf("after's JSON lost the claim's own fields: %s", doc)
			}
		})
	}
}
