package main

// These tests run `make run` as a developer would, in a fresh clone of this
// checkout, because where the private cluster can live depends on things no
// unit test sees: who runs it (root hands the server to the postgres user)
// and whether that user can reach the checkout (not below a 0700 directory).

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"arrs.nhs.uk/arrs/internal/pgcluster"
)

// TestMakeRunBelowAPrivateDirectory runs `make run` in a clone below a 0700
// directory until it serves, stops it with Ctrl-C and checks that it stopped
// the cluster it started. As root it checks that the cluster was kept under
// /var/lib/arrs, linked from .data/postgres; then it runs `make run` again
// as nobody, whose cluster stays in .data/postgres, with an arrsd built
// beforehand (ARRSD=…): nobody has no Go build cache, and a cold build
// takes minutes.
func TestMakeRunBelowAPrivateDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("clones the repository and runs make run; skipped in -short mode")
	}
	for _, tool := range []string{"git", "make"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s: %v", tool, err)
		}
	}
	if _, err := pgcluster.BinDir(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}

	t.Run("as "+currentUser(t), func(t *testing.T) {
		clone := privateClone(t, nil)
		dir := makeRun(t, clone, nil)
		link := filepath.Join(clone, ".data", "postgres")
		if os.Geteuid() != 0 {
			if dir != link {
				t.Errorf("cluster in %s, want %s", dir, link)
			}
			return
		}
		if !strings.HasPrefix(dir, systemDataDir+"/") {
			t.Errorf("cluster in %s, want it under %s, where the postgres user can reach it", dir, systemDataDir)
		}
		if target, err := os.Readlink(link); err != nil || target != dir {
			t.Errorf("%s links to %q (%v), want %s", link, target, err, dir)
		}
	})

	t.Run("as nobody", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("only root can run make as another user")
		}
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Skip(err)
		}
		uid, _ := strconv.ParseUint(nobody.Uid, 10, 32)
		gid, _ := strconv.ParseUint(nobody.Gid, 10, 32)
		cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		clone := privateClone(t, cred)
		bin := filepath.Join(filepath.Dir(clone), "arrsd")
		copyFile(t, arrsdBinary(t), bin, 0o755)
		if err := os.Chown(bin, int(uid), int(gid)); err != nil {
			t.Fatal(err)
		}
		dir := makeRun(t, clone, cred, "ARRSD="+bin)
		if want := filepath.Join(clone, ".data", "postgres"); dir != want {
			t.Errorf("cluster in %s, want %s", dir, want)
		}
	})
}

