package claims_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/migrations"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, migrations.Up)) }

// fixture is a store over a fresh database holding one ICB, one PCN with two
// practices, two roles and the 2025-26 financial year.
type fixture struct {
	store *claims.Store
	ctx   context.Context
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	t.Parallel()
	return newFixtureOver(t, pgtest.NewDB(t))
}

// newFixtureOver is newFixture over a database the test opened itself.
func newFixtureOver(t *testing.T, db *sqlx.DB) fixture {
	t.Helper()
	// Tests run in parallel against one server: bound each pool as arrsd does.
	db.SetMaxOpenConns(8)
	f := fixture{store: claims.NewStore(db), ctx: claims.WithActor(context.Background(), claims.System("test"))}
	t.Cleanup(func() { checkClaimTotals(t, db) })
	must(t)(f.store.CreateCommissioner(f.ctx, claims.Request{}, claims.Commissioner{
		Code: "QNQ", Kind: claims.KindICB, DisplayName: "NHS Frimley ICB", ValidFrom: day(t, "2022-07-01")}))
	must(t)(f.store.CreatePCN(f.ctx, claims.Request{}, pcn("U12345", "A81001", "A81002")))
	must(t)(f.store.CreateRole(f.ctx, claims.Request{}, claims.Role{ID: "occupational-therapist", DisplayName: "Occupational therapist",
		AfCBand: "7", Register: claims.RegisterHCPC, RegistrationPrefix: "OT", ReimbursableFrom: day(t, "2020-04-01")}))
	must(t)(f.store.CreateRole(f.ctx, claims.Request{}, claims.Role{ID: "care-coordinator", DisplayName: "Care co-ordinator",
		AfCBand: "4", Register: claims.RegisterNone, ReimbursableFrom: day(t, "2020-04-01")}))
	must(t)(f.store.CreateFundingYear(f.ctx, claims.Request{}, claims.FundingYear{Year: 2025, RatePerWeightedPatient: 266310}))
	return f
}

// checkClaimTotals holds every test's claims to migration 00016's rule,
// whatever the test did to them: each claim's counted_pence is what its
// lines count.
func checkClaimTotals(t *testing.T, db *sqlx.DB) {
	t.Helper()
	var wrong []string
	if err := db.Select(&wrong, `SELECT c.pcn_code || '/' || c.id || ': carries ' || c.counted_pence || ', lines count ' ||
			COALESCE(SUM(COALESCE(l.approved_pence, l.reimbursable_pence)), 0)
		FROM claims c LEFT JOIN claim_lines l ON l.pcn_code = c.pcn_code AND l.claim_id = c.id
		GROUP BY c.pcn_code, c.id, c.counted_pence
		HAVING c.counted_pence <> COALESCE(SUM(COALESCE(l.approved_pence, l.reimbursable_pence)), 0)`); err != nil {
		t.Errorf("check claim totals: %v", err)
	}
	for _, w := range wrong {
		t.Errorf("claim %s", w)
	}
	// And claim_role_totals holds, per claim and role, exactly its lines'
	// count, FTE and counted pence: no row missing, none left over.
	var mismatched int
	if err := db.Get(&mismatched, `SELECT count(*) FROM (
			SELECT pcn_code, claim_id, role_id, count(*)::int AS lines, sum(wte) AS wte,
			       sum(COALESCE(approved_pence, reimbursable_pence))::bigint AS counted_pence
			FROM claim_lines GROUP BY pcn_code, claim_id, role_id) l
		FULL JOIN claim_role_totals t USING (pcn_code, claim_id, role_id)
		WHERE l.lines IS DISTINCT FROM t.lines OR l.wte IS DISTINCT FROM t.wte OR l.counted_pence IS DISTINCT FROM t.counted_pence`); err != nil {
		t.Errorf("check claim role totals: %v", err)
	}
	if mismatched != 0 {
		t.Errorf("%d claim and role totals differ from their lines", mismatched)
	}
}

func pcn(code string, practices ...string) claims.PCN {
	p := claims.PCN{Code: code, DisplayName: "PCN " + code, CommissionerCode: "QNQ", Zone: claims.ZoneNational,
		ListSize: 40000, PayeeKind: claims.PayeePractice, PayeeODSCode: practices[0]}
	for _, pr := range practices {
		p.Practices = append(p.Practices, claims.Practice{ODSCode: pr, DisplayName: "Practice " + pr})
	}
	return p
}

