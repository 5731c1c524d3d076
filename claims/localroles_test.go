package claims_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"arrs.nhs.uk/arrs/claims"
)

// localRolesFixture is the store fixture in June 2026 with a second ICB,
// QWO, and its PCN U54321, and NHS Frimley ICB's (QNQ's) local role
// frailty-practitioner from 1 April 2026 at £66,000 a year.
type localRolesFixture struct {
	fixture
	local claims.LocalRole
}

func newLocalRolesFixture(t *testing.T) localRolesFixture {
	t.Helper()
	f := newFixture(t)
	now := time.Date(2026, time.June, 10, 12, 0, 0, 0, time.UTC)
	f.store = claims.NewStore(f.store.DB(), claims.WithClock(func() time.Time { return now }))
	must(t)(f.store.CreateCommissioner(f.ctx, claims.Request{}, claims.Commissioner{
		Code: "QWO", Kind: claims.KindICB, DisplayName: "West ICB", ValidFrom: day(t, "2022-07-01")}))
	other := pcn("U54321", "B81001")
	other.CommissionerCode = "QWO"
	must(t)(f.store.CreatePCN(f.ctx, claims.Request{}, other))
	must(t)(f.store.CreateFundingYear(f.ctx, claims.Request{}, claims.FundingYear{Year: 2026, RatePerWeightedPatient: 273000}))
	must(t)(f.store.CreateEntitlement(f.ctx, claims.Request{}, claims.Entitlement{PCNCode: "U12345", Year: 2026, WeightedPopulation: dec(t, "50000")}))
	l, err := f.store.CreateLocalRole(as(f.ctx, approverOf("QNQ")), claims.Request{ID: uuid.NewString(), Method: "test", Fingerprint: []byte("frailty")}, frailty(t))
	if err != nil {
		t.Fatal(err)
	}
	return localRolesFixture{f, l}
}

func frailty(t *testing.T) claims.LocalRole {
	return claims.LocalRole{
		Role: claims.Role{ID: "frailty-practitioner", DisplayName: "Frailty practitioner", AfCBand: "7",
			Register: claims.RegisterNMC, ReimbursableFrom: day(t, "2026-04-01"), CommissionerCode: "QNQ"},
		MaxAnnualPence: 6600000, Illustrative: true, Source: "QNQ approval",
	}
}

func as(ctx context.Context, a claims.Actor) context.Context { return claims.WithActor(ctx, a) }

func approverOf(code string) claims.Actor {
	return claims.Actor{Subject: "approver-" + code, Role: claims.RoleCommissionerApprover, OrgKind: claims.OrgCommissioner, OrgCode: code}
}

func directorOf(pcn string) claims.Actor {
	return claims.Actor{Subject: "cd-" + pcn, Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: pcn}
}

// hubOfficer works for a Training Hub, which commissions nothing.
var hubOfficer = claims.Actor{Subject: "h1", Role: claims.RoleTrainingHubOfficer, OrgKind: claims.OrgTrainingHub, OrgCode: "frimley"}

// A local role is in the catalogue of its commissioner's PCNs only: they,
// the commissioner and NHS England see it (role, rate and local role);
// another ICB and its PCNs get NOT_FOUND and do not find it listed.
func TestALocalRoleIsInItsCommissionersCatalogueOnly(t *testing.T) {
	f := newLocalRolesFixture(t)
	for _, tc := range []struct {
		name  string
		actor claims.Actor
		sees  bool
	}{
		{"its commissioner's PCN", directorOf("U12345"), true},
		{"its commissioner", approverOf("QNQ"), true},
		{"NHS England", nationalAdmin, true},
		{"another ICB's PCN", directorOf("U54321"), false},
		{"another ICB", approverOf("QWO"), false},
		{"a training hub", hubOfficer, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := as(f.ctx, tc.actor)
			_, roleErr := f.store.GetRole(ctx, "frailty-practitioner")
			_, localErr := f.store.GetLocalRole(ctx, "QNQ", "frailty-practitioner")
			_, rateErr := f.store.GetRate(ctx, "frailty-practitioner", day(t, "2026-04-01"))
			for what, err := range map[string]error{"role": roleErr, "local role": localErr, "rate": rateErr} {
				if tc.sees && err != nil {
					t.Errorf("%s: %v, want it found", what, err)
				}
				if !tc.sees && !claims.IsKind(err, claims.KindNotFound) {
					t.Errorf("%s: %v, want NOT_FOUND", what, err)
				}
			}
			roles, _, err := f.store.ListRoles(ctx, claims.Page{Size: 100})
			if err != nil {
				t.Fatal(err)
			}
			listed := map[string]bool{}
			for _, r := range roles {
				listed[r.ID] = true
			}
			if listed["frailty-practitioner"] != tc.sees || !listed["occupational-therapist"] {
				t.Errorf("ListRoles = %v: local role listed %t, want %t; national roles always", listed, listed["frailty-practitioner"], tc.sees)
			}
			rates, _, err := f.store.ListRates(ctx, "", claims.Page{Size: 100})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(rates) == 1 && rates[0].RoleID == "frailty-practitioner"; got != tc.sees {
				t.Errorf("ListRates(roles/-) = %+v, want the local role's rate listed: %t", rates, tc.sees)
			}
			locals, _, err := f.store.ListLocalRoles(ctx, "", claims.Page{Size: 100})
			if err != nil || (len(locals) == 1) != tc.sees {
				t.Errorf("ListLocalRoles = %d roles (%v), want listed: %t", len(locals), err, tc.sees)
			}
		})
	}
}

