// Package pgcluster runs a private PostgreSQL cluster out of one directory:
// arrsd uses it when DATABASE_URL is unset, and package pgtest uses it for
// throwaway test clusters.
//
// It owns everything inside the cluster's directory (data files, server.log,
// the Unix socket and the settings file pgcluster.conf) and, for a cluster it
// keeps under Options.SystemDir, the directory it made there and the symbolic
// link to it; nothing else: it must not touch system clusters,
// /var/run/postgresql, other installations' configuration or the permissions
// of parent directories, and it never installs PostgreSQL. The cluster listens on 127.0.0.1 only and
// trusts every local connection, so it must never hold real patient data nor
// stand in for the managed server that DATABASE_URL names in production.
package pgcluster

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

const (
	superuser    = "postgres"
	settingsFile = "pgcluster.conf"
	serverLog    = "server.log"

	// pg_ctl's own limit, in seconds, for starting and stopping the server.
	pgctlTimeout = "60"
	// How long a started (or found running) server may take to accept
	// connections; crash recovery after an unclean stop is the slow case.
	readyTimeout = 30 * time.Second
	// Start tries this many auto-picked ports: a port found free can be
	// taken by a parallel test binary before the postmaster binds it.
	portAttempts = 3
	// sun_path is 108 bytes on Linux (104 on BSDs); the socket file name
	// ".s.PGSQL.NNNNN" must fit after the directory.
	maxSocketPath = 103
)

// Options configures Start.
type Options struct {
	// Dir is the data directory; it is created and initialised when it is
	// missing or empty, and reused as it is otherwise. A Dir that is a
	// symbolic link stands for the directory it points to.
	Dir string
	// SystemDir is where a new cluster is made instead of Dir when we are
	// root and SystemDir is set. PostgreSQL refuses to run as root, so the
	// server then runs as the postgres user, which cannot reach a Dir below
	// a directory only root may enter (root's home, a mktemp -d). The
	// cluster is made in SystemDir/<hash of Dir>/postgres, with a file
	// data-dir beside it naming Dir, and Dir becomes a symbolic link to it.
	// A missing Dir whose directory there remains (rm -rf of Dir's parent)
	// starts afresh: the old cluster is stopped and removed. SystemDir
	// itself must be reachable by the postgres user.
	SystemDir string
	// Port is the TCP port on 127.0.0.1. With 0, a kept cluster reuses the
	// port it had last time and a new one gets a free port; either way the
	// port is remembered in Dir.
	Port int
	// Logger receives where the cluster is and what Start did; nil discards.
	Logger *slog.Logger
	// Fsync makes the cluster crash-safe. Throwaway test clusters set it
	// false: no fsync, no synchronous commit, no full-page writes, which
	// makes initdb and every commit much faster.
	Fsync bool
}

// Cluster is a running server started or found by Start.
type Cluster struct {
	// Dir is the absolute data directory: Options.Dir, or the directory
	// it links to.
	Dir string
	// Started says whether Start started the server; false means it found
	// one already running, which belongs to whoever started it.
	Started bool
	// Port is the TCP port the server listens on at 127.0.0.1.
	Port int
	// BinDir holds the initdb, pg_ctl and postgres the cluster is run with.
	BinDir string

	owner  *account // nil: the server runs as the current user
	logger *slog.Logger
}

// account is the OS user the server runs as when we are root.
type account struct{ uid, gid uint32 }

// Start initialises Dir if needed, starts the server unless a postmaster is
// already running on Dir, and waits until the server accepts connections. A
// running postmaster is reused as it is: opts.Fsync takes effect at the next
// start, and a port other than the running one is an error. The superuser is "postgres", authenticated by
// trust over loopback TCP and the Unix socket in Dir.
//
// Concurrent Starts on one Dir from different processes are not supported.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("pgcluster: Options.Dir is empty")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	binDir, err := BinDir()
	if err != nil {
		return nil, err
	}
	owner, err := serverAccount()
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Cluster{BinDir: binDir, owner: owner, logger: logger}
	if c.Dir, err = c.locate(ctx, dir, opts.SystemDir); err != nil {
		return nil, err
	}
	dir = c.Dir

	if err := c.initdb(ctx, opts.Fsync); err != nil {
		return nil, err
	}
	running, err := c.running(ctx)
	if err != nil {
		return nil, err
	}
	if running {
		if c.Port, err = c.runningPort(); err != nil {
			return nil, err
		}
		if opts.Port != 0 && opts.Port != c.Port {
			return nil, fmt.Errorf("pgcluster: %s is already running on port %d, not %d", dir, c.Port, opts.Port)
		}
	} else if err := c.start(ctx, opts); err != nil {
		return nil, err
	}
	c.Started = !running
	if err := c.waitReady(ctx); err != nil {
		return nil, err
	}
	logger.Info("postgres cluster ready", "dir", dir, "port", c.Port, "reused", running,
		"log", filepath.Join(dir, serverLog))
	return c, nil
}

