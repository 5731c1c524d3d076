package main

import (
	"bufio"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the PostgreSQL driver, as arrsd uses

	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// latencies is a sample of call durations.
type latencies []time.Duration

func (l latencies) quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// pageSize is the ListClaims page the national walk asks for.
const pageSize = 50

func (l latencies) sum() time.Duration {
	var t time.Duration
	for _, d := range l {
		t += d
	}
	return t
}

// reads is one size's read latencies.
type reads struct {
	nationalPage latencies // ListClaims pcns/-, 50 a page, walking pages
	pcnList      latencies // ListClaims of one PCN
	budget       latencies // GetBudget of one PCN's year
	position     latencies // GetCommissionerPosition of every PCN in England
	statistics   latencies // ListWorkforceStatistics of England, its first page of 500
}

// nationalReads is how many of each national view are timed: each reads
// the whole country, so a tenth as many as the other reads.
func nationalReads(c config) int { return max(c.reads/10, 10) }

// measureReads times c.reads calls of each read on c.readClients clients, over
// the first pcns generated PCNs.
func measureReads(ctx context.Context, g *generator, c config, pcns int) (reads, error) {
	var r reads
	var err error
	// A national administrator walks every claim in the country, 50 a page,
	// starting again after 20 pages. Only full pages are counted, so that
	// both sizes are timed on pages of the same length (the last page of a
	// small database is short), unless there is none.
	full := make([]bool, c.reads+2*c.readClients)
	r.nationalPage, err = timeCalls(ctx, c.reads, c.readClients, func(ctx context.Context, _, i int, state *string) error {
		resp, err := g.claims.ListClaims(g.admin, &arrsv1.ListClaimsRequest{Parent: "pcns/-", PageSize: pageSize, PageToken: *state})
		if err != nil {
			return fmt.Errorf("ListClaims pcns/-: %w", err)
		}
		*state, full[i] = resp.GetNextPageToken(), len(resp.GetClaims()) == pageSize
		return nil
	})
	if err != nil {
		return r, err
	}
	if slices.Contains(full[2*c.readClients:], true) {
		var kept latencies
		for i, d := range r.nationalPage {
			if full[2*c.readClients+i] {
				kept = append(kept, d)
			}
		}
		r.nationalPage = kept
	}
	r.pcnList, err = timeCalls(ctx, c.reads, c.readClients, func(ctx context.Context, _, _ int, _ *string) error {
		i := rand.IntN(pcns)
		cd, err := g.clinicalDirector(ctx, i)
		if err != nil {
			return err
		}
		if _, err := g.claims.ListClaims(cd, &arrsv1.ListClaimsRequest{Parent: "pcns/" + pcnCode(i)}); err != nil {
			return fmt.Errorf("ListClaims %s: %w", pcnCode(i), err)
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	r.budget, err = timeCalls(ctx, c.reads, c.readClients, func(ctx context.Context, _, _ int, _ *string) error {
		i := rand.IntN(pcns)
		cd, err := g.clinicalDirector(ctx, i)
		if err != nil {
			return err
		}
		if _, err := g.claims.GetBudget(cd, &arrsv1.GetBudgetRequest{Name: "pcns/" + pcnCode(i) + "/budgets/" + g.year}); err != nil {
			return fmt.Errorf("GetBudget %s: %w", pcnCode(i), err)
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	// The national views: NHS England's picture of every PCN, and of the
	// workforce, each read whole.
	r.position, err = timeCalls(ctx, nationalReads(c), c.readClients, func(ctx context.Context, _, _ int, _ *string) error {
		if _, err := g.reporting.GetCommissionerPosition(g.admin, &arrsv1.GetCommissionerPositionRequest{
			Name: "commissioners/-/positions/" + g.year}); err != nil {
			return fmt.Errorf("GetCommissionerPosition: %w", err)
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	r.statistics, err = timeCalls(ctx, nationalReads(c), c.readClients, func(ctx context.Context, _, _ int, _ *string) error {
		if _, err := g.reporting.ListWorkforceStatistics(g.admin, &arrsv1.ListWorkforceStatisticsRequest{
			Parent: "commissioners/-", FinancialYear: g.year, PageSize: 500}); err != nil {
			return fmt.Errorf("ListWorkforceStatistics: %w", err)
		}
		return nil
	})
	return r, err
}

// timeCalls makes n calls on workers clients and returns each one's duration.
// state is the worker's own (a page token); the pages walked restart every 20.
// The first workers×2 calls warm connections and caches up and are not
// counted.
func timeCalls(ctx context.Context, n, workers int, call func(ctx context.Context, worker, i int, state *string) error) (latencies, error) {
	warm := 2 * workers
	n += warm
	out := make(latencies, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			var state string
			for page := 0; ; page++ {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if page%20 == 0 {
					state = ""
				}
				t0 := time.Now()
				if err := call(ctx, w, i, &state); err != nil {
					errs <- err
					return
				}
				out[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	close(errs)
	return out[warm:], <-errs
}

//go:embed submit.pgbench
var submitScript string

// The audit statements of the trail as it was before the chains per PCN,
// and the tables they need (see audit_v1.pgbench).
var (
	//go:embed audit_v1.pgbench
	auditV1Statements string
	//go:embed oldaudit.sql
	oldAuditSchema string
)

// auditTrail is how pgbench's SubmitClaim transaction appends its event.
type auditTrail int

const (
	// trailChains is arrsd's: the event, with the claim's fields and only
	// the lines the write changed, appended to the PCN's own chain.
	trailChains auditTrail = iota
	// trailNone appends nothing: the transaction without its audit trail,
	// to say what the trail costs.
	trailNone
	// trailV1 is the one national chain of migration 00005 (every write
	// locks its head row; the hash is computed in SQL under the lock),
	// appending today's event: the chains' design alone.
	trailV1
	// trailV1Whole is the audit trail as it was when issue 12 measured it:
	// the national chain, and the event recording the whole claim with
	// every line before and after (~44 KB for 30 lines, not ~1 KB).
	trailV1Whole
)

// transactionWith is script (submit.pgbench) with its audit trail section
// replaced by audit: the same statements around it, whichever trail.
func transactionWith(script, audit string) (string, error) {
	const open, close = "\n-- audit trail {\n", "\n-- audit trail }\n"
	from, to := strings.Index(script, open), strings.Index(script, close)
	if from < 0 || to < from {
		return "", errors.New("submit.pgbench has no audit trail section")
	}
	return script[:from+1] + audit + script[to+len(close):], nil
}

// pgbenchResult is pgbench's throughput running SubmitClaim's statements.
type pgbenchResult struct {
	tps     float64
	clients int
	mode    string
}

// runPgbench runs arrsd's SubmitClaim transaction (bench/national/
// submit.pgbench, captured with log_statement=all) with as many clients as
// the load had, over the generated PCNs' claims, all already submitted: the
// same statements, locks and writes (the claim's row rewritten, an audit
// event appended as trail says) as a submission, with nothing of arrsd.
// Mode "extended" (unnamed statements, parsed and planned every time) is
// what lib/pq does unprepared; "prepared" is how arrsd sends its hot
// statements, each prepared once per connection.
//
// The claims are those of the generated PCNs pcns[0] to pcns[1]-1 (indices
// of pcnCode), so that pgbench's transactions range over the same claims as
// the submissions it is compared with: a split stage's few PCNs are hot in
// the database's buffers where the whole country is not.
func runPgbench(ctx context.Context, e *env, c config, g *generator, mode string, trail auditTrail, pcns [2]int) (pgbenchResult, error) {
	pgbench, err := exec.LookPath(filepath.Join(e.binDir, "pgbench"))
	if err != nil {
		if pgbench, err = exec.LookPath("pgbench"); err != nil {
			return pgbenchResult{}, fmt.Errorf("pgbench not found in %s or on PATH (apt-get install postgresql-contrib): %w", e.binDir, err)
		}
	}
	script, err := os.CreateTemp("", "submit-*.pgbench")
	if err != nil {
		return pgbenchResult{}, err
	}
	defer os.Remove(script.Name())
	events, err := submitEvents(ctx, e.databaseURL, trail == trailV1Whole)
	if err != nil {
		return pgbenchResult{}, err
	}
	source, databaseURL := submitScript, e.databaseURL
	switch trail {
	case trailNone:
		source, err = transactionWith(submitScript, "")
	case trailV1, trailV1Whole:
		if databaseURL, err = withOldAudit(ctx, e.databaseURL); err != nil {
			return pgbenchResult{}, err
		}
		source, err = transactionWith(submitScript, auditV1Statements)
	}
	if err != nil {
		return pgbenchResult{}, err
	}
	if _, err := script.WriteString(source); err != nil {
		return pgbenchResult{}, err
	}
	if err := script.Close(); err != nil {
		return pgbenchResult{}, err
	}
	fy, _ := strconv.Atoi(g.year[:4])
	res := pgbenchResult{clients: c.clients, mode: mode}
	cmd := exec.CommandContext(ctx, pgbench, "--no-vacuum", "--protocol", res.mode,
		"--client", strconv.Itoa(c.clients), "--jobs", "1", "--time", strconv.Itoa(max(1, int(c.pgbenchTime.Seconds()))),
		"--define", "pcns="+strconv.Itoa(pcns[1]-pcns[0]), "--define", "first="+strconv.Itoa(firstPCN+pcns[0]),
		"--define", "fy="+strconv.Itoa(fy), "--define", "year="+g.year, "--define", "roles="+g.roleArray(), "--define", "events="+events,
		"--file", script.Name(), databaseURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return res, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`).FindSubmatch(out)
	if m == nil {
		return res, fmt.Errorf("pgbench printed no tps:\n%s", out)
	}
	res.tps, err = strconv.ParseFloat(string(m[1]), 64)
	return res, err
}

// withOldAudit makes the old audit trail's tables in the schema audit_v1
// and returns databaseURL with that schema first on the search path.
func withOldAudit(ctx context.Context, databaseURL string) (string, error) {
	db, err := sqlx.Open("postgres", databaseURL)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, oldAuditSchema); err != nil {
		return "", fmt.Errorf("old audit schema: %w", err)
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("options", "-c search_path=audit_v1,public")
	// libpq decodes %20 in a URI, not +.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String(), nil
}

// submitEvents is the audit body arrsd wrote for the last submission of a
// generated claim, as the JSON array its audit statement takes. With whole,
// the event's documents carry the claim's every line, before and after, as
// the trail recorded a submission before it kept only the lines a write
// changed (the lines as the claim's create event recorded them).
func submitEvents(ctx context.Context, databaseURL string, whole bool) (string, error) {
	db, err := sqlx.Open("postgres", databaseURL)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var events string
	err = db.GetContext(ctx, &events, `SELECT jsonb_build_array(jsonb_build_object('resource', s.resource, 'action', s.action,
		'pcn_code', s.pcn_code,
		'before', CASE WHEN $2 THEN s.before || jsonb_build_object('Lines', c.after -> 'Lines') ELSE s.before END,
		'after', CASE WHEN $2 THEN s.after || jsonb_build_object('Lines', c.after -> 'Lines') ELSE s.after END))::text
		FROM audit_events s
		JOIN audit_events c ON c.resource = s.resource AND c.action = 'create'
		WHERE s.action = 'submit' AND s.pcn_code = $1 ORDER BY s.seq DESC LIMIT 1`, pcnCode(0), whole)
	if err != nil {
		return "", fmt.Errorf("a submission's audit event: %w", err)
	}
	return events, nil
}

// rssResult is arrsd's resident memory under many concurrent clients.
type rssResult struct {
	idleKB, peakKB int64
	clients        int
	calls          int64
	duration       time.Duration
}

// measureRSS samples arrsd's resident set every 50 ms while c.rssClients
// clients read claims (GetClaim with its lines, and a PCN's claims).
func measureRSS(ctx context.Context, e *env, g *generator, c config) (rssResult, error) {
	pid := e.arrsd.Process.Pid
	r := rssResult{clients: c.rssClients, duration: c.rssDuration}
	var err error
	if r.idleKB, err = vmRSS(pid); err != nil {
		return r, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.rssDuration)
	defer cancel()
	var calls atomic.Int64
	var wg sync.WaitGroup
	for w := range c.rssClients {
		wg.Go(func() {
			i := w % c.pcns
			cd, err := g.clinicalDirector(ctx, i)
			if err != nil {
				return
			}
			for n := 0; ctx.Err() == nil; n++ {
				name := "pcns/" + pcnCode(i) + "/claims/" + g.months[n%12]
				if n%2 == 0 {
					_, err = g.claims.GetClaim(cd, &arrsv1.GetClaimRequest{Name: name})
				} else {
					_, err = g.claims.ListClaims(cd, &arrsv1.ListClaimsRequest{Parent: "pcns/" + pcnCode(i)})
				}
				if err == nil {
					calls.Add(1)
				}
			}
		})
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
sample:
	for {
		select {
		case <-ctx.Done():
			break sample
		case <-tick.C:
			kb, err := vmRSS(pid)
			if err != nil {
				return r, err
			}
			r.peakKB = max(r.peakKB, kb)
		}
	}
	wg.Wait()
	r.calls = calls.Load()
	return r, nil
}

// vmRSS reads a process's resident set size in kB from /proc (Linux only).
func vmRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("arrsd's memory: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
