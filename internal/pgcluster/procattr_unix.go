//go:build unix

package pgcluster

import "syscall"

// sysProcAttr runs a command as owner (nil: as us), in a process group of
// its own when detach is set.
func sysProcAttr(owner *account, detach bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: detach}
	if owner != nil {
		attr.Credential = &syscall.Credential{Uid: owner.uid, Gid: owner.gid}
	}
	return attr
}
