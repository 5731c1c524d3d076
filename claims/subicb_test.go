package claims_test

import (
	"context"
	"errors"
	"testing"

	"github.com/lib/pq"

	"arrs.nhs.uk/arrs/claims"
)

// subICBFixture is the store fixture with a second ICB (QWO), the CCG
// before QNQ (D4U1Y) and a sub-ICB location for each ICB: 99M of QNQ, 92A
// of QWO.
func subICBFixture(t *testing.T) fixture {
	t.Helper()
	f := newFixture(t)
	must(t)(f.store.CreateCommissioner(f.ctx, claims.Request{}, claims.Commissioner{
		Code: "QWO", Kind: claims.KindICB, DisplayName: "West ICB", ValidFrom: day(t, "2022-07-01")}))
	must(t)(f.store.CreateCommissioner(f.ctx, claims.Request{}, claims.Commissioner{
		Code: "D4U1Y", Kind: claims.KindCCG, DisplayName: "NHS Frimley CCG", ValidFrom: day(t, "2021-04-01"), ValidTo: day(t, "2022-06-30")}))
	must(t)(f.store.CreateSubICBLocation(f.ctx, claims.Request{}, claims.SubICBLocation{Code: "99M", CommissionerCode: "QNQ", DisplayName: "North East Hampshire and Farnham"}))
	must(t)(f.store.CreateSubICBLocation(f.ctx, claims.Request{}, claims.SubICBLocation{Code: "92A", CommissionerCode: "QWO", DisplayName: "West"}))
	return f
}

func TestSubICBLocationRules(t *testing.T) {
	f := subICBFixture(t)
	nationalCtx := claims.WithActor(context.Background(), national)
	tests := []struct {
		name  string
		ctx   context.Context
		loc   claims.SubICBLocation
		field string // a field violation wanted, or
		kind  claims.Kind
	}{
		{"a 3-character CCG code", nationalCtx, claims.SubICBLocation{Code: "00L", CommissionerCode: "QNQ", DisplayName: "Northumberland"}, "", 0},
		{"a 5-character CCG code", nationalCtx, claims.SubICBLocation{Code: "D4U1Y", CommissionerCode: "QNQ", DisplayName: "Frimley"}, "", 0},
		{"an ICB's code shape", nationalCtx, claims.SubICBLocation{Code: "QAB", CommissionerCode: "QNQ", DisplayName: "X"}, "sub_icb_location_id", 0},
		{"four characters", nationalCtx, claims.SubICBLocation{Code: "ABCD", CommissionerCode: "QNQ", DisplayName: "X"}, "sub_icb_location_id", 0},
		{"lower case", nationalCtx, claims.SubICBLocation{Code: "00l", CommissionerCode: "QNQ", DisplayName: "X"}, "sub_icb_location_id", 0},
		{"no name", nationalCtx, claims.SubICBLocation{Code: "10C", CommissionerCode: "QNQ", DisplayName: " "}, "sub_icb_location.display_name", 0},
		{"a CCG has none", nationalCtx, claims.SubICBLocation{Code: "10C", CommissionerCode: "D4U1Y", DisplayName: "X"}, "", claims.KindFailedPrecondition},
		{"an unknown ICB", nationalCtx, claims.SubICBLocation{Code: "10C", CommissionerCode: "QZZ", DisplayName: "X"}, "", claims.KindNotFound},
		// Codes are national: 92A is QWO's, so QNQ cannot have one too.
		{"another ICB's code", nationalCtx, claims.SubICBLocation{Code: "92A", CommissionerCode: "QNQ", DisplayName: "X"}, "", claims.KindAlreadyExists},
		{"not NHS England", claims.WithActor(context.Background(), qnqApprover), claims.SubICBLocation{Code: "10C", CommissionerCode: "QNQ", DisplayName: "X"}, "", claims.KindPermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := f.store.CreateSubICBLocation(tt.ctx, claims.Request{}, tt.loc)
			switch {
			case tt.field != "":
				wantViolation(t, err, tt.field, map[string]string{"sub_icb_location_id": "SUB_ICB_CODE_FORMAT",
					"sub_icb_location.display_name": "DISPLAY_NAME_LENGTH"}[tt.field])
			case tt.kind != 0:
				wantKind(t, err, tt.kind)
			case err != nil:
				t.Fatal(err)
			case out.Name() != "commissioners/"+tt.loc.CommissionerCode+"/subIcbLocations/"+tt.loc.Code:
				t.Errorf("name %s", out.Name())
			}
		})
	}
	// The two made above, then the fixture's, in ICB then code order.
	rows, _, err := f.store.ListSubICBLocations(nationalCtx, "", claims.Page{Size: 10})
	var names []string
	for _, r := range rows {
		names = append(names, r.Name())
	}
	if err != nil || len(names) != 4 || names[0] != "commissioners/QNQ/subIcbLocations/00L" || names[3] != "commissioners/QWO/subIcbLocations/92A" {
		t.Errorf("listed %v (%v)", names, err)
	}
	if _, err := f.store.GetSubICBLocation(nationalCtx, "QNQ", "92A"); !claims.IsKind(err, claims.KindNotFound) {
		t.Errorf("92A under QNQ: %v, want NOT_FOUND (it is QWO's)", err)
	}
}

