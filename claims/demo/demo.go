// Package demo loads the demonstration data that `make run` serves: one ICB
// and its predecessor CCG, three PCNs with member practices, the role
// catalogue with effective-dated maximums, financial years 2023-24 to 2025-26
// with entitlements, a dozen posts including occupational therapists, and
// Riverside PCN's claims for April and May 2025 (submitted) and June (draft).
//
// Figures come from ../shared/domain/arrs.md. The occupational therapist
// maximum is not published there, so its rates are the first contact
// physiotherapist's (or, from 2024, the clinical pharmacist's) figure of the
// same date and are marked illustrative. Organisation codes, names and
// registration numbers are fictional.
//
// Everything goes through the Store, so demo data obeys every rule real data
// does. Each write carries a request_id derived from what it creates, which
// makes Load idempotent: a second run replays instead of duplicating.
package demo

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"arrs.nhs.uk/arrs/claims"
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

// Load writes the demo data through store. It is safe to run on every start.
func Load(ctx context.Context, store *claims.Store) error {
	ctx = claims.WithActor(ctx, claims.System("demo"))
	for _, c := range commissioners {
		if _, err := store.CreateCommissioner(ctx, request("commissioner/"+c.Code), c); err != nil {
			return fmt.Errorf("demo commissioner %s: %w", c.Code, err)
		}
	}
	for _, p := range pcns {
		if _, err := store.CreatePCN(ctx, request("pcn/"+p.Code), p); err != nil {
			return fmt.Errorf("demo PCN %s: %w", p.Code, err)
		}
	}
	for _, r := range roles {
		if _, err := store.CreateRole(ctx, request("role/"+r.ID), r); err != nil {
			return fmt.Errorf("demo role %s: %w", r.ID, err)
		}
	}
	for _, r := range rates {
		if _, err := store.CreateRate(ctx, request("rate/"+r.Name()), r); err != nil {
			return fmt.Errorf("demo rate %s: %w", r.Name(), err)
		}
	}
	for _, y := range years {
		if _, err := store.CreateFundingYear(ctx, request("year/"+y.Year.String()), y); err != nil {
			return fmt.Errorf("demo financial year %s: %w", y.Year, err)
		}
	}
	for _, e := range entitlements {
		if _, err := store.CreateEntitlement(ctx, request("entitlement/"+e.Name()), e); err != nil {
			return fmt.Errorf("demo entitlement %s: %w", e.Name(), err)
		}
	}
	for _, p := range posts {
		if _, err := store.CreatePost(ctx, request("post/"+p.Name()), p); err != nil {
			return fmt.Errorf("demo post %s: %w", p.Name(), err)
		}
	}
	for _, c := range demoClaims {
		if err := loadClaim(ctx, store, c); err != nil {
			return fmt.Errorf("demo claim %s %s: %w", c.pcn, c.month, err)
		}
	}
	return nil
}

// loadClaim drafts a claim, enters what was paid (once: a line that has
// costs is left alone) and submits it if the demo says so.
func loadClaim(ctx context.Context, store *claims.Store, c demoClaim) error {
	month, err := claims.ParseMonth(c.month)
	if err != nil {
		return err
	}
	claim, err := store.CreateClaim(ctx, request("claim/"+c.pcn+"/"+c.month), c.pcn, month)
	if err != nil {
		return err
	}
	if claim.State == claims.ClaimDraft {
		for _, l := range claim.Lines {
			costs, ok := c.costs[l.PostID]
			if !ok || l.GrossSalary != 0 {
				continue
			}
			if _, err := store.UpdateClaimLine(ctx, c.pcn, c.month, l.PostID, "", func(l *claims.ClaimLine) {
				l.GrossSalary, l.EmployerNI, l.EmployerPension = costs.GrossSalary, costs.EmployerNI, costs.EmployerPension
				l.EvidenceURIs = []string{"https://evidence.example.nhs.uk/" + c.pcn + "/" + c.month + "/" + l.PostID + "/payslip.pdf"}
			}); err != nil {
				return err
			}
		}
	}
	if c.submit {
		_, err = store.SubmitClaim(ctx, request("submit/"+c.pcn+"/"+c.month), c.pcn, c.month, "")
	}
	return err
}

type demoClaim struct {
	pcn, month string
	costs      map[string]claims.Costs
	submit     bool
}

// Monthly costs as a payroll would report them (pence): an OT on band 7, a
// clinical pharmacist on band 8a (above the role's maximum, so capped), a
// social prescribing link worker on band 5.
var riversideCosts = map[string]claims.Costs{
	"ot-frailty":        {GrossSalary: 384567, EmployerNI: 44012, EmployerPension: 55301},
	"ot-return-to-work": {GrossSalary: 230740, EmployerNI: 23104, EmployerPension: 33180},
	"pharmacist-1":      {GrossSalary: 447958, EmployerNI: 52420, EmployerPension: 64416},
	"splw-1":            {GrossSalary: 249750, EmployerNI: 24300, EmployerPension: 35914},
}

