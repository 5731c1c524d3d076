package server

import (
	"slices"

	"arrs.nhs.uk/arrs/claims"
)

// The access policy, in one place: every RPC the server offers names the one
// permission it needs, and every access role names the permissions it holds.
// An RPC missing from rpcPermissions is refused for everyone (default deny),
// and a test walks the service descriptors so a new RPC cannot ship without
// a line here.
//
// The policy decides which RPCs a caller may use; which rows it then sees is
// decided by package claims from the caller's organisation (a PCN's staff
// see their PCN, a commissioner's staff the PCNs it commissions), so a
// permitted call for another organisation's resource is NOT_FOUND.

// permission is one kind of access, for example "posts.write".
type permission string

const (
	// Reading national reference data: commissioners, roles, rates, years.
	permReferenceRead permission = "reference.read"
	permPCNsRead      permission = "pcns.read"
	permEntitleRead   permission = "entitlements.read"
	permPostsRead     permission = "posts.read"
	permPostsWrite    permission = "posts.write"
	permOrgsWrite     permission = "organisations.write"
	permCatalogWrite  permission = "catalogue.write"
	permFundingWrite  permission = "funding.write"
	permClaimsRead    permission = "claims.read"
	permClaimsWrite   permission = "claims.write"
	permClaimsSubmit  permission = "claims.submit"
	permBudgetRead    permission = "budget.read"
	permClaimsReview  permission = "claims.review"
	permClaimsPay     permission = "claims.pay"
	permClaimsExport  permission = "claims.export"
	permAuditRead     permission = "audit.read"
	permAuditVerify   permission = "audit.verify"
	// Previewing a rate's top-ups reads every PCN's settled claims: national,
	// though it writes nothing.
	permRatePreview permission = "rates.preview"
	// permReportsRead reads the pictures across PCNs: a commissioner's
	// position, the workforce statistics. The store scopes them further.
	permReportsRead permission = "reports.read"
	// permLocalRolesWrite approves, changes and retires a commissioner's
	// local roles; the store limits it to the caller's own commissioner.
	permLocalRolesWrite permission = "localroles.write"
	// permLocalRolesRead reads commissioners' local roles: those who work
	// with a commissioner's PCNs. The store shows each only its
	// commissioner's.
	permLocalRolesRead permission = "localroles.read"
	// The CPD ledger: reading it (the store scopes a practice to itself, a
	// hub to its practices), a practice's needs and requests, a hub's
	// courses and decisions, and NHS England's hubs, schemes and baselines.
	permCPDRead     permission = "cpd.read"
	permCPDPractice permission = "cpd.practice"
	permCPDHub      permission = "cpd.hub"
	permCPDAdmin    permission = "cpd.admin"
	// public marks an RPC anyone may call without credentials.
	public permission = "public"
	// anyCaller marks an RPC every authenticated caller may use, whatever
	// their role: reflection, when production turns it on.
	anyCaller permission = "authenticated"
)