// A PCN's sub-ICB location is one of its own commissioner's, on create and
// update, and a move to another commissioner must bring a location of the
// new one (or none).
func TestPCNSubICBLocationMustBeItsCommissioners(t *testing.T) {
	f := subICBFixture(t)
	const field = "pcn.sub_icb_location"
	set := func(p *claims.PCN, name string) {
		t.Helper()
		if err := p.SetSubICBLocation(field, name); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, commissioner, location, rule string
	}{
		{"its commissioner's", "QNQ", "commissioners/QNQ/subIcbLocations/99M", ""},
		{"none", "QNQ", "", ""},
		{"another ICB's", "QNQ", "commissioners/QWO/subIcbLocations/92A", "SUB_ICB_LOCATION_OF_OTHER_COMMISSIONER"},
		{"named under its commissioner, but another's", "QNQ", "commissioners/QNQ/subIcbLocations/92A", "UNKNOWN_SUB_ICB_LOCATION"},
		{"unknown", "QNQ", "commissioners/QNQ/subIcbLocations/10C", "UNKNOWN_SUB_ICB_LOCATION"},
	}
	for i, tt := range tests {
		t.Run("create "+tt.name, func(t *testing.T) {
			p := pcn("U2000"+string(rune('0'+i)), "B8100"+string(rune('0'+i)))
			p.CommissionerCode = tt.commissioner
			set(&p, tt.location)
			out, err := f.store.CreatePCN(f.ctx, claims.Request{}, p)
			if tt.rule != "" {
				wantViolation(t, err, field, tt.rule)
				return
			}
			if err != nil || out.SubICBLocationCode != p.SubICBLocationCode {
				t.Fatalf("created %+v, %v", out, err)
			}
		})
		t.Run("update "+tt.name, func(t *testing.T) {
			_, err := f.store.UpdatePCN(f.ctx, "U12345", "", func(p *claims.PCN) { set(p, tt.location) })
			if tt.rule != "" {
				wantViolation(t, err, field, tt.rule)
			} else if err != nil {
				t.Fatal(err)
			}
		})
	}

	must(t)(f.store.UpdatePCN(f.ctx, "U12345", "", func(p *claims.PCN) { set(p, "commissioners/QNQ/subIcbLocations/99M") }))
	// Moving to QWO keeping QNQ's 99M is refused, naming the location.
	_, err := f.store.UpdatePCN(f.ctx, "U12345", "", func(p *claims.PCN) { p.CommissionerCode = "QWO" })
	wantViolation(t, err, field, "SUB_ICB_LOCATION_OF_OTHER_COMMISSIONER")
	moved, err := f.store.UpdatePCN(f.ctx, "U12345", "", func(p *claims.PCN) {
		p.CommissionerCode = "QWO"
		set(p, "commissioners/QWO/subIcbLocations/92A")
	})
	if err != nil || moved.CommissionerCode != "QWO" || moved.SubICBLocationCode != "92A" {
		t.Fatalf("moved %+v, %v", moved, err)
	}
	// Where it was until yesterday is kept, location with commissioner.
	var kept []string
	if err := f.store.DB().Select(&kept, `SELECT commissioner_code || '/' || COALESCE(sub_icb_location_code, '')
		FROM pcn_commissioners WHERE pcn_code = 'U12345'`); err != nil || len(kept) != 1 || kept[0] != "QNQ/99M" {
		t.Errorf("history %v (%v), want QNQ/99M", kept, err)
	}
}