func ot(t *testing.T, id, name, reg, wte, start string) claims.Post {
	return claims.Post{PCNCode: "U12345", ID: id, RoleID: "occupational-therapist", StaffName: name,
		RegistrationNumber: reg, WTE: dec(t, wte), StartDate: day(t, start)}
}

func day(t *testing.T, s string) claims.Date {
	t.Helper()
	d, err := claims.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func dec(t *testing.T, s string) claims.Decimal {
	t.Helper()
	d, err := claims.ParseDecimal(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// must fails the test on error, for set-up steps.
func must(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// wantViolation asserts err is INVALID naming field with rule.
func wantViolation(t *testing.T, err error, field, rule string) {
	t.Helper()
	e, ok := claims.AsError(err)
	if !ok || e.Kind != claims.KindInvalid {
		t.Fatalf("got %v, want INVALID on %s", err, field)
	}
	for _, v := range e.Violations {
		if v.Field == field && v.Rule == rule {
			return
		}
	}
	t.Fatalf("violations %+v do not include %s %s", e.Violations, field, rule)
}

func wantKind(t *testing.T, err error, k claims.Kind) {
	t.Helper()
	if !claims.IsKind(err, k) {
		t.Fatalf("got %v (%T), want kind %d", err, err, k)
	}
}

func countRows(t *testing.T, f fixture, table string) int {
	t.Helper()
	var n int
	if err := f.store.DB().GetContext(f.ctx, &n, "SELECT count(*) FROM "+table); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCommissionerRules(t *testing.T) {
	f := newFixture(t)
	icb := func(code, from string) claims.Commissioner {
		return claims.Commissioner{Code: code, Kind: claims.KindICB, DisplayName: "ICB", ValidFrom: day(t, from)}
	}
	ccg := func(code, from, to string) claims.Commissioner {
		return claims.Commissioner{Code: code, Kind: claims.KindCCG, DisplayName: "CCG", ValidFrom: day(t, from), ValidTo: day(t, to)}
	}
	tests := []struct {
		name        string
		c           claims.Commissioner
		field, rule string
	}{
		{"ICB code starts with Q", icb("ABC", "2022-07-01"), "commissioner_id", "ICB_CODE_FORMAT"},
		{"ICBs began on 1 July 2022", icb("QAB", "2022-06-30"), "commissioner.valid_from", "ICB_START"},
		{"CCG code is 3 or 5 characters", ccg("00LL", "2013-04-01", "2022-06-30"), "commissioner_id", "CCG_CODE_FORMAT"},
		{"CCGs ended on 30 June 2022", ccg("00L", "2013-04-01", "2022-07-01"), "commissioner.valid_to", "CCG_ENDED"},
		{"end before start", claims.Commissioner{Code: "QAB", Kind: claims.KindICB, DisplayName: "ICB",
			ValidFrom: day(t, "2023-01-01"), ValidTo: day(t, "2022-12-31")}, "commissioner.valid_to", "DATE_ORDER"},
		{"kind required", claims.Commissioner{Code: "QAB", DisplayName: "x", ValidFrom: day(t, "2023-01-01")}, "commissioner.kind", "REQUIRED"},
		{"display name required", claims.Commissioner{Code: "QAB", Kind: claims.KindICB, DisplayName: "  ", ValidFrom: day(t, "2023-01-01")}, "commissioner.display_name", "DISPLAY_NAME_LENGTH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.store.CreateCommissioner(f.ctx, claims.Request{}, tt.c)
			wantViolation(t, err, tt.field, tt.rule)
		})
	}
	if n := countRows(t, f, "commissioners"); n != 1 {
		t.Errorf("bad input wrote commissioners: %d rows, want 1", n)
	}
	if _, err := f.store.CreateCommissioner(f.ctx, claims.Request{}, ccg("D4U1Y", "2021-04-01", "2022-06-30")); err != nil {
		t.Errorf("a 5-character CCG valid until 30 June 2022 is fine: %v", err)
	}
	_, err := f.store.CreateCommissioner(f.ctx, claims.Request{}, icb("QNQ", "2022-07-01"))
	wantKind(t, err, claims.KindAlreadyExists)
}

func TestPCNRules(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name        string
		change      func(*claims.PCN)
		field, rule string
	}{
		{"PCN code is U and 5 digits", func(p *claims.PCN) { p.Code = "U1234" }, "pcn_id", "PCN_CODE_FORMAT"},
		{"practice code is a letter and 5 digits", func(p *claims.PCN) { p.Practices[1].ODSCode = "812345" }, "pcn.member_practices[1].ods_code", "PRACTICE_CODE_FORMAT"},
		{"practice listed twice", func(p *claims.PCN) { p.Practices[1].ODSCode = p.Practices[0].ODSCode }, "pcn.member_practices[1].ods_code", "DUPLICATE"},
		{"practice payee must be a member", func(p *claims.PCN) { p.PayeeODSCode = "Z99999" }, "pcn.nominated_payee.ods_code", "PAYEE_NOT_MEMBER"},
		{"weighting zone required", func(p *claims.PCN) { p.Zone = "" }, "pcn.weighting_zone", "REQUIRED"},
		{"at least one practice", func(p *claims.PCN) { p.Practices = nil }, "pcn.member_practices", "REQUIRED"},
		{"commissioner must exist", func(p *claims.PCN) { p.CommissionerCode = "QXX" }, "pcn.commissioner", "UNKNOWN_COMMISSIONER"},
		{"a practice belongs to one PCN at a time", func(p *claims.PCN) { p.Practices[1].ODSCode = "A81002" }, "pcn.member_practices[1].ods_code", "PRACTICE_IN_OTHER_PCN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pcn("U54321", "B81001", "B81002")
			tt.change(&p)
			_, err := f.store.CreatePCN(f.ctx, claims.Request{}, p)
			wantViolation(t, err, tt.field, tt.rule)
		})
	}
	if n := countRows(t, f, "pcns"); n != 1 {
		t.Errorf("bad input wrote PCNs: %d rows, want 1", n)
	}
	if n := countRows(t, f, "pcn_practices"); n != 2 {
		t.Errorf("bad input wrote practices: %d rows, want 2", n)
	}
}

func TestPCNUpdateMovesPracticesAndKeepsOrder(t *testing.T) {
	f := newFixture(t)
	p, err := f.store.UpdatePCN(f.ctx, "U12345", "", func(p *claims.PCN) {
		p.Practices = []claims.Practice{{ODSCode: "A81003", DisplayName: "New"}, p.Practices[1], p.Practices[0]}
	})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{p.Practices[0].ODSCode, p.Practices[1].ODSCode, p.Practices[2].ODSCode}
	if fmt.Sprint(got) != "[A81003 A81002 A81001]" {
		t.Errorf("practices = %v", got)
	}
	if p.Revision != 2 {
		t.Errorf("revision = %d, want 2", p.Revision)
	}
	// Dropping the payee practice from the membership is refused.
	_, err = f.store.UpdatePCN(f.ctx, "U12345", "", func(p *claims.PCN) { p.Practices = p.Practices[:1] })
	wantViolation(t, err, "pcn.nominated_payee.ods_code", "PAYEE_NOT_MEMBER")
}

func TestPostRules(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name        string
		post        claims.Post
		field, rule string
	}{
		{"WTE above 1", ot(t, "post-1", "A", "OT1234", "1.2", "2025-04-01"), "post.wte", "WTE_RANGE"},
		{"WTE zero", ot(t, "post-1", "A", "OT1234", "0", "2025-04-01"), "post.wte", "WTE_RANGE"},
		{"registration of another register", ot(t, "post-1", "A", "PH1234", "1", "2025-04-01"), "post.registration_number", "REGISTRATION_FORMAT"},
		{"registration missing for a registered role", ot(t, "post-1", "A", "", "1", "2025-04-01"), "post.registration_number", "REGISTRATION_FORMAT"},
		{"end before start", func() claims.Post {
			p := ot(t, "post-1", "A", "OT1234", "1", "2025-04-01")
			p.EndDate = day(t, "2025-03-31")
			return p
		}(), "post.end_date", "DATE_ORDER"},
		{"unknown role", func() claims.Post {
			p := ot(t, "post-1", "A", "OT1234", "1", "2025-04-01")
			p.RoleID = "astronaut"
			return p
		}(), "post.role", "UNKNOWN_ROLE"},
		{"post id format", ot(t, "P_1", "A", "OT1234", "1", "2025-04-01"), "post_id", "POST_ID_FORMAT"},
		{"no registration on an unregistered role", claims.Post{PCNCode: "U12345", RoleID: "care-coordinator", StaffName: "B",
			RegistrationNumber: "OT1", WTE: dec(t, "1"), StartDate: day(t, "2025-04-01")}, "post.registration_number", "NO_REGISTER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.store.CreatePost(f.ctx, claims.Request{}, tt.post)
			wantViolation(t, err, tt.field, tt.rule)
		})
	}
	_, err := f.store.CreatePost(f.ctx, claims.Request{}, claims.Post{PCNCode: "U99999", RoleID: "care-coordinator", WTE: 10000, StartDate: day(t, "2025-04-01")})
	wantKind(t, err, claims.KindNotFound)
	if n := countRows(t, f, "posts"); n != 0 {
		t.Errorf("bad input wrote %d posts", n)
	}
}

