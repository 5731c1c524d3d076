package main

// These tests run the real arrsd binary twice over one database, because the
// rules that must hold "however many replicas race" (the entitlement, the
// idempotent create) are enforced by PostgreSQL locks, and only separate
// processes with separate connection pools show that nothing in one process's
// memory is quietly doing the work.

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
	"arrs.nhs.uk/arrs/internal/auditkey"
	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/migrations"
	"arrs.nhs.uk/arrs/server/auth"
)

func TestMain(m *testing.M) {
	code := pgtest.Run(m, migrations.Up)
	removeBuiltBinary()
	os.Exit(code)
}

// The scenario's figures. The role's maximum of £36,500 a year is 10000p a
// day at 1.0 WTE, so every month's cap (280000p or more) is well above the
// salary claimed, and each claim asks for exactly claimPence. The
// entitlement, £1 × 5009.99 weighted patients, fits claimsThatFit claims and
// 999p more: one more claim would overspend it.
const (
	pcnCode          = "U12345"
	annualMaxPence   = 3650000
	claimPence       = 100000
	entitlementPence = 500999
	claimsThatFit    = 5
	submitCalls      = 200
	createCalls      = 100
)

var (
	budgetYearStart = mustMonth("2024-04")
	budgetYear      = budgetYearStart.FinancialYear()
)

func mustMonth(s string) claims.Month {
	m, err := claims.ParseMonth(s)
	if err != nil {
		panic(err)
	}
	return m
}

// yearMonths is the twelve months of the scenario's financial year.
func yearMonths() []claims.Month {
	months := []claims.Month{budgetYearStart}
	for len(months) < 12 {
		months = append(months, months[len(months)-1].Next())
	}
	return months
}

func claimResource(m claims.Month) string { return "pcns/" + pcnCode + "/claims/" + m.String() }

