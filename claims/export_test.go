package claims_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"arrs.nhs.uk/arrs/claims"
)

// exportFixture is a claims fixture standing on 10 July 2025 with Riverside
// (U12345) and two more PCNs of QNQ, each with care co-ordinators, and a
// second ICB, QWO, with none.
type exportFixture struct {
	claimsFixture
	approver, finance, otherICB context.Context
}

func newExportFixture(t *testing.T) exportFixture {
	t.Helper()
	f := exportFixture{claimsFixture: newClaimsFixture(t, "2025-07-10", "100000")}
	must(t)(f.store.CreateCommissioner(f.ctx, claims.Request{}, claims.Commissioner{
		Code: "QWO", Kind: claims.KindICB, DisplayName: "West ICB", ValidFrom: claims.ICBStart}))
	must(t)(f.store.CreatePCN(f.ctx, claims.Request{}, pcn("U23456", "B81001")))
	must(t)(f.store.CreatePCN(f.ctx, claims.Request{}, pcn("U34567", "C81001")))
	for _, code := range []string{"U23456", "U34567"} {
		must(t)(f.store.CreateEntitlement(f.ctx, claims.Request{}, claims.Entitlement{PCNCode: code, Year: 2025, WeightedPopulation: dec(t, "100000")}))
		p := careCoordinator(t, "cc-1", "Co-ordinator of "+code, "2025-04-01")
		p.PCNCode = code
		must(t)(f.store.CreatePost(f.ctx, claims.Request{}, p))
	}
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
	// A name a spreadsheet would run as a formula.
	half := careCoordinator(t, "cc-2", `=HYPERLINK("https://evil.example","Dee")`, "2025-04-01")
	half.WTE = dec(t, "0.5")
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, half))

	commissioner := func(subject string, role claims.AccessRole, code string) context.Context {
		return claims.WithActor(context.Background(), claims.Actor{Subject: subject, Role: role, OrgKind: claims.OrgCommissioner, OrgCode: code})
	}
	f.approver = commissioner("alice@frimley.example", claims.RoleCommissionerApprover, "QNQ")
	f.finance = commissioner("fin@frimley.example", claims.RoleCommissionerFinance, "QNQ")
	f.otherICB = commissioner("fin@west.example", claims.RoleCommissionerFinance, "QWO")
	return f
}

// claim drafts a PCN's month, records gross pay on its lines and, unless
// draft, submits it.
func (f exportFixture) claim(t *testing.T, pcnCode, m string, draft bool, gross map[string]int64) {
	t.Helper()
	must(t)(f.store.CreateClaim(f.ctx, claims.Request{}, pcnCode, month(t, m)))
	for post, pence := range gross {
		must(t)(f.store.UpdateClaimLine(f.ctx, pcnCode, m, post, "", func(l *claims.ClaimLine) { l.GrossSalary = pence }))
	}
	if !draft {
		must(t)(f.store.SubmitClaim(f.ctx, claims.Request{}, pcnCode, m, ""))
	}
}

// exportLines renders rows one a line, the fields that matter to a ledger
// separated by |, as the store returns them (the CSV format is the server's).
func exportLines(rows []claims.ExportRow) string {
	var b strings.Builder
	for _, r := range rows {
		l := r.Line
		fmt.Fprintf(&b, "%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%d|%d|%d|%d|%s|%s|%s|%s|%s\n",
			r.CommissionerCode, r.PCNCode, r.PCNName, r.Payee, r.ClaimID, r.Kind, r.Month, r.State, l.PostID, l.RoleID,
			r.StaffName, r.RegistrationNumber, l.WTE, l.Costs().ActualPence(), l.CapPence, l.ReimbursablePence, l.Approved(),
			l.AdjustmentReason, r.ApprovedBy, r.ApprovalDate, r.PaymentDate, r.PaymentReference)
	}
	return b.String()
}