// URL returns the superuser URL of database on the cluster.
func (c *Cluster) URL(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(superuser),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// EnsureDatabase creates database name unless it exists.
func (c *Cluster) EnsureDatabase(ctx context.Context, name string) error {
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("pgcluster: look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
	// Someone else may have created it since we looked.
	if err != nil && pq.As(err, pqerror.DuplicateDatabase) == nil {
		return fmt.Errorf("pgcluster: create database %s: %w", name, err)
	}
	return nil
}

// Stop shuts the server down, disconnecting clients and rolling back their
// transactions (pg_ctl stop -m fast). Stopping a stopped cluster is not an
// error.
func (c *Cluster) Stop(ctx context.Context) error {
	out, err := c.run(ctx, false, "pg_ctl", "stop", "-D", c.Dir, "-m", "fast", "-w", "-t", pgctlTimeout)
	if err == nil {
		return nil
	}
	if running, serr := c.running(ctx); serr == nil && !running {
		return nil
	}
	return fmt.Errorf("pgcluster: stop %s: %w\n%s", c.Dir, err, out)
}

// initdb initialises c.Dir unless it already holds a cluster.
func (c *Cluster) initdb(ctx context.Context, fsync bool) error {
	if _, err := os.Stat(filepath.Join(c.Dir, "PG_VERSION")); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pgcluster: %w", err)
	}
	entries, err := os.ReadDir(c.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Parents must stay traversable for the server's account when
		// that is not us.
		if err := os.MkdirAll(filepath.Dir(c.Dir), 0o755); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if err := os.Mkdir(c.Dir, 0o700); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
	case err != nil:
		return fmt.Errorf("pgcluster: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("pgcluster: %s is neither empty nor a PostgreSQL data directory", c.Dir)
	}
	if err := c.chown(c.Dir); err != nil {
		return err
	}

	// The C locale makes sorting and messages independent of the locales
	// installed on the host, and lets Start read the server log.
	args := []string{"-D", c.Dir, "-U", superuser, "--auth=trust", "--locale=C", "--encoding=UTF8"}
	if !fsync {
		args = append(args, "--no-sync")
	}
	c.logger.Info("initialising postgres cluster", "dir", c.Dir, "bindir", c.BinDir)
	if out, err := c.run(ctx, false, "initdb", args...); err != nil {
		hint := ""
		if c.owner != nil {
			hint = "\n(initdb runs as the postgres user, which must be able to reach " + c.Dir + " through every parent directory)"
		}
		return fmt.Errorf("pgcluster: initdb %s: %w\n%s%s", c.Dir, err, out, hint)
	}

	// Settings live in a file of our own, rewritten at every start, so a
	// moved directory or a change of Options takes effect; postgresql.conf
	// stays as initdb wrote it apart from this include.
	f, err := os.OpenFile(filepath.Join(c.Dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# Written by arrs's pgcluster at every start.\ninclude_if_exists = '%s'\n", settingsFile)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return nil
}

// start starts a stopped server, on opts.Port or else the remembered or a
// free port.
func (c *Cluster) start(ctx context.Context, opts Options) error {
	port, err := c.rememberedPort()
	if err != nil {
		return err
	}
	if opts.Port != 0 {
		port = opts.Port
	}
	for attempt := 1; ; attempt++ {
		if port == 0 {
			if port, err = freePort(); err != nil {
				return err
			}
		}
		if err := c.writeSettings(port, opts.Fsync); err != nil {
			return err
		}
		logPath := filepath.Join(c.Dir, serverLog)
		// pg_ctl appends to the log; only this attempt's part explains it.
		logStart := int64(0)
		if fi, err := os.Stat(logPath); err == nil {
			logStart = fi.Size()
		}
		out, err := c.run(ctx, true, "pg_ctl", "start", "-D", c.Dir, "-l", logPath, "-w", "-t", pgctlTimeout)
		if err == nil {
			c.Port = port
			return nil
		}
		serverOut := readFrom(logPath, logStart)
		err = fmt.Errorf("pgcluster: start %s on port %d: %w\n%s%s", c.Dir, port, err, out, serverOut)
		if opts.Port != 0 || attempt == portAttempts || !strings.Contains(serverOut, "Address already in use") {
			return err
		}
		c.logger.Warn("postgres port taken, trying another", "dir", c.Dir, "port", port)
		port = 0
	}
}

// writeSettings writes the settings that Options and Dir's location decide.
func (c *Cluster) writeSettings(port int, fsync bool) error {
	// Without a socket, local tools need -h 127.0.0.1, but the server
	// would refuse to start with a path longer than sun_path.
	socketDir := c.Dir
	if len(socketDir)+len("/.s.PGSQL.65535") > maxSocketPath {
		c.logger.Warn("postgres data directory path too long for a Unix socket; TCP only", "dir", c.Dir)
		socketDir = ""
	}
	onOff := "off"
	if fsync {
		onOff = "on"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by arrs's pgcluster at every start; changes here are lost.\n")
	fmt.Fprintf(&b, "listen_addresses = '127.0.0.1'\n")
	fmt.Fprintf(&b, "port = %d\n", port)
	fmt.Fprintf(&b, "unix_socket_directories = %s\n", confQuote(socketDir))
	for _, name := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
		fmt.Fprintf(&b, "%s = %s\n", name, onOff)
	}
	if fsync {
		// A cluster that serves (arrsd's own, the benchmark's) looks for
		// tables to analyze every 10 s instead of every minute. A backend
		// keeps the plans of its foreign-key checks and PL/pgSQL statements
		// until the table's statistics change; planned while a table was
		// small they scan it, and a bulk load (a national year, at ~100
		// claims a second) made each line's check against claims read every
		// claim until autovacuum next analyzed it: 59 million rows read in
		// 30 s by the benchmark with 60 s, 1.6 million with 5 s. Throwaway
		// test clusters, whose databases come and go, keep the default.
		fmt.Fprintf(&b, "autovacuum_naptime = 10s\n")
	}
	path := filepath.Join(c.Dir, settingsFile)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return c.chown(path)
}

// rememberedPort returns the port of the last start, or 0 if there was none.
func (c *Cluster) rememberedPort() (int, error) {
	f, err := os.Open(filepath.Join(c.Dir, settingsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pgcluster: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "port = "); ok {
			port, err := strconv.Atoi(v)
			if err != nil {
				return 0, fmt.Errorf("pgcluster: %s: bad port %q", f.Name(), v)
			}
			return port, nil
		}
	}
	return 0, s.Err()
}

// running reports whether a live postmaster owns c.Dir, as pg_ctl status
// judges from postmaster.pid.
func (c *Cluster) running(ctx context.Context) (bool, error) {
	out, err := c.run(ctx, false, "pg_ctl", "status", "-D", c.Dir)
	if err == nil {
		return true, nil
	}
	// pg_ctl status exits 3 when no server is running.
	if exitErr, ok := errors.AsType[*exec.ExitError](err); ok && exitErr.ExitCode() == 3 {
		return false, nil
	}
	return false, fmt.Errorf("pgcluster: status of %s: %w\n%s", c.Dir, err, out)
}

// runningPort reads the port of the running postmaster from the fourth line
// of postmaster.pid, which may differ from the settings if they were edited
// after it started.
func (c *Cluster) runningPort() (int, error) {
	b, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("pgcluster: %w", err)
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return 0, fmt.Errorf("pgcluster: %s/postmaster.pid has no port line", c.Dir)
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return 0, fmt.Errorf("pgcluster: %s/postmaster.pid: bad port: %w", c.Dir, err)
	}
	return port, nil
}

// waitReady pings until the server accepts connections: pg_ctl -w only
// waits for a server it starts itself, and a reused one may still be
// recovering.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	defer db.Close()
	for {
		err := db.PingContext(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgcluster: %s on port %d does not accept connections (see %s): %w",
				c.Dir, c.Port, filepath.Join(c.Dir, serverLog), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// run runs one of the server binaries as the server's account and returns
// its combined output. detach keeps a postmaster started by pg_ctl out of
// our process group, so a Ctrl-C meant for us does not stop the server and
// its lifetime is decided by Stop alone.
func (c *Cluster) run(ctx context.Context, detach bool, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.BinDir, name), args...)
	// The server's account may not be able to enter our working directory.
	cmd.Dir = c.Dir
	cmd.SysProcAttr = sysProcAttr(c.owner, detach)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// pg_ctl redirects the postmaster's output to server.log, but should a
	// child keep our pipe open, do not wait for it forever.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return out.Bytes(), err
}

// chown hands path to the server's account when that is not us.
func (c *Cluster) chown(path string) error {
	if c.owner == nil {
		return nil
	}
	if err := os.Chown(path, int(c.owner.uid), int(c.owner.gid)); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return nil
}

// serverAccount returns the account to run the server as: PostgreSQL
// refuses to run as root, so root runs it as the postgres user, and anyone
// else runs it as themselves (nil).
func serverAccount() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: running as root, which PostgreSQL refuses, and found no postgres user to run it as: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: postgres user: uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: postgres user: gid %q: %w", u.Gid, err)
	}
	return &account{uid: uint32(uid), gid: uint32(gid)}, nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// readFrom returns what was appended to path after offset, or nothing.
func readFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(f, 16<<10))
	return string(b)
}

// confQuote quotes s as a postgresql.conf string, where a backslash escapes
// as in C.
func confQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
}