func TestTwoProcessesSubmittingEveryClaimNeverOverspendTheEntitlement(t *testing.T) {
	bin := arrsdBinary(t)
	url := pgtest.NewDatabase(t)
	store, dataDir := openStore(t, url)
	seedPCNWithOnePost(t, store)
	months := yearMonths()
	for _, m := range months {
		draftClaim(t, store, m)
	}
	seedEntitlement(t, store)

	replicas := startReplicas(t, bin, url, dataDir, 2)
	ctx := asClinicalDirector(t, replicas[0].dataDir)

	// Round-robin over the replicas, and over the months within each
	// replica's share, so every claim is raced from both processes.
	outcomes := raceCalls(submitCalls, func(i int) outcome {
		r, m := replicas[i%len(replicas)], months[(i/len(replicas))%len(months)]
		_, err := r.claims.SubmitClaim(ctx, &arrsv1.SubmitClaimRequest{Name: claimResource(m)})
		return outcomeOf(r.name, claimResource(m), err)
	})
	logTally(t, outcomes)

	// Every call either submitted a claim or was refused for the budget or
	// for the claim already being submitted; nothing broke.
	won := map[string]int{}
	for _, o := range outcomes {
		switch {
		case o.code == codes.OK:
			won[o.claim]++
		case o.code == codes.FailedPrecondition && (o.reason == "ENTITLEMENT_EXCEEDED" || o.reason == "CLAIM_STATE"):
		default:
			t.Errorf("%s SubmitClaim %s: %v %s: %s", o.replica, o.claim, o.code, o.reason, o.message)
		}
	}
	if len(won) != claimsThatFit {
		t.Errorf("%d claims were submitted, want %d: %v", len(won), claimsThatFit, won)
	}
	for name, n := range won {
		if n != 1 {
			t.Errorf("%s was submitted %d times", name, n)
		}
	}

	// Read back through the API, from the other replica: exactly the winners
	// are SUBMITTED, the rest still DRAFT.
	for _, m := range months {
		c, err := replicas[1].claims.GetClaim(ctx, &arrsv1.GetClaimRequest{Name: claimResource(m)})
		if err != nil {
			t.Fatalf("GetClaim %s: %v", claimResource(m), err)
		}
		want := arrsv1.Claim_STATE_DRAFT
		if won[c.GetName()] > 0 {
			want = arrsv1.Claim_STATE_SUBMITTED
		}
		if c.GetState() != want {
			t.Errorf("%s is %v, want %v", c.GetName(), c.GetState(), want)
		}
	}

	// The invariant itself, from the database: what is committed against the
	// entitlement fits in it, and is exactly the five claims.
	var committed struct {
		Claims int   `db:"claims"`
		Pence  int64 `db:"pence"`
	}
	if err := store.DB().GetContext(t.Context(), &committed, `SELECT count(DISTINCT c.id) AS claims,
		COALESCE(SUM(l.reimbursable_pence), 0)::bigint AS pence
		FROM claims c JOIN claim_lines l ON l.pcn_code = c.pcn_code AND l.claim_id = c.id
		WHERE c.pcn_code = $1 AND c.state = 'submitted'`, pcnCode); err != nil {
		t.Fatal(err)
	}
	if committed.Pence > entitlementPence {
		t.Errorf("submitted claims total %dp: over the %dp entitlement", committed.Pence, entitlementPence)
	}
	if committed.Claims != claimsThatFit || committed.Pence != claimsThatFit*claimPence {
		t.Errorf("database holds %d submitted claims totalling %dp, want %d totalling %dp",
			committed.Claims, committed.Pence, claimsThatFit, claimsThatFit*claimPence)
	}

	b, err := replicas[0].claims.GetBudget(ctx, &arrsv1.GetBudgetRequest{Name: "pcns/" + pcnCode + "/budgets/" + budgetYear.String()})
	if err != nil {
		t.Fatal(err)
	}
	if b.GetEntitlementPence() != entitlementPence || b.GetSubmittedPence() != claimsThatFit*claimPence ||
		b.GetRemainingPence() != entitlementPence-claimsThatFit*claimPence {
		t.Errorf("budget: entitlement %d, submitted %d, remaining %d; want %d, %d, %d",
			b.GetEntitlementPence(), b.GetSubmittedPence(), b.GetRemainingPence(),
			entitlementPence, claimsThatFit*claimPence, entitlementPence-claimsThatFit*claimPence)
	}

	// Both processes appended to one audit chain: one submit event per
	// winner, and the chain neither forked nor skipped.
	if n := countInDB(t, store, `SELECT count(*) FROM audit_events WHERE action = 'submit'`); n != claimsThatFit {
		t.Errorf("%d submit audit events, want %d", n, claimsThatFit)
	}
	verifyAuditChain(t, store)
}

