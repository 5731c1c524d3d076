package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// The GetClaim comparison (issue 12): arrsd's GetClaim throughput against a
// minimal grpc-go server (this program in a process of its own) that
// implements GetClaim alone, with the same SQL (arrsd's two statements, as a
// PCN's clinical director sends them, in the same read-only REPEATABLE READ
// transaction), the same pool (20 connections, all kept idle: arrsd's
// defaults) and its statements prepared once per connection, as arrsd's are. What is left between the two
// is arrsd itself: its interceptors (authentication, logging, metrics,
// tracing), its scoping and its conversion to the API's claim.

// minimalClaimSQL and minimalLinesSQL are what arrsd's GetClaim sends
// (claims/claim.go getClaim and loadLines); update them with it.
const (
	minimalClaimSQL = `SELECT pcn_code, id, kind, month, financial_year, state, submitter, submit_time, withdraw_reason,
	excluded_posts, commissioner_code, sub_icb_location_code, supplements, reviewer, review_time, review_note, payment_date,
	payment_reference, payment_payee, payment_recorded_by, revision, create_time, update_time,
	commissioner_held_seconds, pcn_held_seconds, held_since, arrears_declared_by, arrears_declare_time,
	(SELECT coalesce(json_agg(m ORDER BY m.number), '[]') FROM (SELECT pcn_code, claim_id, number, kind, author, role,
		organisation, text, evidence_uris, create_time
	FROM claim_messages WHERE claim_messages.pcn_code = claims.pcn_code AND claim_messages.claim_id = claims.id) AS m) AS messages
	FROM claims WHERE pcn_code = $1 AND id = $2 AND pcn_code = $3`
	minimalLinesSQL = `SELECT pcn_code, claim_id, post_id, role_id, wte, gross_salary_pence, employer_ni_pence,
	employer_pension_pence, overtime_pence, absence_adjustment_pence, evidence_uris, cap_pence, active_days,
	days_in_year, cap_segments, reimbursable_pence, approved_pence, adjustment_reason, already_paid_pence,
	arrears_gross_salary_pence, arrears_employer_ni_pence, arrears_employer_pension_pence, arrears_paid_date,
	legacy_top_up, revision FROM claim_lines
		WHERE pcn_code = $1 AND claim_id = $2 ORDER BY pcn_code, claim_id, post_id`
)

// minimalServer is the baseline: GetClaim and nothing else.
type minimalServer struct {
	arrsv1.UnimplementedClaimServiceServer
	db           *sqlx.DB
	claim, lines *sqlx.Stmt
}

// serveMinimalArg, as the benchmark's first argument, makes it the minimal
// server: it runs in a process of its own, as arrsd does, so that neither
// shares a Go scheduler with the benchmark's clients and both get the same
// share of a busy machine.
const serveMinimalArg = "serve-minimal-getclaim"

// startMinimal starts this program again as the minimal server on a free
// loopback port and returns its address and how to stop it.
func startMinimal(ctx context.Context, databaseURL string) (string, func() error, error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(self, serveMinimalArg, databaseURL)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		return nil
	}
	// Its first line is the address it listens on.
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return "", nil, errors.Join(fmt.Errorf("no address from the minimal server: %w", err), stop())
	}
	return strings.TrimSpace(addr), stop, nil
}