// The database holds the rule itself: a PCN, a past record or a claim in
// another ICB's location, and a location of a CCG, are refused by their
// constraints whatever the code above them does.
func TestDatabaseRefusesAnotherICBsSubICBLocation(t *testing.T) {
	f := subICBFixture(t)
	db := f.store.DB()
	tests := []struct {
		name, sql, constraint string
	}{
		{"a PCN in another ICB's location", `UPDATE pcns SET sub_icb_location_code = '92A' WHERE code = 'U12345'`,
			"pcns_sub_icb_location_of_commissioner"},
		{"a PCN moved away from its location's ICB", `UPDATE pcns SET sub_icb_location_code = '99M' WHERE code = 'U12345';
			UPDATE pcns SET commissioner_code = 'QWO' WHERE code = 'U12345'`, "pcns_sub_icb_location_of_commissioner"},
		{"a past record in another ICB's location", `INSERT INTO pcn_commissioners (pcn_code, commissioner_code, sub_icb_location_code, valid_to)
			VALUES ('U12345', 'QNQ', '92A', '2025-03-31')`, "pcn_commissioners_sub_icb_location_of_commissioner"},
		{"a claim in another ICB's location", `INSERT INTO claims (pcn_code, id, month, financial_year, state, commissioner_code, sub_icb_location_code)
			VALUES ('U12345', '2025-04', '2025-04-01', '2025-26', 'draft', 'QNQ', '92A')`, "claims_sub_icb_location_of_commissioner"},
		{"a location of a CCG", `INSERT INTO sub_icb_locations (code, commissioner_code, commissioner_kind, display_name)
			VALUES ('10C', 'D4U1Y', 'ccg', 'X')`, "sub_icb_locations_of_an_icb"},
		{"a location of a CCG, claiming to be an ICB", `INSERT INTO sub_icb_locations (code, commissioner_code, display_name)
			VALUES ('10C', 'D4U1Y', 'X')`, "sub_icb_locations_commissioner"},
		{"an ICB's code", `INSERT INTO sub_icb_locations (code, commissioner_code, display_name) VALUES ('QAB', 'QNQ', 'X')`,
			"sub_icb_locations_code_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := db.Beginx()
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback() }()
			_, err = tx.Exec(tt.sql)
			var pqErr *pq.Error
			if !errors.As(err, &pqErr) || pqErr.Constraint != tt.constraint {
				t.Fatalf("got %v, want the database's %s", err, tt.constraint)
			}
		})
	}
	// The store refuses it first, naming the field.
	_, err := f.store.UpdatePCN(f.ctx, "U12345", "", func(p *claims.PCN) { p.SubICBLocationCode = "92A" })
	wantViolation(t, err, "pcn.sub_icb_location", "SUB_ICB_LOCATION_OF_OTHER_COMMISSIONER")
}

