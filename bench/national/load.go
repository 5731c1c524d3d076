package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

const (
	// commissioner is the demo's ICB; every generated PCN is under it.
	commissioner = "QNQ"
	// firstPCN numbers the generated PCNs U50000, U50001, … (the demo's are
	// U12345, U23456 and U34567).
	firstPCN = 50000
	// weightedPopulation × the year's rate (£26.631 in 2025-26) is an
	// entitlement of about £2.1m, above 30 posts' year at 95% of their caps.
	weightedPopulation = "80000"
)

// postPlan is one post every generated PCN holds.
type postPlan struct {
	role     *arrsv1.Role
	wte      string
	cohort   arrsv1.FocusCohort
	sequence int // which post of the role in the PCN
}

// generator holds what every PCN's load shares: the year, the posts each PCN
// holds, the national administrator's context and the clients.
type generator struct {
	env       *env
	year      string // "2025-26"
	months    []string
	start     string // the year's first day: every post starts then
	plan      []postPlan
	admin     context.Context
	org       arrsv1.OrganisationServiceClient
	fund      arrsv1.FundingServiceClient
	work      arrsv1.WorkforceServiceClient
	claims    arrsv1.ClaimServiceClient
	catalogue arrsv1.CatalogueServiceClient
	reporting arrsv1.ReportingServiceClient
	cfg       config
	staff     atomic.Int64 // numbers staff registrations, unique in the run
	// annual is each eligible role's national annual maximum (pence) in
	// force on the year's first day, from which the bulk path works out
	// what to pay before the claim, and so its caps, exists.
	annual map[string]int64
}

// loadResult is one generation phase, timed by stage.
type loadResult struct {
	path          string
	pcns, lines   int
	setup, draft  time.Duration // PCN, entitlement and posts; claims created and costs recorded
	submit        time.Duration // every claim submitted, all clients at once
	setupCalls    int64
	draftCalls    int64
	submitCalls   int64
	submitLatency []time.Duration
	// The CPU each party used in each stage (cpu.go).
	setupCPU, draftCPU, submitCPU cpuTimes
}

func (l loadResult) cpu() cpuTimes { return l.setupCPU.plus(l.draftCPU).plus(l.submitCPU) }

func (l loadResult) wall() time.Duration { return l.setup + l.draft + l.submit }
func (l loadResult) calls() int64        { return l.setupCalls + l.draftCalls + l.submitCalls }

// newGenerator reads the catalogue and picks the year: the financial year
// before today's, every month of which has ended (claims are in arrears).
func newGenerator(ctx context.Context, e *env, c config) (*generator, error) {
	g := &generator{env: e, cfg: c,
		org: arrsv1.NewOrganisationServiceClient(e.conn), fund: arrsv1.NewFundingServiceClient(e.conn),
		work: arrsv1.NewWorkforceServiceClient(e.conn), claims: arrsv1.NewClaimServiceClient(e.conn),
		catalogue: arrsv1.NewCatalogueServiceClient(e.conn), reporting: arrsv1.NewReportingServiceClient(e.conn)}
	var err error
	if g.admin, err = e.as(ctx, claims.RoleNationalAdministrator, "", "bench@england.example"); err != nil {
		return nil, err
	}
	now := time.Now()
	fy := now.Year() - 1 // April of the previous financial year
	if now.Month() < time.April {
		fy--
	}
	g.year = fmt.Sprintf("%d-%02d", fy, (fy+1)%100)
	g.start = fmt.Sprintf("%d-04-01", fy)
	for i := range 12 {
		g.months = append(g.months, time.Date(fy, time.April+time.Month(i), 1, 0, 0, 0, 0, time.UTC).Format("2006-01"))
	}
	fyr, err := g.fund.GetFinancialYear(g.admin, &arrsv1.GetFinancialYearRequest{Name: "financialYears/" + g.year})
	if err != nil {
		return nil, fmt.Errorf("financial year %s: %w", g.year, err)
	}
	if d := fyr.GetClaimsDeadline(); d != "" && d < now.Format(time.DateOnly) {
		return nil, fmt.Errorf("claims for %s closed on %s", g.year, d)
	}
	if _, err := g.org.GetPcn(g.admin, &arrsv1.GetPcnRequest{Name: "pcns/" + pcnCode(0)}); status.Code(err) != codes.NotFound {
		return nil, fmt.Errorf("pcns/%s: %w (the benchmark needs a database it has not run on)", pcnCode(0), errors.Join(err, errors.New("already exists")))
	}
	roles, err := g.eligibleRoles()
	if err != nil {
		return nil, err
	}
	if len(roles) == 0 {
		return nil, fmt.Errorf("no role in the catalogue can be claimed for all of %s", g.year)
	}
	wtes := []string{"1", "0.8", "0.6", "1", "0.5"}
	for i := range c.postsPerPCN {
		p := postPlan{role: roles[i%len(roles)], wte: wtes[i%len(wtes)], sequence: i / len(roles)}
		if p.role.GetName() == "roles/occupational-therapist" {
			p.cohort = arrsv1.FocusCohort_FOCUS_COHORT_FRAIL_OLDER_PEOPLE
		}
		g.plan = append(g.plan, p)
	}
	return g, nil
}

