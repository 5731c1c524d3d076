package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// serverBinaries are the programs a cluster needs from one installation.
var serverBinaries = []string{"initdb", "pg_ctl", "postgres"}

// BinDir returns the directory holding the PostgreSQL server binaries: the
// one named by $PG_BINDIR, else the real directory of the pg_ctl on $PATH,
// else the newest /usr/lib/postgresql/VERSION/bin, where Debian and Ubuntu
// install them without putting them on $PATH.
func BinDir() (string, error) {
	if dir := os.Getenv("PG_BINDIR"); dir != "" {
		if err := hasServerBinaries(dir); err != nil {
			return "", fmt.Errorf("pgcluster: PG_BINDIR=%s: %w", dir, err)
		}
		return dir, nil
	}
	// Symlinks are resolved so that initdb, pg_ctl and postgres all come
	// from the installation pg_ctl belongs to.
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if p, err := filepath.EvalSymlinks(p); err == nil && hasServerBinaries(filepath.Dir(p)) == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		return slices.Compare(version(b), version(a))
	})
	for _, dir := range dirs {
		if hasServerBinaries(dir) == nil {
			return dir, nil
		}
	}
	return "", errors.New("pgcluster: no PostgreSQL server binaries (initdb, pg_ctl, postgres) in $PG_BINDIR, on $PATH or in /usr/lib/postgresql/*/bin; install them (apt-get install postgresql) or set PG_BINDIR")
}

func hasServerBinaries(dir string) error {
	for _, name := range serverBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return fmt.Errorf("%s is not an executable file", filepath.Join(dir, name))
		}
	}
	return nil
}

// version parses the VERSION of /usr/lib/postgresql/VERSION/bin ("15",
// "9.6") so that 10 sorts above 9.6.
func version(binDir string) []int {
	var v []int
	for part := range strings.SplitSeq(filepath.Base(filepath.Dir(binDir)), ".") {
		n, err := strconv.Atoi(part)
		if err != nil {
			return nil
		}
		v = append(v, n)
	}
	return v
}