func TestOnePersonCannotHoldOverlappingPostsInARole(t *testing.T) {
	f := newFixture(t)
	must(t)(f.store.CreatePCN(f.ctx, claims.Request{}, pcn("U54321", "B81001")))
	first := ot(t, "ot-1", "Amira Haddad", "OT071234", "0.5", "2025-04-01")
	first.EndDate = day(t, "2025-09-30")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, first))

	overlapping := ot(t, "ot-2", "Amira Haddad", "ot 071234", "0.5", "2025-09-30")
	overlapping.PCNCode = "U54321" // another PCN: still the same person on the same day
	_, err := f.store.CreatePost(f.ctx, claims.Request{}, overlapping)
	wantReason(t, err, claims.KindAlreadyExists, "PERSON_ALREADY_IN_POST")

	after := ot(t, "ot-3", "Amira Haddad", "OT071234", "0.5", "2025-10-01")
	if _, err := f.store.CreatePost(f.ctx, claims.Request{}, after); err != nil {
		t.Errorf("the same person in the role after the first post ended: %v", err)
	}
	cc := claims.Post{PCNCode: "U12345", ID: "cc-1", RoleID: "care-coordinator", StaffName: "Megan Lewis", WTE: 5000, StartDate: day(t, "2025-04-01")}
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, cc))
	cc.ID, cc.StaffName = "cc-2", " MEGAN LEWIS "
	_, err = f.store.CreatePost(f.ctx, claims.Request{}, cc)
	wantReason(t, err, claims.KindAlreadyExists, "PERSON_ALREADY_IN_POST")
	// Filling a post with the same person is refused the same way.
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, claims.Post{PCNCode: "U12345", ID: "cc-3", RoleID: "care-coordinator", WTE: 5000, StartDate: day(t, "2025-05-01")}))
	_, err = f.store.FillPost(f.ctx, "U12345", "cc-3", "", "Megan Lewis", "", claims.Date{})
	wantReason(t, err, claims.KindAlreadyExists, "PERSON_ALREADY_IN_POST")
}