// rpcPermissions maps every RPC's full method name to what it needs.
// Replying to a query is preparing the claim, so it needs what an edit does.
var rpcPermissions = map[string]permission{
	"/arrs.v1.OrganisationService/GetCommissioner":    permReferenceRead,
	"/arrs.v1.OrganisationService/ListCommissioners":  permReferenceRead,
	"/arrs.v1.OrganisationService/CreateCommissioner": permOrgsWrite,
	"/arrs.v1.OrganisationService/UpdateCommissioner": permOrgsWrite,
	"/arrs.v1.OrganisationService/GetPcn":             permPCNsRead,
	"/arrs.v1.OrganisationService/ListPcns":           permPCNsRead,
	"/arrs.v1.OrganisationService/CreatePcn":          permOrgsWrite,
	"/arrs.v1.OrganisationService/UpdatePcn":          permOrgsWrite,
	// Sub-ICB locations are national reference data, as commissioners are
	// (the Organisation Data Service publishes them); the figures broken
	// down by them are what is scoped.
	"/arrs.v1.OrganisationService/GetSubIcbLocation":    permReferenceRead,
	"/arrs.v1.OrganisationService/ListSubIcbLocations":  permReferenceRead,
	"/arrs.v1.OrganisationService/CreateSubIcbLocation": permOrgsWrite,

	"/arrs.v1.CatalogueService/GetRole":           permReferenceRead,
	"/arrs.v1.CatalogueService/ListRoles":         permReferenceRead,
	"/arrs.v1.CatalogueService/CreateRole":        permCatalogWrite,
	"/arrs.v1.CatalogueService/UpdateRole":        permCatalogWrite,
	"/arrs.v1.CatalogueService/GetRate":           permReferenceRead,
	"/arrs.v1.CatalogueService/ListRates":         permReferenceRead,
	"/arrs.v1.CatalogueService/CreateRate":        permCatalogWrite,
	"/arrs.v1.CatalogueService/UpdateRate":        permCatalogWrite,
	"/arrs.v1.CatalogueService/PreviewRateTopUps": permRatePreview,
	// Local roles are read by their commissioner and its PCNs; the store
	// hides them from everyone else.
	"/arrs.v1.CatalogueService/GetLocalRole":    permLocalRolesRead,
	"/arrs.v1.CatalogueService/ListLocalRoles":  permLocalRolesRead,
	"/arrs.v1.CatalogueService/CreateLocalRole": permLocalRolesWrite,
	"/arrs.v1.CatalogueService/UpdateLocalRole": permLocalRolesWrite,
	"/arrs.v1.CatalogueService/RetireLocalRole": permLocalRolesWrite,

	"/arrs.v1.FundingService/GetFinancialYear":    permReferenceRead,
	"/arrs.v1.FundingService/ListFinancialYears":  permReferenceRead,
	"/arrs.v1.FundingService/CreateFinancialYear": permFundingWrite,
	"/arrs.v1.FundingService/UpdateFinancialYear": permFundingWrite,
	"/arrs.v1.FundingService/GetEntitlement":      permEntitleRead,
	"/arrs.v1.FundingService/ListEntitlements":    permEntitleRead,
	"/arrs.v1.FundingService/CreateEntitlement":   permFundingWrite,
	"/arrs.v1.FundingService/UpdateEntitlement":   permFundingWrite,

	"/arrs.v1.WorkforceService/GetPost":          permPostsRead,
	"/arrs.v1.WorkforceService/ListPosts":        permPostsRead,
	"/arrs.v1.WorkforceService/CreatePost":       permPostsWrite,
	"/arrs.v1.WorkforceService/BatchCreatePosts": permPostsWrite,
	"/arrs.v1.WorkforceService/UpdatePost":       permPostsWrite,
	"/arrs.v1.WorkforceService/RecruitPost":      permPostsWrite,
	"/arrs.v1.WorkforceService/FillPost":         permPostsWrite,
	"/arrs.v1.WorkforceService/EndPost":          permPostsWrite,

	"/arrs.v1.ClaimService/GetClaim":              permClaimsRead,
	"/arrs.v1.ClaimService/ListClaims":            permClaimsRead,
	"/arrs.v1.ClaimService/CreateClaim":           permClaimsWrite,
	"/arrs.v1.ClaimService/UpdateClaimLine":       permClaimsWrite,
	"/arrs.v1.ClaimService/BatchUpdateClaimLines": permClaimsWrite,
	"/arrs.v1.ClaimService/ImportClaimLines":      permClaimsWrite,
	"/arrs.v1.ClaimService/WithdrawClaim":         permClaimsWrite,
	"/arrs.v1.ClaimService/SubmitClaim":           permClaimsSubmit,
	"/arrs.v1.ClaimService/GetBudget":             permBudgetRead,
	// A backdated award is read by the PCN's staff and its commissioner, as
	// its claims are; the store scopes the rows.
	"/arrs.v1.ClaimService/GetBackdatedAward":  permClaimsRead,
	"/arrs.v1.ClaimService/ListReviewQueue":    permClaimsReview,
	"/arrs.v1.ClaimService/ApproveClaim":       permClaimsReview,
	"/arrs.v1.ClaimService/RejectClaim":        permClaimsReview,
	"/arrs.v1.ClaimService/QueryClaim":         permClaimsReview,
	"/arrs.v1.ClaimService/ReplyToClaimQuery":  permClaimsWrite,
	"/arrs.v1.ClaimService/RecordClaimPayment": permClaimsPay,
	"/arrs.v1.ClaimService/ExportClaimLines":   permClaimsExport,

	"/arrs.v1.ReportingService/GetCommissionerPosition": permReportsRead,
	"/arrs.v1.ReportingService/ListWorkforceStatistics": permReportsRead,
	"/arrs.v1.AuditService/ListAuditEvents":             permAuditRead,
	"/arrs.v1.AuditService/VerifyAuditChain":            permAuditVerify,
	// Checkpoints list every PCN's activity count: national staff and
	// witnesses (service accounts given audit.verify) only.
	"/arrs.v1.AuditService/PublishAuditCheckpoint": permAuditVerify,
	"/arrs.v1.AuditService/GetAuditCheckpoint":     permAuditVerify,

	"/arrs.v1.CpdService/UpdateTrainingHub":      permCPDAdmin,
	"/arrs.v1.CpdService/CreateTrainingHub":      permCPDAdmin,
	"/arrs.v1.CpdService/GetTrainingHub":         permCPDRead,
	"/arrs.v1.CpdService/ListTrainingHubs":       permCPDRead,
	"/arrs.v1.CpdService/CreateCpdScheme":        permCPDAdmin,
	"/arrs.v1.CpdService/GetCpdScheme":           permCPDRead,
	"/arrs.v1.CpdService/ListCpdSchemes":         permCPDRead,
	"/arrs.v1.CpdService/UpdateCpdBaseline":      permCPDAdmin,
	"/arrs.v1.CpdService/CreateCpdBaseline":      permCPDAdmin,
	"/arrs.v1.CpdService/ListCpdAllocations":     permCPDRead,
	"/arrs.v1.CpdService/CreateCpdNeed":          permCPDPractice,
	"/arrs.v1.CpdService/GetCpdNeed":             permCPDRead,
	"/arrs.v1.CpdService/ListCpdNeeds":           permCPDRead,
	"/arrs.v1.CpdService/GetCpdNeedSummary":      permCPDRead,
	"/arrs.v1.CpdService/GetCpdFairness":         permCPDRead,
	"/arrs.v1.CpdService/CreateCpdCourse":        permCPDHub,
	"/arrs.v1.CpdService/GetCpdCourse":           permCPDRead,
	"/arrs.v1.CpdService/ListCpdCourses":         permCPDRead,
	"/arrs.v1.CpdService/CreateCpdRequest":       permCPDPractice,
	"/arrs.v1.CpdService/GetCpdRequest":          permCPDRead,
	"/arrs.v1.CpdService/ListCpdRequests":        permCPDRead,
	"/arrs.v1.CpdService/AllocateCpdCoursePlace": permCPDHub,
	"/arrs.v1.CpdService/ApproveCpdRequest":      permCPDHub,
	"/arrs.v1.CpdService/PartFundCpdRequest":     permCPDHub,
	"/arrs.v1.CpdService/RejectCpdRequest":       permCPDHub,
	"/arrs.v1.CpdService/RecordCpdPayment":       permCPDHub,

	// Probes and load balancers check health without credentials, by
	// polling or by watching.
	"/grpc.health.v1.Health/Check": public,
	"/grpc.health.v1.Health/Watch": public,
}

