// Package demo loads the demonstration data that `make run` serves, as of
// the store's clock, so that it is about today whenever it is loaded: one ICB
// and its predecessor CCG, two sub-ICB locations, three PCNs with member practices, the role
// catalogue with effective-dated maximums and rules (GPs within 2 years of
// CCT until 31 March 2026), a local role the ICB approved for its PCNs, the financial years from 2023-24
// to the current one with each PCN's entitlement, a dozen posts including
// occupational therapists, and each PCN's claims for the last four months in
// every state a reviewer or a PCN meets: paid, approved, submitted and
// waiting 12 to 41 days, queried, rejected and draft. The 2026/27 pay award
// is loaded last, backdated to 1 April 2026, so the months already claimed
// are offered supplementary top-ups.
//
// Figures come from ../shared/domain/arrs.md. What is not published there
// is marked illustrative: the occupational therapist's maximums (the first
// contact physiotherapist's, or from 2024 the clinical pharmacist's, figure
// of the same date), the 2026/27 maximums (2025/26's with the 3.3% Agenda
// for Change award; the GP's, the top of the salaried range plus on-costs),
// the local role's maximum and the 2026-27 rate per weighted patient
// (2025-26's scaled by the national pool of £1,754m, itself provisional). A financial year after the last in the
// tables keeps the latest rate and weighted populations, so the current and
// previous years are always open. Organisation codes, names and registration
// numbers are fictional.
//
// Everything goes through the Store, so demo data obeys every rule real data
// does. Each write carries a request_id derived from what it creates, and a
// claim is only moved on from the state it is found in, which makes Load
// idempotent: a second run on the same day changes nothing, and a run on a
// later day moves the story on.
package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"arrs.nhs.uk/arrs/claims"
	cpddemo "arrs.nhs.uk/arrs/cpd/demo"
)

// namespace seeds the demo's deterministic request ids.
var namespace = uuid.MustParse("5b0f8f8e-3c0a-4f3e-9a43-6a1d2c7e0b11")

func request(key string) claims.Request {
	return claims.Request{
		ID:          uuid.NewSHA1(namespace, []byte(key)).String(),
		Method:      "demo.Load",
		Fingerprint: []byte(key),
	}
}

func date(s string) claims.Date {
	d, err := claims.ParseDate(s)
	if err != nil {
		panic(err) // the tables below are constants of this file
	}
	return d
}

