package cpd

import (
	"time"

	"arrs.nhs.uk/arrs/claims"
)

// StaffGroup is a group of staff a scheme funds.
type StaffGroup string

// The eligible staff groups: occupational therapists are allied health
// professionals.
const (
	RegisteredNurse          StaffGroup = "registered_nurse"
	AlliedHealthProfessional StaffGroup = "allied_health_professional"
)

// StaffGroups lists every staff group.
var StaffGroups = []StaffGroup{RegisteredNurse, AlliedHealthProfessional}

// AmountBasis says what a scheme's amount per head covers.
type AmountBasis string

// The bases: one year's amount, or the whole scheme's, split across its years.
const (
	PerYear    AmountBasis = "per_year"
	OverScheme AmountBasis = "over_scheme"
)

// Category is what a funding request pays for.
type Category string

// The categories. The first four are fundable; the rest are refused with
// the reason (refusals).
const (
	CategoryCourse         Category = "course"
	CategoryConference     Category = "conference"
	CategoryELearning      Category = "e_learning"
	CategoryQualification  Category = "qualification"
	CategoryBackfill       Category = "backfill"
	CategoryAdministrative Category = "administrative"
	CategoryEquipment      Category = "equipment"
	CategoryMandatory      Category = "mandatory_training"
)

// refusals are the categories the fund may not pay for, with why, as the
// scheme's guidance says: the money is for learning, not for the practice's
// running costs or the training it must provide anyway.
var refusals = map[Category]string{
	CategoryBackfill:       "CPD funding cannot pay for backfill of staff on training",
	CategoryAdministrative: "CPD funding cannot pay administrative costs",
	CategoryEquipment:      "CPD funding cannot pay for equipment",
	CategoryMandatory:      "CPD funding cannot pay for mandatory or statutory training, which the employer provides",
}

// fundable are the categories a request may be for.
var fundable = []Category{CategoryCourse, CategoryConference, CategoryELearning, CategoryQualification}

// State is where a funding request is in its life.
type State string

// The states of a funding request.
const (
	StateSubmitted  State = "submitted"
	StateApproved   State = "approved"
	StatePartFunded State = "part_funded"
	StateRejected   State = "rejected"
	StatePaid       State = "paid"
)

// Hub is a Training Hub and the practices it serves.
type Hub struct {
	ID          string        `db:"id"`
	DisplayName string        `db:"display_name"`
	Practices   []HubPractice `db:"-"`
	Revision    int64         `db:"revision"`
	CreateTime  time.Time     `db:"create_time"`
	UpdateTime  time.Time     `db:"update_time"`
}

// Name is the hub's resource name.
func (h Hub) Name() string { return HubName(h.ID) }

// HubPractice is a practice a hub serves from ValidFrom to ValidTo
// (inclusive; zero means open-ended).
type HubPractice struct {
	ODSCode   string      `db:"ods_code"`
	ValidFrom claims.Date `db:"valid_from"`
	ValidTo   claims.Date `db:"valid_to"`
}

// Scheme is one CPD fund: its years, amount per head and staff groups.
type Scheme struct {
	ID                 string
	DisplayName        string
	FirstYear          claims.FinancialYear
	Years              int
	Basis              AmountBasis
	AmountPerHeadPence int64
	StaffGroups        []StaffGroup
	// EndDate is the last day anything funded may be dated: there is no
	// carry-over.
	EndDate    claims.Date
	Revision   int64
	CreateTime time.Time
	UpdateTime time.Time `db:"update_time"`
}

// Name is the scheme's resource name.
func (s Scheme) Name() string { return SchemeName(s.ID) }

// Baseline is a practice's eligible headcount for a scheme.
type Baseline struct {
	Scheme            string    `db:"scheme_id"`
	ODSCode           string    `db:"ods_code"`
	EligibleHeadcount int       `db:"eligible_headcount"`
	Revision          int64     `db:"revision"`
	CreateTime        time.Time `db:"create_time"`
	UpdateTime        time.Time `db:"update_time"`
}

// Name is the baseline's resource name.
func (b Baseline) Name() string { return BaselineName(b.Scheme, b.ODSCode) }

// Allocation is a practice's fund for one scheme year and how much of it is
// committed and paid.
type Allocation struct {
	Scheme         string               `db:"scheme_id"`
	ODSCode        string               `db:"ods_code"`
	Year           claims.FinancialYear `db:"financial_year"`
	AmountPence    int64                `db:"amount_pence"`
	CommittedPence int64                `db:"committed_pence"`
	PaidPence      int64                `db:"paid_pence"`
}

// Name is the allocation's resource name.
func (a Allocation) Name() string { return AllocationName(a.ODSCode, a.Scheme, a.Year) }

// RemainingPence is what is left to commit; never negative.
func (a Allocation) RemainingPence() int64 { return a.AmountPence - a.CommittedPence }

// Need is one professional's CPD need from an appraisal.
type Need struct {
	ODSCode         string      `db:"ods_code"`
	ID              string      `db:"id"`
	Professional    string      `db:"professional"`
	StaffGroup      StaffGroup  `db:"staff_group"`
	AppraisalDate   claims.Date `db:"appraisal_date"`
	Need            string      `db:"need"`
	Topic           string      `db:"topic"`
	PreferredCourse string      `db:"preferred_course"`
	// Stale is true when the appraisal is more than 15 months old today:
	// the need should be confirmed at the next appraisal.
	Stale      bool      `db:"-"`
	Revision   int64     `db:"revision"`
	CreateTime time.Time `db:"create_time"`
	UpdateTime time.Time `db:"update_time"`
}

// Name is the need's resource name.
func (n Need) Name() string { return NeedName(n.ODSCode, n.ID) }

// Course is a course a hub commissions for many practices at once.
type Course struct {
	Hub               string      `db:"hub_id"`
	ID                string      `db:"id"`
	Title             string      `db:"title"`
	Topic             string      `db:"topic"`
	Provider          string      `db:"provider"`
	StartDate         claims.Date `db:"start_date"`
	EndDate           claims.Date `db:"end_date"`
	Places            int         `db:"places"`
	CostPerPlacePence int64       `db:"cost_per_place_pence"`
	PlacesAllocated   int         `db:"places_allocated"`
	Revision          int64       `db:"revision"`
	CreateTime        time.Time   `db:"create_time"`
	UpdateTime        time.Time   `db:"update_time"`
}

// Name is the course's resource name.
func (c Course) Name() string { return CourseName(c.Hub, c.ID) }

// Request is a practice's request for funding towards one professional's
// CPD, meeting one of their needs.
type Request struct {
	ODSCode      string
	ID           string
	Need         string // the need's resource name
	Professional string // output: the need's professional
	Scheme       string
	Year         claims.FinancialYear
	Category     Category
	Provider     string
	CourseTitle  string
	StartDate    claims.Date
	EndDate      claims.Date
	CostPence    int64
	// FundedPence is what the fund commits: the cost when approved, less
	// when part-funded; the practice pays the difference.
	FundedPence     int64
	PaidPence       int64
	State           State
	RejectionReason string
	// PaymentDate and PaymentReference record the hub's payment to the
	// provider; zero until paid.
	PaymentDate      claims.Date
	PaymentReference string
	Course           string // the commissioned course holding a place, or ""
	Revision         int64
	CreateTime       time.Time
	UpdateTime       time.Time `db:"update_time"`
}

// Name is the request's resource name.
func (r Request) Name() string { return RequestName(r.ODSCode, r.ID) }