// ReflectionAccess says who may use gRPC server reflection, which lists every
// service and message of the API: convenient for grpcurl in development,
// and a map of the attack surface for anyone else.
type ReflectionAccess int

const (
	// ReflectionOff does not serve reflection at all (the zero value, so a
	// Config that does not decide gets the safe choice).
	ReflectionOff ReflectionAccess = iota
	// ReflectionAuthenticated serves it to any authenticated caller.
	ReflectionAuthenticated
	// ReflectionPublic serves it to anyone, as in development.
	ReflectionPublic
)

// reflectionMethods are the reflection service's streaming methods, in both
// the current and the alpha version grpcurl still tries first.
var reflectionMethods = []string{
	"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
	"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
}

// reflectionPermissions are the policy lines reflection adds under ra; none
// when it is off, so its methods fall to the default deny.
func reflectionPermissions(ra ReflectionAccess) map[string]permission {
	need := map[ReflectionAccess]permission{ReflectionAuthenticated: anyCaller, ReflectionPublic: public}[ra]
	if need == "" {
		return nil
	}
	lines := make(map[string]permission, len(reflectionMethods))
	for _, m := range reflectionMethods {
		lines[m] = need
	}
	return lines
}

// rolePermissions is what each access role may do.
var rolePermissions = map[claims.AccessRole][]permission{
	claims.RolePCNClinicalDirector: {permReferenceRead, permPCNsRead, permEntitleRead, permPostsRead, permPostsWrite,
		permClaimsRead, permClaimsWrite, permClaimsSubmit, permBudgetRead, permAuditRead, permLocalRolesRead},
	// A PCN manager prepares claims; only the clinical director submits.
	claims.RolePCNManager: {permReferenceRead, permPCNsRead, permEntitleRead, permPostsRead, permPostsWrite,
		permClaimsRead, permClaimsWrite, permBudgetRead, permAuditRead, permLocalRolesRead},
	// An approver also approves the commissioner's local roles: a
	// commissioning decision, not a payment.
	claims.RoleCommissionerApprover: {permReferenceRead, permPCNsRead, permEntitleRead, permPostsRead,
		permClaimsRead, permBudgetRead, permAuditRead, permClaimsReview, permReportsRead, permLocalRolesRead, permLocalRolesWrite},
	claims.RoleCommissionerFinance: {permReferenceRead, permPCNsRead, permEntitleRead, permPostsRead,
		permClaimsRead, permBudgetRead, permClaimsPay, permClaimsExport, permReportsRead, permLocalRolesRead},
	// A hub officer runs the CPD ledger of the practices the hub serves.
	claims.RoleTrainingHubOfficer: {permReferenceRead, permCPDRead, permCPDHub},
	// A practice manager records the practice's CPD needs and requests.
	claims.RolePracticeManager: {permCPDRead, permCPDPractice},
	// NHS England keeps the reference data and sees every PCN, but does not
	// run a PCN's workforce.
	claims.RoleNationalAdministrator: {permReferenceRead, permPCNsRead, permEntitleRead, permPostsRead,
		permClaimsRead, permBudgetRead, permReportsRead, permLocalRolesRead,
		permOrgsWrite, permCatalogWrite, permRatePreview, permFundingWrite, permAuditRead, permAuditVerify,
		permCPDRead, permCPDAdmin},
	// Service accounts hold exactly what their configuration grants.
	claims.RoleServiceAccount: nil,
}

// permits reports whether a caller with role (and granted permissions)
// holds need.
func permits(need permission, role claims.AccessRole, granted []string) bool {
	switch {
	case need == public, need == anyCaller:
		return true
	case role == claims.RoleServiceAccount:
		return slices.Contains(granted, string(need))
	}
	return slices.Contains(rolePermissions[role], need)
}

// isPublic reports whether method may be called without credentials.
func isPublic(method string) bool { return rpcPermissions[method] == public }
