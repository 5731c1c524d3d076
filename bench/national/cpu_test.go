package main

import (
	"os"
	"slices"
	"testing"
	"time"
)

func TestParseStatReadsPastACommandNameWithSpacesAndParentheses(t *testing.T) {
	// Fields 3 on of /proc/<pid>/stat: state, ppid, …, utime (14), stime,
	// cutime, cstime (17), in clock ticks of 1/100 s.
	line := "4242 (postgres: a (b) c) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 75 40 10 20 0 1 0 123 456 789"
	got, err := parseStat(4242, line)
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{pid: 4242, comm: "postgres: a (b) c", ppid: 17, utime: 2500 * time.Millisecond, stime: 750 * time.Millisecond,
		children: 500 * time.Millisecond}
	if got != want {
		t.Errorf("parseStat = %+v, want %+v", got, want)
	}
	if _, err := parseStat(1, "1 (init) S 0"); err == nil {
		t.Error("a truncated line parsed")
	}
}

func TestChildrenOfFindsThisProcessUnderItsParent(t *testing.T) {
	self, err := readStat(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if self.ppid != os.Getppid() {
		t.Errorf("ppid %d, want %d", self.ppid, os.Getppid())
	}
	children, err := childrenOf(os.Getppid())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(children, func(st procStat) bool { return st.pid == os.Getpid() }) {
		t.Errorf("children of %d are %v, without this process %d", os.Getppid(), children, os.Getpid())
	}
}

func TestCoreSplitHalvesTheCoresThisProcessMayUse(t *testing.T) {
	s, ok := newCoreSplit(cpuMeter{postmaster: 1, arrsd: 1})
	if !ok {
		t.Skip("fewer than two cores")
	}
	if s.database.Count() != s.databaseCores || s.database.Count()+s.service.Count() != s.all.Count() || s.database.Count() < 1 || s.service.Count() < 1 {
		t.Fatalf("split %d + %d of %d cores", s.database.Count(), s.service.Count(), s.all.Count())
	}
	for cpu := range 1024 {
		if s.database.IsSet(cpu) && s.service.IsSet(cpu) {
			t.Errorf("core %d on both sides", cpu)
		}
		if (s.database.IsSet(cpu) || s.service.IsSet(cpu)) != s.all.IsSet(cpu) {
			t.Errorf("core %d: in a side but not usable, or usable but in neither", cpu)
		}
	}
}