// Posts name a local role as any role, but only in the commissioner's own
// PCNs: another ICB's PCN is told the role is not in its catalogue, even
// when arrs itself writes, and the database refuses a row that slips by.
// The local role is priced from its approved maximum.
func TestOnlyTheCommissionersPCNsPostsTakeALocalRoleAndItIsPricedFromItsMaximum(t *testing.T) {
	f := newLocalRolesFixture(t)
	post := func(pcn string) claims.Post {
		return claims.Post{PCNCode: pcn, ID: "frailty-1", RoleID: "frailty-practitioner", StaffName: "Grace Mensah",
			RegistrationNumber: "09C4567E", WTE: dec(t, "1"), StartDate: day(t, "2026-04-01")}
	}
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		pcn   string
		allow bool
	}{
		{"its commissioner's PCN", as(f.ctx, directorOf("U12345")), "U12345", true},
		{"another ICB's PCN", as(f.ctx, directorOf("U54321")), "U54321", false},
		{"arrs itself, for another ICB's PCN", f.ctx, "U54321", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.store.CreatePost(tc.ctx, claims.Request{}, post(tc.pcn))
			if tc.allow && err != nil {
				t.Fatal(err)
			}
			if !tc.allow {
				wantViolation(t, err, "post.role", "UNKNOWN_ROLE")
			}
		})
	}
	_, err := f.store.DB().ExecContext(t.Context(), `INSERT INTO posts (pcn_code, id, role_id, state, wte, start_date)
		VALUES ('U54321', 'sneaked-in', 'frailty-practitioner', 'planned', 1, '2026-04-01')`)
	if err == nil || !strings.Contains(err.Error(), "is another commissioner's local role") {
		t.Errorf("the database took another ICB's local role for a post, or refused it for another reason: %v", err)
	}

	c, err := f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2026-05"))
	if err != nil {
		t.Fatal(err)
	}
	// May 2026 at 1.0 WTE and £66,000: 6600000 × 31 ÷ 365 = 560,547.9… → 560548p.
	if len(c.Lines) != 1 || c.Lines[0].CapPence != 560548 {
		t.Errorf("May's lines = %+v, want the local role's cap of 560548p", c.Lines)
	}
}