func TestTwoProcessesCreatingOneClaimMakeItOnce(t *testing.T) {
	bin := arrsdBinary(t)
	url := pgtest.NewDatabase(t)
	store, dataDir := openStore(t, url)
	seedPCNWithOnePost(t, store)
	replicas := startReplicas(t, bin, url, dataDir, 2)
	ctx := asClinicalDirector(t, replicas[0].dataDir)

	// Each case races on a month of its own, so they share the replicas.
	for _, tc := range []struct {
		name      string
		month     string
		requestID string
		// wantReplays: every call returns the one claim (a retry with the
		// same request_id); otherwise one call creates it and the rest are
		// ALREADY_EXISTS.
		wantReplays bool
	}{
		{"the same request_id replays the first create", "2024-04", uuid.NewString(), true},
		// Calls overlapping the winner's transaction fail on the claim
		// lines' primary key, later ones on the claim found: both are
		// ALREADY_EXISTS.
		{"without a request_id one create wins", "2024-05", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "pcns/" + pcnCode + "/claims/" + tc.month
			type created struct{ name, etag string }
			var mu sync.Mutex
			results := map[created]int{}
			outcomes := raceCalls(createCalls, func(i int) outcome {
				r := replicas[i%len(replicas)]
				c, err := r.claims.CreateClaim(ctx, &arrsv1.CreateClaimRequest{
					Parent: "pcns/" + pcnCode, ClaimId: tc.month, RequestId: tc.requestID})
				if err == nil {
					mu.Lock()
					results[created{c.GetName(), c.GetEtag()}]++
					mu.Unlock()
				}
				return outcomeOf(r.name, name, err)
			})
			logTally(t, outcomes)

			wantOK := 1
			if tc.wantReplays {
				wantOK = createCalls
			}
			ok := 0
			for _, o := range outcomes {
				switch {
				case o.code == codes.OK:
					ok++
				case !tc.wantReplays && o.code == codes.AlreadyExists:
				default:
					t.Errorf("%s CreateClaim %s: %v %s: %s", o.replica, o.claim, o.code, o.reason, o.message)
				}
			}
			if ok != wantOK {
				t.Errorf("%d calls succeeded, want %d", ok, wantOK)
			}
			if len(results) != 1 {
				t.Errorf("successful calls returned %d different claims (name, etag): %v", len(results), results)
			}
			for c := range results {
				if c.name != name {
					t.Errorf("created %s, want %s", c.name, name)
				}
			}

			// One claim, one set of lines (the PCN's one post), one create on
			// the record.
			for _, q := range []struct {
				what  string
				query string
				args  []any
			}{
				{"claims", `SELECT count(*) FROM claims WHERE pcn_code = $1 AND id = $2`, []any{pcnCode, tc.month}},
				{"claim lines", `SELECT count(*) FROM claim_lines WHERE pcn_code = $1 AND claim_id = $2`, []any{pcnCode, tc.month}},
				{"audit events", `SELECT count(*) FROM audit_events WHERE resource = $1`, []any{name}},
			} {
				if n := countInDB(t, store, q.query, q.args...); n != 1 {
					t.Errorf("%d %s for %s, want 1", n, q.what, name)
				}
			}
			if tc.requestID != "" {
				if n := countInDB(t, store, `SELECT count(*) FROM request_ids WHERE request_id = $1`, tc.requestID); n != 1 {
					t.Errorf("%d request_ids rows for %s, want 1", n, tc.requestID)
				}
			}
		})
	}
	verifyAuditChain(t, store)
}

// ---- the arrsd binary and its processes ----

var (
	buildDir string
	// arrsdBuild builds cmd/arrsd once per test binary, without the race
	// detector: the children are under test for what they do to the
	// database, and a race build would only make them slower.
	arrsdBuild = sync.OnceValues(func() (string, error) {
		goTool, err := exec.LookPath("go")
		if err != nil {
			return "", fmt.Errorf("no go command on PATH to build arrsd with: %w", err)
		}
		if buildDir, err = os.MkdirTemp("", "arrsd-replicas-"); err != nil {
			return "", err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		bin := filepath.Join(buildDir, "arrsd")
		// The test's working directory is this package's.
		cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build: %w\n%s", err, out)
		}
		return bin, nil
	})
)

// arrsdBinary returns the path of a freshly built arrsd, skipping in -short
// mode: building and starting processes takes seconds.
func arrsdBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs arrsd processes; skipped in -short mode")
	}
	bin, err := arrsdBuild()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func removeBuiltBinary() {
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
}

// replica is one running `arrsd serve` and a client connection to it.
type replica struct {
	name      string
	dataDir   string
	claims    arrsv1.ClaimServiceClient
	health    healthpb.HealthClient
	cmd       *exec.Cmd
	startedAt time.Time
	exited    chan struct{} // closed once cmd.Wait has returned
	waitErr   error         // cmd.Wait's result, once exited is closed
	logPath   string
	conn      *grpc.ClientConn
	killed    bool // the test killed it (see kill), so exiting was expected
}