// A commissioner's rows by sub-ICB location add up, month by month and
// role by role, to the figures of its claims' lines, to the penny; each
// location's own listing is its rows of the whole; and the demo's ICB has
// figures in both its locations.
func TestWorkforceStatisticsBySubICBAddUpToTheICB(t *testing.T) {
	s := demoStore(t)
	ctx := claims.WithActor(context.Background(), qnqApprover)
	year := claims.FinancialYear(2026)
	type key struct{ month, role string }
	// The ICB's figures from its claims' lines, with no location in sight.
	want := figuresFromLines(t, ctx, s, year, func(c claims.Claim, l claims.ClaimLine) key { return key{c.Month.String(), l.RoleID} })
	rows, _, err := s.ListWorkforceStatistics(ctx, "QNQ", "", year, claims.Page{Size: 1000})
	if err != nil {
		t.Fatal(err)
	}
	got := map[key]workforceFigures{}
	byLocation := map[string][]claims.WorkforceStatistic{}
	for _, r := range rows {
		k := key{r.Month.String(), r.RoleID}
		got[k] = got[k].plus(figuresOf(r))
		byLocation[r.SubICBLocationCode] = append(byLocation[r.SubICBLocationCode], r)
	}
	if len(got) != len(want) {
		t.Errorf("%d month and role totals, want %d", len(got), len(want))
	}
	var total, wantTotal int64
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%v: locations add up to %+v, want %+v", k, got[k], w)
		}
		wantTotal += w.spend + w.pendingSpend
	}
	for _, r := range rows {
		total += r.SpendPence + r.PendingSpendPence
	}
	if total != wantTotal || total == 0 {
		t.Errorf("spend over every location %d pence, the ICB's lines %d", total, wantTotal)
	}
	if len(byLocation["99M"]) == 0 || len(byLocation["15D"]) == 0 || len(byLocation[""]) != 0 {
		t.Errorf("rows by location: 99M %d, 15D %d, none %d; want both, and no PCN without one",
			len(byLocation["99M"]), len(byLocation["15D"]), len(byLocation[""]))
	}
	for _, code := range []string{"99M", "15D"} {
		only, _, err := s.ListWorkforceStatistics(ctx, "QNQ", code, year, claims.Page{Size: 1000})
		if err != nil || len(only) != len(byLocation[code]) {
			t.Errorf("%s alone: %d rows (%v), want its %d", code, len(only), err, len(byLocation[code]))
			continue
		}
		for i, r := range only {
			if r != byLocation[code][i] {
				t.Errorf("%s alone, row %d: %+v, want %+v", code, i, r, byLocation[code][i])
			}
		}
	}
}

// Statistics by sub-ICB location are scoped as the ICB's are: its own
// staff and NHS England see them; another ICB's staff and PCNs get
// NOT_FOUND, as for a location that does not exist.
func TestWorkforceStatisticsBySubICBAreTheICBsOwn(t *testing.T) {
	s := demoStore(t)
	sys := claims.WithActor(context.Background(), claims.System("test"))
	must(t)(s.CreateCommissioner(sys, claims.Request{}, claims.Commissioner{Code: "QRL", Kind: claims.KindICB,
		DisplayName: "Other ICB", ValidFrom: claims.ICBStart}))
	must(t)(s.CreateSubICBLocation(sys, claims.Request{}, claims.SubICBLocation{Code: "92A", CommissionerCode: "QRL", DisplayName: "West"}))
	year := claims.FinancialYear(2026)
	tests := []struct {
		name         string
		who          claims.Actor
		commissioner string
		location     string
		found        bool
	}{
		{"the ICB's approver, its location", qnqApprover, "QNQ", "99M", true},
		{"NHS England, the ICB's location", national, "QNQ", "15D", true},
		{"NHS England, the other ICB's location", national, "QRL", "92A", true},
		{"the ICB's approver, another ICB's location", qnqApprover, "QRL", "92A", false},
		{"another ICB's approver, the ICB's location", otherICB, "QNQ", "99M", false},
		{"a PCN, its own ICB's location", riverside, "QNQ", "99M", false},
		{"the ICB's approver, a location it does not have", qnqApprover, "QNQ", "92A", false},
		{"the ICB's approver, an unknown location", qnqApprover, "QNQ", "10C", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, _, err := s.ListWorkforceStatistics(claims.WithActor(context.Background(), tt.who), tt.commissioner, tt.location, year, claims.Page{Size: 100})
			switch {
			case !tt.found:
				wantKind(t, err, claims.KindNotFound)
				if e, _ := claims.AsError(err); e.Resource != "commissioners/"+tt.commissioner+"/subIcbLocations/"+tt.location {
					t.Errorf("NOT_FOUND names %q", e.Resource)
				}
			case err != nil:
				t.Fatal(err)
			}
			for _, r := range rows {
				if r.CommissionerCode != tt.commissioner || r.SubICBLocationCode != tt.location {
					t.Errorf("row of %s/%s in %s/%s's listing", r.CommissionerCode, r.SubICBLocationCode, tt.commissioner, tt.location)
				}
			}
		})
	}
}

