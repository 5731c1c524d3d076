package pgtest

import (
	"os"
	"syscall"
)

const (
	shm       = "/dev/shm"
	tmpfsType = 0x01021994 // TMPFS_MAGIC
	// Room for a cluster (~40 MB), its WAL and the databases of parallel
	// tests, times the test binaries go test ./... runs at once.
	minShmFree = 1 << 30
)

// clusterParent returns where to make the throwaway cluster: in memory when
// /dev/shm is a tmpfs with room to spare, because creating a database's few
// hundred files took ~75 ms on disk against ~5 ms in memory; otherwise the
// usual temporary directory (Docker's /dev/shm is 64 MB by default).
func clusterParent() string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(shm, &st); err != nil || st.Type != tmpfsType || st.Bavail*uint64(st.Bsize) < minShmFree {
		return os.TempDir()
	}
	return shm
}
