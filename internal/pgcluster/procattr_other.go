//go:build !unix

package pgcluster

import "syscall"

// sysProcAttr has nothing to set where there is no root to step down from
// and no process groups.
func sysProcAttr(*account, bool) *syscall.SysProcAttr { return nil }