func currentUser(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// privateClone clones this checkout, with the working tree's uncommitted
// changes, into a new 0700 directory (owned by cred's user if given) and
// returns the clone's path. Everything is removed when the test ends.
func privateClone(t *testing.T, cred *syscall.Credential) string {
	t.Helper()
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	src := strings.TrimSpace(string(top))
	private, err := os.MkdirTemp("", "arrs-make-run-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(private) })
	clone := filepath.Join(private, "arrs")
	if out, err := exec.Command("git", "clone", "--quiet", "--no-hardlinks", src, clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	// What is being tested is the working tree, committed or not.
	changed, err := exec.Command("git", "-C", src, "ls-files", "-z", "--modified", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatal(err)
	}
	for name := range strings.SplitSeq(strings.TrimSuffix(string(changed), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		fi, err := os.Stat(filepath.Join(src, name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			os.Remove(filepath.Join(clone, name))
		case err != nil:
			t.Fatal(err)
		default:
			copyFile(t, filepath.Join(src, name), filepath.Join(clone, name), fi.Mode().Perm())
		}
	}
	if cred != nil {
		if err := filepath.WalkDir(private, func(path string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(path, int(cred.Uid), int(cred.Gid))
		}); err != nil {
			t.Fatal(err)
		}
	}
	return clone
}

func copyFile(t *testing.T, from, to string, perm fs.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// makeRun runs `make run` in clone (as cred's user if given) on free ports
// until gRPC health reports SERVING, then sends Ctrl-C's SIGINT to its
// process group and checks that everything exited cleanly and that the
// cluster stopped. It returns the cluster's directory, as logged.
func makeRun(t *testing.T, clone string, cred *syscall.Credential, makeArgs ...string) string {
	t.Helper()
	addrs := freeLoopbackAddrs(t, 3)
	logPath := filepath.Join(t.TempDir(), "make-run.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command("make", append([]string{"run"}, makeArgs...)...)
	cmd.Dir = clone
	cmd.Env = append(makeEnv(), "ARRS_GRPC_ADDR="+addrs[0], "ARRS_HTTP_ADDR="+addrs[1], "ARRS_METRICS_ADDR="+addrs[2])
	if cred != nil {
		cmd.Env = append(cmd.Env, "HOME="+filepath.Dir(clone))
	}
	dieWithThisProcess(cmd)
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Credential = cred
	cmd.Stdout, cmd.Stderr = logFile, logFile
	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	pgid := cmd.Process.Pid
	var clusterDir string
	t.Cleanup(func() {
		// Whatever failed, leave no process, cluster or system directory.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		if clusterDir == "" {
			return
		}
		if b, err := os.ReadFile(filepath.Join(clusterDir, "postmaster.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0]); err == nil {
				_ = syscall.Kill(pid, syscall.SIGQUIT)
			}
		}
		if strings.HasPrefix(clusterDir, systemDataDir+"/") {
			os.RemoveAll(filepath.Dir(clusterDir))
		}
	})
	logText := func() string {
		b, _ := os.ReadFile(logPath)
		return string(b)
	}

	// The first run of a clone compiles it: give it minutes.
	awaitHealth(t, addrs[0], 5*time.Minute, exited, logText)
	t.Logf("make run SERVING %v after it was started", time.Since(started).Round(time.Millisecond))
	clusterDir = loggedClusterDir(logText())
	if clusterDir == "" {
		t.Fatalf("the log does not say where the cluster is:\n%s", logText())
	}
	if err := syscall.Kill(-pgid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(time.Minute):
		t.Fatalf("make run still running a minute after SIGINT:\n%s", logText())
	}
	// make may exit as soon as it is interrupted; arrsd then still stops.
	for deadline := time.Now().Add(30 * time.Second); syscall.Kill(-pgid, 0) == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("make run's processes outlived it by 30s:\n%s", logText())
		}
	}
	log := logText()
	for _, want := range []string{"demo data loaded", "stopping the private PostgreSQL cluster", `"msg":"stopped"`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log has no %q", want)
		}
	}
	for line := range strings.Lines(log) {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("logged: %s", strings.TrimSpace(line))
		}
	}
	if _, err := os.Stat(filepath.Join(clusterDir, "postmaster.pid")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the cluster in %s is still running (postmaster.pid: %v)", clusterDir, err)
	}
	if t.Failed() {
		t.Logf("make run log:\n%s", log)
	}
	return clusterDir
}

// makeEnv is childEnv without the settings of any make this test runs
// under, which would otherwise pass its jobserver to ours.
func makeEnv() []string {
	var env []string
	for _, kv := range childEnv() {
		if !strings.HasPrefix(kv, "MAKEFLAGS=") && !strings.HasPrefix(kv, "MFLAGS=") && !strings.HasPrefix(kv, "MAKELEVEL=") {
			env = append(env, kv)
		}
	}
	return env
}

// awaitHealth polls addr's gRPC health check until it reports SERVING,
// failing if make run exits first.
func awaitHealth(t *testing.T, addr string, limit time.Duration, exited <-chan error, log func() string) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	var last error
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("make run exited before serving: %v\n%s", err, log())
		default:
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return
		}
		last = err
	}
	t.Fatalf("make run not SERVING after %v: %v\n%s", limit, last, log())
}

// loggedClusterDir reads the cluster's directory from arrsd's log.
func loggedClusterDir(log string) string {
	s := bufio.NewScanner(strings.NewReader(log))
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		var line struct {
			Msg string `json:"msg"`
			Dir string `json:"dir"`
		}
		if json.Unmarshal(s.Bytes(), &line) == nil && strings.HasPrefix(line.Msg, "using the private PostgreSQL cluster") {
			return line.Dir
		}
	}
	return ""
}