func TestExportHasTheApprovedAndPaidLinesOfTheCommissionersMonth(t *testing.T) {
	f := newExportFixture(t)
	// May: Riverside's claim approved (one line lowered) and paid; the
	// others submitted, rejected or still a draft.
	f.claim(t, "U12345", "2025-05", false, map[string]int64{"cc-1": 295000, "cc-2": 160000})
	f.claim(t, "U23456", "2025-05", false, map[string]int64{"cc-1": 100000})
	f.claim(t, "U34567", "2025-05", false, map[string]int64{"cc-1": 100000})
	must(t)(f.store.RejectClaim(f.approver, "U34567", "2025-05", "", "no payslip"))
	must(t)(f.store.ApproveClaim(f.approver, claims.Request{}, "U12345", "2025-05", "", []claims.LineAdjustment{
		{PostID: "cc-2", ApprovedPence: 150000, Reason: "=1+1 shift claimed twice"}}))
	later := claims.NewStore(f.store.DB(), claims.WithClock(func() time.Time { return time.Date(2025, 7, 15, 9, 0, 0, 0, time.UTC) }))
	must(t)(later.RecordClaimPayment(f.finance, claims.Request{}, "U12345", "2025-05", "",
		claims.Payment{Date: day(t, "2025-07-15"), Reference: "REM-0815"}))
	// April: Riverside's approved, not yet paid; one withdrawn, one a draft.
	f.claim(t, "U12345", "2025-04", false, map[string]int64{"cc-1": 200000})
	f.claim(t, "U23456", "2025-04", false, map[string]int64{"cc-1": 100000})
	must(t)(f.store.WithdrawClaim(f.ctx, "U23456", "2025-04", "", "wrong month"))
	f.claim(t, "U34567", "2025-04", true, map[string]int64{"cc-1": 100000})
	must(t)(f.store.ApproveClaim(f.approver, claims.Request{}, "U12345", "2025-04", "", nil))

	rows, err := f.store.ExportClaimLines(f.finance, "QNQ", month(t, "2025-05"))
	if err != nil {
		t.Fatal(err)
	}
	// May has 31 days: a cap of £100 a day at 1 WTE is 310000p, at 0.5 WTE
	// 155000p. cc-2's 160000p is over its cap, and was approved at 150000p.
	// The payee is Riverside's nominated practice, by name. The formula-like
	// name and reason are quoted out of harm's way.
	want := "QNQ|U12345|PCN U12345|Practice A81001 (A81001)|2025-05|monthly|2025-05|paid|cc-1|care-coordinator|Megan Lewis||1|" +
		"295000|310000|295000|295000||alice@frimley.example|2025-07-10|2025-07-15|REM-0815\n" +
		`QNQ|U12345|PCN U12345|Practice A81001 (A81001)|2025-05|monthly|2025-05|paid|cc-2|care-coordinator|=HYPERLINK("https://evil.example","Dee")||0.5|` +
		"160000|155000|155000|150000|=1+1 shift claimed twice|alice@frimley.example|2025-07-10|2025-07-15|REM-0815\n"
	if got := exportLines(rows); got != want {
		t.Errorf("May export:\n%s\nwant:\n%s", got, want)
	}

	rows, err = f.store.ExportClaimLines(f.finance, "QNQ", month(t, "2025-04"))
	if err != nil {
		t.Fatal(err)
	}
	// April has 30 days: 300000p at 1 WTE; Riverside's cc-2 claimed nothing.
	want = "QNQ|U12345|PCN U12345|Practice A81001 (A81001)|2025-04|monthly|2025-04|approved|cc-1|care-coordinator|Megan Lewis||1|" +
		"200000|300000|200000|200000||alice@frimley.example|2025-07-10||\n" +
		`QNQ|U12345|PCN U12345|Practice A81001 (A81001)|2025-04|monthly|2025-04|approved|cc-2|care-coordinator|=HYPERLINK("https://evil.example","Dee")||0.5|` +
		"0|150000|0|0||alice@frimley.example|2025-07-10||\n"
	if got := exportLines(rows); got != want {
		t.Errorf("April export:\n%s\nwant:\n%s", got, want)
	}

	rows, err = f.store.ExportClaimLines(f.finance, "QNQ", month(t, "2025-06"))
	if err != nil || len(rows) != 0 {
		t.Errorf("a month with nothing approved: %d rows, %v; want none", len(rows), err)
	}
}

func TestExportIsScopedToTheCallersOrganisation(t *testing.T) {
	f := newExportFixture(t)
	f.claim(t, "U12345", "2025-05", false, map[string]int64{"cc-1": 295000})
	f.claim(t, "U23456", "2025-05", false, map[string]int64{"cc-1": 100000})
	for _, pcnCode := range []string{"U12345", "U23456"} {
		must(t)(f.store.ApproveClaim(f.approver, claims.Request{}, pcnCode, "2025-05", "", nil))
	}
	may := month(t, "2025-05")
	pcnsOf := func(rows []claims.ExportRow) string {
		var codes []string
		for _, r := range rows {
			codes = append(codes, r.PCNCode+"/"+r.Line.PostID)
		}
		return strings.Join(codes, " ")
	}

	rows, err := f.store.ExportClaimLines(f.finance, "QNQ", may)
	if err != nil || pcnsOf(rows) != "U12345/cc-1 U12345/cc-2 U23456/cc-1" {
		t.Errorf("QNQ's finance: %q, %v", pcnsOf(rows), err)
	}
	// Another commissioner's staff learn nothing, not even that QNQ has
	// lines: NOT_FOUND, as for any other organisation's resource.
	_, err = f.store.ExportClaimLines(f.otherICB, "QNQ", may)
	wantKind(t, err, claims.KindNotFound)
	rows, err = f.store.ExportClaimLines(f.otherICB, "QWO", may)
	if err != nil || len(rows) != 0 {
		t.Errorf("QWO's own export: %d rows, %v; want none", len(rows), err)
	}
	_, err = f.store.ExportClaimLines(f.ctx, "QZZ", may)
	wantKind(t, err, claims.KindNotFound)
	// A PCN's staff see their own PCN's lines only.
	cd := claims.WithActor(context.Background(), claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U23456"})
	rows, err = f.store.ExportClaimLines(cd, "QNQ", may)
	if err != nil || pcnsOf(rows) != "U23456/cc-1" {
		t.Errorf("U23456's clinical director: %q, %v", pcnsOf(rows), err)
	}
	hub := claims.WithActor(context.Background(), claims.Actor{Subject: "h", Role: claims.RoleTrainingHubOfficer, OrgKind: claims.OrgTrainingHub, OrgCode: "frimley"})
	_, err = f.store.ExportClaimLines(hub, "QNQ", may)
	wantKind(t, err, claims.KindNotFound)
	rows, err = f.store.ExportClaimLines(context.Background(), "QNQ", may)
	if err == nil || len(rows) != 0 {
		t.Errorf("without an actor: %d rows, %v; want an error", len(rows), err)
	}
	_, err = f.store.ExportClaimLines(f.finance, "QNQ", claims.Month{})
	wantViolation(t, err, "month", "REQUIRED")
}
