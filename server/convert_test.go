package server

import (
	"testing"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

func TestEveryClaimKindHasItsEnumValue(t *testing.T) {
	for kind, want := range map[claims.ClaimKind]arrsv1.Claim_Kind{
		claims.MonthlyClaim:       arrsv1.Claim_KIND_MONTHLY,
		claims.SupplementaryClaim: arrsv1.Claim_KIND_SUPPLEMENTARY,
	} {
		if got := (&claimService{store: claims.NewStore(nil)}).claimProto(claims.Claim{PCNCode: "U12345", ID: "2025-04", Kind: kind}, false).GetKind(); got != want {
			t.Errorf("a %s claim is %v on the wire, want %v", kind, got, want)
		}
	}
}
