package server

import (
	"bytes"
	"testing"

	"arrs.nhs.uk/arrs/claims"
)

func TestExportNeutralisesFormulas(t *testing.T) {
	rows := []claims.ExportRow{{
		CommissionerCode: "QNQ", PCNCode: "U12345", ClaimID: "2025-05", Kind: claims.MonthlyClaim, Month: claims.MonthOf(claims.NewDate(2025, 5, 1)),
		State: claims.ClaimPaid, PCNName: "+44 PCN", Payee: "@payee", StaffName: "-2+3", RegistrationNumber: "\t=1",
		ApprovedBy: "=cmd|' /C calc'!A0", PaymentReference: "\r=2", PaymentDate: claims.NewDate(2025, 8, 1),
		Line: claims.ClaimLine{PostID: "cc-1", RoleID: "care-coordinator", WTE: 10000, CapPence: 5, ReimbursablePence: 5,
			AdjustmentReason: "safe = text"},
	}}
	var b bytes.Buffer
	if err := writeExportCSV(&b, rows); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	// encoding/csv, writing CRLF line ends, quotes a field holding a bare
	// carriage return and drops the carriage return.
	want := exportColumns + "\r\n" + "QNQ,U12345,'+44 PCN,'@payee,2025-05,monthly,2025-05,paid,cc-1,care-coordinator,'-2+3,'\t=1,1," +
		"0,5,5,5,0.05,safe = text,'=cmd|' /C calc'!A0,,2025-08-01,\"'=2\"\r\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