func dec(s string) claims.Decimal {
	d, err := claims.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

func year(s string) claims.FinancialYear {
	y, err := claims.ParseFinancialYear(s)
	if err != nil {
		panic(err)
	}
	return y
}

func pence(p int64) *int64 { return &p }

// Load writes the demo data through store, as of the store's clock. It is
// safe to run on every start.
func Load(ctx context.Context, store *claims.Store) error {
	today := claims.DateOf(store.Now().In(london))
	ctx = claims.WithActor(ctx, claims.System("demo"))
	for _, c := range commissioners {
		if _, err := store.CreateCommissioner(ctx, request("commissioner/"+c.Code), c); err != nil {
			return fmt.Errorf("demo commissioner %s: %w", c.Code, err)
		}
	}
	for _, l := range subICBLocations {
		if _, err := store.CreateSubICBLocation(ctx, request("sub-icb-location/"+l.Code), l); err != nil {
			return fmt.Errorf("demo sub-ICB location %s: %w", l.Code, err)
		}
	}
	for _, p := range pcns {
		got, err := store.CreatePCN(ctx, request("pcn/"+p.Code), p)
		if err != nil {
			return fmt.Errorf("demo PCN %s: %w", p.Code, err)
		}
		// A demo loaded before sub-ICB locations were data replays the
		// PCN as it was made then: record its location now (its claims
		// take it, as they would have).
		if got.SubICBLocationCode == "" {
			if _, err := store.UpdatePCN(ctx, p.Code, "", func(cur *claims.PCN) { cur.SubICBLocationCode = p.SubICBLocationCode }); err != nil {
				return fmt.Errorf("demo PCN %s's sub-ICB location: %w", p.Code, err)
			}
		}
	}
	for _, r := range roles {
		if _, err := store.CreateRole(ctx, request("role/"+r.ID), r); err != nil {
			return fmt.Errorf("demo role %s: %w", r.ID, err)
		}
	}
	if err := createRates(ctx, store, rates); err != nil {
		return err
	}
	for _, l := range localRoles {
		if _, err := store.CreateLocalRole(ctx, request("local-role/"+l.Name()), l); err != nil {
			return fmt.Errorf("demo local role %s: %w", l.Name(), err)
		}
	}
	for _, y := range fundingYears(claims.FinancialYearOf(today)) {
		if _, err := store.CreateFundingYear(ctx, request("year/"+y.Year.String()), y); err != nil {
			return fmt.Errorf("demo financial year %s: %w", y.Year, err)
		}
	}
	for _, e := range pcnEntitlements(claims.FinancialYearOf(today)) {
		if _, err := store.CreateEntitlement(ctx, request("entitlement/"+e.Name()), e); err != nil {
			return fmt.Errorf("demo entitlement %s: %w", e.Name(), err)
		}
	}
	for _, p := range postsOn(today) {
		if _, err := store.CreatePost(ctx, request("post/"+p.Name()), p); err != nil {
			return fmt.Errorf("demo post %s: %w", p.Name(), err)
		}
	}
	for _, s := range stories(today) {
		if err := tell(ctx, store, s); err != nil {
			return fmt.Errorf("demo claim pcns/%s/claims/%s: %w", s.pcn, s.month, err)
		}
	}
	// Published after those months were claimed, and backdated: the months
	// approved and in review are offered top-ups.
	if err := createRates(ctx, store, award); err != nil {
		return err
	}
	if err := payArrears(ctx, store, today); err != nil {
		return err
	}
	return cpddemo.Load(ctx, store)
}

func createRates(ctx context.Context, store *claims.Store, rates []claims.Rate) error {
	for _, r := range rates {
		if _, err := store.CreateRate(ctx, request("rate/"+r.Name()), r); err != nil {
			return fmt.Errorf("demo rate %s: %w", r.Name(), err)
		}
	}
	return nil
}

var commissioners = []claims.Commissioner{
	{Code: "D4U1Y", Kind: claims.KindCCG, DisplayName: "NHS Frimley CCG", ValidFrom: date("2021-04-01"), ValidTo: date("2022-06-30")},
	{Code: "QNQ", Kind: claims.KindICB, DisplayName: "NHS Frimley Integrated Care Board", ValidFrom: date("2022-07-01")},
}

// The ICB's sub-ICB locations keep the codes of CCGs that covered parts of
// Frimley before the ICB; which PCN is in which is fictional, as the
// organisations are.
var subICBLocations = []claims.SubICBLocation{
	{Code: "15D", CommissionerCode: "QNQ", DisplayName: "East Berkshire"},
	{Code: "99M", CommissionerCode: "QNQ", DisplayName: "North East Hampshire and Farnham"},
}

var pcns = []claims.PCN{
	{
		Code: "U12345", DisplayName: "Riverside Primary Care Network", CommissionerCode: "QNQ", SubICBLocationCode: "99M",
		Zone: claims.ZoneNational, ListSize: 48210,
		PayeeKind: claims.PayeePractice, PayeeODSCode: "K81001",
		Practices: []claims.Practice{
			{ODSCode: "K81001", DisplayName: "Riverside Surgery"},
			{ODSCode: "K81002", DisplayName: "Mill Lane Medical Centre"},
			{ODSCode: "K81003", DisplayName: "Abbey Health Centre"},
		},
	},
	{
		Code: "U23456", DisplayName: "Northfield and Heath PCN", CommissionerCode: "QNQ", SubICBLocationCode: "99M",
		Zone: claims.ZoneNational, ListSize: 35870,
		PayeeKind: claims.PayeeFederation, PayeeODSCode: "DEMO1", PayeeName: "Heathland GP Federation",
		Practices: []claims.Practice{
			{ODSCode: "K81010", DisplayName: "Northfield Practice"},
			{ODSCode: "K81011", DisplayName: "Heath Road Surgery"},
		},
	},
	{
		Code: "U34567", DisplayName: "Kingsgate Health PCN", CommissionerCode: "QNQ", SubICBLocationCode: "15D",
		Zone: claims.ZoneNational, ListSize: 102450,
		PayeeKind: claims.PayeePCNAccount, PayeeName: "Kingsgate Health PCN",
		Practices: []claims.Practice{
			{ODSCode: "K81020", DisplayName: "Kingsgate Medical Practice"},
			{ODSCode: "K81021", DisplayName: "Station Road Surgery"},
			{ODSCode: "K81022", DisplayName: "Orchard House Surgery"},
			{ODSCode: "K81023", DisplayName: "The Green Practice"},
		},
	},
}

var roles = []claims.Role{
	{ID: "clinical-pharmacist", DisplayName: "Clinical pharmacist", AfCBand: "8a", Register: claims.RegisterGPhC, ReimbursableFrom: date("2019-07-01")},
	{ID: "social-prescribing-link-worker", DisplayName: "Social prescribing link worker", AfCBand: "5", Register: claims.RegisterNone, ReimbursableFrom: date("2019-07-01")},
	{ID: "first-contact-physiotherapist", DisplayName: "First contact physiotherapist", AfCBand: "8a", Register: claims.RegisterHCPC, RegistrationPrefix: "PH", ReimbursableFrom: date("2020-04-01")},
	{ID: "pharmacy-technician", DisplayName: "Pharmacy technician", AfCBand: "5", Register: claims.RegisterGPhC, ReimbursableFrom: date("2020-04-01")},
	{ID: "care-coordinator", DisplayName: "Care co-ordinator", AfCBand: "4", Register: claims.RegisterNone, ReimbursableFrom: date("2020-04-01")},
	{ID: "occupational-therapist", DisplayName: "Occupational therapist", AfCBand: "7", Register: claims.RegisterHCPC, RegistrationPrefix: "OT", ReimbursableFrom: date("2020-04-01")},
	{ID: "paramedic", DisplayName: "Paramedic", AfCBand: "7", Register: claims.RegisterHCPC, RegistrationPrefix: "PA", ReimbursableFrom: date("2021-04-01")},
	{
		ID: "advanced-practitioner", DisplayName: "Advanced practitioner", AfCBand: "8a", Register: claims.RegisterNone, ReimbursableFrom: date("2021-04-01"),
		HeadcountCaps: []claims.HeadcountCap{
			{FinancialYear: year("2023-24"), MaxPosts: 3, LargeListThreshold: 100000, MaxPostsLargeList: 6},
			{FinancialYear: year("2024-25"), MaxPosts: 3, LargeListThreshold: 100000, MaxPostsLargeList: 6},
		},
	},
	{ID: "practice-nurse-band-5", DisplayName: "Practice nurse (band 5)", AfCBand: "5", Register: claims.RegisterNMC, ReimbursableFrom: date("2025-04-01")},
	{ID: "practice-nurse-band-6", DisplayName: "Practice nurse (band 6)", AfCBand: "6", Register: claims.RegisterNMC, ReimbursableFrom: date("2025-04-01")},
	{ID: "consultant-nurse", DisplayName: "Consultant nurse", Register: claims.RegisterNMC, ReimbursableFrom: date("2025-04-01")},
	{ID: "healthcare-support-worker", DisplayName: "Healthcare support worker", AfCBand: "3", Register: claims.RegisterNone, ReimbursableFrom: date("2025-04-01")},
	// GPs from 1 October 2024, at first only within 2 years of their CCT;
	// the restriction is lifted for 2026/27, as data: the rule ends on 31
	// March 2026.
	{
		ID: "general-practitioner", DisplayName: "General practitioner", Register: claims.RegisterGMC, ReimbursableFrom: date("2024-10-01"),
		Rules: []claims.RoleRule{
			{Kind: claims.RuleCCTWithinYears, EffectiveFrom: date("2024-10-01"), EffectiveTo: date("2026-03-31"), Years: 2},
		},
	},
}

// localRoles are the roles the demo ICB approved for its own PCNs (from
// 2026/27): in their catalogue only.
var localRoles = []claims.LocalRole{
	{
		Role: claims.Role{ID: "frailty-practitioner", DisplayName: "Frailty practitioner (NHS Frimley ICB)", AfCBand: "7",
			Register: claims.RegisterNMC, ReimbursableFrom: date("2026-04-01"), CommissionerCode: "QNQ"},
		// A band 7 maximum with on-costs: the first contact physiotherapist's
		// £62,340 of 2023 with the later awards, rounded (illustrative).
		MaxAnnualPence: 6600000, Illustrative: true,
		Source: "illustrative: NHS Frimley ICB's approval, a band 7 maximum including on-costs",
	},
}

const (
	sourceNHSE         = "NHS England ARRS maximum reimbursable amounts"
	sourceIllustrative = "illustrative: no published figure; a band 7-8a role's maximum of the same date"
	sourceAward        = "illustrative: the 2025/26 maximum with the 3.3% Agenda for Change award for 2026/27; no figure published yet"
	sourceGP2024       = "illustrative: the 2025/26 GP maximum; no 2024/25 figure here"
	sourceGP2026       = "illustrative: the top of the 2025/26 salaried GP range (£114,743) plus employer NI and pension; the pay review body figure is still to come"
)

var rates = []claims.Rate{
	{RoleID: "clinical-pharmacist", EffectiveDate: date("2020-04-01"), NationalPence: 5567000, Source: sourceNHSE},
	{RoleID: "clinical-pharmacist", EffectiveDate: date("2022-04-01"), NationalPence: 5731800, Source: sourceNHSE},
	{RoleID: "clinical-pharmacist", EffectiveDate: date("2022-10-01"), NationalPence: 5931200, InnerLondonPence: pence(6876800), Source: sourceNHSE},
	{RoleID: "clinical-pharmacist", EffectiveDate: date("2023-07-01"), NationalPence: 6234000, Source: sourceNHSE},
	{RoleID: "clinical-pharmacist", EffectiveDate: date("2024-10-01"), NationalPence: 6583800, OuterLondonPence: pence(7318900), InnerLondonPence: pence(7631300), Source: sourceNHSE},
	{RoleID: "clinical-pharmacist", EffectiveDate: date("2025-04-01"), NationalPence: 6697200, OuterLondonPence: pence(7439200), InnerLondonPence: pence(7754500), Source: sourceNHSE},
	{RoleID: "first-contact-physiotherapist", EffectiveDate: date("2022-10-01"), NationalPence: 5931200, Source: sourceNHSE},
	{RoleID: "first-contact-physiotherapist", EffectiveDate: date("2023-07-01"), NationalPence: 6234000, Source: sourceNHSE},
	{RoleID: "social-prescribing-link-worker", EffectiveDate: date("2022-10-01"), NationalPence: 3818700, Source: sourceNHSE},
	{RoleID: "social-prescribing-link-worker", EffectiveDate: date("2023-07-01"), NationalPence: 4015900, Source: sourceNHSE},
	{RoleID: "pharmacy-technician", EffectiveDate: date("2022-10-01"), NationalPence: 3818700, Source: sourceNHSE},
	{RoleID: "pharmacy-technician", EffectiveDate: date("2023-07-01"), NationalPence: 4015900, Source: sourceNHSE},
	{RoleID: "pharmacy-technician", EffectiveDate: date("2024-10-01"), NationalPence: 4243700, OuterLondonPence: pence(4899100), InnerLondonPence: pence(5117600), Source: sourceNHSE},
	{RoleID: "pharmacy-technician", EffectiveDate: date("2025-04-01"), NationalPence: 4335200, OuterLondonPence: pence(4996700), InnerLondonPence: pence(5217200), Source: sourceNHSE},
	{RoleID: "care-coordinator", EffectiveDate: date("2022-10-01"), NationalPence: 3174600, Source: sourceNHSE},
	{RoleID: "care-coordinator", EffectiveDate: date("2023-07-01"), NationalPence: 3339600, Source: sourceNHSE},
	{RoleID: "occupational-therapist", EffectiveDate: date("2022-10-01"), NationalPence: 5931200, Source: sourceIllustrative, Illustrative: true},
	{RoleID: "occupational-therapist", EffectiveDate: date("2023-07-01"), NationalPence: 6234000, Source: sourceIllustrative, Illustrative: true},
	{RoleID: "occupational-therapist", EffectiveDate: date("2024-10-01"), NationalPence: 6583800, Source: sourceIllustrative, Illustrative: true},
	{RoleID: "occupational-therapist", EffectiveDate: date("2025-04-01"), NationalPence: 6697200, Source: sourceIllustrative, Illustrative: true},
	{RoleID: "advanced-practitioner", EffectiveDate: date("2024-10-01"), NationalPence: 7214100, OuterLondonPence: pence(7949200), InnerLondonPence: pence(8261600), Source: sourceNHSE},
	{RoleID: "advanced-practitioner", EffectiveDate: date("2025-04-01"), NationalPence: 7333400, Source: sourceNHSE},
	{RoleID: "practice-nurse-band-5", EffectiveDate: date("2025-04-01"), NationalPence: 4335200, OuterLondonPence: pence(4996700), InnerLondonPence: pence(5217200), Source: sourceNHSE},
	{RoleID: "practice-nurse-band-6", EffectiveDate: date("2025-04-01"), NationalPence: 5331900, Source: sourceNHSE},
	{RoleID: "consultant-nurse", EffectiveDate: date("2025-04-01"), NationalPence: 10268300, Source: sourceNHSE},
	{RoleID: "healthcare-support-worker", EffectiveDate: date("2025-04-01"), NationalPence: 3215900, Source: sourceNHSE},
	{RoleID: "general-practitioner", EffectiveDate: date("2024-10-01"), NationalPence: 8241800, Source: sourceGP2024, Illustrative: true},
	{RoleID: "general-practitioner", EffectiveDate: date("2025-04-01"), NationalPence: 8241800, Source: sourceNHSE},
	// The 2026/27 GP rule was known from April (unlike the pay awards,
	// loaded later): the maximum is the top of the salaried GP range plus
	// on-costs, £114,743 + employer NI 15% above £5,000 (£16,461.45) +
	// employer pension 23.7% (£27,194.09) = £158,398.54, to £158,399. The
	// figure is illustrative until the pay review body's is known.
	{RoleID: "general-practitioner", EffectiveDate: date("2026-04-01"), NationalPence: 15839900, Source: sourceGP2026, Illustrative: true},
}

// award is the 2026/27 Agenda for Change award of 3.3% (£ rounded to the
// pound), accepted after the year's pool was set and not yet published as
// ARRS maximums: Load writes it last, backdated to 1 April 2026, as the
// 2025/26 rates were on 1 August 2025. Roles with no 2025/26 figure keep
// their last one.
var award = []claims.Rate{
	// £66,972 × 1.033 = £69,182.08; £74,392 → £76,846.94; £77,545 → £80,103.99.
	{RoleID: "clinical-pharmacist", EffectiveDate: date("2026-04-01"), NationalPence: 6918200, OuterLondonPence: pence(7684700), InnerLondonPence: pence(8010400), Source: sourceAward, Illustrative: true},
	{RoleID: "occupational-therapist", EffectiveDate: date("2026-04-01"), NationalPence: 6918200, Source: sourceAward, Illustrative: true},
	// £43,352 × 1.033 = £44,782.62; £49,967 → £51,615.91; £52,172 → £53,893.68.
	{RoleID: "pharmacy-technician", EffectiveDate: date("2026-04-01"), NationalPence: 4478300, OuterLondonPence: pence(5161600), InnerLondonPence: pence(5389400), Source: sourceAward, Illustrative: true},
	{RoleID: "practice-nurse-band-5", EffectiveDate: date("2026-04-01"), NationalPence: 4478300, OuterLondonPence: pence(5161600), InnerLondonPence: pence(5389400), Source: sourceAward, Illustrative: true},
	// £73,334 → £75,754.02; £53,319 → £55,078.53; £102,683 → £106,071.54; £32,159 → £33,220.25.
	{RoleID: "advanced-practitioner", EffectiveDate: date("2026-04-01"), NationalPence: 7575400, Source: sourceAward, Illustrative: true},
	{RoleID: "practice-nurse-band-6", EffectiveDate: date("2026-04-01"), NationalPence: 5507900, Source: sourceAward, Illustrative: true},
	{RoleID: "consultant-nurse", EffectiveDate: date("2026-04-01"), NationalPence: 10607200, Source: sourceAward, Illustrative: true},
	{RoleID: "healthcare-support-worker", EffectiveDate: date("2026-04-01"), NationalPence: 3322000, Source: sourceAward, Illustrative: true},
}

// years are the published rates per weighted patient and national pools;
// 2026-27's are provisional: the pool of £1,754m was set before the 3.3%
// Agenda for Change award was accepted, and its rate is illustrative,
// 2025-26's scaled by the pool's rise from £1,711m to £1,754m (26.631 ×
// 1754 ÷ 1711 = 27.3003, to three places).
var years = []claims.FundingYear{
	{Year: year("2023-24"), RatePerWeightedPatient: dec("22.671"), NationalPoolPence: 141_200_000_000},
	{Year: year("2024-25"), RatePerWeightedPatient: dec("22.894")},
	{Year: year("2025-26"), RatePerWeightedPatient: dec("26.631"), NationalPoolPence: 171_100_000_000},
	{Year: year("2026-27"), RatePerWeightedPatient: dec("27.3"), NationalPoolPence: 175_400_000_000, Illustrative: true},
}

// fundingYears returns the years to open: those above and every year after
// them up to current, at the latest rate (illustrative, with no pool) until
// the year's own is published.
func fundingYears(current claims.FinancialYear) []claims.FundingYear {
	out := slices.Clone(years)
	for last := out[len(out)-1]; last.Year < current; {
		last.Year++
		last.NationalPoolPence, last.Illustrative = 0, true
		out = append(out, last)
	}
	return out
}

var entitlements = []claims.Entitlement{
	{PCNCode: "U12345", Year: year("2024-25"), WeightedPopulation: dec("51880.42")},
	{PCNCode: "U12345", Year: year("2025-26"), WeightedPopulation: dec("52345.67")},
	{PCNCode: "U12345", Year: year("2026-27"), WeightedPopulation: dec("52871.3")},
	{PCNCode: "U23456", Year: year("2024-25"), WeightedPopulation: dec("38004.9")},
	{PCNCode: "U23456", Year: year("2025-26"), WeightedPopulation: dec("38120.5")},
	{PCNCode: "U23456", Year: year("2026-27"), WeightedPopulation: dec("38466.12")},
	{PCNCode: "U34567", Year: year("2024-25"), WeightedPopulation: dec("108312.75")},
	{PCNCode: "U34567", Year: year("2025-26"), WeightedPopulation: dec("109877.1")},
	{PCNCode: "U34567", Year: year("2026-27"), WeightedPopulation: dec("111204.8")},
}

// pcnEntitlements returns the entitlements above and, for each year after a
// PCN's last one up to current, one with the same weighted population.
func pcnEntitlements(current claims.FinancialYear) []claims.Entitlement {
	var out []claims.Entitlement
	for i, e := range entitlements {
		out = append(out, e)
		if i+1 < len(entitlements) && entitlements[i+1].PCNCode == e.PCNCode {
			continue
		}
		for e.Year < current {
			e.Year++
			out = append(out, e)
		}
	}
	return out
}

var posts = []claims.Post{
	{PCNCode: "U12345", ID: "ot-frailty", RoleID: "occupational-therapist", StaffName: "Amira Haddad", RegistrationNumber: "OT071234",
		WTE: dec("1"), StartDate: date("2023-09-04"), FocusCohort: claims.CohortFrailOlderPeople},
	{PCNCode: "U12345", ID: "ot-return-to-work", RoleID: "occupational-therapist", StaffName: "Owen Pritchard", RegistrationNumber: "OT65432",
		WTE: dec("0.6"), StartDate: date("2025-04-17"), FocusCohort: claims.CohortOffWork},
	{PCNCode: "U12345", ID: "pharmacist-1", RoleID: "clinical-pharmacist", StaffName: "Priya Natarajan", RegistrationNumber: "2081234",
		WTE: dec("1"), StartDate: date("2021-02-01")},
	{PCNCode: "U12345", ID: "pharmacist-baseline", RoleID: "clinical-pharmacist", StaffName: "Graham Doyle", RegistrationNumber: "2054321",
		WTE: dec("0.8"), StartDate: date("2017-06-01"), Baseline: true},
	{PCNCode: "U12345", ID: "splw-1", RoleID: "social-prescribing-link-worker", StaffName: "Chloe Barnes",
		WTE: dec("1"), StartDate: date("2020-01-06"), Employer: "Heathland Voluntary Action"},
	{PCNCode: "U12345", ID: "ot-mental-health-plan", RoleID: "occupational-therapist",
		WTE: dec("0.8"), FocusCohort: claims.CohortMentalHealth}, // starts in two months' time
	{PCNCode: "U23456", ID: "ot-mental-health", RoleID: "occupational-therapist", StaffName: "Siobhan Kelly", RegistrationNumber: "OT512345",
		WTE: dec("0.8"), StartDate: date("2024-02-12"), FocusCohort: claims.CohortMentalHealth},
	{PCNCode: "U23456", ID: "physio-1", RoleID: "first-contact-physiotherapist", StaffName: "Tom Okafor", RegistrationNumber: "PH98765",
		WTE: dec("1"), StartDate: date("2022-11-01")},
	{PCNCode: "U23456", ID: "care-coordinator-1", RoleID: "care-coordinator", StaffName: "Megan Lewis",
		WTE: dec("0.5"), StartDate: date("2023-03-20")},
	{PCNCode: "U34567", ID: "pharmacy-tech-1", RoleID: "pharmacy-technician", StaffName: "Daniel Wright", RegistrationNumber: "5012345",
		WTE: dec("1"), StartDate: date("2024-10-14")},
	{PCNCode: "U34567", ID: "pharmacist-2", RoleID: "clinical-pharmacist", StaffName: "Hannah Cole", RegistrationNumber: "2110987",
		WTE: dec("0.4")}, // started in the oldest month awaiting review
	{PCNCode: "U34567", ID: "paramedic-plan", RoleID: "paramedic",
		WTE: dec("1")}, // starts with the next financial year
	// Five years after CCT: claimable only since the restriction ended.
	{PCNCode: "U34567", ID: "gp-1", RoleID: "general-practitioner", StaffName: "Dr Ruth Adeyemi", RegistrationNumber: "7123456",
		WTE: dec("0.8"), StartDate: date("2026-05-01"), CCTDate: date("2021-08-04")},
}

// postsOn returns the posts with the start dates that depend on today: a
// new starter in the month Kingsgate's oldest claim in review is for, so the
// reviewer sees her flagged, and plans that are still ahead.
func postsOn(today claims.Date) []claims.Post {
	out := slices.Clone(posts)
	thisMonth := claims.MonthOf(today).First()
	for i := range out {
		switch out[i].Name() {
		case "pcns/U12345/posts/ot-mental-health-plan":
			out[i].StartDate = monthsAfter(thisMonth, 2)
		case "pcns/U34567/posts/pharmacist-2":
			out[i].StartDate = monthsAfter(thisMonth, -3).AddDays(13)
		case "pcns/U34567/posts/paramedic-plan":
			out[i].StartDate = (claims.FinancialYearOf(today) + 1).Start()
		}
	}
	return out
}

// monthsAfter returns the first of the month n months after the month of
// first, a first of a month.
func monthsAfter(first claims.Date, n int) claims.Date {
	return claims.NewDate(first.Year(), first.Month()+time.Month(n), 1)
}
