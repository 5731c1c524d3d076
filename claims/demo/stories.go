package demo

import (
	"context"
	"time"

	"arrs.nhs.uk/arrs/claims"
)

// The demo's claims: each PCN's last four months, told as stories whose
// steps happened a number of days before the day Load runs. Each step is
// taken through a store whose clock reads the step's time, so submission
// and review times, the review queue's ageing and the payment dates are
// what they would have been.

// chapter is where one PCN's claim for the month monthsAgo months back
// stands today, and how many days ago each step was taken (0: not taken).
// Every step comes after the month ended, whatever the day of the month
// today: the month two months back ended at least 29 days ago, three months
// back 60 and four months back 90 (TestStoriesFitEveryDay checks).
type chapter struct {
	pcn                       string
	monthsAgo                 int
	state                     claims.ClaimState
	submitted, reviewed, paid int
	note                      string
}

var chapters = []chapter{
	{pcn: "U12345", monthsAgo: 4, state: claims.ClaimPaid, submitted: 85, reviewed: 70, paid: 55},
	{pcn: "U12345", monthsAgo: 3, state: claims.ClaimApproved, submitted: 56, reviewed: 35},
	{pcn: "U12345", monthsAgo: 2, state: claims.ClaimSubmitted, submitted: 26},
	{pcn: "U12345", monthsAgo: 1, state: claims.ClaimDraft},

	{pcn: "U23456", monthsAgo: 4, state: claims.ClaimPaid, submitted: 83, reviewed: 68, paid: 52},
	{pcn: "U23456", monthsAgo: 3, state: claims.ClaimRejected, submitted: 52, reviewed: 38,
		note: "The care co-ordinator's costs were also invoiced by Heathland GP Federation for this month; nothing more is payable."},
	{pcn: "U23456", monthsAgo: 2, state: claims.ClaimQueried, submitted: 21, reviewed: 7,
		note: "Please attach Tom Okafor's payslip for the month: the evidence linked is the month before's."},
	// Last month is not claimed yet: README's "Claim a month" does it.

	{pcn: "U34567", monthsAgo: 4, state: claims.ClaimPaid, submitted: 80, reviewed: 64, paid: 47},
	{pcn: "U34567", monthsAgo: 3, state: claims.ClaimSubmitted, submitted: 41},
	{pcn: "U34567", monthsAgo: 2, state: claims.ClaimSubmitted, submitted: 12},
	{pcn: "U34567", monthsAgo: 1, state: claims.ClaimDraft},
}

// story is a chapter placed in time: the claim for month, and the days its
// steps were taken (zero: not taken).
type story struct {
	pcn                       string
	month                     claims.Month
	state                     claims.ClaimState
	submitted, reviewed, paid claims.Date
	note                      string
}

// stories places the chapters before today.
func stories(today claims.Date) []story {
	thisMonth := claims.MonthOf(today).First()
	daysAgo := func(n int) claims.Date {
		if n == 0 {
			return claims.Date{}
		}
		return today.AddDays(-n)
	}
	out := make([]story, len(chapters))
	for i, c := range chapters {
		out[i] = story{pcn: c.pcn, month: claims.MonthOf(monthsAfter(thisMonth, -c.monthsAgo)), state: c.state,
			submitted: daysAgo(c.submitted), reviewed: daysAgo(c.reviewed), paid: daysAgo(c.paid), note: c.note}
	}
	return out
}

// The people who act in the stories. Whoever submits a claim cannot approve
// it: the PCNs' clinical directors submit, the ICB's approver and finance
// team review and pay.
var clinicalDirectors = map[string]string{
	"U12345": "asha.patel@riverside.example",
	"U23456": "nia@northfield.example",
	"U34567": "sam.okoye@kingsgate.example",
}

var (
	approver = claims.Actor{Subject: "bob@frimley.example", Role: claims.RoleCommissionerApprover,
		OrgKind: claims.OrgCommissioner, OrgCode: "QNQ"}
	finance = claims.Actor{Subject: "carol@frimley.example", Role: claims.RoleCommissionerFinance,
		OrgKind: claims.OrgCommissioner, OrgCode: "QNQ"}
)

func clinicalDirector(pcn string) claims.Actor {
	return claims.Actor{Subject: clinicalDirectors[pcn], Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: pcn}
}

