package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// coreSplit gives PostgreSQL some of the machine's cores and arrsd and the
// benchmark's clients (pgbench among them) the others, for the SubmitClaim
// comparison. On shared cores, SubmitClaim through arrsd ÷ pgbench of its
// SQL is bounded by the database's CPU ÷ the sum of every party's: pgbench
// spends CPU on the database alone, while each submission through arrsd
// also spends arrsd's on the same cores. With the cores split, both sides
// have the database on the same cores and nothing else there, so the ratio
// asks what it means to: how much of the database's rate arrsd keeps, its
// round trips and its own work included, when it has a core of its own, as
// a service and its database do in production.
type coreSplit struct {
	database, service, all unix.CPUSet
	databaseCores          int
	postmaster, arrsd      int
}

// newCoreSplit splits the cores this process may run on half and half (the
// database the first half), or reports false on a machine of one core or
// when PostgreSQL's processes are not on this machine. Undone, every process
// gets those cores back: they need not be numbered from 0 (a container's
// cpuset).
func newCoreSplit(m cpuMeter) (coreSplit, bool) {
	var s coreSplit
	if err := unix.SchedGetaffinity(0, &s.all); err != nil || s.all.Count() < 2 || m.postmaster == 0 {
		return coreSplit{}, false
	}
	s.postmaster, s.arrsd, s.databaseCores = m.postmaster, m.arrsd, s.all.Count()/2
	for cpu, seen := 0, 0; seen < s.all.Count(); cpu++ {
		if !s.all.IsSet(cpu) {
			continue
		}
		if seen < s.databaseCores {
			s.database.Set(cpu)
		} else {
			s.service.Set(cpu)
		}
		seen++
	}
	return s, true
}

func (s coreSplit) serviceCores() int { return s.all.Count() - s.databaseCores }

// apply pins PostgreSQL's processes to the database's cores (the postmaster
// too, so that the backends it starts from now on are pinned from birth) and
// every thread of arrsd and of this process to the service's.
func (s coreSplit) apply() error {
	return errors.Join(s.pinPostgres(&s.database), pinThreads(s.arrsd, &s.service), pinThreads(os.Getpid(), &s.service))
}

// undo gives every process all the cores again.
func (s coreSplit) undo() error {
	return errors.Join(s.pinPostgres(&s.all), pinThreads(s.arrsd, &s.all), pinThreads(os.Getpid(), &s.all))
}

func (s coreSplit) pinPostgres(set *unix.CPUSet) error {
	if err := unix.SchedSetaffinity(s.postmaster, set); err != nil {
		return fmt.Errorf("pin the postmaster %d: %w", s.postmaster, err)
	}
	children, err := childrenOf(s.postmaster)
	if err != nil {
		return err
	}
	for _, st := range children {
		// A backend that has just ended is no error.
		if err := unix.SchedSetaffinity(st.pid, set); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("pin PostgreSQL's process %d: %w", st.pid, err)
		}
	}
	return nil
}

// pinThreads sets the affinity of every thread of pid: the kernel's is per
// thread, and a Go program runs on several.
func pinThreads(pid int, set *unix.CPUSet) error {
	tids, err := numbered(filepath.Join("/proc", strconv.Itoa(pid), "task"))
	if err != nil {
		return err
	}
	for _, tid := range tids {
		if err := unix.SchedSetaffinity(tid, set); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("pin thread %d of %d: %w", tid, pid, err)
		}
	}
	return nil
}
