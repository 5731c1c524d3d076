package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// report is everything measured, printed as ratios to baselines taken in the
// same run, with the absolute figures beside them.
type report struct {
	pcns, posts, clients int
	loads                []loadResult
	smallLines, bigLines int
	smallReads, bigReads reads
	pgbench              pgbenchResult
	pgbenchPrepared      pgbenchResult
	// The same prepared transaction with another audit trail (auditTrail):
	// none, the national chain with today's event, the trail as it was.
	pgbenchNoAudit, pgbenchV1, pgbenchV1Whole pgbenchResult
	// split is the extra PCNs' load, submitted with the cores split as
	// splitCores says (PostgreSQL's, the rest's); pgbenchSplit is pgbench,
	// prepared, on the same split. Empty without a split.
	split        loadResult
	pgbenchSplit pgbenchResult
	splitCores   [2]int
	rss          rssResult
	getClaim     []getClaimResult
	rpcs         map[string]latencies
}

// nationalPCNs is the national year the load figures are projected to.
const nationalPCNs = 1250

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nNational-scale benchmark: %d PCNs × %d posts × 12 months = %d claim lines, %d clients\n\n",
		r.pcns, r.posts, r.bigLines, r.clients)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "load phase\tpath\tPCNs\tlines\tcalls\twall s\tcalls/s\tlines/s\tsetup s\tdraft s\tsubmit s\t")
	for _, l := range r.loads {
		fmt.Fprintf(tw, "\t%s\t%d\t%d\t%d\t%.1f\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t\n", l.path, l.pcns, l.lines, l.calls(),
			l.wall().Seconds(), perSec(float64(l.calls()), l.wall()), perSec(float64(l.lines), l.wall()),
			l.setup.Seconds(), l.draft.Seconds(), l.submit.Seconds())
	}
	_ = tw.Flush()
	fmt.Fprintln(w)

	// Where the load's time went, method by method (the sum of call times
	// over all clients, so shares of the clients' busy time).
	var busy time.Duration
	methods := make([]string, 0, len(r.rpcs))
	for m, l := range r.rpcs {
		methods = append(methods, m)
		busy += l.sum()
	}
	sort.Slice(methods, func(i, j int) bool { return r.rpcs[methods[i]].sum() > r.rpcs[methods[j]].sum() })
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "load calls\tmethod\tcalls\tp50 ms\tp99 ms\tshare of call time\t")
	for _, m := range methods {
		l := r.rpcs[m]
		fmt.Fprintf(tw, "\t%s\t%d\t%.1f\t%.1f\t%.0f%%\t\n", m, len(l), msf(l.quantile(0.5)), msf(l.quantile(0.99)),
			100*l.sum().Seconds()/busy.Seconds())
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	r.printCPU(w)

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "measure\tfigure\tbaseline\tratio\ttarget\t")
	byPath := map[string]loadResult{}
	for _, l := range r.loads {
		p, seen := byPath[l.path]
		if !seen {
			byPath[l.path] = l
			continue
		}
		p.pcns, p.lines = p.pcns+l.pcns, p.lines+l.lines
		p.setup, p.draft, p.submit = p.setup+l.setup, p.draft+l.draft, p.submit+l.submit
		p.setupCalls, p.draftCalls, p.submitCalls = p.setupCalls+l.setupCalls, p.draftCalls+l.draftCalls, p.submitCalls+l.submitCalls
		p.submitLatency = append(slices.Clip(p.submitLatency), l.submitLatency...)
		p.setupCPU, p.draftCPU, p.submitCPU = p.setupCPU.plus(l.setupCPU), p.draftCPU.plus(l.draftCPU), p.submitCPU.plus(l.submitCPU)
		byPath[l.path] = p
	}
	for _, path := range []string{"bulk", "line"} {
		l, ok := byPath[path]
		if !ok {
			continue
		}
		projected := l.wall().Seconds() / float64(l.pcns) * nationalPCNs
		row(tw, fmt.Sprintf("national year, %s path (projected from %d PCNs)", path, l.pcns),
			fmt.Sprintf("%.0f s", projected), "target 60 s", projected/60, "≤ 1")
		if cpu := l.cpu(); cpu.ok {
			// No arrsd can load the year faster than the database does
			// its share of the work on the cores they share.
			floor := cpu.postgres.Seconds() / float64(l.pcns) * nationalPCNs / float64(cores())
			row(tw, fmt.Sprintf("national year, %s path: PostgreSQL's CPU alone ÷ %d cores (projected)", path, cores()),
				fmt.Sprintf("%.0f s", floor), "target 60 s", floor/60, "")
			row(tw, fmt.Sprintf("national year, %s path: arrsd's CPU ÷ PostgreSQL's", path),
				fmt.Sprintf("%.0f s", cpu.arrsd.Seconds()), fmt.Sprintf("%.0f s", cpu.postgres.Seconds()),
				cpu.arrsd.Seconds()/cpu.postgres.Seconds(), "")
		}
	}
	bulk, okB := byPath["bulk"]
	line, okL := byPath["line"]
	if okB && okL {
		b := perSec(float64(bulk.lines), bulk.draft)
		l := perSec(float64(line.lines), line.draft)
		row(tw, "lines/s drafted (claim created, costs recorded), line ÷ bulk", fmt.Sprintf("%.0f/s", l), fmt.Sprintf("%.0f/s", b), l/b, "")
		bw, lw := bulk.wall().Seconds()/float64(bulk.pcns), line.wall().Seconds()/float64(line.pcns)
		row(tw, "wall s per PCN, line path ÷ bulk path", fmt.Sprintf("%.2f s", lw), fmt.Sprintf("%.2f s", bw), lw/bw, "")
	}

	s, b := r.smallReads, r.bigReads
	size := fmt.Sprintf(" at %d ÷ at %d lines", r.bigLines, r.smallLines)
	for _, q := range []struct {
		name  string
		small latencies
		big   latencies
		p     float64
	}{
		{"ListClaims pcns/- page p50", s.nationalPage, b.nationalPage, 0.50},
		{"ListClaims pcns/- page p99", s.nationalPage, b.nationalPage, 0.99},
		{"ListClaims one PCN p99", s.pcnList, b.pcnList, 0.99},
		{"GetBudget p50", s.budget, b.budget, 0.50},
		{"GetBudget p99", s.budget, b.budget, 0.99},
		{"GetCommissionerPosition of England p50", s.position, b.position, 0.50},
		{"GetCommissionerPosition of England p99", s.position, b.position, 0.99},
		{"ListWorkforceStatistics of England p50", s.statistics, b.statistics, 0.50},
		{"ListWorkforceStatistics of England p99", s.statistics, b.statistics, 0.99},
	} {
		big, small := q.big.quantile(q.p), q.small.quantile(q.p)
		target := ""
		// The national views read the whole country, so they grow with it:
		// what matters is their latency at full size, not a ratio.
		if q.p == 0.99 && !strings.Contains(q.name, "England") {
			target = "≤ 1.5"
		}
		row(tw, q.name+size, ms(big), ms(small), big.Seconds()/small.Seconds(), target)
	}

	var submits int64
	var submitTime time.Duration
	for _, l := range r.loads {
		submits, submitTime = submits+l.submitCalls, submitTime+l.submit
	}
	arrsTPS := perSec(float64(submits), submitTime)
	row(tw, fmt.Sprintf("SubmitClaim/s ÷ pgbench of its SQL (%d clients, %s protocol)", r.pgbench.clients, r.pgbench.mode),
		fmt.Sprintf("%.0f/s", arrsTPS), fmt.Sprintf("%.0f tps", r.pgbench.tps), arrsTPS/r.pgbench.tps, "≥ 0.8")
	row(tw, fmt.Sprintf("SubmitClaim/s ÷ pgbench of its SQL (%d clients, %s protocol, as arrsd sends it)", r.pgbenchPrepared.clients, r.pgbenchPrepared.mode),
		fmt.Sprintf("%.0f/s", arrsTPS), fmt.Sprintf("%.0f tps", r.pgbenchPrepared.tps), arrsTPS/r.pgbenchPrepared.tps, "≥ 0.8")
	submitCPU := cpuTimes{ok: true} // plus keeps ok only while every stage's is
	for _, l := range r.loads {
		submitCPU = submitCPU.plus(l.submitCPU)
	}
	if submitCPU.ok && submits > 0 {
		// pgbench's transactions have every core for the database; arrsd's
		// share them with arrsd and the clients. Were a submission to cost
		// the database no more through arrsd than through pgbench, the
		// ratio above would still be at most the database's share of the
		// submit stage's CPU.
		all := submitCPU.postgres + submitCPU.arrsd + submitCPU.clients
		perSubmit := func(d time.Duration) string { return ms(d / time.Duration(submits)) }
		row(tw, "  the most that ratio can be on shared cores: PostgreSQL's CPU per submission ÷ everyone's",
			perSubmit(submitCPU.postgres), perSubmit(all), submitCPU.postgres.Seconds()/all.Seconds(), "")
	}
	if r.split.submitCalls > 0 {
		tps := perSec(float64(r.split.submitCalls), r.split.submit)
		row(tw, fmt.Sprintf("SubmitClaim/s ÷ pgbench of its SQL (prepared), PostgreSQL on %d core(s), arrsd and clients on %d", r.splitCores[0], r.splitCores[1]),
			fmt.Sprintf("%.0f/s", tps), fmt.Sprintf("%.0f tps", r.pgbenchSplit.tps), tps/r.pgbenchSplit.tps, "≥ 0.8")
	}
	tpsText := func(p pgbenchResult) string { return fmt.Sprintf("%.0f tps", p.tps) }
	now := r.pgbenchPrepared
	row(tw, "pgbench of SubmitClaim's SQL, the audit trail now ÷ as it was (one national chain, whole claims)", tpsText(now),
		tpsText(r.pgbenchV1Whole), now.tps/r.pgbenchV1Whole.tps, "≥ 2")
	row(tw, "pgbench of SubmitClaim's SQL, audit chains per PCN ÷ one national chain, both with today's event", tpsText(now),
		tpsText(r.pgbenchV1), now.tps/r.pgbenchV1.tps, "")
	row(tw, "pgbench of SubmitClaim's SQL, the audit trail now ÷ no audit trail", tpsText(now),
		tpsText(r.pgbenchNoAudit), now.tps/r.pgbenchNoAudit.tps, "")
	row(tw, "pgbench of SubmitClaim's SQL, the audit trail as it was ÷ no audit trail", tpsText(r.pgbenchV1Whole),
		tpsText(r.pgbenchNoAudit), r.pgbenchV1Whole.tps/r.pgbenchNoAudit.tps, "")
	row(tw, "pgbench of SubmitClaim's SQL, prepared ÷ extended protocol", fmt.Sprintf("%.0f tps", r.pgbenchPrepared.tps),
		fmt.Sprintf("%.0f tps", r.pgbench.tps), r.pgbenchPrepared.tps/r.pgbench.tps, "")
	for _, g := range r.getClaim {
		row(tw, fmt.Sprintf("GetClaim/s through arrsd ÷ minimal grpc-go server (%d clients)", g.clients),
			fmt.Sprintf("%.0f/s", g.arrsd), fmt.Sprintf("%.0f/s", g.minimal), g.arrsd/g.minimal, "≥ 0.8")
	}
	row(tw, fmt.Sprintf("arrsd RSS, %d clients ÷ idle", r.rss.clients), mb(r.rss.peakKB), mb(r.rss.idleKB),
		float64(r.rss.peakKB)/float64(r.rss.idleKB), "")
	row(tw, fmt.Sprintf("arrsd RSS, %d clients ÷ 150 MB target", r.rss.clients), mb(r.rss.peakKB), "150 MB",
		float64(r.rss.peakKB)/(150*1024), "≤ 1")
	_ = tw.Flush()
	fmt.Fprintf(w, "\n(%d reads of each kind at each size; RSS while %d clients made %.0f GetClaim/ListClaims calls/s; "+
		"SubmitClaim p50 %s, p99 %s)\n", len(b.budget), r.rss.clients, perSec(float64(r.rss.calls), r.rss.duration),
		ms(allSubmits(r.loads).quantile(0.5)), ms(allSubmits(r.loads).quantile(0.99)))
}

