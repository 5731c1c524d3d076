// Command national is the national-scale benchmark of issue 12 (`make
// bench-national`): it starts a database and an arrsd of its own, generates a
// national financial year through the public gRPC API with concurrent
// clients, and prints what it measured as ratios to baselines taken in the
// same run (see bench/README.md).
//
// It owns its private cluster (a temporary directory, removed at the end),
// the arrsd process it builds and starts, and that arrsd's data directory;
// it must not be pointed at a database that matters: the pgbench phase
// rewrites submitted claims and appends audit rows that do not verify. It is
// not part of `make test` and asserts nothing: it reports.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is the command line.
type config struct {
	pcns          int
	postsPerPCN   int
	clients       int
	path          string
	baselineLines int
	reads         int
	readClients   int
	rssClients    int
	rssDuration   time.Duration
	pgbenchTime   time.Duration
	// getClaimClients and getClaimTime: the GetClaim comparison's clients
	// and how long each side runs.
	getClaimClients []int
	getClaimTime    time.Duration
	databaseURL     string
	arrsd           string
	keep            bool
	// cpuProfile, when set, is a directory to write arrsd's CPU profile of
	// each stage of the national load into (draft.pprof, submit.pprof).
	cpuProfile     string
	profileSeconds int
	// splitPCNs are drafted after the reads and submitted with the cores
	// split between PostgreSQL and the rest (split.go).
	splitPCNs int
}

func parseFlags(args []string, getenv func(string) string) (config, error) {
	var c config
	fs := flag.NewFlagSet("national", flag.ContinueOnError)
	fs.IntVar(&c.pcns, "pcns", 1250, "PCNs in the national year (England has about 1,250)")
	fs.IntVar(&c.postsPerPCN, "posts", 30, "posts per PCN (each is a claim line in every month)")
	fs.IntVar(&c.clients, "clients", 16, "concurrent API clients generating the year")
	fs.StringVar(&c.path, "path", "both", "how line costs are recorded: bulk (one CreateClaim per claim carrying every line's costs), "+
		"line (one UpdateClaimLine per line) or both (half the national PCNs each way)")
	fs.IntVar(&c.baselineLines, "baseline-lines", 10000, "size in claim lines of the small database the reads are compared with")
	fs.IntVar(&c.reads, "reads", 400, "calls of each read measured (ListClaims pages, GetBudget) at each size")
	fs.IntVar(&c.readClients, "read-clients", 4, "concurrent clients making the measured reads")
	fs.IntVar(&c.rssClients, "rss-clients", 64, "concurrent clients while arrsd's resident memory is sampled")
	fs.DurationVar(&c.rssDuration, "rss-duration", 5*time.Second, "how long the RSS load runs")
	fs.DurationVar(&c.pgbenchTime, "pgbench-duration", 5*time.Second, "how long pgbench runs the SubmitClaim transaction")
	fs.DurationVar(&c.getClaimTime, "getclaim-duration", 5*time.Second,
		"how long GetClaim runs against arrsd, and then against the minimal server, at each number of clients")
	getClaimClients := fs.String("getclaim-clients", "16,64", "numbers of concurrent clients the GetClaim comparison runs with")
	fs.StringVar(&c.databaseURL, "database-url", getenv("DATABASE_URL"),
		"a throwaway PostgreSQL database to use instead of a private cluster (env DATABASE_URL); it is written to")
	fs.StringVar(&c.arrsd, "arrsd", "", "a built arrsd to run instead of building ./cmd/arrsd")
	fs.StringVar(&c.cpuProfile, "cpu-profile", "", "write arrsd's CPU profile of the national load's draft and submit stages into this directory "+
		"(read with go tool pprof -top <dir>/submit.pprof)")
	fs.IntVar(&c.profileSeconds, "cpu-profile-seconds", 10, "how long each stage's CPU profile runs from the stage's start: keep it shorter than the stage")
	fs.IntVar(&c.splitPCNs, "split-pcns", 100, "PCNs drafted after the reads whose claims are submitted with PostgreSQL on half the cores and "+
		"arrsd and the clients on the other half, against pgbench of the same SQL on the same split (0: no split comparison; "+
		"unset, no more than --pcns)")
	fs.BoolVar(&c.keep, "keep", false, "keep the private cluster's and arrsd's directory (its path is logged)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	// A few PCNs' quick run should not spend most of its time on the split.
	splitSet := false
	fs.Visit(func(f *flag.Flag) { splitSet = splitSet || f.Name == "split-pcns" })
	if !splitSet {
		c.splitPCNs = min(c.splitPCNs, c.pcns)
	}
	for _, n := range strings.Split(*getClaimClients, ",") {
		clients, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || clients < 1 {
			return c, fmt.Errorf("--getclaim-clients %q: want positive numbers separated by commas", *getClaimClients)
		}
		c.getClaimClients = append(c.getClaimClients, clients)
	}
	switch {
	case fs.NArg() > 0:
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	case c.path != "bulk" && c.path != "line" && c.path != "both":
		return c, fmt.Errorf("--path %q: want bulk, line or both", c.path)
	case c.splitPCNs < 0:
		return c, errors.New("--split-pcns must not be negative")
	case c.pcns < 1 || c.postsPerPCN < 1 || c.clients < 1 || c.readClients < 1 || c.rssClients < 1 || c.reads < 1:
		return c, errors.New("--pcns, --posts, --clients, --read-clients, --rss-clients and --reads must be positive")
	case c.postsPerPCN > 500:
		return c, errors.New("--posts: at most 500 (one CreateClaim call takes up to 500 line updates)")
	}
	return c, nil
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == serveMinimalArg {
		if err := serveMinimal(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "minimal GetClaim server:", err)
			os.Exit(1)
		}
		return
	}
	c, err := parseFlags(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "national:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := run(ctx, c, logger); err != nil {
		logger.Error("national benchmark failed", "err", err)
		os.Exit(1)
	}
}

