package wire

import "syscall"

// accept takes the next connection, close-on-exec, in one call (accept4).
func accept(fd int) (int, error) {
	nfd, _, err := syscall.Accept4(fd, syscall.SOCK_CLOEXEC)
	return nfd, err
}

// streamSocket opens a close-on-exec TCP socket in one call.
func streamSocket(family int) (int, error) {
	return syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
}

func sysSelect(n int, r *syscall.FdSet) error {
	_, err := syscall.Select(n, r, nil, nil, nil)
	return err
}
