// Package demo loads the CPD ledger's demonstration data: a Training Hub
// (Frimley) serving the Riverside and Northfield practices, a second hub
// for Kingsgate's, the 2020–23 three-year scheme and the current year's
// single-year scheme (illustrative £333 a head), baselines, needs from
// appraisals (one stale), a commissioned course and a funding request in
// every state. claims/demo.Load calls it, so `make run` shows it.
//
// It owns demo data only; it must not hold rules. Every write carries a
// deterministic request_id, so loading twice on a day changes nothing.
package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/cpd"
)

// namespace seeds the demo's deterministic request ids.
var namespace = uuid.MustParse("0d7e3c52-8a1b-4f6e-b1a9-4f2c9d5e7a31")

func request(key string) claims.Request {
	return claims.Request{ID: uuid.NewSHA1(namespace, []byte(key)).String(), Method: "cpd/demo.Load", Fingerprint: []byte(key)}
}

// Hub is the demo's Training Hub, which the demo hub officer signs in for.
const Hub = "frimley"

var hubs = []cpd.Hub{
	{ID: Hub, DisplayName: "Frimley Training Hub", Practices: served("2020-04-01", "K81001", "K81002", "K81003", "K81010", "K81011")},
	{ID: "surrey-heartlands", DisplayName: "Surrey Heartlands Training Hub", Practices: served("2020-04-01", "K81020", "K81021", "K81022", "K81023")},
}

func served(from string, practices ...string) []cpd.HubPractice {
	d, err := claims.ParseDate(from)
	if err != nil {
		panic(err)
	}
	out := make([]cpd.HubPractice, len(practices))
	for i, p := range practices {
		out[i] = cpd.HubPractice{ODSCode: p, ValidFrom: d}
	}
	return out
}

// headcounts are each practice's eligible registered nurses and allied
// health professionals (illustrative).
var headcounts = map[string]int{"K81001": 6, "K81002": 4, "K81003": 3, "K81010": 5, "K81011": 2,
	"K81020": 4, "K81022": 3, "K81023": 2}

// CurrentScheme is the id of the single-year scheme for the financial year
// containing today.
func CurrentScheme(today claims.Date) string { return "cpd-" + claims.FinancialYearOf(today).String() }

func schemes(today claims.Date) []cpd.Scheme {
	groups := []cpd.StaffGroup{cpd.RegisteredNurse, cpd.AlliedHealthProfessional}
	first, _ := claims.ParseFinancialYear("2020-21")
	end, _ := claims.ParseDate("2023-03-31")
	current := claims.FinancialYearOf(today)
	out := []cpd.Scheme{{ID: "cpd-2020-23", DisplayName: "CPD 2020/21 to 2022/23 (£1,000 a head over three years)",
		FirstYear: first, Years: 3, Basis: cpd.OverScheme, AmountPerHeadPence: 100000, StaffGroups: groups, EndDate: end}}
	if current > first+2 {
		out = append(out, cpd.Scheme{ID: CurrentScheme(today), DisplayName: "CPD " + current.String() + " (£333 a head, illustrative)",
			FirstYear: current, Years: 1, Basis: cpd.PerYear, AmountPerHeadPence: 33300, StaffGroups: groups, EndDate: current.End()})
	}
	return out
}

type need struct {
	ods, id, professional string
	group                 cpd.StaffGroup
	daysAgo               int
	need, topic, course   string
}

var needs = []need{
	{"K81001", "olu-vocational-rehab", "Olu Adeyemi (occupational therapist)", cpd.AlliedHealthProfessional, 60,
		"Confidence in fit note and return-to-work conversations", "Vocational rehabilitation", "AHP Health and Work"},
	{"K81001", "grace-diabetes", "Grace Lee (practice nurse)", cpd.RegisteredNurse, 90,
		"Insulin initiation for type 2 diabetes", "Diabetes", ""},
	{"K81001", "sam-diabetes", "Sam Patel (practice nurse)", cpd.RegisteredNurse, 500,
		"Diabetes foot checks", "Diabetes", ""},
	{"K81001", "ana-frailty", "Ana Silva (physiotherapist)", cpd.AlliedHealthProfessional, 30,
		"Falls assessment in frail older people", "Frailty", "Postgraduate certificate in frailty"},
	{"K81002", "ben-diabetes", "Ben Okafor (practice nurse)", cpd.RegisteredNurse, 120,
		"Diabetes annual review", "Diabetes", ""},
	{"K81002", "cara-mental-health", "Cara Jones (occupational therapist)", cpd.AlliedHealthProfessional, 45,
		"Working with adults with mental health needs below secondary care", "Mental health", ""},
	{"K81010", "tom-frailty", "Tom Reid (occupational therapist)", cpd.AlliedHealthProfessional, 75,
		"Home adaptations for frail older people", "Frailty", ""},
	{"K81020", "ivy-respiratory", "Ivy Chen (practice nurse)", cpd.RegisteredNurse, 100,
		"Spirometry interpretation", "Respiratory", ""},
}

type req struct {
	ods, id, need   string
	category        cpd.Category
	provider, title string
	startDay, days  int // days after the scheme year's start
	cost            int64
	decide          func(context.Context, *cpd.Store, string) error
}

// The decisions the demo's requests have had, each with its request_id.
func approve(ctx context.Context, s *cpd.Store, name string) error {
	_, err := s.Approve(ctx, request(name+":approve"), name, "")
	return err
}

