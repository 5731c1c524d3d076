package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/claims/demo"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/server/auth"
)

// tokenAuthenticator stands in for JWT verification (tested in package auth)
// so the access matrix tests the policy and the data scoping: the bearer
// token is simply the name of an identity.
type tokenAuthenticator map[string]auth.Identity

func (a tokenAuthenticator) Authenticate(ctx context.Context) (auth.Identity, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if id, ok := a[strings.TrimPrefix(v, "Bearer ")]; ok {
			return id, nil
		}
	}
	return auth.Identity{}, errors.New("no such test identity")
}

// The callers of every server test. "own" callers act for the organisation that owns
// the target PCN U12345 (or commissions it); "foreign" ones for another.
var testIdentities = tokenAuthenticator{
	"cd-own":           {Subject: "cd1", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U12345"},
	"cd-foreign":       {Subject: "cd2", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U23456"},
	"manager-own":      {Subject: "m1", Role: claims.RolePCNManager, OrgKind: claims.OrgPCN, OrgCode: "U12345"},
	"manager-foreign":  {Subject: "m2", Role: claims.RolePCNManager, OrgKind: claims.OrgPCN, OrgCode: "U23456"},
	"approver-own":     {Subject: "a1", Role: claims.RoleCommissionerApprover, OrgKind: claims.OrgCommissioner, OrgCode: "QNQ"},
	"approver-foreign": {Subject: "a2", Role: claims.RoleCommissionerApprover, OrgKind: claims.OrgCommissioner, OrgCode: "QWO"},
	"finance-own":      {Subject: "f1", Role: claims.RoleCommissionerFinance, OrgKind: claims.OrgCommissioner, OrgCode: "QNQ"},
	"finance-foreign":  {Subject: "f2", Role: claims.RoleCommissionerFinance, OrgKind: claims.OrgCommissioner, OrgCode: "QWO"},
	"hub":              {Subject: "h1", Role: claims.RoleTrainingHubOfficer, OrgKind: claims.OrgTrainingHub, OrgCode: "frimley"},
	"hub-foreign":      {Subject: "h2", Role: claims.RoleTrainingHubOfficer, OrgKind: claims.OrgTrainingHub, OrgCode: "surrey-heartlands"},
	"practice-own":     {Subject: "p1", Role: claims.RolePracticeManager, OrgKind: claims.OrgPractice, OrgCode: "K81001"},
	"practice-foreign": {Subject: "p2", Role: claims.RolePracticeManager, OrgKind: claims.OrgPractice, OrgCode: "K81020"},
	"national":         {Subject: "n1", Role: claims.RoleNationalAdministrator, OrgKind: claims.OrgNational},
	"reporting":        {Subject: "service:reporting", Role: claims.RoleServiceAccount, OrgKind: claims.OrgNational, Permissions: []string{"posts.read", "pcns.read"}},
}

// Who may call what, written out as the specification the policy must meet.
// A caller not listed gets PERMISSION_DENIED.
var (
	everyone = []string{"cd", "manager", "approver", "finance", "hub", "national"}
	pcnStaff = []string{"cd", "manager"}
	// Only a clinical director submits a claim.
	clinicalDirector = []string{"cd"}
	approvers        = []string{"approver"}
	finance          = []string{"finance"}
	readers          = []string{"cd", "manager", "approver", "finance", "national"}
	auditors         = []string{"cd", "manager", "approver", "national"}
	national         = []string{"national"}
	reporting        = []string{"reporting"}
	// The CPD ledger: practice managers, hub officers and NHS England.
	cpdReaders  = []string{"practice", "hub", "national"}
	practiceMgr = []string{"practice"}
	hubOfficer  = []string{"hub"}
)

// accessRow is one RPC of the matrix: a request against PCN U12345's
// resources (as protojson) and who may call it. scoped RPCs touch a PCN's
// data: a foreign caller gets NOT_FOUND (or, listing, no rows).
type accessRow struct {
	request string
	who     [][]string
	scoped  bool
}

// commissionerResources are the rows naming a resource of commissioner QNQ,
// which commissions every demo PCN: only the other commissioner's staff are
// foreign to them.
var commissionerResources = map[string]bool{
	"/arrs.v1.CatalogueService/GetLocalRole": true, "/arrs.v1.CatalogueService/CreateLocalRole": true,
	"/arrs.v1.CatalogueService/RetireLocalRole": true, "/arrs.v1.CatalogueService/UpdateLocalRole": true,
}

var accessMatrix = map[string]accessRow{
	"/arrs.v1.OrganisationService/GetCommissioner":    {`{"name":"commissioners/QNQ"}`, [][]string{everyone}, false},
	"/arrs.v1.OrganisationService/ListCommissioners":  {`{}`, [][]string{everyone}, false},
	"/arrs.v1.OrganisationService/CreateCommissioner": {`{"commissionerId":"QAA","commissioner":{"kind":"KIND_ICB","displayName":"New ICB","validFrom":"2026-04-01"}}`, [][]string{national}, false},
	"/arrs.v1.OrganisationService/UpdateCommissioner": {`{"commissioner":{"name":"commissioners/QNQ","displayName":"Renamed"},"updateMask":"displayName"}`, [][]string{national}, false},
	"/arrs.v1.OrganisationService/GetPcn":             {`{"name":"pcns/U12345"}`, [][]string{readers, reporting}, true},
	"/arrs.v1.OrganisationService/ListPcns":           {`{}`, [][]string{readers, reporting}, true},
	"/arrs.v1.OrganisationService/CreatePcn":          {`{"pcnId":"U77777","pcn":{"displayName":"New","commissioner":"commissioners/QNQ","weightingZone":"WEIGHTING_ZONE_NATIONAL","memberPractices":[{"odsCode":"K89999","displayName":"P"}],"nominatedPayee":{"kind":"KIND_PCN_ACCOUNT"}}}`, [][]string{national}, false},
	"/arrs.v1.OrganisationService/UpdatePcn":          {`{"pcn":{"name":"pcns/U12345","displayName":"Renamed"},"updateMask":"displayName"}`, [][]string{national}, false},
	// Reference data, as commissioners are: everyone who reads the
	// catalogue reads them; NHS England loads them.
	"/arrs.v1.OrganisationService/GetSubIcbLocation":    {`{"name":"commissioners/QNQ/subIcbLocations/99M"}`, [][]string{everyone}, false},
	"/arrs.v1.OrganisationService/ListSubIcbLocations":  {`{"parent":"commissioners/-"}`, [][]string{everyone}, false},
	"/arrs.v1.OrganisationService/CreateSubIcbLocation": {`{"parent":"commissioners/QNQ","subIcbLocationId":"10C","subIcbLocation":{"displayName":"Surrey Heath"}}`, [][]string{national}, false},

	"/arrs.v1.CatalogueService/GetRole":    {`{"name":"roles/occupational-therapist"}`, [][]string{everyone}, false},
	"/arrs.v1.CatalogueService/ListRoles":  {`{}`, [][]string{everyone}, false},
	"/arrs.v1.CatalogueService/CreateRole": {`{"roleId":"dietitian","role":{"displayName":"Dietitian","register":"PROFESSIONAL_REGISTER_HCPC","registrationPrefix":"DT","reimbursableFrom":"2020-04-01"}}`, [][]string{national}, false},
	"/arrs.v1.CatalogueService/UpdateRole": {`{"role":{"name":"roles/occupational-therapist","displayName":"OT"},"updateMask":"displayName"}`, [][]string{national}, false},
	"/arrs.v1.CatalogueService/GetRate":    {`{"name":"roles/occupational-therapist/rates/2025-04-01"}`, [][]string{everyone}, false},
	"/arrs.v1.CatalogueService/ListRates":  {`{"parent":"roles/-"}`, [][]string{everyone}, false},
	"/arrs.v1.CatalogueService/CreateRate": {`{"parent":"roles/occupational-therapist","rate":{"effectiveDate":"2026-04-01","nationalMaxPence":"6800000"}}`, [][]string{national}, false},
	"/arrs.v1.CatalogueService/UpdateRate": {`{"rate":{"name":"roles/occupational-therapist/rates/2025-04-01","source":"corrected"},"updateMask":"source"}`, [][]string{national}, false},
	// A preview writes nothing, but reads every PCN's settled claims.
	"/arrs.v1.CatalogueService/PreviewRateTopUps": {`{"parent":"roles/occupational-therapist","rate":{"effectiveDate":"2025-06-01","nationalMaxPence":"6800000"}}`, [][]string{national}, false},
	"/arrs.v1.CatalogueService/GetLocalRole":      {`{"name":"commissioners/QNQ/localRoles/frailty-practitioner"}`, [][]string{readers}, true},
	// A foreign commissioner's listing is empty, as the scoping test shows.
	"/arrs.v1.CatalogueService/ListLocalRoles":  {`{"parent":"commissioners/QNQ"}`, [][]string{readers}, false},
	"/arrs.v1.CatalogueService/CreateLocalRole": {`{"parent":"commissioners/QNQ","localRoleId":"dementia-navigator","localRole":{"displayName":"Dementia navigator","register":"PROFESSIONAL_REGISTER_NONE","approvedFrom":"2026-06-01","maxAnnualPence":"3500000"}}`, [][]string{approvers}, true},
	// Retire runs before Update (in name order): updating a retired role is
	// FAILED_PRECONDITION, which still shows the call was let through.
	"/arrs.v1.CatalogueService/RetireLocalRole": {`{"name":"commissioners/QNQ/localRoles/frailty-practitioner","lastDay":"2027-03-31"}`, [][]string{approvers}, true},
	"/arrs.v1.CatalogueService/UpdateLocalRole": {`{"localRole":{"name":"commissioners/QNQ/localRoles/frailty-practitioner","displayName":"Frailty"},"updateMask":"displayName"}`, [][]string{approvers}, true},

	"/arrs.v1.FundingService/GetFinancialYear":    {`{"name":"financialYears/2025-26"}`, [][]string{everyone}, false},
	"/arrs.v1.FundingService/ListFinancialYears":  {`{}`, [][]string{everyone}, false},
	"/arrs.v1.FundingService/CreateFinancialYear": {`{"financialYearId":"2026-27","financialYear":{"ratePerWeightedPatient":"27.5"}}`, [][]string{national}, false},
	"/arrs.v1.FundingService/UpdateFinancialYear": {`{"financialYear":{"name":"financialYears/2025-26","ratePerWeightedPatient":"26.631"}}`, [][]string{national}, false},
	"/arrs.v1.FundingService/GetEntitlement":      {`{"name":"pcns/U12345/entitlements/2025-26"}`, [][]string{readers}, true},
	"/arrs.v1.FundingService/ListEntitlements":    {`{"parent":"pcns/U12345"}`, [][]string{readers}, true},
	"/arrs.v1.FundingService/CreateEntitlement":   {`{"parent":"pcns/U12345","entitlementId":"2023-24","entitlement":{"weightedPopulation":"50000"}}`, [][]string{national}, false},
	"/arrs.v1.FundingService/UpdateEntitlement":   {`{"entitlement":{"name":"pcns/U12345/entitlements/2025-26","weightedPopulation":"52345.67"}}`, [][]string{national}, false},

	"/arrs.v1.WorkforceService/GetPost":          {`{"name":"pcns/U12345/posts/ot-frailty"}`, [][]string{readers, reporting}, true},
	"/arrs.v1.WorkforceService/ListPosts":        {`{"parent":"pcns/U12345"}`, [][]string{readers, reporting}, true},
	"/arrs.v1.WorkforceService/CreatePost":       {`{"parent":"pcns/U12345","post":{"role":"roles/care-coordinator","wte":"1","startDate":"2026-01-05"}}`, [][]string{pcnStaff}, true},
	"/arrs.v1.WorkforceService/BatchCreatePosts": {`{"parent":"pcns/U12345","requests":[{"post":{"role":"roles/care-coordinator","wte":"1","startDate":"2026-01-05"}}]}`, [][]string{pcnStaff}, true},
	"/arrs.v1.WorkforceService/UpdatePost":       {`{"post":{"name":"pcns/U12345/posts/ot-frailty","employer":"Riverside Surgery"},"updateMask":"employer"}`, [][]string{pcnStaff}, true},
	"/arrs.v1.WorkforceService/RecruitPost":      {`{"name":"pcns/U12345/posts/ot-mental-health-plan"}`, [][]string{pcnStaff}, true},
	"/arrs.v1.WorkforceService/FillPost":         {`{"name":"pcns/U12345/posts/ot-mental-health-plan","staffName":"Nia Evans","registrationNumber":"OT123456"}`, [][]string{pcnStaff}, true},
	"/arrs.v1.WorkforceService/EndPost":          {`{"name":"pcns/U12345/posts/ot-return-to-work","endDate":"2026-03-31"}`, [][]string{pcnStaff}, true},

	"/arrs.v1.ClaimService/GetClaim":              {`{"name":"pcns/U12345/claims/2026-10"}`, [][]string{readers}, true},
	"/arrs.v1.ClaimService/ListClaims":            {`{"parent":"pcns/U12345"}`, [][]string{readers}, true},
	"/arrs.v1.ClaimService/CreateClaim":           {`{"parent":"pcns/U12345","claimId":"2025-10"}`, [][]string{pcnStaff}, true},
	"/arrs.v1.ClaimService/BatchUpdateClaimLines": {`{"parent":"pcns/U12345/claims/2026-11","requests":[{"claimLine":{"name":"pcns/U12345/claims/2026-11/lines/ot-frailty","grossSalaryPence":"390000"},"updateMask":"grossSalaryPence"}]}`, [][]string{pcnStaff}, true},
	"/arrs.v1.ClaimService/ImportClaimLines":      {`{"parent":"pcns/U12345/claims/2026-11","csvData":"post,gross_salary\not-frailty,3900.00\n"}`, [][]string{pcnStaff}, true},
	"/arrs.v1.ClaimService/UpdateClaimLine":       {`{"claimLine":{"name":"pcns/U12345/claims/2026-11/lines/ot-frailty","grossSalaryPence":"390000"},"updateMask":"grossSalaryPence"}`, [][]string{pcnStaff}, true},
	"/arrs.v1.ClaimService/SubmitClaim":           {`{"name":"pcns/U12345/claims/2026-11"}`, [][]string{clinicalDirector}, true},
	"/arrs.v1.ClaimService/WithdrawClaim":         {`{"name":"pcns/U12345/claims/2026-10","reason":"duplicate"}`, [][]string{pcnStaff}, true},
	"/arrs.v1.ClaimService/GetBudget":             {`{"name":"pcns/U12345/budgets/2025-26"}`, [][]string{readers}, true},
	// The PCN's staff and its commissioner read the award; only the
	// clinical director declares and submits (SubmitClaim above).
	"/arrs.v1.ClaimService/GetBackdatedAward":  {`{"name":"pcns/U12345/backdatedAwards/2026-27"}`, [][]string{readers}, true},
	"/arrs.v1.ClaimService/ListReviewQueue":    {`{"commissioner":"commissioners/QNQ"}`, [][]string{approvers}, true},
	"/arrs.v1.ClaimService/ApproveClaim":       {`{"name":"pcns/U12345/claims/2026-09"}`, [][]string{approvers}, true},
	"/arrs.v1.ClaimService/QueryClaim":         {`{"name":"pcns/U12345/claims/2026-10","question":"Is there a payslip for October?"}`, [][]string{approvers}, true},
	"/arrs.v1.ClaimService/ReplyToClaimQuery":  {`{"name":"pcns/U12345/claims/2026-10","text":"The payslip is attached.","evidenceUris":["https://evidence.example/payslip"]}`, [][]string{pcnStaff}, true},
	"/arrs.v1.ClaimService/RejectClaim":        {`{"name":"pcns/U12345/claims/2026-10","reason":"No payslip"}`, [][]string{approvers}, true},
	"/arrs.v1.ClaimService/RecordClaimPayment": {`{"name":"pcns/U12345/claims/2026-09","payment":{"paymentDate":"2025-08-01","reference":"REM-2025-0815"}}`, [][]string{finance}, true},
	"/arrs.v1.ClaimService/ExportClaimLines":   {`{"commissioner":"commissioners/QNQ","month":"2026-08"}`, [][]string{finance}, true},

	"/arrs.v1.ReportingService/GetCommissionerPosition": {`{"name":"commissioners/QNQ/positions/2026-27"}`, [][]string{approvers, finance, national}, true},
	"/arrs.v1.ReportingService/ListWorkforceStatistics": {`{"parent":"commissioners/QNQ","financialYear":"2026-27"}`, [][]string{approvers, finance, national}, true},

	"/arrs.v1.AuditService/ListAuditEvents":        {`{"resource":"pcns/U12345/posts/ot-frailty"}`, [][]string{auditors}, true},
	"/arrs.v1.AuditService/VerifyAuditChain":       {`{}`, [][]string{national}, false},
	"/arrs.v1.AuditService/PublishAuditCheckpoint": {`{}`, [][]string{national}, false},
	"/arrs.v1.AuditService/GetAuditCheckpoint":     {`{"name":"auditCheckpoints/latest"}`, [][]string{national}, false},

	"/arrs.v1.CpdService/CreateTrainingHub":      {`{"trainingHubId":"kent","trainingHub":{"displayName":"Kent Training Hub"}}`, [][]string{national}, false},
	"/arrs.v1.CpdService/UpdateTrainingHub":      {`{"trainingHub":{"name":"trainingHubs/frimley","displayName":"Frimley and Surrey Heath Training Hub"},"updateMask":"displayName"}`, [][]string{national}, false},
	"/arrs.v1.CpdService/GetTrainingHub":         {`{"name":"trainingHubs/frimley"}`, [][]string{cpdReaders}, true},
	"/arrs.v1.CpdService/ListTrainingHubs":       {`{}`, [][]string{cpdReaders}, true},
	"/arrs.v1.CpdService/CreateCpdScheme":        {`{"cpdSchemeId":"cpd-2027-28","cpdScheme":{"displayName":"CPD 2027/28","firstYear":"2027-28","years":1,"amountBasis":"AMOUNT_BASIS_PER_YEAR","amountPerHeadPence":"33300","staffGroups":["CPD_STAFF_GROUP_REGISTERED_NURSE"],"endDate":"2028-03-31"}}`, [][]string{national}, false},
	"/arrs.v1.CpdService/GetCpdScheme":           {`{"name":"cpdSchemes/cpd-2026-27"}`, [][]string{cpdReaders}, false},
	"/arrs.v1.CpdService/ListCpdSchemes":         {`{}`, [][]string{cpdReaders}, false},
	"/arrs.v1.CpdService/CreateCpdBaseline":      {`{"parent":"cpdSchemes/cpd-2026-27","cpdBaselineId":"K81021","cpdBaseline":{"eligibleHeadcount":3}}`, [][]string{national}, false},
	"/arrs.v1.CpdService/UpdateCpdBaseline":      {`{"cpdBaseline":{"name":"cpdSchemes/cpd-2026-27/baselines/K81003","eligibleHeadcount":4}}`, [][]string{national}, false},
	"/arrs.v1.CpdService/ListCpdAllocations":     {`{"parent":"practices/K81001"}`, [][]string{cpdReaders}, true},
	"/arrs.v1.CpdService/CreateCpdNeed":          {`{"parent":"practices/K81001","cpdNeed":{"professional":"Jo","staffGroup":"CPD_STAFF_GROUP_REGISTERED_NURSE","appraisalDate":"2026-06-01","need":"Wound care","topic":"Wound care"}}`, [][]string{practiceMgr}, true},
	"/arrs.v1.CpdService/GetCpdNeed":             {`{"name":"practices/K81001/cpdNeeds/grace-diabetes"}`, [][]string{cpdReaders}, true},
	"/arrs.v1.CpdService/ListCpdNeeds":           {`{"parent":"practices/K81001"}`, [][]string{cpdReaders}, true},
	"/arrs.v1.CpdService/GetCpdNeedSummary":      {`{"name":"trainingHubs/frimley/cpdNeedSummary"}`, [][]string{cpdReaders}, true},
	"/arrs.v1.CpdService/GetCpdFairness":         {`{"name":"trainingHubs/frimley/cpdFairness","scheme":"cpdSchemes/cpd-2026-27"}`, [][]string{cpdReaders}, true},
	"/arrs.v1.CpdService/CreateCpdCourse":        {`{"parent":"trainingHubs/frimley","cpdCourse":{"title":"Spirometry","topic":"Respiratory","provider":"Uni","startDate":"2027-02-01","endDate":"2027-02-01","places":5,"costPerPlacePence":"20000"}}`, [][]string{hubOfficer}, true},
	"/arrs.v1.CpdService/GetCpdCourse":           {`{"name":"trainingHubs/frimley/courses/diabetes-update"}`, [][]string{cpdReaders}, true},
	"/arrs.v1.CpdService/ListCpdCourses":         {`{"parent":"trainingHubs/frimley"}`, [][]string{cpdReaders}, true},
	"/arrs.v1.CpdService/CreateCpdRequest":       {`{"parent":"practices/K81001","cpdRequest":{"need":"practices/K81001/cpdNeeds/grace-diabetes","scheme":"cpdSchemes/cpd-2026-27","category":"CATEGORY_COURSE","provider":"Uni","courseTitle":"Insulin","startDate":"2027-01-10","endDate":"2027-01-10","costPence":"1000"}}`, [][]string{practiceMgr}, true},
	"/arrs.v1.CpdService/GetCpdRequest":          {`{"name":"practices/K81001/cpdRequests/grace-insulin"}`, [][]string{cpdReaders}, true},
	"/arrs.v1.CpdService/ListCpdRequests":        {`{"parent":"practices/K81001"}`, [][]string{cpdReaders}, true},
	"/arrs.v1.CpdService/AllocateCpdCoursePlace": {`{"name":"practices/K81001/cpdRequests/grace-insulin","course":"trainingHubs/frimley/courses/diabetes-update"}`, [][]string{hubOfficer}, true},
	"/arrs.v1.CpdService/ApproveCpdRequest":      {`{"name":"practices/K81001/cpdRequests/grace-insulin"}`, [][]string{hubOfficer}, true},
	"/arrs.v1.CpdService/PartFundCpdRequest":     {`{"name":"practices/K81001/cpdRequests/grace-insulin","fundedPence":"1000"}`, [][]string{hubOfficer}, true},
	"/arrs.v1.CpdService/RejectCpdRequest":       {`{"name":"practices/K81001/cpdRequests/grace-insulin","reason":"Duplicate"}`, [][]string{hubOfficer}, true},
	"/arrs.v1.CpdService/RecordCpdPayment":       {`{"name":"practices/K81001/cpdRequests/olu-health-and-work","paymentDate":"2026-11-30","reference":"REM-1"}`, [][]string{hubOfficer}, true},
}

// aggregates are listings of figures added up over a commissioner's PCNs,
// named by the commissioner: another commissioner's staff asking get
// NOT_FOUND for the parent, as for a resource, and the rows name no PCN.
var aggregates = map[string]bool{"ListWorkforceStatistics": true}

// apiMethods lists every RPC of every arrs.v1 service the server offers.
func apiMethods(t *testing.T, s *grpc.Server) []protoreflect.MethodDescriptor {
	t.Helper()
	var out []protoreflect.MethodDescriptor
	for name := range s.GetServiceInfo() {
		if !strings.HasPrefix(name, "arrs.") {
			continue
		}
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		if err != nil {
			t.Fatal(err)
		}
		methods := d.(protoreflect.ServiceDescriptor).Methods()
		for i := range methods.Len() {
			out = append(out, methods.Get(i))
		}
	}
	slices.SortFunc(out, func(a, b protoreflect.MethodDescriptor) int {
		return strings.Compare(string(a.FullName()), string(b.FullName()))
	})
	return out
}

func fullMethod(m protoreflect.MethodDescriptor) string {
	return "/" + string(m.Parent().FullName()) + "/" + string(m.Name())
}

// call invokes an RPC by name with a protojson request, as token.
func call(ctx context.Context, conn *grpc.ClientConn, m protoreflect.MethodDescriptor, request, token string) (proto.Message, error) {
	in, err := protoregistry.GlobalTypes.FindMessageByName(m.Input().FullName())
	if err != nil {
		return nil, err
	}
	out, err := protoregistry.GlobalTypes.FindMessageByName(m.Output().FullName())
	if err != nil {
		return nil, err
	}
	req, resp := in.New().Interface(), out.New().Interface()
	if err := protojson.Unmarshal([]byte(request), req); err != nil {
		return nil, fmt.Errorf("matrix request for %s: %w", m.FullName(), err)
	}
	if token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	}
	return resp, conn.Invoke(ctx, fullMethod(m), req, resp)
}

// mentionsTarget reports whether a response shows anything of the target
// PCN U12345, whose resources the matrix's requests name.
func mentionsTarget(resp proto.Message) bool {
	b, err := protojson.Marshal(resp)
	// The CPD ledger's target is practice K81001 and its hub, Frimley.
	return err == nil && (strings.Contains(string(b), "pcns/U12345") || strings.Contains(string(b), "practices/K81001") ||
		strings.Contains(string(b), "trainingHubs/frimley"))
}

func startMatrixServer(t *testing.T) *running {
	t.Helper()
	db := pgtest.NewDB(t)
	db.SetMaxOpenConns(8)
	loadDemo(t, db)
	store := claims.NewStore(db)
	// A second ICB that commissions none of the demo PCNs: the "foreign"
	// commissioner.
	sys := claims.WithActor(t.Context(), claims.System("test"))
	if _, err := store.CreateCommissioner(sys, claims.Request{}, claims.Commissioner{Code: "QWO", Kind: claims.KindICB,
		DisplayName: "West ICB", ValidFrom: claims.ICBStart}); err != nil {
		t.Fatal(err)
	}
	return startServer(t, claims.NewStore(db))
}

// TestAccessMatrix walks every RPC in the service descriptors for every
// caller, for the caller's own organisation and another, and checks the
// outcome against accessMatrix. An RPC added without a row (and without a
// policy line) fails here.
func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	r := startMatrixServer(t)
	methods := apiMethods(t, r.grpc)
	if len(methods) < 30 {
		t.Fatalf("only %d RPCs found in the descriptors", len(methods))
	}
	for _, m := range methods {
		name := fullMethod(m)
		row, ok := accessMatrix[name]
		if !ok {
			t.Errorf("%s has no row in the access matrix: decide who may call it", name)
			continue
		}
		if _, ok := rpcPermissions[name]; !ok {
			t.Errorf("%s has no policy line in rpcPermissions", name)
		}
		t.Run(string(m.Name()), func(t *testing.T) {
			_, err := call(t.Context(), r.conn, m, row.request, "")
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("without credentials: %v, want UNAUTHENTICATED", err)
			}
			_, err = call(t.Context(), r.conn, m, row.request, "forged")
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("with an unknown credential: %v, want UNAUTHENTICATED", err)
			}
			for _, token := range slices.Sorted(maps.Keys(testIdentities)) {
				caller, side, _ := strings.Cut(token, "-")
				if commissionerResources[name] && slices.Contains(pcnStaff, caller) {
					side = "own"
				}
				permitted := slices.ContainsFunc(row.who, func(group []string) bool { return slices.Contains(group, caller) })
				resp, err := call(t.Context(), r.conn, m, row.request, token)
				code := status.Code(err)
				switch {
				case !permitted:
					if code != codes.PermissionDenied {
						t.Errorf("%s: %v, want PERMISSION_DENIED", token, err)
					}
				case row.scoped && side == "foreign" && strings.HasPrefix(string(m.Name()), "List") && !aggregates[string(m.Name())]:
					if err != nil || mentionsTarget(resp) {
						t.Errorf("%s: listing showed another organisation's data (%v): %v", token, err, resp)
					}
				case row.scoped && side == "foreign":
					if code != codes.NotFound {
						t.Errorf("%s: %v, want NOT_FOUND for another organisation's resource", token, err)
					}
				default:
					if code == codes.PermissionDenied || code == codes.NotFound || code == codes.Unauthenticated || code == codes.Internal {
						t.Errorf("%s: %v, want the call to be allowed", token, err)
					}
					if strings.HasPrefix(string(m.Name()), "List") && row.scoped && !aggregates[string(m.Name())] && !mentionsTarget(resp) {
						t.Errorf("%s: an allowed listing did not show PCN U12345's data: %v", token, resp)
					}
				}
			}
		})
	}
	for name := range rpcPermissions {
		if _, ok := accessMatrix[name]; !ok && !isPublic(name) {
			t.Errorf("policy names %s, which the matrix does not test", name)
		}
	}
}