// run sets up, generates the baseline and then the national year, measures
// each, and prints the report.
func run(ctx context.Context, c config, logger *slog.Logger) (err error) {
	env, err := setUp(ctx, c, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, env.close()) }()

	g, err := newGenerator(ctx, env, c)
	if err != nil {
		return err
	}
	r := &report{pcns: c.pcns, posts: c.postsPerPCN, clients: c.clients}

	// The small database: enough PCNs for baseline-lines claim lines.
	linesPerPCN := 12 * len(g.plan)
	small := min(c.pcns, max(1, (c.baselineLines+linesPerPCN-1)/linesPerPCN))
	firstPath := c.path
	if firstPath == "both" {
		firstPath = "bulk"
	}
	logger.Info("generating the baseline", "pcns", small, "lines", small*linesPerPCN, "path", firstPath)
	base, err := g.load(ctx, 0, small, firstPath, nil)
	if err != nil {
		return err
	}
	r.loads = append(r.loads, base)
	if err := env.settle(ctx); err != nil {
		return err
	}
	if r.smallReads, err = measureReads(ctx, g, c, small); err != nil {
		return err
	}
	r.smallLines = small * linesPerPCN

	// The rest of the national year: with --path=both, half each way.
	rest := c.pcns - small
	switch {
	case rest == 0:
	case c.path == "both":
		half := rest / 2
		for _, part := range []struct {
			from, to int
			path     string
		}{{small, small + half, "bulk"}, {small + half, c.pcns, "line"}} {
			if part.to <= part.from {
				continue
			}
			logger.Info("generating", "pcns", part.to-part.from, "path", part.path)
			l, err := g.load(ctx, part.from, part.to, part.path, nil)
			if err != nil {
				return err
			}
			r.loads = append(r.loads, l)
		}
	default:
		logger.Info("generating", "pcns", rest, "path", c.path)
		l, err := g.load(ctx, small, c.pcns, c.path, nil)
		if err != nil {
			return err
		}
		r.loads = append(r.loads, l)
	}
	if err := env.settle(ctx); err != nil {
		return err
	}
	if r.bigReads, err = measureReads(ctx, g, c, c.pcns); err != nil {
		return err
	}
	r.bigLines = c.pcns * linesPerPCN

	logger.Info("running pgbench with arrsd's SubmitClaim transaction", "clients", c.clients, "duration", c.pgbenchTime)
	national := [2]int{0, c.pcns}
	if r.pgbench, err = runPgbench(ctx, env, c, g, "extended", trailChains, national); err != nil {
		return err
	}
	for _, run := range []struct {
		into  *pgbenchResult
		trail auditTrail
	}{{&r.pgbenchV1Whole, trailV1Whole}, {&r.pgbenchV1, trailV1}, {&r.pgbenchNoAudit, trailNone}, {&r.pgbenchPrepared, trailChains}} {
		if *run.into, err = runPgbench(ctx, env, c, g, "prepared", run.trail, national); err != nil {
			return err
		}
	}
	if split, ok := newCoreSplit(env.cpu); ok && c.splitPCNs > 0 {
		logger.Info("submitting with the cores split", "pcns", c.splitPCNs,
			"postgres_cores", split.databaseCores, "arrsd_and_clients_cores", split.serviceCores())
		if r.split, err = g.load(ctx, c.pcns, c.pcns+c.splitPCNs, "bulk", &split); err != nil {
			return err
		}
		if err := split.apply(); err != nil {
			return errors.Join(err, split.undo())
		}
		r.pgbenchSplit, err = runPgbench(ctx, env, c, g, "prepared", trailChains, [2]int{c.pcns, c.pcns + c.splitPCNs})
		if err := errors.Join(err, split.undo()); err != nil {
			return err
		}
		r.splitCores = [2]int{split.databaseCores, split.serviceCores()}
	}
	logger.Info("comparing GetClaim through arrsd with a minimal server", "clients", c.getClaimClients, "duration", c.getClaimTime)
	if r.getClaim, err = measureGetClaim(ctx, env, g, c); err != nil {
		return err
	}
	logger.Info("sampling arrsd's memory", "clients", c.rssClients, "duration", c.rssDuration)
	if r.rss, err = measureRSS(ctx, env, g, c); err != nil {
		return err
	}
	r.rpcs = env.rpcs.snapshot()
	r.print(os.Stdout)
	return nil
}