// startReplicas starts n `arrsd serve` processes on databaseURL, all at once
// as a deployment would, sharing one data directory and so one development
// signing key and audit key, and waits until each reports SERVING. They are
// stopped with SIGTERM when the test ends.
func startReplicas(t *testing.T, bin, databaseURL, dataDir string, n int) []*replica {
	t.Helper()
	// Made before the processes start, so that they load one key rather
	// than race to create it.
	if _, err := auth.LoadOrCreateDevKeys(filepath.Join(dataDir, "auth")); err != nil {
		t.Fatal(err)
	}
	ports := freeLoopbackAddrs(t, 3*n)
	replicas := make([]*replica, n)
	for i := range replicas {
		r := &replica{
			name:    fmt.Sprintf("arrsd-%d", i),
			dataDir: dataDir,
			exited:  make(chan struct{}),
			logPath: filepath.Join(t.TempDir(), "arrsd.log"),
		}
		grpcAddr, httpAddr, metricsAddr := ports[3*i], ports[3*i+1], ports[3*i+2]
		r.start(t, bin, "serve", "--database-url", databaseURL, "--data-dir", dataDir,
			"--grpc-addr", grpcAddr, "--http-addr", httpAddr, "--metrics-addr", metricsAddr,
			"--environment", "development", "--log-level", "warn",
			// Two pools of 10 stay well inside the test server's 100
			// connections and still race 20 transactions at a time.
			"--db-max-conns", "10")
		conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			// The first health checks come before the process listens:
			// redial within milliseconds, not after gRPC's default 1s.
			grpc.WithConnectParams(grpc.ConnectParams{
				Backoff:           backoff.Config{BaseDelay: 20 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 200 * time.Millisecond},
				MinConnectTimeout: time.Second,
			}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		r.conn = conn
		r.claims = arrsv1.NewClaimServiceClient(conn)
		r.health = healthpb.NewHealthClient(conn)
		replicas[i] = r
	}
	for _, r := range replicas {
		r.awaitServing(t, 30*time.Second)
	}
	return replicas
}

func (r *replica) start(t *testing.T, bin string, args ...string) {
	t.Helper()
	logFile, err := os.Create(r.logPath)
	if err != nil {
		t.Fatal(err)
	}
	r.cmd = exec.Command(bin, args...)
	r.cmd.Env = childEnv()
	dieWithThisProcess(r.cmd)
	r.cmd.Stdout, r.cmd.Stderr = logFile, logFile
	r.startedAt = time.Now()
	if err := r.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", r.name, err)
	}
	go func() {
		r.waitErr = r.cmd.Wait()
		logFile.Close()
		close(r.exited)
	}()
	t.Cleanup(func() { r.stop(t) })
}

// dieWithThisProcess asks the kernel to send the child SIGTERM if the test
// binary dies without running its cleanups (a panic, go test -timeout,
// SIGKILL), so no arrsd is left serving a dropped database. The field
// exists on Linux only, hence reflection rather than a build-tagged file;
// elsewhere this does nothing.
func dieWithThisProcess(cmd *exec.Cmd) {
	attr := &syscall.SysProcAttr{}
	if f := reflect.ValueOf(attr).Elem().FieldByName("Pdeathsig"); f.IsValid() {
		f.Set(reflect.ValueOf(syscall.SIGTERM))
	}
	cmd.SysProcAttr = attr
}

// childEnv is this process's environment without arrsd's own variables, so
// that a developer's DATABASE_URL or ARRS_* settings cannot change what the
// flags say.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ARRS_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			env = append(env, kv)
		}
	}
	return env
}

// awaitServing polls the gRPC health check until the replica reports
// SERVING, failing early if the process exits.
func (r *replica) awaitServing(t *testing.T, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-r.exited:
			t.Fatalf("%s exited before serving: %v\n%s", r.name, r.waitErr, r.log())
		default:
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		resp, err := r.health.Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			t.Logf("%s SERVING %v after it was started", r.name, time.Since(r.startedAt).Round(time.Millisecond))
			return
		}
		last = err
		if err == nil {
			last = fmt.Errorf("status %v", resp.GetStatus())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not SERVING after %v: %v\n%s", r.name, limit, last, r.log())
}