func TestPostLifecycle(t *testing.T) {
	f := newFixture(t)
	planned, err := f.store.CreatePost(f.ctx, claims.Request{}, claims.Post{PCNCode: "U12345", ID: "ot-plan",
		RoleID: "occupational-therapist", WTE: dec(t, "0.8"), StartDate: day(t, "2026-01-05")})
	if err != nil {
		t.Fatal(err)
	}
	if planned.State != claims.PostPlanned {
		t.Fatalf("a post without staff is %s, want planned", planned.State)
	}
	_, err = f.store.EndPost(f.ctx, "U12345", "ot-plan", "", claims.Date{})
	if err != nil {
		// Ending a planned post drops it from the plan; do it on a copy below.
		t.Fatalf("end planned: %v", err)
	}
	_, err = f.store.RecruitPost(f.ctx, "U12345", "ot-plan", "")
	wantKind(t, err, claims.KindFailedPrecondition)

	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, claims.Post{PCNCode: "U12345", ID: "ot-next",
		RoleID: "occupational-therapist", WTE: dec(t, "0.8"), StartDate: day(t, "2026-01-05")}))
	p, err := f.store.RecruitPost(f.ctx, "U12345", "ot-next", "")
	if err != nil || p.State != claims.PostRecruiting {
		t.Fatalf("recruit = %s, %v", p.State, err)
	}
	_, err = f.store.FillPost(f.ctx, "U12345", "ot-next", "", "Siobhan Kelly", "PH1", claims.Date{})
	wantViolation(t, err, "post.registration_number", "REGISTRATION_FORMAT")
	p, err = f.store.FillPost(f.ctx, "U12345", "ot-next", "", "Siobhan Kelly", "OT512345", day(t, "2026-01-12"))
	if err != nil || p.State != claims.PostFilled || p.StartDate.String() != "2026-01-12" {
		t.Fatalf("fill = %+v, %v", p, err)
	}
	_, err = f.store.EndPost(f.ctx, "U12345", "ot-next", "", claims.Date{})
	wantViolation(t, err, "end_date", "REQUIRED")
	p, err = f.store.EndPost(f.ctx, "U12345", "ot-next", "", day(t, "2026-06-30"))
	if err != nil || p.State != claims.PostEnded || p.EndDate.String() != "2026-06-30" {
		t.Fatalf("end = %+v, %v", p, err)
	}
	_, err = f.store.FillPost(f.ctx, "U12345", "ot-next", "", "X", "OT1", claims.Date{})
	wantKind(t, err, claims.KindFailedPrecondition)
	// Update never moves the state.
	p, err = f.store.UpdatePost(f.ctx, "U12345", "ot-next", "", func(p *claims.Post) { p.State = claims.PostFilled; p.Employer = "Trust" })
	if err != nil || p.State != claims.PostEnded || p.Employer != "Trust" {
		t.Fatalf("update = %+v, %v", p, err)
	}
}

