package cli

import (
	"os"
	"syscall"
	"unsafe"
)

// isTerminal: the TCGETS ioctl accepts only terminals.
func isTerminal(f *os.File) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