// A claim belongs to the sub-ICB location of its month: a PCN that moves
// leaves its claims, and those of months before the move made later, where
// they were. Recording a PCN's location for the first time is no move: its
// claims take it.
func TestAClaimKeepsTheSubICBLocationOfItsMonth(t *testing.T) {
	s := demoStore(t)
	sys := claims.WithActor(context.Background(), claims.System("test"))
	db := s.DB()
	locationOf := func(pcn string) map[string]string {
		t.Helper()
		var rows []struct {
			ID  string              `db:"id"`
			Loc claims.OptionalCode `db:"loc"`
		}
		if err := db.Select(&rows, `SELECT id, sub_icb_location_code AS loc FROM claims WHERE pcn_code = $1`, pcn); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range rows {
			out[r.ID] = string(r.Loc)
		}
		return out
	}

	// Northfield moves from 99M to 15D on 2 December 2026; November, not
	// yet claimed, is claimed after the move.
	before := locationOf("U23456")
	if len(before) == 0 {
		t.Fatal("Northfield has no claims")
	}
	must(t)(s.UpdatePCN(sys, "U23456", "", func(p *claims.PCN) { p.SubICBLocationCode = "15D" }))
	cd := claims.WithActor(context.Background(), claims.Actor{Subject: "nia", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U23456"})
	november, err := s.CreateClaim(cd, claims.Request{}, "U23456", month(t, "2026-11"))
	if err != nil {
		t.Fatal(err)
	}
	if november.SubICBLocationCode != "99M" {
		t.Errorf("November, claimed after the move: %q, want 99M, where the PCN was that month", november.SubICBLocationCode)
	}
	after := locationOf("U23456")
	for id, loc := range before {
		if after[id] != loc || loc != "99M" {
			t.Errorf("%s: %q, was %q; want 99M kept", id, after[id], loc)
		}
	}

	// Kingsgate as if loaded before locations were data: none recorded.
	if _, err := db.Exec(`UPDATE pcns SET sub_icb_location_code = NULL WHERE code = 'U34567';
		UPDATE claims SET sub_icb_location_code = NULL WHERE pcn_code = 'U34567'`); err != nil {
		t.Fatal(err)
	}
	must(t)(s.UpdatePCN(sys, "U34567", "", func(p *claims.PCN) { p.SubICBLocationCode = "15D" }))
	for id, loc := range locationOf("U34567") {
		if loc != "15D" {
			t.Errorf("Kingsgate %s: %q, want 15D, recorded for the first time", id, loc)
		}
	}
	var history int
	if err := db.Get(&history, `SELECT count(*) FROM pcn_commissioners WHERE pcn_code = 'U34567'`); err != nil || history != 0 {
		t.Errorf("%d past records of Kingsgate (%v); recording a location is not a move", history, err)
	}
}
