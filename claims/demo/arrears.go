package demo

import (
	"context"
	"fmt"

	"arrs.nhs.uk/arrs/claims"
)

// The backdated award as the national process pays it: Riverside (U12345)
// paid the 3.3% arrears to its pharmacist and its frailty OT for its oldest
// demo month and has recorded them on that month's draft top-up, ready for
// the clinical director to declare and submit; the return-to-work OT, not
// paid the uplift, is left out. Its later months' top-ups show each staff
// member's maximum, nothing recorded yet.

// arrearsPaid are the arrears recorded (pence): 3.3% of each one's monthly
// costs, rounded to the penny. 447958 × 0.033 = 14782.61 → 14783; 52420 ×
// 0.033 = 1729.86 → 1730; 64416 × 0.033 = 2125.73 → 2126. 384567 × 0.033 =
// 12690.71 → 12691; 44012 → 1452.40 → 1452; 55301 → 1824.93 → 1825.
var arrearsPaid = map[string]claims.Arrears{
	"pharmacist-1": {GrossSalary: 14783, EmployerNI: 1730, EmployerPension: 2126},
	"ot-frailty":   {GrossSalary: 12691, EmployerNI: 1452, EmployerPension: 1825},
}

// payArrears records Riverside's arrears on its oldest top-up, paid nine
// days ago, while it is a draft: one the PCN has moved on is left as it is,
// so Load stays safe to run on every start.
func payArrears(ctx context.Context, store *claims.Store, today claims.Date) error {
	cd := claims.WithActor(ctx, clinicalDirector("U12345"))
	list, _, err := store.ListClaims(cd, claims.ClaimFilter{PCNCode: "U12345"}, claims.Page{Size: 100})
	if err != nil {
		return err
	}
	for _, c := range list {
		if c.Kind != claims.SupplementaryClaim {
			continue
		}
		if c.State != claims.ClaimDraft {
			return nil
		}
		full, err := store.GetClaim(cd, c.PCNCode, c.ID)
		if err != nil {
			return err
		}
		paid := today.AddDays(-9)
		for _, l := range full.Lines {
			a, ok := arrearsPaid[l.PostID]
			if !ok || l.Arrears.Paid() {
				continue
			}
			a.PaidDate = paid
			if _, err := on(store, paid).UpdateClaimLine(cd, c.PCNCode, c.ID, l.PostID, "", func(l *claims.ClaimLine) { l.Arrears = a }); err != nil {
				return fmt.Errorf("demo arrears %s: %w", l.Name(), err)
			}
		}
		return nil
	}
	return nil
}