// eligibleRoles is the catalogue's roles reimbursable all year with a rate in
// force from its first day and no headcount cap in the year (30 posts would
// break one).
func (g *generator) eligibleRoles() ([]*arrsv1.Role, error) {
	var roles []*arrsv1.Role
	req := &arrsv1.ListRolesRequest{PageSize: 100}
	for {
		page, err := g.catalogue.ListRoles(g.admin, req)
		if err != nil {
			return nil, err
		}
		roles = append(roles, page.GetRoles()...)
		if req.PageToken = page.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	rated := map[string]bool{}
	g.annual = map[string]int64{}
	latest := map[string]string{}
	rreq := &arrsv1.ListRatesRequest{Parent: "roles/-", PageSize: 500}
	for {
		page, err := g.catalogue.ListRates(g.admin, rreq)
		if err != nil {
			return nil, err
		}
		for _, r := range page.GetRates() {
			if role := parentOf(r.GetName()); r.GetEffectiveDate() <= g.start {
				rated[role] = true
				if r.GetEffectiveDate() > latest[role] {
					latest[role], g.annual[role] = r.GetEffectiveDate(), r.GetNationalMaxPence()
				}
			}
		}
		if rreq.PageToken = page.GetNextPageToken(); rreq.PageToken == "" {
			break
		}
	}
	end := g.months[11] + "-31"
	var out []*arrsv1.Role
	for _, r := range roles {
		capped := false
		for _, hc := range r.GetHeadcountCaps() {
			capped = capped || hc.GetFinancialYear() == g.year
		}
		switch {
		case capped, !rated[r.GetName()], r.GetReimbursableFrom() > g.start,
			r.GetReimbursableTo() != "" && r.GetReimbursableTo() < end:
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// parentOf("roles/x/rates/2025-04-01") is "roles/x".
func parentOf(rate string) string {
	for i, slashes := 0, 0; i < len(rate); i++ {
		if rate[i] == '/' {
			if slashes++; slashes == 2 {
				return rate[:i]
			}
		}
	}
	return rate
}

// roleArray is the plan's role ids as a PostgreSQL text array.
func (g *generator) roleArray() string {
	ids := make([]string, 0, len(g.plan))
	for _, p := range g.plan {
		if !slices.Contains(ids, roleID(p.role)) {
			ids = append(ids, roleID(p.role))
		}
	}
	return "{" + strings.Join(ids, ",") + "}"
}

func inPCN(i int, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", pcnCode(i), err)
	}
	return nil
}

func pcnCode(i int) string { return fmt.Sprintf("U%05d", firstPCN+i) }

// load generates PCNs [from, to) with g.cfg.clients concurrent clients, in
// three stages so that each is timed on its own: every PCN set up, then every
// claim drafted with its costs recorded (path "bulk" or "line"), then every
// claim submitted. With a split, the submit stage runs with the cores split
// between PostgreSQL and the rest (split.go), and its calls are not counted
// among the load's.
func (g *generator) load(ctx context.Context, from, to int, path string, split *coreSplit) (loadResult, error) {
	r := loadResult{path: path, pcns: to - from, lines: (to - from) * 12 * len(g.plan)}
	if split == nil {
		g.env.rpcs.recording.Store(true)
		defer g.env.rpcs.recording.Store(false)
	}
	var err error
	cpu0 := g.env.cpu.sample()
	r.setup, r.setupCalls, err = g.each(ctx, from, to, func(ctx context.Context, i int, calls *atomic.Int64) error {
		return inPCN(i, g.setUpPCN(ctx, i, path, calls))
	})
	if err != nil {
		return r, err
	}
	cpu1 := g.env.cpu.sample()
	r.setupCPU, cpu0 = cpu1.minus(cpu0), cpu1
	drafted := make([][]*arrsv1.Claim, to-from)
	// Only the last phase is profiled: it is the national one.
	profiling := to == g.cfg.pcns
	profiled := g.env.profile(ctx, "draft", g.cfg.profileSeconds, profiling)
	r.draft, r.draftCalls, err = g.each(ctx, from, to, func(ctx context.Context, i int, calls *atomic.Int64) error {
		var err error
		drafted[i-from], err = g.draftYear(ctx, i, path, calls)
		return inPCN(i, err)
	})
	profiled()
	if err != nil {
		return r, err
	}
	cpu1 = g.env.cpu.sample()
	r.draftCPU, cpu0 = cpu1.minus(cpu0), cpu1
	profiled = g.env.profile(ctx, "submit", g.cfg.profileSeconds, profiling)
	defer profiled()
	// Submitted month by month across the PCNs, on every client: claims of
	// one PCN and year queue on its entitlement's row lock, as pgbench's do.
	n := (to - from) * len(g.months)
	var mu sync.Mutex
	if split != nil {
		// What autovacuum would do after the drafts it does now, on all the
		// cores, so that the split stage times submissions alone (pgbench,
		// run after it, meets a settled database too).
		if err := g.env.settle(ctx); err != nil {
			return r, err
		}
		g.env.logger.Info("submit stage, cores split", "claims", n)
		if err := split.apply(); err != nil {
			return r, errors.Join(err, split.undo())
		}
		defer func() { _ = split.undo() }()
		cpu0 = g.env.cpu.sample()
	}
	r.submit, r.submitCalls, err = g.do(ctx, n, func(ctx context.Context, k int, calls *atomic.Int64) error {
		i, month := from+k%(to-from), k/(to-from)
		cd, err := g.clinicalDirector(ctx, i)
		if err != nil {
			return err
		}
		c := drafted[i-from][month]
		t0 := time.Now()
		calls.Add(1)
		if _, err := g.claims.SubmitClaim(cd, &arrsv1.SubmitClaimRequest{Name: c.GetName(), Etag: c.GetEtag(), RequestId: uuid.NewString()}); err != nil {
			return fmt.Errorf("submit %s: %w", c.GetName(), err)
		}
		d := time.Since(t0)
		mu.Lock()
		r.submitLatency = append(r.submitLatency, d)
		mu.Unlock()
		return nil
	})
	r.submitCPU = g.env.cpu.sample().minus(cpu0)
	return r, err
}

// each runs fn for every PCN in [from, to) on g.cfg.clients workers, and
// returns the wall time and the API calls fn counted.
func (g *generator) each(ctx context.Context, from, to int, fn func(context.Context, int, *atomic.Int64) error) (time.Duration, int64, error) {
	return g.do(ctx, to-from, func(ctx context.Context, k int, calls *atomic.Int64) error { return fn(ctx, from+k, calls) })
}

// do runs fn for k in [0, n) on g.cfg.clients workers, and returns the wall
// time and the API calls fn counted.
func (g *generator) do(ctx context.Context, n int, fn func(context.Context, int, *atomic.Int64) error) (time.Duration, int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var calls atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for range min(g.cfg.clients, n) {
		wg.Go(func() {
			for k := range next {
				if err := fn(ctx, k, &calls); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return time.Since(t0), calls.Load(), context.Cause(ctx)
}

func (g *generator) clinicalDirector(ctx context.Context, i int) (context.Context, error) {
	return g.env.as(ctx, claims.RolePCNClinicalDirector, pcnCode(i), fmt.Sprintf("cd@%s.example", pcnCode(i)))
}

// setUpPCN makes the PCN and its entitlement for the year (the national
// administrator) and its posts, filled from the year's first day (its
// clinical director).
func (g *generator) setUpPCN(ctx context.Context, i int, path string, calls *atomic.Int64) error {
	admin, err := g.env.as(ctx, claims.RoleNationalAdministrator, "", "bench@england.example")
	if err != nil {
		return err
	}
	code := pcnCode(i)
	practice := fmt.Sprintf("B%05d", firstPCN+i)
	calls.Add(1)
	if _, err := g.org.CreatePcn(admin, &arrsv1.CreatePcnRequest{PcnId: code, RequestId: uuid.NewString(), Pcn: &arrsv1.Pcn{
		DisplayName: "Benchmark PCN " + code, Commissioner: "commissioners/" + commissioner,
		MemberPractices: []*arrsv1.Practice{{OdsCode: practice, DisplayName: "Benchmark practice " + practice}},
		NominatedPayee:  &arrsv1.Payee{Kind: arrsv1.Payee_KIND_PCN_ACCOUNT, DisplayName: "Benchmark PCN " + code},
		WeightingZone:   arrsv1.WeightingZone_WEIGHTING_ZONE_NATIONAL, RegisteredListSize: 60000,
	}}); err != nil {
		return fmt.Errorf("create PCN: %w", err)
	}
	calls.Add(1)
	if _, err := g.fund.CreateEntitlement(admin, &arrsv1.CreateEntitlementRequest{Parent: "pcns/" + code, EntitlementId: g.year,
		RequestId: uuid.NewString(), Entitlement: &arrsv1.Entitlement{WeightedPopulation: weightedPopulation}}); err != nil {
		return fmt.Errorf("create entitlement: %w", err)
	}
	// Posts are the PCN's to create, not NHS England's.
	cd, err := g.clinicalDirector(ctx, i)
	if err != nil {
		return err
	}
	requests := make([]*arrsv1.CreatePostRequest, len(g.plan))
	for i, p := range g.plan {
		n := int(g.staff.Add(1))
		requests[i] = &arrsv1.CreatePostRequest{Parent: "pcns/" + code, PostId: fmt.Sprintf("%s-%d", roleID(p.role), p.sequence+1),
			Post: &arrsv1.Post{Role: p.role.GetName(), Wte: p.wte, StartDate: g.start, FocusCohort: p.cohort,
				StaffName: fmt.Sprintf("Staff %d", n), RegistrationNumber: registration(p.role, n), CctDate: g.cctDate(p.role)}}
	}
	// The bulk path registers the workforce as a payroll tool would, in
	// one call; the per-line path a post at a time, as a person at a form.
	if path == "bulk" {
		calls.Add(1)
		if _, err := g.work.BatchCreatePosts(cd, &arrsv1.BatchCreatePostsRequest{Parent: "pcns/" + code, Requests: requests,
			RequestId: uuid.NewString()}); err != nil {
			return fmt.Errorf("create posts: %w", err)
		}
		return nil
	}
	for _, r := range requests {
		r.RequestId = uuid.NewString()
		calls.Add(1)
		if _, err := g.work.CreatePost(cd, r); err != nil {
			return fmt.Errorf("create post %s: %w", r.GetPostId(), err)
		}
	}
	return nil
}

// cctDate is the Certificate of Completion of Training date of a post's
// staff member when the role's rules ask for one (a GP's, in the years a
// start had to be within two years of it): a year before the year's first
// day, so it qualifies whatever the rule's span. Other roles have none.
func (g *generator) cctDate(r *arrsv1.Role) string {
	for _, rule := range r.GetRules() {
		if rule.GetKind() == arrsv1.RoleRuleKind_ROLE_RULE_KIND_CCT_WITHIN_YEARS {
			start, err := time.Parse(time.DateOnly, g.start)
			if err != nil {
				return ""
			}
			return start.AddDate(-1, 0, 0).Format(time.DateOnly)
		}
	}
	return ""
}

func roleID(r *arrsv1.Role) string { return r.GetName()[len("roles/"):] }

// registration makes the n-th staff member's registration number in the
// role's register, unique in the run.
func registration(r *arrsv1.Role, n int) string {
	switch r.GetRegister() {
	case arrsv1.ProfessionalRegister_PROFESSIONAL_REGISTER_HCPC:
		return fmt.Sprintf("%s%d", r.GetRegistrationPrefix(), n%1000000)
	case arrsv1.ProfessionalRegister_PROFESSIONAL_REGISTER_NMC:
		return fmt.Sprintf("%02d%c%04d%c", n/10000%100, 'A'+byte(n/1000000%26), n%10000, 'A'+byte(n%26))
	case arrsv1.ProfessionalRegister_PROFESSIONAL_REGISTER_GPHC, arrsv1.ProfessionalRegister_PROFESSIONAL_REGISTER_GMC:
		return fmt.Sprintf("%07d", 1000000+n%9000000)
	default:
		return ""
	}
}

// draftYear is the clinical director's part: each month's claim created
// with every line's costs in the one CreateClaim call (bulk), or created and
// then each line's costs recorded by one UpdateClaimLine call (line).
func (g *generator) draftYear(ctx context.Context, i int, path string, calls *atomic.Int64) ([]*arrsv1.Claim, error) {
	cd, err := g.clinicalDirector(ctx, i)
	if err != nil {
		return nil, err
	}
	out := make([]*arrsv1.Claim, 0, len(g.months))
	for _, month := range g.months {
		req := &arrsv1.CreateClaimRequest{Parent: "pcns/" + pcnCode(i), ClaimId: month, RequestId: uuid.NewString()}
		if path == "bulk" {
			req.LineUpdates = g.payroll(i, month)
		}
		calls.Add(1)
		c, err := g.claims.CreateClaim(cd, req)
		if err != nil {
			return nil, fmt.Errorf("create claim %s: %w", month, err)
		}
		if len(c.GetLines()) != len(g.plan) {
			return nil, fmt.Errorf("claim %s has %d lines, want %d", c.GetName(), len(c.GetLines()), len(g.plan))
		}
		if path != "bulk" {
			for _, l := range c.GetLines() {
				calls.Add(1)
				if _, err := g.claims.UpdateClaimLine(cd, costs(l.GetName(), l.GetCapPence())); err != nil {
					return nil, fmt.Errorf("update %s: %w", l.GetName(), err)
				}
			}
		}
		// The claim's etag moved with its lines; submit without one.
		out = append(out, &arrsv1.Claim{Name: c.GetName()})
	}
	return out, nil
}

// payroll is a month's pay for every post of PCN i, as a payroll export
// knows it before the claim exists: each post's line named by its post, at
// its role's annual maximum × WTE × the month's share of the year's days
// (within a penny or so of the cap arrsd will work out).
func (g *generator) payroll(i int, month string) []*arrsv1.UpdateClaimLineRequest {
	first, _ := time.Parse("2006-01", month)
	days := first.AddDate(0, 1, 0).Sub(first).Hours() / 24
	yearStart, _ := time.Parse(time.DateOnly, g.start)
	yearDays := yearStart.AddDate(1, 0, 0).Sub(yearStart).Hours() / 24
	out := make([]*arrsv1.UpdateClaimLineRequest, len(g.plan))
	for j, p := range g.plan {
		wte, _ := strconv.ParseFloat(p.wte, 64)
		capPence := int64(float64(g.annual[p.role.GetName()]) * wte * days / yearDays)
		name := fmt.Sprintf("pcns/%s/claims/%s/lines/%s-%d", pcnCode(i), month, roleID(p.role), p.sequence+1)
		out[j] = costs(name, capPence)
	}
	return out
}

// costs records a month's pay of 95% of the line's cap: 78% gross, 8% NI,
// 9% pension.
func costs(line string, capPence int64) *arrsv1.UpdateClaimLineRequest {
	return &arrsv1.UpdateClaimLineRequest{
		ClaimLine: &arrsv1.ClaimLine{Name: line,
			GrossSalaryPence: capPence * 78 / 100, EmployerNiPence: capPence * 8 / 100, EmployerPensionPence: capPence * 9 / 100},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"gross_salary_pence", "employer_ni_pence", "employer_pension_pence"}},
	}
}