// Monthly costs as a payroll would report them (pence), the same every
// month: a part-month's new starter is paid a full month, which the
// reviewer sees flagged. Riverside's band 8a pharmacist is paid above the
// role's 2025/26 maximum in any month but a 31-day one, which the 2026/27
// award then tops up.
var costs = map[string]claims.Costs{
	"U12345/ot-frailty":         {GrossSalary: 384567, EmployerNI: 44012, EmployerPension: 55301},
	"U12345/ot-return-to-work":  {GrossSalary: 230740, EmployerNI: 23104, EmployerPension: 33180},
	"U12345/pharmacist-1":       {GrossSalary: 447958, EmployerNI: 52420, EmployerPension: 64416},
	"U12345/splw-1":             {GrossSalary: 249750, EmployerNI: 24300, EmployerPension: 35914},
	"U23456/ot-mental-health":   {GrossSalary: 300000, EmployerNI: 31000, EmployerPension: 43140},
	"U23456/physio-1":           {GrossSalary: 420000, EmployerNI: 45000, EmployerPension: 60396},
	"U23456/care-coordinator-1": {GrossSalary: 112500, EmployerNI: 8000, EmployerPension: 16178},
	"U34567/pharmacy-tech-1":    {GrossSalary: 275000, EmployerNI: 33000, EmployerPension: 39545},
	"U34567/pharmacist-2":       {GrossSalary: 170000, EmployerNI: 17000, EmployerPension: 24446},
	// £95,000 a year at 0.8 WTE: £6,333.33 a month; NI 15% above the
	// threshold, pension 23.7%.
	"U34567/gp-1":      {GrossSalary: 633333, EmployerNI: 88000, EmployerPension: 150100},
	"U12345/frailty-1": {GrossSalary: 240000, EmployerNI: 26000, EmployerPension: 34512},
}

// london is the scheme's calendar (the claims package embeds its zone).
var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return loc
}()

// on returns store as of 10:00 in England on day: the time a story's step
// was taken.
func on(store *claims.Store, day claims.Date) *claims.Store {
	t := time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, london)
	return store.At(func() time.Time { return t })
}

// tell brings the story's claim to where the story says it is today,
// taking each step the claim has not taken yet. A claim found where the
// story cannot go on from (withdrawn, or moved on by someone meanwhile) is
// left as it is, and so is one whose next step someone's changes have made
// impossible.
func tell(ctx context.Context, store *claims.Store, s story) error {
	id := s.month.String()
	c, err := store.GetClaim(ctx, s.pcn, id)
	found := err == nil
	if claims.IsKind(err, claims.KindNotFound) {
		drafted := store
		if !s.submitted.IsZero() {
			drafted = on(store, s.submitted)
		}
		c, err = drafted.CreateClaim(claims.WithActor(ctx, clinicalDirector(s.pcn)), request("claim/"+s.pcn+"/"+id), s.pcn, s.month)
	}
	if err == nil {
		err = advance(ctx, store, s, c)
	}
	if found && claims.IsKind(err, claims.KindFailedPrecondition) {
		return nil
	}
	return err
}

// advance takes the steps from the state c is in to the story's.
func advance(ctx context.Context, store *claims.Store, s story, c claims.Claim) error {
	cd := claims.WithActor(ctx, clinicalDirector(s.pcn))
	key := s.pcn + "/" + c.ID
	var err error
	if c.State == claims.ClaimDraft {
		if err := enterCosts(cd, store, c); err != nil {
			return err
		}
		if s.state == claims.ClaimDraft {
			return nil
		}
		if c, err = on(store, s.submitted).SubmitClaim(cd, request("submit/"+key), s.pcn, c.ID, ""); err != nil {
			return err
		}
	}
	if c.State == claims.ClaimSubmitted {
		reviewer, as := on(store, s.reviewed), claims.WithActor(ctx, approver)
		switch s.state {
		case claims.ClaimApproved, claims.ClaimPaid:
			c, err = reviewer.ApproveClaim(as, request("approve/"+key), s.pcn, c.ID, "", nil)
		case claims.ClaimRejected:
			c, err = reviewer.RejectClaim(as, s.pcn, c.ID, "", s.note)
		case claims.ClaimQueried:
			c, err = reviewer.QueryClaim(as, s.pcn, c.ID, "", s.note)
		}
		if err != nil {
			return err
		}
	}
	if c.State == claims.ClaimApproved && s.state == claims.ClaimPaid {
		// Paid on the story's day, or on the day it was approved if an
		// earlier load approved it later than that.
		day := s.paid
		if approved := claims.DateOf(c.ReviewTime.In(london)); day.Before(approved) {
			day = approved
		}
		_, err = on(store, day).RecordClaimPayment(claims.WithActor(ctx, finance), request("pay/"+key), s.pcn, c.ID, "",
			claims.Payment{Date: day, Reference: "REM-" + c.ID + "-" + s.pcn})
	}
	return err
}

// enterCosts records what was paid on each line of a draft that has no cost
// yet.
func enterCosts(ctx context.Context, store *claims.Store, c claims.Claim) error {
	for _, l := range c.Lines {
		paid, ok := costs[c.PCNCode+"/"+l.PostID]
		if !ok || l.Costs().ActualPence() != 0 {
			continue
		}
		evidence := "https://evidence.example.nhs.uk/" + c.PCNCode + "/" + c.ID + "/" + l.PostID + "/payslip.pdf"
		if _, err := store.UpdateClaimLine(ctx, c.PCNCode, c.ID, l.PostID, "", func(l *claims.ClaimLine) {
			l.GrossSalary, l.EmployerNI, l.EmployerPension = paid.GrossSalary, paid.EmployerNI, paid.EmployerPension
			l.EvidenceURIs = []string{evidence}
		}); err != nil {
			return err
		}
	}
	return nil
}