var demoClaims = []demoClaim{
	{pcn: "U12345", month: "2025-04", costs: riversideCosts, submit: true},
	{pcn: "U12345", month: "2025-05", costs: riversideCosts, submit: true},
	{pcn: "U12345", month: "2025-06", costs: riversideCosts},
}

var commissioners = []claims.Commissioner{
	{Code: "D4U1Y", Kind: claims.KindCCG, DisplayName: "NHS Frimley CCG", ValidFrom: date("2021-04-01"), ValidTo: date("2022-06-30")},
	{Code: "QNQ", Kind: claims.KindICB, DisplayName: "NHS Frimley Integrated Care Board", ValidFrom: date("2022-07-01")},
}

var pcns = []claims.PCN{
	{
		Code: "U12345", DisplayName: "Riverside Primary Care Network", CommissionerCode: "QNQ",
		Zone: claims.ZoneNational, ListSize: 48210,
		PayeeKind: claims.PayeePractice, PayeeODSCode: "K81001",
		Practices: []claims.Practice{
			{ODSCode: "K81001", DisplayName: "Riverside Surgery"},
			{ODSCode: "K81002", DisplayName: "Mill Lane Medical Centre"},
			{ODSCode: "K81003", DisplayName: "Abbey Health Centre"},
		},
	},
	{
		Code: "U23456", DisplayName: "Northfield and Heath PCN", CommissionerCode: "QNQ",
		Zone: claims.ZoneNational, ListSize: 35870,
		PayeeKind: claims.PayeeFederation, PayeeODSCode: "DEMO1", PayeeName: "Heathland GP Federation",
		Practices: []claims.Practice{
			{ODSCode: "K81010", DisplayName: "Northfield Practice"},
			{ODSCode: "K81011", DisplayName: "Heath Road Surgery"},
		},
	},
	{
		Code: "U34567", DisplayName: "Kingsgate Health PCN", CommissionerCode: "QNQ",
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
}

const (
	sourceNHSE         = "NHS England ARRS maximum reimbursable amounts"
	sourceIllustrative = "illustrative: no published figure; a band 7-8a role's maximum of the same date"
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
}

var years = []claims.FundingYear{
	{Year: year("2023-24"), RatePerWeightedPatient: dec("22.671")},
	{Year: year("2024-25"), RatePerWeightedPatient: dec("22.894")},
	{Year: year("2025-26"), RatePerWeightedPatient: dec("26.631")},
}

var entitlements = []claims.Entitlement{
	{PCNCode: "U12345", Year: year("2024-25"), WeightedPopulation: dec("51880.42")},
	{PCNCode: "U12345", Year: year("2025-26"), WeightedPopulation: dec("52345.67")},
	{PCNCode: "U23456", Year: year("2024-25"), WeightedPopulation: dec("38004.9")},
	{PCNCode: "U23456", Year: year("2025-26"), WeightedPopulation: dec("38120.5")},
	{PCNCode: "U34567", Year: year("2024-25"), WeightedPopulation: dec("108312.75")},
	{PCNCode: "U34567", Year: year("2025-26"), WeightedPopulation: dec("109877.1")},
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
		WTE: dec("0.8"), StartDate: date("2026-01-05"), FocusCohort: claims.CohortMentalHealth},
	{PCNCode: "U23456", ID: "ot-mental-health", RoleID: "occupational-therapist", StaffName: "Siobhan Kelly", RegistrationNumber: "OT512345",
		WTE: dec("0.8"), StartDate: date("2024-02-12"), FocusCohort: claims.CohortMentalHealth},
	{PCNCode: "U23456", ID: "physio-1", RoleID: "first-contact-physiotherapist", StaffName: "Tom Okafor", RegistrationNumber: "PH98765",
		WTE: dec("1"), StartDate: date("2022-11-01")},
	{PCNCode: "U23456", ID: "care-coordinator-1", RoleID: "care-coordinator", StaffName: "Megan Lewis",
		WTE: dec("0.5"), StartDate: date("2023-03-20")},
	{PCNCode: "U34567", ID: "pharmacy-tech-1", RoleID: "pharmacy-technician", StaffName: "Daniel Wright", RegistrationNumber: "5012345",
		WTE: dec("1"), StartDate: date("2024-10-14")},
	{PCNCode: "U34567", ID: "pharmacist-2", RoleID: "clinical-pharmacist", StaffName: "Hannah Cole", RegistrationNumber: "2110987",
		WTE: dec("0.4"), StartDate: date("2025-05-01")},
	{PCNCode: "U34567", ID: "paramedic-plan", RoleID: "paramedic",
		WTE: dec("1"), StartDate: date("2026-04-01")},
}