func TestStaleEtagIsRefusedAndRacingUpdatesHaveOneWinner(t *testing.T) {
	f := newFixture(t)
	c, err := f.store.GetCommissioner(f.ctx, "QNQ")
	if err != nil {
		t.Fatal(err)
	}
	etag := claims.Etag(c.Revision)
	const racers = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.store.UpdateCommissioner(f.ctx, "QNQ", etag, func(c *claims.Commissioner) {
				c.DisplayName = fmt.Sprintf("Racer %d", i)
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case claims.IsKind(err, claims.KindConflict):
				conflicts++
			default:
				t.Errorf("racer %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || conflicts != racers-1 {
		t.Errorf("wins = %d, conflicts = %d; want 1 and %d", wins, conflicts, racers-1)
	}
	c, _ = f.store.GetCommissioner(f.ctx, "QNQ")
	if c.Revision != 2 {
		t.Errorf("revision = %d, want 2", c.Revision)
	}
}

func TestCreateWithRequestIDHappensOnce(t *testing.T) {
	f := newFixture(t)
	req := claims.Request{ID: uuid.NewString(), Method: "CreatePost", Fingerprint: []byte("body")}
	const retries = 100
	var wg sync.WaitGroup
	names := make(chan string, retries)
	for range retries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// No post id: without idempotency every call would make a post.
			p, err := f.store.CreatePost(f.ctx, req, claims.Post{PCNCode: "U12345", RoleID: "care-coordinator",
				WTE: 10000, StartDate: day(t, "2025-04-01")})
			if err != nil {
				t.Error(err)
				return
			}
			names <- p.Name()
		}()
	}
	wg.Wait()
	close(names)
	distinct := map[string]bool{}
	for n := range names {
		distinct[n] = true
	}
	if len(distinct) != 1 || countRows(t, f, "posts") != 1 {
		t.Errorf("%d distinct posts returned, %d stored; want 1 and 1", len(distinct), countRows(t, f, "posts"))
	}
	other := req
	other.Fingerprint = []byte("another body")
	_, err := f.store.CreatePost(f.ctx, other, claims.Post{PCNCode: "U12345", RoleID: "care-coordinator", WTE: 10000, StartDate: day(t, "2025-04-01")})
	wantViolation(t, err, "request_id", "REQUEST_ID_REUSED")
	bad := claims.Request{ID: "not-a-uuid", Method: "x"}
	_, err = f.store.CreatePost(f.ctx, bad, claims.Post{PCNCode: "U12345", RoleID: "care-coordinator", WTE: 10000, StartDate: day(t, "2025-04-01")})
	wantViolation(t, err, "request_id", "REQUEST_ID_FORMAT")
}

