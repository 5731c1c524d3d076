package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/status"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
	"arrs.nhs.uk/arrs/internal/pgtest"
)

// The fuzz tests here send what the fuzzer makes to a real server on a real
// database loaded with the demo data, over gRPC and REST, as the callers
// allowed to make each request. Whatever arrives, the answer must be the
// caller's fault or a success: never INTERNAL, UNKNOWN or any 5xx (a panic
// is caught by the recovery interceptor and shows as INTERNAL), and never
// SQL or driver text. Seeds are in testdata/fuzz/<FuzzName>; `make fuzz`
// runs each for FUZZTIME.

// fuzzServer starts a server over a demo database for one fuzz test. It
// logs only errors, to the test: fuzzing makes many thousands of calls.
func fuzzServer(f *testing.F) *running {
	f.Helper()
	db := pgtest.NewDB(f)
	db.SetMaxOpenConns(4)
	loadDemo(f, db)
	logger := slog.New(slog.NewJSONHandler(f.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	return startServerLogging(f, claims.NewStore(db, claims.WithClock(demoClock())), nil, logger)
}

// callCtx bounds one fuzzed call and gives it token's credentials.
func fuzzCtx(t *testing.T, token string) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return as(ctx, token)
}

// noServerFault fails t when err is a server-side fault or leaks SQL.
func noServerFault(t *testing.T, what string, err error) {
	t.Helper()
	st := status.Convert(err)
	if serverFault(st.Code()) {
		t.Errorf("%s: %v %q, want a success or the caller's error", what, st.Code(), st.Message())
	}
	if leaksInternals(st.Message()) {
		t.Errorf("%s: message shows internals: %q", what, st.Message())
	}
}

// sendable skips a typed gRPC call whose strings are not UTF-8: the Go
// client refuses to marshal them, so they never reach the server.
// FuzzRawMessage puts such bytes on the wire instead.
func sendable(t *testing.T, ss ...string) {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			t.Skip("not UTF-8: the client cannot send it")
		}
	}
}

func leaksInternals(s string) bool {
	return strings.Contains(s, "pq:") || strings.Contains(s, "SQLSTATE") || strings.Contains(s, "sql:")
}

func FuzzCreatePost(f *testing.F) {
	r := fuzzServer(f)
	work := arrsv1.NewWorkforceServiceClient(r.conn)
	f.Fuzz(func(t *testing.T, postID, role, staffName, registration, wte, start, end, employer string, cohort int32) {
		sendable(t, postID, role, staffName, registration, wte, start, end, employer)
		_, err := work.CreatePost(fuzzCtx(t, "cd-own"), &arrsv1.CreatePostRequest{Parent: "pcns/U12345", PostId: postID,
			Post: &arrsv1.Post{Role: role, StaffName: staffName, RegistrationNumber: registration, Wte: wte,
				StartDate: start, EndDate: end, Employer: employer, FocusCohort: arrsv1.FocusCohort(cohort)}})
		noServerFault(t, "CreatePost", err)
	})
}

func FuzzListPosts(f *testing.F) {
	r := fuzzServer(f)
	work := arrsv1.NewWorkforceServiceClient(r.conn)
	f.Fuzz(func(t *testing.T, parent, role, token string, size int32) {
		sendable(t, parent, role, token)
		_, err := work.ListPosts(fuzzCtx(t, "approver-own"), &arrsv1.ListPostsRequest{Parent: parent, Role: role, PageToken: token, PageSize: size})
		noServerFault(t, "ListPosts", err)
	})
}

// FuzzGetByName reads one name with every Get method that takes one.
func FuzzGetByName(f *testing.F) {
	r := fuzzServer(f)
	work := arrsv1.NewWorkforceServiceClient(r.conn)
	cl := arrsv1.NewClaimServiceClient(r.conn)
	fund := arrsv1.NewFundingServiceClient(r.conn)
	cat := arrsv1.NewCatalogueServiceClient(r.conn)
	org := arrsv1.NewOrganisationServiceClient(r.conn)
	f.Fuzz(func(t *testing.T, name string) {
		sendable(t, name)
		ctx := fuzzCtx(t, "approver-own")
		_, err := cl.GetBudget(ctx, &arrsv1.GetBudgetRequest{Name: name})
		noServerFault(t, "GetBudget", err)
		_, err = cl.GetClaim(ctx, &arrsv1.GetClaimRequest{Name: name})
		noServerFault(t, "GetClaim", err)
		_, err = work.GetPost(ctx, &arrsv1.GetPostRequest{Name: name})
		noServerFault(t, "GetPost", err)
		_, err = fund.GetEntitlement(ctx, &arrsv1.GetEntitlementRequest{Name: name})
		noServerFault(t, "GetEntitlement", err)
		_, err = fund.GetFinancialYear(ctx, &arrsv1.GetFinancialYearRequest{Name: name})
		noServerFault(t, "GetFinancialYear", err)
		_, err = cat.GetRate(ctx, &arrsv1.GetRateRequest{Name: name})
		noServerFault(t, "GetRate", err)
		_, err = org.GetPcn(ctx, &arrsv1.GetPcnRequest{Name: name})
		noServerFault(t, "GetPcn", err)
	})
}

