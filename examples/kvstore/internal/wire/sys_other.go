//go:build !linux

package wire

import "syscall"

// The example is a Linux program (it exists to be traced with ptrace);
// this file only lets it build elsewhere, where accept4 and SOCK_CLOEXEC
// are missing and select returns no count.

func accept(fd int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	nfd, _, err := syscall.Accept(fd)
	if err == nil {
		syscall.CloseOnExec(nfd)
	}
	return nfd, err
}

func streamSocket(family int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	return fd, err
}

func sysSelect(n int, r *syscall.FdSet) error { return syscall.Select(n, r, nil, nil, nil) }
