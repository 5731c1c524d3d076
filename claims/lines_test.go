package claims_test

import (
	"testing"

	"arrs.nhs.uk/arrs/claims"
)

// A month's payroll in one call: every line's costs at once, priced as one
// by one, all or nothing.
func TestBatchUpdateClaimLinesPricesEveryLineAtOnce(t *testing.T) {
	f := newClaimsFixture(t, "2025-07-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-2", "Dee Rowe", "2025-04-01")))
	must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-05")))
	before, err := f.store.GetClaim(f.ctx, "U12345", "2025-05")
	if err != nil {
		t.Fatal(err)
	}
	gross := func(p int64) func(*claims.ClaimLine) { return func(l *claims.ClaimLine) { l.GrossSalary = p } }

	// May has 31 days: £100 a day at 1 WTE caps each line at 310000p.
	lines, err := f.store.BatchUpdateClaimLines(f.ctx, "U12345", "2025-05", []claims.LineEdit{
		{PostID: "cc-1", Change: gross(295000)},
		{PostID: "cc-2", Change: func(l *claims.ClaimLine) { l.GrossSalary, l.EmployerNI = 300000, 20000 }},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].PostID != "cc-1" || lines[0].ReimbursablePence != 295000 ||
		lines[1].PostID != "cc-2" || lines[1].ReimbursablePence != 310000 || lines[1].CapPence != 310000 {
		t.Fatalf("lines = %+v", lines)
	}
	after, err := f.store.GetClaim(f.ctx, "U12345", "2025-05")
	if err != nil {
		t.Fatal(err)
	}
	if after.Revision != before.Revision+1 {
		t.Errorf("the claim's revision went %d → %d; one batch is one change", before.Revision, after.Revision)
	}
	events, _, err := f.store.ListAuditEvents(f.ctx, "pcns/U12345/claims/2025-05", claims.Page{Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	if last := events[len(events)-1]; len(events) != 2 || last.Action != "update_lines" || last.Resource != "pcns/U12345/claims/2025-05" {
		t.Errorf("history = %+v; want create, then one update_lines event on the claim", events)
	}

	for _, tt := range []struct {
		name         string
		edits        []claims.LineEdit
		field, rule  string
		kind         claims.Kind
		reasonOrRule string
	}{
		{"a bad line spoils the batch", []claims.LineEdit{
			{PostID: "cc-1", Change: gross(1)},
			{PostID: "cc-2", Change: func(l *claims.ClaimLine) { l.WTE = 15000 }},
		}, "requests[1].claim_line.wte", "WTE_RANGE", claims.KindInvalid, ""},
		{"a line the claim does not have", []claims.LineEdit{
			{PostID: "cc-1", Change: gross(1)}, {PostID: "cc-9", Change: gross(1)},
		}, "requests[1].claim_line.name", "UNKNOWN_LINE", claims.KindInvalid, ""},
		{"a line twice", []claims.LineEdit{
			{PostID: "cc-1", Change: gross(1)}, {PostID: "cc-1", Change: gross(2)},
		}, "requests[1].claim_line.name", "DUPLICATE", claims.KindInvalid, ""},
		{"nothing to do", nil, "requests", "REQUIRED", claims.KindInvalid, ""},
		{"a stale etag", []claims.LineEdit{
			{PostID: "cc-1", Etag: "stale", Change: gross(1)},
		}, "", "", claims.KindConflict, "ETAG_MISMATCH"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.store.BatchUpdateClaimLines(f.ctx, "U12345", "2025-05", tt.edits)
			if tt.field != "" {
				wantViolation(t, err, tt.field, tt.rule)
			} else {
				wantReason(t, err, tt.kind, tt.reasonOrRule)
			}
			now, err := f.store.GetClaim(f.ctx, "U12345", "2025-05")
			if err != nil {
				t.Fatal(err)
			}
			if now.Revision != after.Revision || now.Lines[0].GrossSalary != 295000 {
				t.Errorf("a refused batch changed the claim: revision %d → %d, cc-1 gross %d", after.Revision, now.Revision, now.Lines[0].GrossSalary)
			}
		})
	}

	must(t)(f.store.SubmitClaim(f.ctx, claims.Request{}, "U12345", "2025-05", ""))
	_, err = f.store.BatchUpdateClaimLines(f.ctx, "U12345", "2025-05", []claims.LineEdit{{PostID: "cc-1", Change: gross(1)}})
	wantReason(t, err, claims.KindFailedPrecondition, "CLAIM_STATE")
}

// A month's claim in one call: created with every line's costs, priced as
// BatchUpdateClaimLines prices them, or not created at all.
func TestCreateClaimWithLineCostsIsOneChangeOrNone(t *testing.T) {
	f := newClaimsFixture(t, "2025-07-10", "100000")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-2", "Dee Rowe", "2025-04-01")))
	gross := func(p int64) func(*claims.ClaimLine) { return func(l *claims.ClaimLine) { l.GrossSalary = p } }

	for _, tt := range []struct {
		name        string
		edits       []claims.LineEdit
		field, rule string
	}{
		{"every bad field of every line is named", []claims.LineEdit{
			{PostID: "cc-1", Change: gross(-1)},
			{PostID: "cc-2", Change: func(l *claims.ClaimLine) { l.WTE = 15000 }},
		}, "line_updates[1].claim_line.wte", "WTE_RANGE"},
		{"a post the claim will have no line for", []claims.LineEdit{
			{PostID: "cc-9", Change: gross(1)},
		}, "line_updates[0].claim_line.name", "UNKNOWN_LINE"},
		{"a line updated twice", []claims.LineEdit{
			{PostID: "cc-1", Change: gross(1)}, {PostID: "cc-1", Change: gross(2)},
		}, "line_updates[1].claim_line.name", "DUPLICATE"},
		{"a new line has no etag", []claims.LineEdit{
			{PostID: "cc-1", Etag: "1", Change: gross(1)},
		}, "line_updates[0].claim_line.etag", "ETAG_ON_CREATE"},
		{"a registration no post holds", []claims.LineEdit{
			{Registration: "OT99999", Change: gross(1)},
		}, "line_updates[0].claim_line.registration_number", "UNKNOWN_PERSON"},
	} {
		_, err := f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-05"), tt.edits...)
		wantViolation(t, err, tt.field, tt.rule)
		if n := countRows(t, f.fixture, "claims"); n != 0 {
			t.Errorf("%s: %d claims created; want none", tt.name, n)
		}
	}

	// May has 31 days: £100 a day at 1 WTE caps each line at 310000p.
	// cc-1: 295000 under the cap, all of it; cc-2: 300000 + 20000 = 320000,
	// over the cap, the cap.
	c, err := f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2025-05"),
		claims.LineEdit{PostID: "cc-2", Change: func(l *claims.ClaimLine) { l.GrossSalary, l.EmployerNI = 300000, 20000 }},
		claims.LineEdit{PostID: "cc-1", Change: gross(295000)})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Lines) != 2 || c.Lines[0].PostID != "cc-1" || c.Lines[0].ReimbursablePence != 295000 ||
		c.Lines[1].PostID != "cc-2" || c.Lines[1].ReimbursablePence != 310000 || c.Lines[1].CapPence != 310000 {
		t.Fatalf("lines = %+v", c.Lines)
	}
	stored, err := f.store.GetClaim(f.ctx, "U12345", "2025-05")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, got, _ := stored.Totals(); got != 605000 || stored.Revision != c.Revision {
		t.Errorf("stored claim reimburses %d at revision %d; want 605000 at %d", got, stored.Revision, c.Revision)
	}
	events, _, err := f.store.ListAuditEvents(f.ctx, "pcns/U12345/claims/2025-05", claims.Page{Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Action != "create" {
		t.Errorf("history = %+v; want one create event", events)
	}
}