// stop sends SIGTERM and expects a clean exit within the server's shutdown
// timeout; it then fails the test for anything the replica logged as an
// error, which is where an internal error's cause is written.
func (r *replica) stop(t *testing.T) {
	t.Helper()
	select {
	case <-r.exited:
		if !r.killed {
			t.Errorf("%s had exited before the test ended: %v", r.name, r.waitErr)
		}
	default:
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.exited:
			if r.waitErr != nil {
				t.Errorf("%s: exit after SIGTERM: %v", r.name, r.waitErr)
			}
		case <-time.After(15 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.exited
			t.Errorf("%s ignored SIGTERM for 15s", r.name)
		}
	}
	log := r.log()
	for line := range strings.Lines(log) {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("%s logged: %s", r.name, strings.TrimSpace(line))
		}
	}
	if t.Failed() {
		t.Logf("%s log:\n%s", r.name, log)
	}
}

func (r *replica) log() string {
	b, err := os.ReadFile(r.logPath)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// freeLoopbackAddrs finds n distinct free ports on 127.0.0.1, holding them
// all until each is chosen so that none is handed out twice.
func freeLoopbackAddrs(t *testing.T, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer lis.Close()
		addrs[i] = lis.Addr().String()
	}
	return addrs
}

// callsTimeout bounds every call a test makes, so that a replica that hangs
// fails the test instead of running into go test's own timeout, which would
// skip the cleanups.
const callsTimeout = 30 * time.Second

// asClinicalDirector returns the test's context, bounded by callsTimeout,
// carrying a bearer token for U12345's clinical director signed with the
// replicas' development key.
func asClinicalDirector(t *testing.T, dataDir string) context.Context {
	t.Helper()
	keys, err := auth.LoadOrCreateDevKeys(filepath.Join(dataDir, "auth"))
	if err != nil {
		t.Fatal(err)
	}
	token, err := keys.Mint("cd@riverside.example", claims.RolePCNClinicalDirector, pcnCode, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), callsTimeout)
	t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

// ---- racing calls ----

// outcome is how one call ended.
type outcome struct {
	replica, claim string
	code           codes.Code
	reason         string // google.rpc.ErrorInfo reason, when there is one
	message        string
}

func outcomeOf(replica, claim string, err error) outcome {
	st := status.Convert(err)
	o := outcome{replica: replica, claim: claim, code: st.Code(), message: st.Message()}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			o.reason = info.GetReason()
		}
	}
	return o
}

// raceCalls runs call(0) … call(n-1) in n goroutines released together, so the
// calls overlap as much as the replicas' pools let them.
func raceCalls(n int, call func(i int) outcome) []outcome {
	outcomes := make([]outcome, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			outcomes[i] = call(i)
		})
	}
	close(start)
	wg.Wait()
	return outcomes
}

// logTally logs how the calls ended per replica, for reading a failure.
func logTally(t *testing.T, outcomes []outcome) {
	t.Helper()
	tally := map[string]int{}
	for _, o := range outcomes {
		tally[fmt.Sprintf("%s %v %s", o.replica, o.code, o.reason)]++
	}
	t.Logf("outcomes: %v", tally)
}

// ---- seeding the database through the store ----