func TestListingsPageInOrderWithoutGapsOrRepeats(t *testing.T) {
	f := newFixture(t)
	for i := range 7 {
		must(t)(f.store.CreatePost(f.ctx, claims.Request{}, claims.Post{PCNCode: "U12345", ID: fmt.Sprintf("post-%02d", 6-i),
			RoleID: "care-coordinator", WTE: 10000, StartDate: day(t, "2025-04-01")}))
	}
	var got []string
	page := claims.Page{Size: 3}
	for pages := 0; ; pages++ {
		rows, next, err := f.store.ListPosts(f.ctx, claims.PostFilter{PCNCode: "U12345"}, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range rows {
			got = append(got, p.ID)
		}
		if next == "" {
			if pages != 2 {
				t.Errorf("7 posts in pages of 3 took %d pages, want 3", pages+1)
			}
			break
		}
		page.After = next
	}
	if fmt.Sprint(got) != "[post-00 post-01 post-02 post-03 post-04 post-05 post-06]" {
		t.Errorf("paged posts = %v", got)
	}
	rows, _, err := f.store.ListPosts(f.ctx, claims.PostFilter{State: claims.PostPlanned}, claims.Page{Size: 10})
	if err != nil || len(rows) != 7 {
		t.Errorf("planned posts across PCNs = %d, %v", len(rows), err)
	}
	rows, _, err = f.store.ListPosts(f.ctx, claims.PostFilter{RoleID: "occupational-therapist"}, claims.Page{Size: 10})
	if err != nil || len(rows) != 0 {
		t.Errorf("OT posts = %d, %v; want none", len(rows), err)
	}
}

func TestRatesAreEffectiveDatedAndMayBeBackdated(t *testing.T) {
	f := newFixture(t)
	outer := int64(7439200)
	for _, r := range []claims.Rate{
		{RoleID: "occupational-therapist", EffectiveDate: day(t, "2024-10-01"), NationalPence: 6583800},
		{RoleID: "occupational-therapist", EffectiveDate: day(t, "2025-04-01"), NationalPence: 6697200, OuterLondonPence: &outer},
	} {
		must(t)(f.store.CreateRate(f.ctx, claims.Request{}, r))
	}
	r, err := f.store.GetRate(f.ctx, "occupational-therapist", day(t, "2025-04-01"))
	if err != nil {
		t.Fatal(err)
	}
	if r.MaxPence(claims.ZoneOuterLondon) != 7439200 || r.MaxPence(claims.ZoneInnerLondon) != 6697200 || r.MaxPence(claims.ZoneNational) != 6697200 {
		t.Errorf("zone maximums = %d/%d/%d", r.MaxPence(claims.ZoneNational), r.MaxPence(claims.ZoneOuterLondon), r.MaxPence(claims.ZoneInnerLondon))
	}
	_, err = f.store.CreateRate(f.ctx, claims.Request{}, claims.Rate{RoleID: "occupational-therapist", EffectiveDate: day(t, "2025-04-01"), NationalPence: 1})
	wantKind(t, err, claims.KindAlreadyExists)
	_, err = f.store.CreateRate(f.ctx, claims.Request{}, claims.Rate{RoleID: "occupational-therapist", EffectiveDate: day(t, "2026-04-01"), NationalPence: 100000001})
	wantViolation(t, err, "rate.national_max_pence", "AMOUNT_RANGE")
	_, err = f.store.CreateRate(f.ctx, claims.Request{}, claims.Rate{RoleID: "astronaut", EffectiveDate: day(t, "2026-04-01"), NationalPence: 1})
	wantKind(t, err, claims.KindNotFound)
	rows, next, err := f.store.ListRates(f.ctx, "", claims.Page{Size: 1})
	if err != nil || len(rows) != 1 || rows[0].EffectiveDate.String() != "2024-10-01" || next == "" {
		t.Fatalf("first page = %+v %q %v", rows, next, err)
	}
	rows, next, err = f.store.ListRates(f.ctx, "occupational-therapist", claims.Page{Size: 1, After: next})
	if err != nil || len(rows) != 1 || rows[0].EffectiveDate.String() != "2025-04-01" || next != "" {
		t.Fatalf("second page = %+v %q %v", rows, next, err)
	}
}

func TestEntitlementFollowsTheYearsRate(t *testing.T) {
	f := newFixture(t)
	e, err := f.store.CreateEntitlement(f.ctx, claims.Request{}, claims.Entitlement{PCNCode: "U12345", Year: 2025, WeightedPopulation: dec(t, "52345.67")})
	if err != nil {
		t.Fatal(err)
	}
	// £26.631 × 52,345.67 = £1,394,017.53777 → 139,401,754p.
	if e.AmountPence() != 139401754 {
		t.Errorf("amount = %d", e.AmountPence())
	}
	must(t)(f.store.UpdateFundingYear(f.ctx, 2025, "", func(y *claims.FundingYear) { y.RatePerWeightedPatient = dec(t, "27") }))
	e, err = f.store.GetEntitlement(f.ctx, "U12345", 2025)
	// £27 × 52,345.67 = £1,413,333.09.
	if err != nil || e.AmountPence() != 141333309 {
		t.Errorf("after the rate changed: %d, %v", e.AmountPence(), err)
	}
	_, err = f.store.CreateEntitlement(f.ctx, claims.Request{}, claims.Entitlement{PCNCode: "U12345", Year: 2030, WeightedPopulation: 1})
	wantViolation(t, err, "entitlement_id", "UNKNOWN_FINANCIAL_YEAR")
	_, err = f.store.CreateEntitlement(f.ctx, claims.Request{}, claims.Entitlement{PCNCode: "U12345", Year: 2025, WeightedPopulation: -1})
	wantViolation(t, err, "entitlement.weighted_population", "POPULATION_RANGE")
}

func TestEveryWriteAppendsExactlyOneAuditEventAndAFailedOneNone(t *testing.T) {
	f := newFixture(t)
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, claims.Post{PCNCode: "U12345", ID: "ot-plan",
		RoleID: "occupational-therapist", WTE: dec(t, "0.8"), StartDate: day(t, "2026-01-05")}))
	writes := []struct {
		name     string
		resource string
		write    func() error
	}{
		{"update commissioner", "commissioners/QNQ", func() error {
			_, err := f.store.UpdateCommissioner(f.ctx, "QNQ", "", func(c *claims.Commissioner) { c.DisplayName = "Renamed" })
			return err
		}},
		{"update PCN", "pcns/U12345", func() error {
			_, err := f.store.UpdatePCN(f.ctx, "U12345", "", func(p *claims.PCN) { p.ListSize = 41000 })
			return err
		}},
		{"update role", "roles/care-coordinator", func() error {
			_, err := f.store.UpdateRole(f.ctx, "care-coordinator", "", func(r *claims.Role) { r.AfCBand = "5" })
			return err
		}},
		{"create rate", "roles/care-coordinator/rates/2025-04-01", func() error {
			_, err := f.store.CreateRate(f.ctx, claims.Request{}, claims.Rate{RoleID: "care-coordinator", EffectiveDate: day(t, "2025-04-01"), NationalPence: 3400000})
			return err
		}},
		{"update rate", "roles/care-coordinator/rates/2025-04-01", func() error {
			_, err := f.store.UpdateRate(f.ctx, "care-coordinator", day(t, "2025-04-01"), "", func(r *claims.Rate) { r.Source = "corrected" })
			return err
		}},
		{"update financial year", "financialYears/2025-26", func() error {
			_, err := f.store.UpdateFundingYear(f.ctx, 2025, "", func(y *claims.FundingYear) { y.RatePerWeightedPatient = dec(t, "26.7") })
			return err
		}},
		{"create entitlement", "pcns/U12345/entitlements/2025-26", func() error {
			_, err := f.store.CreateEntitlement(f.ctx, claims.Request{}, claims.Entitlement{PCNCode: "U12345", Year: 2025, WeightedPopulation: dec(t, "50000")})
			return err
		}},
		{"update entitlement", "pcns/U12345/entitlements/2025-26", func() error {
			_, err := f.store.UpdateEntitlement(f.ctx, "U12345", 2025, "", func(e *claims.Entitlement) { e.WeightedPopulation = dec(t, "50001") })
			return err
		}},
		{"recruit post", "pcns/U12345/posts/ot-plan", func() error {
			_, err := f.store.RecruitPost(f.ctx, "U12345", "ot-plan", "")
			return err
		}},
		{"fill post", "pcns/U12345/posts/ot-plan", func() error {
			_, err := f.store.FillPost(f.ctx, "U12345", "ot-plan", "", "Nia Evans", "OT123456", claims.Date{})
			return err
		}},
		{"end post", "pcns/U12345/posts/ot-plan", func() error {
			_, err := f.store.EndPost(f.ctx, "U12345", "ot-plan", "", day(t, "2026-06-30"))
			return err
		}},
	}
	for _, w := range writes {
		before := countRows(t, f, "audit_events")
		if err := w.write(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if got := countRows(t, f, "audit_events") - before; got != 1 {
			t.Errorf("%s appended %d audit events, want 1", w.name, got)
		}
		events, _, err := f.store.ListAuditEvents(f.ctx, w.resource, claims.Page{Size: 50})
		if err != nil || len(events) == 0 || events[len(events)-1].Subject != "system:test" {
			t.Errorf("%s: history of %s = %+v, %v", w.name, w.resource, events, err)
		}
	}
	failures := []func() error{
		func() error {
			_, err := f.store.UpdatePCN(f.ctx, "U12345", "stale", func(p *claims.PCN) { p.ListSize = 1 })
			return err
		},
		func() error {
			_, err := f.store.FillPost(f.ctx, "U12345", "ot-plan", "", "X", "OT1", claims.Date{})
			return err
		},
		func() error {
			_, err := f.store.CreateRate(f.ctx, claims.Request{}, claims.Rate{RoleID: "care-coordinator", EffectiveDate: day(t, "2025-04-01"), NationalPence: 1})
			return err
		},
	}
	before := countRows(t, f, "audit_events")
	for i, fail := range failures {
		if fail() == nil {
			t.Errorf("failure %d succeeded", i)
		}
	}
	if got := countRows(t, f, "audit_events"); got != before {
		t.Errorf("failed writes appended %d audit events", got-before)
	}
	v, err := f.store.VerifyAudit(f.ctx)
	if err != nil || !v.OK || v.Checked != int64(before) {
		t.Errorf("verify = %+v, %v; want OK over %d events", v, err, before)
	}
}

