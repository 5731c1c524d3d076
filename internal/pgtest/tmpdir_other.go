//go:build !linux

package pgtest

import "os"

// clusterParent returns where to make the throwaway cluster.
func clusterParent() string { return os.TempDir() }