func partFund(p int64) func(context.Context, *cpd.Store, string) error {
	return func(ctx context.Context, s *cpd.Store, name string) error {
		_, err := s.PartFund(ctx, request(name+":part-fund"), name, "", p)
		return err
	}
}

func reject(ctx context.Context, s *cpd.Store, name string) error {
	_, err := s.Reject(ctx, request(name+":reject"), name, "", "The practice's mandatory training budget covers this course")
	return err
}

func approveAndPay(ctx context.Context, s *cpd.Store, name string) error {
	if err := approve(ctx, s, name); err != nil {
		return err
	}
	// Paid a week ago, as a hub pays a provider once the course has run.
	_, err := s.RecordPayment(ctx, request(name+":pay"), name, "", s.Today().AddDays(-7), "FTH-REM-"+strings.ToUpper(name[len(name)-4:]))
	return err
}

func placeOnCourse(ctx context.Context, s *cpd.Store, name string) error {
	_, err := s.AllocatePlace(ctx, request(name+":place"), name, "", cpd.CourseName(Hub, "diabetes-update"))
	return err
}

var requests = []req{
	{"K81001", "grace-insulin", "grace-diabetes", cpd.CategoryCourse, "Diabetes UK", "Insulin initiation in primary care", 200, 1, 35000, nil},
	{"K81001", "sam-course-place", "sam-diabetes", cpd.CategoryCourse, "Frimley Training Hub", "Diabetes update", 210, 0, 15000, placeOnCourse},
	{"K81001", "olu-health-and-work", "olu-vocational-rehab", cpd.CategoryCourse, "Royal College of Occupational Therapists", "AHP Health and Work", 150, 1, 60000, approve},
	{"K81001", "ana-pgcert", "ana-frailty", cpd.CategoryQualification, "University of Surrey", "Postgraduate certificate in frailty (module 1)", 180, 90, 180000, partFund(100000)},
	{"K81002", "ben-annual-review", "ben-diabetes", cpd.CategoryELearning, "Bradford VTS", "Diabetes annual review e-learning", 120, 0, 12000, reject},
	{"K81010", "tom-adaptations", "tom-frailty", cpd.CategoryConference, "RCOT", "Housing and home adaptations conference", 100, 1, 30000, approveAndPay},
	// Another hub's practice: Frimley's officer must not see it.
	{"K81020", "ivy-spirometry", "ivy-respiratory", cpd.CategoryCourse, "ARTP", "Spirometry interpretation", 160, 1, 40000, nil},
}

// Load writes the CPD demo data through store, as of its clock.
func Load(ctx context.Context, store *claims.Store) error {
	today := store.Today()
	ctx = claims.WithActor(ctx, claims.System("demo"))
	s := cpd.NewStore(store)
	for _, h := range hubs {
		if _, err := s.CreateHub(ctx, request("hub/"+h.ID), h); err != nil {
			return fmt.Errorf("demo hub %s: %w", h.ID, err)
		}
	}
	scs := schemes(today)
	for _, sc := range scs {
		if _, err := s.CreateScheme(ctx, request("scheme/"+sc.ID), sc); err != nil {
			return fmt.Errorf("demo scheme %s: %w", sc.ID, err)
		}
		for ods, n := range headcounts {
			b := cpd.Baseline{Scheme: sc.ID, ODSCode: ods, EligibleHeadcount: n}
			if _, _, err := s.CreateBaseline(ctx, request("baseline/"+b.Name()), b); err != nil {
				return fmt.Errorf("demo baseline %s: %w", b.Name(), err)
			}
		}
	}
	for _, n := range needs {
		nd := cpd.Need{ODSCode: n.ods, ID: n.id, Professional: n.professional, StaffGroup: n.group,
			AppraisalDate: today.AddDays(-n.daysAgo), Need: n.need, Topic: n.topic, PreferredCourse: n.course}
		if _, err := s.CreateNeed(ctx, request("need/"+nd.Name()), nd); err != nil {
			return fmt.Errorf("demo need %s: %w", nd.Name(), err)
		}
	}
	if len(scs) < 2 {
		return nil // before the single-year schemes, there is nothing to request
	}
	year := claims.FinancialYearOf(today).Start()
	course := cpd.Course{Hub: Hub, ID: "diabetes-update", Title: "Diabetes update for practice nurses", Topic: "Diabetes",
		Provider: "Frimley Training Hub", StartDate: year.AddDays(210), EndDate: year.AddDays(210), Places: 12, CostPerPlacePence: 15000}
	if _, err := s.CreateCourse(ctx, request("course/"+course.Name()), course); err != nil {
		return fmt.Errorf("demo course: %w", err)
	}
	for _, r := range requests {
		rq := cpd.Request{ODSCode: r.ods, ID: r.id, Need: cpd.NeedName(r.ods, r.need), Scheme: scs[1].ID, Category: r.category,
			Provider: r.provider, CourseTitle: r.title, StartDate: year.AddDays(r.startDay), EndDate: year.AddDays(r.startDay + r.days),
			CostPence: r.cost}
		if _, err := s.CreateRequest(ctx, request("request/"+rq.Name()), rq); err != nil {
			return fmt.Errorf("demo request %s: %w", rq.Name(), err)
		}
		if r.decide != nil {
			if err := r.decide(ctx, s, rq.Name()); err != nil {
				return fmt.Errorf("demo request %s: %w", rq.Name(), err)
			}
		}
	}
	return nil
}