// printCPU shows where each load stage's CPU went, party by party, against
// what the machine's cores had in the stage's wall time, and per claim: the
// figures to compare between commits when wall times are noisy.
func (r *report) printCPU(w io.Writer) {
	if len(r.loads) == 0 || !r.loads[0].setupCPU.ok {
		fmt.Fprintf(w, "(CPU by process not measured: PostgreSQL is not on this machine or its processes cannot be read)\n\n")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintf(tw, "load CPU\tpath\tPCNs\tstage\tPostgreSQL s\tarrsd s\tclients s\tidle s (%d cores)\tPostgreSQL ms/claim\tarrsd ms/claim\t\n", cores())
	row := func(l loadResult, stage string, wall time.Duration, c cpuTimes) {
		claims := float64(l.pcns * 12)
		idle := wall.Seconds()*float64(cores()) - (c.postgres + c.arrsd + c.clients).Seconds()
		fmt.Fprintf(tw, "\t%s\t%d\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.2f\t%.2f\t\n", l.path, l.pcns, stage,
			c.postgres.Seconds(), c.arrsd.Seconds(), c.clients.Seconds(), max(idle, 0),
			1000*c.postgres.Seconds()/claims, 1000*c.arrsd.Seconds()/claims)
	}
	for _, l := range r.loads {
		row(l, "setup", l.setup, l.setupCPU)
		row(l, "draft", l.draft, l.draftCPU)
		row(l, "submit", l.submit, l.submitCPU)
	}
	if l := r.split; l.submitCalls > 0 {
		row(l, fmt.Sprintf("submit, cores split %d+%d", r.splitCores[0], r.splitCores[1]), l.submit, l.submitCPU)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
}

func allSubmits(loads []loadResult) latencies {
	var out latencies
	for _, l := range loads {
		out = append(out, l.submitLatency...)
	}
	return out
}

func row(w io.Writer, name, figure, baseline string, ratio float64, target string) {
	fmt.Fprintf(w, "%s\t%s\t%s\t%.2f\t%s\t\n", name, figure, baseline, ratio, target)
}

func perSec(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return n / d.Seconds()
}

func msf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func mb(kb int64) string { return fmt.Sprintf("%.0f MB", float64(kb)/1024) }