// FuzzCreateClaim names claims by month: the month is the claim's id.
func FuzzCreateClaim(f *testing.F) {
	r := fuzzServer(f)
	cl := arrsv1.NewClaimServiceClient(r.conn)
	f.Fuzz(func(t *testing.T, parent, claimID, requestID string) {
		sendable(t, parent, claimID, requestID)
		_, err := cl.CreateClaim(fuzzCtx(t, "cd-own"), &arrsv1.CreateClaimRequest{Parent: parent, ClaimId: claimID, RequestId: requestID})
		noServerFault(t, "CreateClaim", err)
	})
}

// FuzzImportClaimLines imports payroll CSV into the demo's draft claim.
func FuzzImportClaimLines(f *testing.F) {
	r := fuzzServer(f)
	cl := arrsv1.NewClaimServiceClient(r.conn)
	f.Fuzz(func(t *testing.T, csv string) {
		sendable(t, csv)
		_, err := cl.ImportClaimLines(fuzzCtx(t, "cd-own"), &arrsv1.ImportClaimLinesRequest{Parent: "pcns/U12345/claims/2026-11", CsvData: csv})
		noServerFault(t, "ImportClaimLines", err)
	})
}

// FuzzCreateFinancialYear covers decimals and dates NHS England writes.
func FuzzCreateFinancialYear(f *testing.F) {
	r := fuzzServer(f)
	fund := arrsv1.NewFundingServiceClient(r.conn)
	f.Fuzz(func(t *testing.T, id, rate, deadline string) {
		sendable(t, id, rate, deadline)
		_, err := fund.CreateFinancialYear(fuzzCtx(t, "national"), &arrsv1.CreateFinancialYearRequest{FinancialYearId: id,
			FinancialYear: &arrsv1.FinancialYear{RatePerWeightedPatient: rate, ClaimsDeadline: deadline}})
		noServerFault(t, "CreateFinancialYear", err)
	})
}

// fuzzRawMethods are the RPCs FuzzRawMessage sends raw bytes to, by index.
var fuzzRawMethods = []string{
	"/arrs.v1.WorkforceService/CreatePost",
	"/arrs.v1.WorkforceService/ListPosts",
	"/arrs.v1.ClaimService/BatchUpdateClaimLines",
	"/arrs.v1.ClaimService/ImportClaimLines",
	"/arrs.v1.ClaimService/GetBudget",
	"/arrs.v1.ClaimService/RejectClaim",
}

// FuzzRawMessage puts arbitrary bytes on the wire as a request message.
func FuzzRawMessage(f *testing.F) {
	r := fuzzServer(f)
	f.Fuzz(func(t *testing.T, method uint8, body []byte) {
		m := fuzzRawMethods[int(method)%len(fuzzRawMethods)]
		noServerFault(t, m, invokeRaw(fuzzCtx(t, "cd-own"), r.conn, m, body))
	})
}

// fuzzRoutes are the REST routes FuzzRESTJSON sends bodies to, by index,
// with the caller allowed to use each.
var fuzzRoutes = []struct{ method, path, token string }{
	{http.MethodPost, "pcns/U12345/posts", "cd-own"},
	{http.MethodPatch, "pcns/U12345/posts/ot-frailty", "cd-own"},
	{http.MethodPost, "pcns/U12345/posts/ot-frailty:fill", "cd-own"},
	{http.MethodPost, "pcns/U12345/claims", "cd-own"},
	{http.MethodPost, "pcns/U12345/claims/2026-11/lines:batchUpdate", "cd-own"},
	{http.MethodPost, "pcns/U12345/claims/2026-11/lines:import", "cd-own"},
	{http.MethodPost, "pcns/U12345/claims/2026-10:reject", "approver-own"},
	{http.MethodPost, "pcns/U12345/claims/2026-09:recordPayment", "finance-own"},
	{http.MethodPost, "financialYears", "national"},
	{http.MethodPost, "pcns", "national"},
}

// FuzzRESTJSON posts arbitrary JSON bodies through the gateway.
func FuzzRESTJSON(f *testing.F) {
	r := fuzzServer(f)
	base := "http://" + r.HTTPAddr() + "/v1/"
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		req, err := http.NewRequestWithContext(fuzzCtx(t, ""), rt.method, base+rt.path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		restNoServerFault(t, req, rt.token)
	})
}

// FuzzRESTPath sends GETs to arbitrary paths and queries under /v1/.
func FuzzRESTPath(f *testing.F) {
	r := fuzzServer(f)
	base := "http://" + r.HTTPAddr() + "/v1/"
	f.Fuzz(func(t *testing.T, path string) {
		req, err := http.NewRequestWithContext(fuzzCtx(t, ""), http.MethodGet, base+path, nil)
		if err != nil {
			return // not a URL a client could send
		}
		restNoServerFault(t, req, "approver-own")
	})
}

func restNoServerFault(t *testing.T, req *http.Request, token string) {
	t.Helper()
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		t.Errorf("%s %s: %d %s", req.Method, req.URL, resp.StatusCode, body)
	}
	if leaksInternals(string(body)) {
		t.Errorf("%s %s: body shows internals: %s", req.Method, req.URL, body)
	}
}