// Approving, changing and retiring a local role is for the commissioner's
// own approvers: its finance staff and NHS England may not, another ICB's
// approvers find nothing there, PCNs may not.
func TestOnlyTheCommissionersApproversApproveItsLocalRoles(t *testing.T) {
	f := newLocalRolesFixture(t)
	for _, tc := range []struct {
		name  string
		actor claims.Actor
		want  claims.Kind
	}{
		{"its approver", approverOf("QNQ"), 0},
		{"another ICB's approver", approverOf("QWO"), claims.KindNotFound},
		{"its finance", claims.Actor{Subject: "f1", Role: claims.RoleCommissionerFinance, OrgKind: claims.OrgCommissioner, OrgCode: "QNQ"}, claims.KindPermissionDenied},
		{"NHS England", nationalAdmin, claims.KindPermissionDenied},
		{"a PCN", directorOf("U12345"), claims.KindPermissionDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := frailty(t)
			l.ID = "frailty-approved-by-" + strings.ToLower(tc.actor.Subject)
			_, err := f.store.CreateLocalRole(as(f.ctx, tc.actor), claims.Request{}, l)
			_, upErr := f.store.UpdateLocalRole(as(f.ctx, tc.actor), "QNQ", "frailty-practitioner", "", func(l *claims.LocalRole) { l.DisplayName = "Renamed" })
			for what, err := range map[string]error{"create": err, "update": upErr} {
				if tc.want == 0 && err != nil {
					t.Errorf("%s: %v", what, err)
				}
				if tc.want != 0 && !claims.IsKind(err, tc.want) {
					t.Errorf("%s: %v, want kind %d", what, err, tc.want)
				}
			}
		})
	}
	// Only an ICB approves: the national catalogue's writers cannot slip a
	// local role in through CreateRole either.
	r := frailty(t).Role
	r.ID = "national-not-local"
	out, err := f.store.CreateRole(f.ctx, claims.Request{}, r)
	if err != nil || out.Local() {
		t.Errorf("CreateRole with a commissioner = %+v, %v; want a national role", out, err)
	}
}

