package cpd_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/cpd"
	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/migrations"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, migrations.Up)) }

// today is the day every test stands on: within the single-year scheme.
var today = time.Date(2026, time.December, 6, 10, 0, 0, 0, time.UTC)

func date(t *testing.T, s string) claims.Date {
	t.Helper()
	d, err := claims.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func year(t *testing.T, s string) claims.FinancialYear {
	t.Helper()
	y, err := claims.ParseFinancialYear(s)
	if err != nil {
		t.Fatal(err)
	}
	return y
}

var (
	system   = claims.System("test")
	national = claims.Actor{Subject: "alice", Role: claims.RoleNationalAdministrator, OrgKind: claims.OrgNational}
	hubA     = claims.Actor{Subject: "hannah", Role: claims.RoleTrainingHubOfficer, OrgKind: claims.OrgTrainingHub, OrgCode: "hub-a"}
	hubB     = claims.Actor{Subject: "harry", Role: claims.RoleTrainingHubOfficer, OrgKind: claims.OrgTrainingHub, OrgCode: "hub-b"}
	pmA1     = claims.Actor{Subject: "pam", Role: claims.RolePracticeManager, OrgKind: claims.OrgPractice, OrgCode: "A00001"}
	pmA2     = claims.Actor{Subject: "pete", Role: claims.RolePracticeManager, OrgKind: claims.OrgPractice, OrgCode: "A00002"}
	pcnStaff = claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U11111"}
)

func as(t *testing.T, a claims.Actor) context.Context { return claims.WithActor(t.Context(), a) }

type fixture struct {
	db     *sqlx.DB
	url    string
	claims *claims.Store
	cpd    *cpd.Store
	need   map[string]cpd.Need // by practice
}

// newFixture: practices A00001 and A00002 (hub-a) and B00001 (hub-b), in
// one PCN; a single-year scheme for 2026-27 at £333 a head with 3 heads
// each (99,900p), and a need at each practice.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	url := pgtest.NewDatabase(t)
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cs := claims.NewStore(db, claims.WithClock(func() time.Time { return today }))
	f := &fixture{db: db, url: url, claims: cs, cpd: cpd.NewStore(cs), need: map[string]cpd.Need{}}
	ctx := as(t, system)
	if _, err := cs.CreateCommissioner(ctx, claims.Request{}, claims.Commissioner{Code: "QAA", Kind: claims.KindICB,
		DisplayName: "ICB", ValidFrom: date(t, "2022-07-01")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CreatePCN(ctx, claims.Request{}, claims.PCN{Code: "U11111", DisplayName: "PCN", CommissionerCode: "QAA",
		Zone: claims.ZoneNational, ListSize: 1000, PayeeKind: claims.PayeePCNAccount, PayeeName: "PCN",
		Practices: []claims.Practice{{ODSCode: "A00001", DisplayName: "One"}, {ODSCode: "A00002", DisplayName: "Two"},
			{ODSCode: "B00001", DisplayName: "Three"}}}); err != nil {
		t.Fatal(err)
	}
	nctx := as(t, national)
	for hub, practices := range map[string][]string{"hub-a": {"A00001", "A00002"}, "hub-b": {"B00001"}} {
		h := cpd.Hub{ID: hub, DisplayName: hub}
		for _, p := range practices {
			h.Practices = append(h.Practices, cpd.HubPractice{ODSCode: p, ValidFrom: date(t, "2020-04-01")})
		}
		if _, err := f.cpd.CreateHub(nctx, claims.Request{}, h); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.cpd.CreateScheme(nctx, claims.Request{}, cpd.Scheme{ID: "cpd-2026-27", DisplayName: "CPD 2026/27",
		FirstYear: year(t, "2026-27"), Years: 1, Basis: cpd.PerYear, AmountPerHeadPence: 33300,
		StaffGroups: []cpd.StaffGroup{cpd.RegisteredNurse, cpd.AlliedHealthProfessional}, EndDate: date(t, "2027-03-31")}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"A00001", "A00002", "B00001"} {
		if _, _, err := f.cpd.CreateBaseline(nctx, claims.Request{}, cpd.Baseline{Scheme: "cpd-2026-27", ODSCode: p, EligibleHeadcount: 3}); err != nil {
			t.Fatal(err)
		}
		pm := claims.Actor{Subject: "pm", Role: claims.RolePracticeManager, OrgKind: claims.OrgPractice, OrgCode: p}
		n, err := f.cpd.CreateNeed(as(t, pm), claims.Request{}, cpd.Need{ODSCode: p, Professional: "Olu (OT) " + p,
			StaffGroup: cpd.AlliedHealthProfessional, AppraisalDate: date(t, "2026-05-01"), Need: "Vocational rehab",
			Topic: "Return to work"})
		if err != nil {
			t.Fatal(err)
		}
		f.need[p] = n
	}
	return f
}

func (f *fixture) request(t *testing.T, pm claims.Actor, cost int64) cpd.Request {
	t.Helper()
	r, err := f.cpd.CreateRequest(as(t, pm), claims.Request{}, f.requestFor(t, pm.OrgCode, cost))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *fixture) requestFor(t *testing.T, ods string, cost int64) cpd.Request {
	return cpd.Request{ODSCode: ods, Need: f.need[ods].Name(), Scheme: "cpd-2026-27", Category: cpd.CategoryCourse,
		Provider: "Uni", CourseTitle: "Fit notes", StartDate: date(t, "2027-01-10"), EndDate: date(t, "2027-01-11"), CostPence: cost}
}

func violation(err error) string {
	e, ok := claims.AsError(err)
	if !ok || len(e.Violations) == 0 {
		return fmt.Sprint(err)
	}
	return e.Violations[0].Field + " " + e.Violations[0].Rule
}

func reason(err error) string {
	if e, ok := claims.AsError(err); ok {
		return e.Reason
	}
	return fmt.Sprint(err)
}

func TestRequestsAreRefused(t *testing.T) {
	f := newFixture(t)
	ctx := as(t, pmA1)
	for _, tc := range []struct {
		rule   string
		change func(*cpd.Request)
		want   string
	}{
		{"backfill is not fundable", func(r *cpd.Request) { r.Category = cpd.CategoryBackfill }, "cpd_request.category NOT_FUNDABLE"},
		{"administrative costs are not fundable", func(r *cpd.Request) { r.Category = cpd.CategoryAdministrative }, "cpd_request.category NOT_FUNDABLE"},
		{"equipment is not fundable", func(r *cpd.Request) { r.Category = cpd.CategoryEquipment }, "cpd_request.category NOT_FUNDABLE"},
		{"mandatory training is not fundable", func(r *cpd.Request) { r.Category = cpd.CategoryMandatory }, "cpd_request.category NOT_FUNDABLE"},
		{"nothing dated past the scheme's end", func(r *cpd.Request) { r.EndDate = date(t, "2027-04-01") }, "cpd_request.end_date AFTER_SCHEME_END"},
		{"a request names the need it meets", func(r *cpd.Request) { r.Need = "" }, "cpd_request.need REQUIRED"},
		{"the need is the practice's own", func(r *cpd.Request) { r.Need = f.need["A00002"].Name() }, "cpd_request.need NEED_OF_ANOTHER_PRACTICE"},
		{"money is more than nothing", func(r *cpd.Request) { r.CostPence = 0 }, "cpd_request.cost_pence AMOUNT_RANGE"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			r := f.requestFor(t, "A00001", 50000)
			tc.change(&r)
			_, err := f.cpd.CreateRequest(ctx, claims.Request{}, r)
			if !claims.IsKind(err, claims.KindInvalid) || violation(err) != tc.want {
				t.Fatalf("err = %v (%s), want INVALID %s", err, violation(err), tc.want)
			}
			if tc.rule == "backfill is not fundable" {
				if e, _ := claims.AsError(err); e.Violations[0].Description != "CPD funding cannot pay for backfill of staff on training" {
					t.Errorf("reason = %q", e.Violations[0].Description)
				}
			}
		})
	}
	rows, _, err := f.cpd.ListRequests(ctx, "-", "", claims.Page{Size: 10})
	if err != nil || len(rows) != 0 {
		t.Fatalf("refused requests left %d rows (%v)", len(rows), err)
	}
}

func TestApprovePartFundRejectAndPay(t *testing.T) {
	f := newFixture(t)
	hub := as(t, hubA)
	// Allocation 3 × £333 = 99,900p.
	a := f.request(t, pmA1, 60000)
	b := f.request(t, pmA1, 50000)
	c := f.request(t, pmA1, 10000)

	if _, err := f.cpd.Approve(hub, claims.Request{}, a.Name(), claims.Etag(a.Revision)); err != nil {
		t.Fatal(err)
	}
	// 39,900p remains: b (50,000p) cannot be approved whole.
	if _, err := f.cpd.Approve(hub, claims.Request{}, b.Name(), ""); reason(err) != "INSUFFICIENT_BALANCE" {
		t.Fatalf("approve beyond the balance: %v, want INSUFFICIENT_BALANCE", err)
	}
	if _, err := f.cpd.PartFund(hub, claims.Request{}, b.Name(), "", 40000); reason(err) != "INSUFFICIENT_BALANCE" {
		t.Fatalf("part-fund beyond the balance: %v", err)
	}
	if _, err := f.cpd.PartFund(hub, claims.Request{}, b.Name(), "", 50000); violation(err) != "funded_pence PART_BELOW_COST" {
		t.Fatalf("part-fund the whole cost: %v", err)
	}
	got, err := f.cpd.PartFund(hub, claims.Request{}, b.Name(), "", 0) // what remains
	if err != nil {
		t.Fatal(err)
	}
	if got.State != cpd.StatePartFunded || got.CostPence != 50000 || got.FundedPence != 39900 {
		t.Fatalf("part-funded = %s cost %d funded %d, want part_funded 50000 39900", got.State, got.CostPence, got.FundedPence)
	}
	if _, err := f.cpd.Reject(hub, claims.Request{}, c.Name(), "", ""); violation(err) != "reason REQUIRED" {
		t.Fatalf("reject without reason: %v", err)
	}
	if r, err := f.cpd.Reject(hub, claims.Request{}, c.Name(), "", "No funds left this year"); err != nil || r.State != cpd.StateRejected {
		t.Fatalf("reject: %v %v", r.State, err)
	}
	if _, err := f.cpd.Approve(hub, claims.Request{}, c.Name(), ""); reason(err) != "INVALID_STATE_TRANSITION" {
		t.Fatalf("approve a rejected request: %v", err)
	}
	if _, err := f.cpd.Approve(hub, claims.Request{}, a.Name(), claims.Etag(a.Revision)); reason(err) != "ETAG_MISMATCH" {
		t.Fatalf("stale etag: %v", err)
	}
	// A payment names its day (not in the future) and its remittance
	// reference, or it is refused and changes nothing.
	for _, bad := range []struct {
		date       claims.Date
		ref, field string
		rule       string
	}{
		{claims.Date{}, "REM-1", "payment_date", "REQUIRED"},
		{f.cpd.Today().AddDays(1), "REM-1", "payment_date", "IN_FUTURE"},
		{f.cpd.Today(), "  ", "reference", "REQUIRED"},
	} {
		if _, err := f.cpd.RecordPayment(hub, claims.Request{}, a.Name(), "", bad.date, bad.ref); violation(err) != bad.field+" "+bad.rule {
			t.Errorf("payment on %s, reference %q: %v, want %s %s", bad.date, bad.ref, err, bad.field, bad.rule)
		}
	}
	if r, err := f.cpd.RecordPayment(hub, claims.Request{}, a.Name(), "", f.cpd.Today(), " REM-0042 "); err != nil || r.PaidPence != 60000 ||
		r.State != cpd.StatePaid || r.PaymentDate != f.cpd.Today() || r.PaymentReference != "REM-0042" {
		t.Fatalf("pay: %+v %v", r, err)
	}
	als, _, err := f.cpd.ListAllocations(as(t, pmA1), "A00001", claims.Page{Size: 10}, "")
	if err != nil || len(als) != 1 {
		t.Fatalf("allocations %v %v", als, err)
	}
	if al := als[0]; al.AmountPence != 99900 || al.CommittedPence != 99900 || al.PaidPence != 60000 || al.RemainingPence() != 0 {
		t.Errorf("allocation = %+v, want 99900 committed 99900 paid 60000", al)
	}
	// The fairness view: A00001 spent 99,900p on 3 heads = 33,300p a head;
	// A00002's professional has a need and nothing funded.
	fair, err := f.cpd.Fairness(hub, "hub-a", "cpd-2026-27")
	if err != nil {
		t.Fatal(err)
	}
	if len(fair.Practices) != 2 || fair.Practices[0].SpendPerHeadPence != 33300 || fair.Practices[1].SpendPerHeadPence != 0 {
		t.Errorf("fairness practices = %+v", fair.Practices)
	}
	if len(fair.Unfunded) != 1 || fair.Unfunded[0].ODSCode != "A00002" {
		t.Errorf("unfunded = %+v, want A00002's professional only", fair.Unfunded)
	}
	// Audited like claims: each decision is an event on the request and
	// one on the allocation it moved, in the practice's PCN's chain.
	for resource, want := range map[string]string{
		a.Name(): "create approve record_payment",
		"practices/A00001/cpdAllocations/cpd-2026-27.2026-27": "update update update",
	} {
		if got, err := auditActions(f.db, resource); err != nil || got != want {
			t.Errorf("audit of %s = %q (%v), want %q", resource, got, err, want)
		}
	}
}

func auditActions(db *sqlx.DB, resource string) (string, error) {
	var s string
	err := db.Get(&s, `SELECT coalesce(string_agg(action, ' ' ORDER BY seq), '') FROM audit_events
		WHERE resource = $1 AND pcn_code = 'U11111'`, resource)
	return s, err
}

func TestCommissionedCoursePlaces(t *testing.T) {
	f := newFixture(t)
	hub := as(t, hubA)
	c, err := f.cpd.CreateCourse(hub, claims.Request{}, cpd.Course{Hub: "hub-a", Title: "Fit notes", Topic: "Return to work",
		Provider: "Uni", StartDate: date(t, "2027-02-01"), EndDate: date(t, "2027-02-01"), Places: 1, CostPerPlacePence: 20000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cpd.CreateCourse(as(t, hubB), claims.Request{}, cpd.Course{Hub: "hub-a", Title: "x", Topic: "x",
		Provider: "x", StartDate: date(t, "2027-02-01"), EndDate: date(t, "2027-02-01"), Places: 1, CostPerPlacePence: 1}); !claims.IsKind(err, claims.KindNotFound) {
		t.Fatalf("another hub's course: %v, want NOT_FOUND", err)
	}
	r1, r2 := f.request(t, pmA1, 90000), f.request(t, pmA2, 90000)
	got, err := f.cpd.AllocatePlace(hub, claims.Request{}, r1.Name(), "", c.Name())
	if err != nil {
		t.Fatal(err)
	}
	if got.CostPence != 20000 || got.Course != c.Name() || got.Provider != "Uni" {
		t.Errorf("placed request = %+v", got)
	}
	if _, err := f.cpd.AllocatePlace(hub, claims.Request{}, r2.Name(), "", c.Name()); reason(err) != "NO_PLACES_LEFT" {
		t.Fatalf("second place on a one-place course: %v", err)
	}
	// Rejecting the placed request gives its place back.
	if _, err := f.cpd.Reject(hub, claims.Request{}, r1.Name(), "", "The professional has left the practice"); err != nil {
		t.Fatal(err)
	}
	if got, err := f.cpd.AllocatePlace(hub, claims.Request{}, r2.Name(), "", c.Name()); err != nil || got.Course != c.Name() {
		t.Fatalf("the place a rejected request held: %+v, %v; want it given to the next request", got, err)
	}
	if _, err := f.cpd.AllocatePlace(hub, claims.Request{}, f.request(t, pmA1, 90000).Name(), "", c.Name()); reason(err) != "NO_PLACES_LEFT" {
		t.Fatalf("a third place on a one-place course: %v", err)
	}
	sum, err := f.cpd.NeedSummary(hub, "hub-a")
	if err != nil || len(sum) != 1 || sum[0].Needs != 2 || sum[0].Practices != 2 {
		t.Errorf("need summary = %+v, %v; want Return to work: 2 needs at 2 practices", sum, err)
	}
}

func TestScoping(t *testing.T) {
	f := newFixture(t)
	r := f.request(t, pmA1, 1000)
	rb := f.request(t, claims.Actor{Subject: "pb", Role: claims.RolePracticeManager, OrgKind: claims.OrgPractice, OrgCode: "B00001"}, 1000)
	for _, tc := range []struct {
		who    claims.Actor
		sees   []string // practices in ListAllocations("-")
		getsA1 bool
	}{
		{pmA1, []string{"A00001"}, true},
		{pmA2, []string{"A00002"}, false},
		{hubA, []string{"A00001", "A00002"}, true},
		{hubB, []string{"B00001"}, false},
		{national, []string{"A00001", "A00002", "B00001"}, true},
		{pcnStaff, nil, false},
	} {
		t.Run(tc.who.Subject, func(t *testing.T) {
			ctx := as(t, tc.who)
			als, _, err := f.cpd.ListAllocations(ctx, "-", claims.Page{Size: 10}, "")
			if err != nil {
				t.Fatal(err)
			}
			var seen []string
			for _, a := range als {
				seen = append(seen, a.ODSCode)
			}
			if fmt.Sprint(seen) != fmt.Sprint(tc.sees) {
				t.Errorf("sees allocations of %v, want %v", seen, tc.sees)
			}
			_, err = f.cpd.GetRequest(ctx, r.Name())
			if (err == nil) != tc.getsA1 || (err != nil && !claims.IsKind(err, claims.KindNotFound)) {
				t.Errorf("get A00001's request: %v, want visible %v (else NOT_FOUND)", err, tc.getsA1)
			}
		})
	}
	if _, err := f.cpd.Approve(as(t, hubA), claims.Request{}, rb.Name(), ""); !claims.IsKind(err, claims.KindNotFound) {
		t.Errorf("hub-a approving hub-b's practice's request: %v, want NOT_FOUND", err)
	}
	if _, err := f.cpd.CreateNeed(as(t, pmA1), claims.Request{}, cpd.Need{ODSCode: "A00002", Professional: "x",
		StaffGroup: cpd.RegisteredNurse, AppraisalDate: date(t, "2026-01-01"), Need: "x", Topic: "x"}); !claims.IsKind(err, claims.KindNotFound) {
		t.Errorf("a practice manager recording another practice's need: %v, want NOT_FOUND", err)
	}
	if _, err := f.cpd.Approve(as(t, pmA1), claims.Request{}, r.Name(), ""); !claims.IsKind(err, claims.KindPermissionDenied) {
		t.Errorf("a practice manager approving: %v, want PERMISSION_DENIED", err)
	}
}

// TestConcurrentApprovalsNeverOverspend: many approvals of one allocation
// at once, each on its own connection pool, as from separate replicas.
// 99,900p fits nine requests of 11,000p (99,000p); the other eleven must
// be refused, and the balance never goes negative.
func TestConcurrentApprovalsNeverOverspend(t *testing.T) {
	f := newFixture(t)
	const n = 20
	reqs := make([]cpd.Request, n)
	for i := range reqs {
		reqs[i] = f.request(t, pmA1, 11000)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range reqs {
		db, err := sqlx.Open("postgres", f.url)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		t.Cleanup(func() { _ = db.Close() })
		replica := cpd.NewStore(claims.NewStore(db, claims.WithClock(func() time.Time { return today })))
		wg.Go(func() {
			<-start
			_, errs[i] = replica.Approve(as(t, hubA), claims.Request{}, reqs[i].Name(), "")
		})
	}
	close(start)
	wg.Wait()
	approved := 0
	for _, err := range errs {
		switch {
		case err == nil:
			approved++
		case reason(err) != "INSUFFICIENT_BALANCE":
			t.Errorf("approve: %v, want success or INSUFFICIENT_BALANCE", err)
		}
	}
	als, _, err := f.cpd.ListAllocations(as(t, national), "A00001", claims.Page{Size: 10}, "")
	if err != nil {
		t.Fatal(err)
	}
	if approved != 9 || als[0].CommittedPence != 99000 || als[0].RemainingPence() != 900 {
		t.Errorf("approved %d, committed %d, remaining %d; want 9, 99000, 900", approved, als[0].CommittedPence, als[0].RemainingPence())
	}
}

// A practice moves from one hub to another on a date: each hub sees it
// while it serves it, and two hubs cannot serve it on the same day.
func TestAPracticeMovesBetweenHubs(t *testing.T) {
	f := newFixture(t)
	nctx := as(t, national)
	hubAPractices := []cpd.HubPractice{{ODSCode: "A00001", ValidFrom: date(t, "2020-04-01")},
		{ODSCode: "A00002", ValidFrom: date(t, "2020-04-01"), ValidTo: date(t, "2026-06-30")}}
	overlap := []cpd.HubPractice{{ODSCode: "B00001", ValidFrom: date(t, "2020-04-01")},
		{ODSCode: "A00002", ValidFrom: date(t, "2026-06-30")}}
	if _, err := f.cpd.UpdateHub(nctx, cpd.Hub{ID: "hub-a", Practices: hubAPractices}, "", false, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.cpd.UpdateHub(nctx, cpd.Hub{ID: "hub-b", Practices: overlap}, "", false, true); !claims.IsKind(err, claims.KindAlreadyExists) {
		t.Fatalf("two hubs on 30 June: %v, want ALREADY_EXISTS", err)
	}
	overlap[1].ValidFrom = date(t, "2026-07-01")
	h, err := f.cpd.UpdateHub(nctx, cpd.Hub{ID: "hub-b", DisplayName: "Hub B", Practices: overlap}, "", true, true)
	if err != nil || h.DisplayName != "Hub B" || len(h.Practices) != 2 {
		t.Fatalf("move: %+v, %v", h, err)
	}
	if _, err := f.cpd.UpdateHub(nctx, cpd.Hub{ID: "hub-b", DisplayName: "x"}, claims.Etag(h.Revision-1), true, false); reason(err) != "ETAG_MISMATCH" {
		t.Fatalf("stale etag: %v", err)
	}
	for who, want := range map[claims.Actor]string{hubA: "[A00001]", hubB: "[A00002 B00001]"} {
		als, _, err := f.cpd.ListAllocations(as(t, who), "-", claims.Page{Size: 10}, "")
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		for _, a := range als {
			seen = append(seen, a.ODSCode)
		}
		if fmt.Sprint(seen) != want {
			t.Errorf("%s sees %v, want %s", who.OrgCode, seen, want)
		}
	}
}

// A corrected baseline recomputes the allocation, never below what is
// committed.
func TestCorrectingABaseline(t *testing.T) {
	f := newFixture(t)
	r := f.request(t, pmA1, 60000)
	if _, err := f.cpd.Approve(as(t, hubA), claims.Request{}, r.Name(), ""); err != nil {
		t.Fatal(err)
	}
	nctx := as(t, national)
	// 1 head × £333 = 33,300p, below the 60,000p committed.
	if _, _, err := f.cpd.UpdateBaseline(nctx, cpd.Baseline{Scheme: "cpd-2026-27", ODSCode: "A00001", EligibleHeadcount: 1}, ""); reason(err) != "INSUFFICIENT_BALANCE" {
		t.Fatalf("baseline below the committed: %v, want INSUFFICIENT_BALANCE", err)
	}
	// 5 heads × £333 = 166,500p.
	b, allocs, err := f.cpd.UpdateBaseline(nctx, cpd.Baseline{Scheme: "cpd-2026-27", ODSCode: "A00001", EligibleHeadcount: 5}, "")
	if err != nil || b.EligibleHeadcount != 5 || len(allocs) != 1 || allocs[0].AmountPence != 166500 || allocs[0].RemainingPence() != 106500 {
		t.Fatalf("corrected baseline = %+v %+v, %v", b, allocs, err)
	}
	if _, _, err := f.cpd.UpdateBaseline(as(t, hubA), cpd.Baseline{Scheme: "cpd-2026-27", ODSCode: "A00001", EligibleHeadcount: 9}, ""); !claims.IsKind(err, claims.KindPermissionDenied) {
		t.Fatalf("a hub correcting a baseline: %v, want PERMISSION_DENIED", err)
	}
}