// openStore opens a store on url with the audit key of a new data
// directory, which it returns for the replicas to share: the trail they and
// the test write verifies under one key.
func openStore(t *testing.T, url string) (*claims.Store, string) {
	t.Helper()
	dataDir := t.TempDir()
	keys, err := auditkey.LoadOrCreate(filepath.Join(dataDir, "audit.keys"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(4)
	t.Cleanup(func() { _ = db.Close() })
	return claims.NewStore(db, claims.WithAuditKeys(keys)), dataDir
}

func systemContext(t *testing.T) context.Context {
	return claims.WithActor(t.Context(), claims.System("test"))
}

func orFatal[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func mustDate(t *testing.T, s string) claims.Date {
	t.Helper()
	return orFatal[claims.Date](t)(claims.ParseDate(s))
}

func mustDecimal(t *testing.T, s string) claims.Decimal {
	t.Helper()
	return orFatal[claims.Decimal](t)(claims.ParseDecimal(s))
}

// seedPCNWithOnePost makes U12345, under an ICB, with one care co-ordinator
// in post at 1.0 WTE through the whole financial year, the role's maximum,
// and the year at £1 per weighted patient.
func seedPCNWithOnePost(t *testing.T, s *claims.Store) {
	t.Helper()
	ctx := systemContext(t)
	orFatal[claims.Commissioner](t)(s.CreateCommissioner(ctx, claims.Request{}, claims.Commissioner{
		Code: "QNQ", Kind: claims.KindICB, DisplayName: "NHS Frimley ICB", ValidFrom: claims.ICBStart}))
	orFatal[claims.PCN](t)(s.CreatePCN(ctx, claims.Request{}, claims.PCN{
		Code: pcnCode, DisplayName: "Riverside PCN", CommissionerCode: "QNQ", Zone: claims.ZoneNational,
		ListSize: 40000, PayeeKind: claims.PayeePractice, PayeeODSCode: "A81001",
		Practices: []claims.Practice{{ODSCode: "A81001", DisplayName: "Riverside Surgery"}}}))
	orFatal[claims.Role](t)(s.CreateRole(ctx, claims.Request{}, claims.Role{ID: "care-coordinator",
		DisplayName: "Care co-ordinator", AfCBand: "4", Register: claims.RegisterNone, ReimbursableFrom: mustDate(t, "2020-04-01")}))
	orFatal[claims.Rate](t)(s.CreateRate(ctx, claims.Request{}, claims.Rate{RoleID: "care-coordinator",
		EffectiveDate: mustDate(t, "2024-04-01"), NationalPence: annualMaxPence, Source: "test"}))
	orFatal[claims.FundingYear](t)(s.CreateFundingYear(ctx, claims.Request{}, claims.FundingYear{
		Year: budgetYear, RatePerWeightedPatient: mustDecimal(t, "1")}))
	orFatal[claims.Post](t)(s.CreatePost(ctx, claims.Request{}, claims.Post{PCNCode: pcnCode, ID: "care-coordinator-1",
		RoleID: "care-coordinator", StaffName: "Megan Lewis", WTE: mustDecimal(t, "1"), StartDate: mustDate(t, "2024-04-01")}))
}

// draftClaim drafts month's claim and records a salary below the cap on its
// one line, so that it asks for exactly claimPence.
func draftClaim(t *testing.T, s *claims.Store, m claims.Month) {
	t.Helper()
	ctx := systemContext(t)
	c := orFatal[claims.Claim](t)(s.CreateClaim(ctx, claims.Request{}, pcnCode, m))
	if len(c.Lines) != 1 {
		t.Fatalf("%s has %d lines, want the one post's: excluded %v", c.Name(), len(c.Lines), c.Excluded)
	}
	l := orFatal[claims.ClaimLine](t)(s.UpdateClaimLine(ctx, pcnCode, m.String(), c.Lines[0].PostID, "",
		func(l *claims.ClaimLine) { l.GrossSalary = claimPence }))
	if l.ReimbursablePence != claimPence {
		t.Fatalf("%s reimburses %dp (cap %dp), want %dp", l.Name(), l.ReimbursablePence, l.CapPence, claimPence)
	}
}

func seedEntitlement(t *testing.T, s *claims.Store) {
	t.Helper()
	ctx := systemContext(t)
	orFatal[claims.Entitlement](t)(s.CreateEntitlement(ctx, claims.Request{}, claims.Entitlement{
		PCNCode: pcnCode, Year: budgetYear, WeightedPopulation: mustDecimal(t, "5009.99")}))
	e := orFatal[claims.Entitlement](t)(s.GetEntitlement(ctx, pcnCode, budgetYear))
	if e.AmountPence() != entitlementPence {
		t.Fatalf("entitlement is %dp, want %dp", e.AmountPence(), entitlementPence)
	}
}

// ---- reading the database ----

func countInDB(t *testing.T, s *claims.Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().GetContext(t.Context(), &n, query, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

func verifyAuditChain(t *testing.T, s *claims.Store) {
	t.Helper()
	v, err := s.VerifyAudit(systemContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK {
		t.Errorf("audit chain broken at %d after %d events: %s", v.FirstBadSeq, v.Checked, v.Problem)
	}
}