// Changing a local role is under its etag and audited; its maximum is its
// rate's; national writers cannot change it behind the commissioner; a
// retired role takes no new post but still prices the posts it has, up to
// its last day; a retry of the retirement returns the first result.
func TestALocalRoleIsChangedAndRetiredByItsCommissioner(t *testing.T) {
	f := newLocalRolesFixture(t)
	approver := as(f.ctx, approverOf("QNQ"))
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, claims.Post{PCNCode: "U12345", ID: "frailty-1", RoleID: "frailty-practitioner",
		StaffName: "Grace Mensah", RegistrationNumber: "09C4567E", WTE: dec(t, "1"), StartDate: day(t, "2026-04-01")}))

	_, err := f.store.UpdateLocalRole(approver, "QNQ", "frailty-practitioner", "stale", func(l *claims.LocalRole) { l.MaxAnnualPence = 1 })
	wantKind(t, err, claims.KindConflict)
	up, err := f.store.UpdateLocalRole(approver, "QNQ", "frailty-practitioner", claims.Etag(f.local.Revision), func(l *claims.LocalRole) {
		l.MaxAnnualPence = 6800000
		l.ReimbursableFrom = day(t, "2020-01-01") // immutable: ignored
	})
	if err != nil || up.MaxAnnualPence != 6800000 || up.ReimbursableFrom.String() != "2026-04-01" {
		t.Fatalf("update = %+v, %v", up, err)
	}
	rate, err := f.store.GetRate(f.ctx, "frailty-practitioner", day(t, "2026-04-01"))
	if err != nil || rate.NationalPence != 6800000 {
		t.Errorf("the role's rate = %+v, %v; want the new maximum", rate, err)
	}
	_, err = f.store.UpdateRole(as(f.ctx, nationalAdmin), "frailty-practitioner", "", func(r *claims.Role) { r.DisplayName = "x" })
	wantReason(t, err, claims.KindFailedPrecondition, "LOCAL_ROLE")
	_, err = f.store.CreateRate(as(f.ctx, nationalAdmin), claims.Request{}, claims.Rate{RoleID: "frailty-practitioner",
		EffectiveDate: day(t, "2026-10-01"), NationalPence: 7000000})
	wantReason(t, err, claims.KindFailedPrecondition, "LOCAL_ROLE")

	retire := claims.Request{ID: uuid.NewString(), Method: "retire", Fingerprint: []byte("retire")}
	_, err = f.store.RetireLocalRole(approver, retire, "QNQ", "frailty-practitioner", "", claims.Date{})
	wantViolation(t, err, "last_day", "REQUIRED")
	retired, err := f.store.RetireLocalRole(approver, retire, "QNQ", "frailty-practitioner", claims.Etag(up.Revision), day(t, "2026-05-15"))
	if err != nil || !retired.Retired() || retired.ReimbursableTo.String() != "2026-05-15" {
		t.Fatalf("retire = %+v, %v", retired, err)
	}
	again, err := f.store.RetireLocalRole(approver, retire, "QNQ", "frailty-practitioner", claims.Etag(up.Revision), day(t, "2026-05-15"))
	if err != nil || again.Revision != retired.Revision {
		t.Errorf("a retried retirement = %+v, %v; want the first result", again, err)
	}
	_, err = f.store.RetireLocalRole(approver, claims.Request{}, "QNQ", "frailty-practitioner", "", day(t, "2026-06-01"))
	wantReason(t, err, claims.KindFailedPrecondition, "LOCAL_ROLE_RETIRED")
	_, err = f.store.CreatePost(f.ctx, claims.Request{}, claims.Post{PCNCode: "U12345", ID: "frailty-2", RoleID: "frailty-practitioner",
		StaffName: "Ama Owusu", RegistrationNumber: "10D5678F", WTE: dec(t, "1"), StartDate: day(t, "2026-05-01")})
	wantReason(t, err, claims.KindFailedPrecondition, "ROLE_RETIRED")

	c, err := f.store.CreateClaim(f.ctx, claims.Request{}, "U12345", month(t, "2026-05"))
	if err != nil {
		t.Fatal(err)
	}
	// 15 days of May at £68,000: 6800000 × 15 ÷ 365 = 279,452.05… → 279452p.
	if len(c.Lines) != 1 || c.Lines[0].CapPence != 279452 || c.Lines[0].ActiveDays != 15 {
		t.Errorf("May's lines = %+v, want 15 days at the new maximum", c.Lines)
	}

	events, _, err := f.store.ListAuditEvents(as(f.ctx, nationalAdmin), f.local.Name(), claims.Page{Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	if len(actions) != 3 || actions[0] != "create" || actions[1] != "update" || actions[2] != "retire" {
		t.Errorf("audit trail of %s = %v, want create, update, retire", f.local.Name(), actions)
	}
}

// The GP "within 2 years of CCT" restriction is a role rule with effective
// dates (1 October 2024 to 31 March 2026), judged on the start date, and
// the maximum from 1 April 2026 is a rate like any other: nothing of either
// is in code.
func TestGPRulesAreCatalogueDataWithEffectiveDates(t *testing.T) {
	f := newFixture(t)
	must(t)(f.store.CreateRole(f.ctx, claims.Request{}, claims.Role{ID: "general-practitioner", DisplayName: "General practitioner",
		Register: claims.RegisterGMC, ReimbursableFrom: day(t, "2024-10-01"), Rules: []claims.RoleRule{
			{Kind: claims.RuleCCTWithinYears, EffectiveFrom: day(t, "2024-10-01"), EffectiveTo: day(t, "2026-03-31"), Years: 2}}}))
	for _, r := range []claims.Rate{
		{RoleID: "general-practitioner", EffectiveDate: day(t, "2025-04-01"), NationalPence: 8241800},
		{RoleID: "general-practitioner", EffectiveDate: day(t, "2026-04-01"), NationalPence: 15839900, Illustrative: true},
	} {
		must(t)(f.store.CreateRate(f.ctx, claims.Request{}, r))
	}
	for i, tc := range []struct {
		name, start, cct string
		rule             string // the violation on post.cct_date; "" when accepted
	}{
		{"from May 2026 a GP five years after CCT", "2026-05-01", "2021-05-01", ""},
		{"in 2025-26 a GP five years after CCT", "2025-06-01", "2020-06-01", "CCT_WITHIN_YEARS"},
		{"in 2025-26 a GP a day past two years", "2025-06-02", "2023-06-01", "CCT_WITHIN_YEARS"},
		{"in 2025-26 a GP exactly two years after", "2025-06-01", "2023-06-01", ""},
		{"in 2025-26 a GP without a CCT date", "2025-06-01", "", "REQUIRED"},
		{"on the rule's last day", "2026-03-31", "2020-01-01", "CCT_WITHIN_YEARS"},
		{"on the day after", "2026-04-01", "2020-01-01", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := claims.Post{PCNCode: "U12345", ID: "gp-" + string(rune('a'+i)) + "-post", RoleID: "general-practitioner",
				StaffName: "Dr Test", RegistrationNumber: "712345" + string(rune('0'+i)), WTE: dec(t, "1"), StartDate: day(t, tc.start)}
			if tc.cct != "" {
				p.CCTDate = day(t, tc.cct)
			}
			_, err := f.store.CreatePost(f.ctx, claims.Request{}, p)
			if tc.rule == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.rule != "" {
				wantViolation(t, err, "post.cct_date", tc.rule)
			}
		})
	}

	role, err := f.store.GetRole(f.ctx, "general-practitioner")
	if err != nil {
		t.Fatal(err)
	}
	rates, _, err := f.store.ListRates(f.ctx, "general-practitioner", claims.Page{Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	post := claims.Post{RoleID: "general-practitioner", StartDate: day(t, "2025-04-01")}
	for _, tc := range []struct {
		month string
		want  int64
	}{
		// March 2026 at £82,418: 8241800 × 31 ÷ 365 = 699,988.49… → 699988p.
		{"2026-03", 699988},
		// April 2026 at £158,399: 15839900 × 30 ÷ 365 = 1,301,909.58… → 1301910p.
		{"2026-04", 1301910},
	} {
		c, err := claims.ComputeCap(month(t, tc.month), post, role, rates, claims.ZoneNational, dec(t, "1"))
		if err != nil || c.Pence != tc.want {
			t.Errorf("%s's GP cap = %d (%v), want %d", tc.month, c.Pence, err, tc.want)
		}
	}
}

// Rules are checked as catalogue data: an unknown kind, a bad range or two
// rules of a kind on one day are refused with the field named.
func TestRoleRulesAreValidated(t *testing.T) {
	f := newFixture(t)
	rule := func(from, to string, years int32) claims.RoleRule {
		r := claims.RoleRule{Kind: claims.RuleCCTWithinYears, EffectiveFrom: day(t, from), Years: years}
		if to != "" {
			r.EffectiveTo = day(t, to)
		}
		return r
	}
	for _, tc := range []struct {
		name  string
		rules []claims.RoleRule
		field string
		rule  string
	}{
		{"years out of range", []claims.RoleRule{rule("2024-10-01", "", 0)}, "role.rules[0].years", "YEARS_RANGE"},
		{"ends before it starts", []claims.RoleRule{rule("2024-10-01", "2024-09-30", 2)}, "role.rules[0].effective_to", "DATE_ORDER"},
		{"overlapping", []claims.RoleRule{rule("2024-10-01", "2026-03-31", 2), rule("2026-03-01", "", 3)}, "role.rules[1].effective_from", "RULE_OVERLAP"},
		{"unknown kind", []claims.RoleRule{{Kind: "astrology", EffectiveFrom: day(t, "2024-10-01"), Years: 2}}, "role.rules[0].kind", "UNKNOWN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.store.CreateRole(f.ctx, claims.Request{}, claims.Role{ID: "gp-test", DisplayName: "GP",
				Register: claims.RegisterGMC, ReimbursableFrom: day(t, "2024-10-01"), Rules: tc.rules})
			wantViolation(t, err, tc.field, tc.rule)
		})
	}
}