func TestScopeHidesOtherOrganisationsRows(t *testing.T) {
	f := newFixture(t)
	must(t)(f.store.CreatePCN(f.ctx, claims.Request{}, pcn("U54321", "B81001")))
	for _, code := range []string{"U12345", "U54321"} {
		must(t)(f.store.CreatePost(f.ctx, claims.Request{}, claims.Post{PCNCode: code, ID: "cc-" + strings.ToLower(code),
			RoleID: "care-coordinator", WTE: 10000, StartDate: day(t, "2025-04-01")}))
	}
	own := claims.WithActor(context.Background(), claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U12345"})
	posts, _, err := f.store.ListPosts(own, claims.PostFilter{}, claims.Page{Size: 10})
	if err != nil || len(posts) != 1 || posts[0].PCNCode != "U12345" {
		t.Errorf("a PCN's clinical director lists %+v, %v; want only U12345's post", posts, err)
	}
	_, err = f.store.GetPost(own, "U54321", "cc-u54321")
	wantKind(t, err, claims.KindNotFound)
	_, err = f.store.GetPCN(own, "U54321")
	wantKind(t, err, claims.KindNotFound)
	_, err = f.store.CreatePost(own, claims.Request{}, claims.Post{PCNCode: "U54321", RoleID: "care-coordinator", WTE: 10000, StartDate: day(t, "2025-04-01")})
	wantKind(t, err, claims.KindNotFound)
	_, err = f.store.UpdatePCN(own, "U12345", "", func(p *claims.PCN) { p.ListSize = 1 })
	wantKind(t, err, claims.KindPermissionDenied)

	commissioner := claims.WithActor(context.Background(), claims.Actor{Subject: "a", Role: claims.RoleCommissionerApprover, OrgKind: claims.OrgCommissioner, OrgCode: "QNQ"})
	pcns, _, err := f.store.ListPCNs(commissioner, "", claims.Page{Size: 10})
	if err != nil || len(pcns) != 2 {
		t.Errorf("the commissioner of both PCNs sees %d, %v", len(pcns), err)
	}
	_, err = f.store.RecruitPost(commissioner, "U12345", "cc-u12345", "")
	wantKind(t, err, claims.KindPermissionDenied)

	nobody := context.Background()
	posts, _, err = f.store.ListPosts(nobody, claims.PostFilter{}, claims.Page{Size: 10})
	if err != nil || len(posts) != 0 {
		t.Errorf("a context without an actor lists %d posts, %v; want none", len(posts), err)
	}
}
