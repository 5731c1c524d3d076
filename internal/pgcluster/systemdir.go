package pgcluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// dataDirFile, beside a cluster kept under Options.SystemDir, names the Dir
// that links to it: for people wondering whose cluster it is, and so that
// Start never removes a directory it did not make for that Dir.
const dataDirFile = "data-dir"

// locate returns the directory the cluster of dir lives in: where dir links
// to, dir itself, or, for a new cluster when the server runs as another
// account and systemDir is set, a directory made for it under systemDir.
func (c *Cluster) locate(ctx context.Context, dir, systemDir string) (string, error) {
	fi, err := os.Lstat(dir)
	switch {
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		target, err := os.Readlink(dir)
		if err != nil {
			return "", fmt.Errorf("pgcluster: %w", err)
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(dir), target)
		}
		return filepath.Clean(target), nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("pgcluster: %w", err)
	case err == nil || c.owner == nil || systemDir == "":
		return dir, nil
	}
	return c.makeSystemDir(ctx, dir, systemDir)
}

// makeSystemDir makes the directory for dir's cluster under systemDir,
// SYSTEMDIR/HASH/postgres (initdb creates the last part), and links dir to
// it. The hash of dir's absolute path keeps checkouts apart and names the
// same place every time, so whatever a removed dir left there is found and
// removed rather than piling up.
func (c *Cluster) makeSystemDir(ctx context.Context, dir, systemDir string) (string, error) {
	sum := sha256.Sum256([]byte(dir))
	home := filepath.Join(systemDir, hex.EncodeToString(sum[:6]))
	target := filepath.Join(home, "postgres")
	if err := c.removeOrphan(ctx, dir, home, target); err != nil {
		return "", err
	}
	// Traversable by the postgres user, unlike dir's parents.
	if err := os.MkdirAll(home, 0o755); err != nil {
		return "", fmt.Errorf("pgcluster: %w", err)
	}
	if err := os.WriteFile(filepath.Join(home, dataDirFile), []byte(dir+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("pgcluster: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("pgcluster: %w", err)
	}
	if err := os.Symlink(target, dir); err != nil {
		return "", fmt.Errorf("pgcluster: %w", err)
	}
	c.logger.Info("postgres cluster kept where the postgres user can reach it, linked from the data directory",
		"dir", target, "link", dir)
	return target, nil
}

// removeOrphan removes home, the directory once made for dir under the
// system directory, now that dir is gone: whoever removed dir (rm -rf .data)
// asked to start afresh. A server still running there is stopped first. A
// home that is not dir's is left alone, and Start fails.
func (c *Cluster) removeOrphan(ctx context.Context, dir, home, target string) error {
	b, err := os.ReadFile(filepath.Join(home, dataDirFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Nothing there, or an empty directory an interrupted Start made.
		if err := os.Remove(home); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pgcluster: %s is in the way of the cluster for %s: %w", home, dir, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("pgcluster: %w", err)
	case strings.TrimSuffix(string(b), "\n") != dir:
		return fmt.Errorf("pgcluster: %s holds the cluster of %s, not of %s; remove it to go on",
			home, strings.TrimSpace(string(b)), dir)
	}
	if _, err := os.Stat(filepath.Join(target, "PG_VERSION")); err == nil {
		orphan := &Cluster{Dir: target, BinDir: c.BinDir, owner: c.owner, logger: c.logger}
		running, err := orphan.running(ctx)
		if err != nil {
			return err
		}
		if running {
			if err := orphan.Stop(ctx); err != nil {
				return err
			}
		}
	}
	c.logger.Warn("removing the postgres cluster of a data directory that is gone, to start afresh",
		"dir", target, "data_dir", dir)
	if err := os.RemoveAll(home); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return nil
}