// The database holds the rules itself, whoever writes: one rule of a kind
// per role and day, only a local role retires (with a last day), and a rule
// names a known kind.
func TestTheDatabaseHoldsLocalRolesAndRoleRules(t *testing.T) {
	f := newLocalRolesFixture(t)
	db := f.store.DB()
	if _, err := db.ExecContext(t.Context(), `INSERT INTO role_rules (role_id, kind, effective_from, effective_to, years)
		VALUES ('occupational-therapist', 'cct_within_years', '2024-10-01', '2026-03-31', 2)`); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, sql string }{
		{"overlapping rules", `INSERT INTO role_rules (role_id, kind, effective_from, years) VALUES ('occupational-therapist', 'cct_within_years', '2026-03-01', 3)`},
		{"an unknown rule", `INSERT INTO role_rules (role_id, kind, effective_from, years) VALUES ('care-coordinator', 'astrology', '2026-03-01', 3)`},
		{"a national role retired", `UPDATE roles SET retire_time = now(), reimbursable_to = '2026-12-31' WHERE id = 'care-coordinator'`},
		{"a local role retired without a last day", `UPDATE roles SET retire_time = now() WHERE id = 'frailty-practitioner'`},
		{"a local role of no commissioner", `UPDATE roles SET commissioner_code = 'QXX' WHERE id = 'frailty-practitioner'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := db.ExecContext(t.Context(), tc.sql); err == nil {
				t.Error("the database took it")
			}
		})
	}
}