// serveMinimal is the minimal server's process: it prints its address and
// serves until it is signalled.
func serveMinimal(databaseURL string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	db, err := sqlx.Open("postgres", databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	m := &minimalServer{db: db}
	if m.claim, err = db.PreparexContext(ctx, minimalClaimSQL); err != nil {
		return err
	}
	if m.lines, err = db.PreparexContext(ctx, minimalLinesSQL); err != nil {
		return err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := grpc.NewServer()
	arrsv1.RegisterClaimServiceServer(srv, m)
	fmt.Println(lis.Addr().String())
	go func() {
		<-ctx.Done()
		srv.Stop()
	}()
	return srv.Serve(lis)
}

func (m *minimalServer) GetClaim(ctx context.Context, req *arrsv1.GetClaimRequest) (*arrsv1.Claim, error) {
	parts := strings.Split(req.GetName(), "/")
	if len(parts) != 4 || parts[0] != "pcns" || parts[2] != "claims" {
		return nil, status.Error(codes.InvalidArgument, "name")
	}
	pcn, id := parts[1], parts[3]
	tx, err := m.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	var c claims.Claim
	if err := tx.StmtxContext(ctx, m.claim).GetContext(ctx, &c, pcn, id, pcn); errors.Is(err, sql.ErrNoRows) {
		return nil, status.Error(codes.NotFound, req.GetName())
	} else if err != nil {
		return nil, err
	}
	if err := tx.StmtxContext(ctx, m.lines).SelectContext(ctx, &c.Lines, pcn, id); err != nil {
		return nil, err
	}
	return minimalClaim(c), nil
}

// minimalClaim is the claim as the API returns it, lines and all.
func minimalClaim(c claims.Claim) *arrsv1.Claim {
	actual, capPence, reimbursable, _ := c.Totals()
	out := &arrsv1.Claim{Name: c.Name(), Month: c.Month.String(), FinancialYear: c.Year.String(),
		State:       arrsv1.Claim_State(arrsv1.Claim_State_value["STATE_"+strings.ToUpper(string(c.State))]),
		ActualPence: actual, CapPence: capPence, ReimbursablePence: reimbursable, LineCount: int32(len(c.Lines)),
		Submitter: c.Submitter, Etag: claims.Etag(c.Revision), CreateTime: timestamppb.New(c.CreateTime),
		UpdateTime: timestamppb.New(c.UpdateTime), Commissioner: "commissioners/" + c.CommissionerCode}
	if c.SubmitTime != nil {
		out.SubmitTime = timestamppb.New(*c.SubmitTime)
	}
	for _, l := range c.Lines {
		pl := &arrsv1.ClaimLine{Name: l.Name(), Post: "pcns/" + l.PCNCode + "/posts/" + l.PostID, Role: "roles/" + l.RoleID,
			Wte: l.WTE.String(), GrossSalaryPence: l.GrossSalary, EmployerNiPence: l.EmployerNI,
			EmployerPensionPence: l.EmployerPension, OvertimePence: l.Overtime, AbsenceAdjustmentPence: l.AbsenceAdjustment,
			EvidenceUris: l.EvidenceURIs, ActualPence: l.Costs().ActualPence(), CapPence: l.CapPence,
			ReimbursablePence: l.ReimbursablePence, ActiveDays: int32(l.ActiveDays), DaysInYear: int32(l.DaysInYear),
			Etag: claims.Etag(l.Revision), ApprovedPence: l.ApprovedPence, AlreadyPaidPence: l.AlreadyPaidPence}
		for _, s := range l.Segments {
			pl.CapSegments = append(pl.CapSegments, &arrsv1.CapSegment{FromDate: s.From.String(), ToDate: s.To.String(),
				Days: int32(s.Days), AnnualMaxPence: s.AnnualMaxPence,
				Rate: claims.Rate{RoleID: l.RoleID, EffectiveDate: s.RateEffective}.Name()})
		}
		out.Lines = append(out.Lines, pl)
	}
	return out
}

// getClaimResult is GetClaim's throughput through arrsd and through the
// minimal server, with as many clients, one after the other.
type getClaimResult struct {
	clients        int
	arrsd, minimal float64 // calls/s
}

// measureGetClaim runs GetClaim on each number of clients, for c.getClaimTime
// against arrsd and then as long against the minimal server, each client
// reading its generated PCN's claims month by month as that PCN's clinical
// director.
func measureGetClaim(ctx context.Context, e *env, g *generator, c config) ([]getClaimResult, error) {
	addr, stop, err := startMinimal(ctx, e.databaseURL)
	if err != nil {
		return nil, fmt.Errorf("minimal GetClaim server: %w", err)
	}
	defer func() { _ = stop() }()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	targets := []arrsv1.ClaimServiceClient{arrsv1.NewClaimServiceClient(e.conn), arrsv1.NewClaimServiceClient(conn)}
	var out []getClaimResult
	for _, clients := range c.getClaimClients {
		// In rounds, each side in turn, so that whatever else the machine
		// does in the meantime falls on both alike.
		r := getClaimResult{clients: clients}
		var calls [2]int64
		for range getClaimRounds {
			for i, target := range targets {
				n, err := getClaims(ctx, g, c, target, clients)
				if err != nil {
					return nil, err
				}
				calls[i] += n
			}
		}
		r.arrsd = float64(calls[0]) / c.getClaimTime.Seconds()
		r.minimal = float64(calls[1]) / c.getClaimTime.Seconds()
		out = append(out, r)
	}
	return out, nil
}

// getClaimRounds is how many turns each side of the GetClaim comparison
// takes, each a getClaimRounds-th of --getclaim-duration.
const getClaimRounds = 5

// getClaims calls GetClaim on target from clients clients for a round
// (c.getClaimTime ÷ getClaimRounds) and counts the calls; the calls of the
// first fifth of a round warm up and are not counted. A failed call fails
// the benchmark.
func getClaims(ctx context.Context, g *generator, c config, target arrsv1.ClaimServiceClient, clients int) (int64, error) {
	var calls, failed atomic.Int64
	var counting atomic.Bool
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for w := range clients {
		i := w % c.pcns
		cd, err := g.clinicalDirector(ctx, i)
		if err != nil {
			return 0, err
		}
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				_, err := target.GetClaim(cd, &arrsv1.GetClaimRequest{Name: "pcns/" + pcnCode(i) + "/claims/" + g.months[n%12]})
				switch {
				case !counting.Load():
				case err == nil:
					calls.Add(1)
				case ctx.Err() == nil:
					if failed.Add(1) == 1 {
						errs <- fmt.Errorf("GetClaim: %w", err)
					}
				}
			}
		})
	}
	round := c.getClaimTime / getClaimRounds
	time.Sleep(round / 5) // warm up
	counting.Store(true)
	time.Sleep(round)
	counting.Store(false)
	cancel()
	wg.Wait()
	close(errs)
	return calls.Load(), <-errs
}