// TestRESTAccessMatchesGRPC samples the matrix over REST: the gateway
// forwards Authorization, so the same callers get the same answers.
func TestRESTAccessMatchesGRPC(t *testing.T) {
	t.Parallel()
	r := startMatrixServer(t)
	base := "http://" + r.HTTPAddr() + "/v1/"
	tests := []struct {
		method, path, token string
		want                int
	}{
		{http.MethodGet, "pcns/U12345/posts", "", http.StatusUnauthorized},
		{http.MethodGet, "pcns/U12345/posts", "cd-own", http.StatusOK},
		{http.MethodGet, "pcns/U12345/posts/ot-frailty", "cd-foreign", http.StatusNotFound},
		{http.MethodGet, "pcns/U12345/posts/ot-frailty", "approver-own", http.StatusOK},
		{http.MethodGet, "pcns/U12345/posts/ot-frailty", "approver-foreign", http.StatusNotFound},
		{http.MethodGet, "pcns/U12345/posts/ot-frailty", "hub", http.StatusForbidden},
		{http.MethodGet, "pcns/U12345/entitlements/2025-26", "reporting", http.StatusForbidden},
		{http.MethodGet, "pcns/U12345", "reporting", http.StatusOK},
		{http.MethodPost, "pcns/U12345/posts/ot-mental-health-plan:recruit", "approver-own", http.StatusForbidden},
		{http.MethodPost, "pcns/U12345/posts/ot-mental-health-plan:recruit", "manager-foreign", http.StatusNotFound},
		{http.MethodPost, "pcns/U12345/posts/ot-mental-health-plan:recruit", "manager-own", http.StatusOK},
		{http.MethodPost, "roles/occupational-therapist/rates", "cd-own", http.StatusForbidden},
		{http.MethodGet, "roles/occupational-therapist/rates", "hub", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" as "+tt.token, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, base+tt.path, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

// TestSignedTokensEndToEnd runs the real verifier: development-signed JWTs
// over gRPC and, forwarded by the gateway, over REST.
func TestSignedTokensEndToEnd(t *testing.T) {
	t.Parallel()
	dev, err := auth.LoadOrCreateDevKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDB(t)
	if err := demo.Load(t.Context(), claims.NewStore(db)); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0",
		Authenticator: auth.NewAuthenticator(dev.Verifier(), nil), JWKS: dev.JWKS()}, claims.NewStore(db), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	conn, err := grpc.NewClient(s.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	token, err := dev.Mint("cd@riverside", claims.RolePCNClinicalDirector, "U12345", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	pcns := arrsv1.NewOrganisationServiceClient(conn)
	authed := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+token)
	if p, err := pcns.GetPcn(authed, &arrsv1.GetPcnRequest{Name: "pcns/U12345"}); err != nil || p.GetDisplayName() == "" {
		t.Fatalf("own PCN with a signed token: %v", err)
	}
	if _, err := pcns.GetPcn(authed, &arrsv1.GetPcnRequest{Name: "pcns/U23456"}); status.Code(err) != codes.NotFound {
		t.Errorf("another PCN: %v, want NOT_FOUND", err)
	}
	tampered := token[:len(token)-4] + "AAAA"
	_, err = pcns.GetPcn(metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+tampered), &arrsv1.GetPcnRequest{Name: "pcns/U12345"})
	if status.Code(err) != codes.Unauthenticated || strings.Contains(status.Convert(err).Message(), tampered) {
		t.Errorf("tampered token: %v, want UNAUTHENTICATED without echoing it", err)
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+s.HTTPAddr()+"/v1/pcns/U12345/posts", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("REST with the signed token: %d", resp.StatusCode)
	}
	resp, err = http.Get("http://" + s.HTTPAddr() + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Errorf("JWKS: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
