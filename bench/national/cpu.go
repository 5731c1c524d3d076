package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat: USER_HZ, which
// Linux fixes at 100 for user space whatever the kernel's own tick rate.
const userHZ = 100

// cpuTimes is the CPU time each party to the load used over some interval:
// PostgreSQL (the postmaster and every process it started: backends, the
// autovacuum workers, the checkpointer, the WAL writer, including those that
// ended), arrsd, and the benchmark's own clients.
type cpuTimes struct {
	postgres, arrsd, clients time.Duration
	ok                       bool // false when PostgreSQL is not on this machine or /proc cannot be read
}

func (c cpuTimes) minus(o cpuTimes) cpuTimes {
	return cpuTimes{c.postgres - o.postgres, c.arrsd - o.arrsd, c.clients - o.clients, c.ok && o.ok}
}

func (c cpuTimes) plus(o cpuTimes) cpuTimes {
	return cpuTimes{c.postgres + o.postgres, c.arrsd + o.arrsd, c.clients + o.clients, c.ok && o.ok}
}

// cpuMeter samples cpuTimes. Wall time on a shared virtual machine moves by
// a quarter from run to run; the CPU each party spends on the same work
// moves far less, and it says which of them the time went to: with every
// core busy, no party can be faster than its own CPU time ÷ the cores.
type cpuMeter struct {
	postmaster int // 0: PostgreSQL's processes cannot be read from here
	arrsd      int
}

// newCPUMeter finds the postmaster of the server at databaseURL as the
// parent of a backend of its own, if that server runs on this machine and
// its processes can be read (a DATABASE_URL may name a server elsewhere).
func newCPUMeter(ctx context.Context, databaseURL string, arrsd int) (cpuMeter, error) {
	m := cpuMeter{arrsd: arrsd}
	db, err := sqlx.Open("postgres", databaseURL)
	if err != nil {
		return m, err
	}
	defer db.Close()
	var backend int
	if err := db.GetContext(ctx, &backend, "SELECT pg_backend_pid()"); err != nil {
		return m, err
	}
	st, err := readStat(backend)
	if err != nil || st.comm != "postgres" {
		return m, nil // another machine, or another PID namespace
	}
	if parent, err := readStat(st.ppid); err == nil && parent.comm == "postgres" {
		m.postmaster = st.ppid
	}
	return m, nil
}

// sample reads every party's CPU time so far.
func (m cpuMeter) sample() cpuTimes {
	var c cpuTimes
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		c.clients = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if st, err := readStat(m.arrsd); err == nil {
		c.arrsd = st.own()
	}
	if m.postmaster == 0 {
		return c
	}
	pm, err := readStat(m.postmaster)
	if err != nil {
		return c
	}
	// The postmaster's children's times: those that ended are in its own
	// cutime and cstime once it has reaped them, the live ones in theirs.
	c.postgres = pm.own() + pm.children
	children, err := childrenOf(m.postmaster)
	if err != nil {
		return c
	}
	for _, st := range children {
		c.postgres += st.own()
	}
	c.ok = true
	return c
}

// childrenOf reads the live processes whose parent is ppid.
func childrenOf(ppid int) ([]procStat, error) {
	all, err := numbered("/proc")
	if err != nil {
		return nil, err
	}
	var out []procStat
	for _, pid := range all {
		if st, err := readStat(pid); err == nil && st.ppid == ppid {
			out = append(out, st)
		}
	}
	return out, nil
}

// numbered lists the entries of dir named by numbers: /proc's processes,
// or a process's threads in /proc/<pid>/task.
func numbered(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// procStat is what the benchmark reads of /proc/<pid>/stat.
type procStat struct {
	pid          int
	comm         string
	ppid         int
	utime, stime time.Duration
	children     time.Duration // cutime + cstime: the children it has waited for
}

func (p procStat) own() time.Duration { return p.utime + p.stime }

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(pid, string(b))
}

// parseStat reads the fields procStat holds from s, the text of
// /proc/<pid>/stat.
func parseStat(pid int, s string) (procStat, error) {
	// The command name is in parentheses and may hold spaces and
	// parentheses itself: the fields start after the last ')'.
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return procStat{}, errors.New("unreadable " + s)
	}
	f := strings.Fields(s[end+1:])
	// f[0] is field 3 (state): ppid is field 4, utime…cstime fields 14–17.
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	n := make([]int64, 5)
	for i, k := range []int{1, 11, 12, 13, 14} {
		var err error
		if n[i], err = strconv.ParseInt(f[k], 10, 64); err != nil {
			return procStat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
	}
	tick := func(t int64) time.Duration { return time.Duration(t) * time.Second / userHZ }
	return procStat{pid: pid, comm: s[open+1 : end], ppid: int(n[0]), utime: tick(n[1]), stime: tick(n[2]),
		children: tick(n[3]) + tick(n[4])}, nil
}

// cores is what the load's parties share: they all run on this machine.
func cores() int { return runtime.NumCPU() }
