package server

import (
	"google.golang.org/grpc"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/cpd"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// registerAPI registers every arrs.v1 service on s.
func registerAPI(s *grpc.Server, store *claims.Store, review *reviewMetrics, cps *checkpoints) {
	arrsv1.RegisterOrganisationServiceServer(s, &organisations{store: store})
	arrsv1.RegisterCatalogueServiceServer(s, &catalogue{store: store})
	arrsv1.RegisterFundingServiceServer(s, &funding{store: store})
	arrsv1.RegisterWorkforceServiceServer(s, &workforce{store: store})
	arrsv1.RegisterAuditServiceServer(s, &audit{store: store, checkpoints: cps})
	arrsv1.RegisterClaimServiceServer(s, &claimService{store: store, metrics: review})
	arrsv1.RegisterReportingServiceServer(s, &reportingService{store: store})
	arrsv1.RegisterCpdServiceServer(s, &cpdService{store: cpd.NewStore(store)})
}
