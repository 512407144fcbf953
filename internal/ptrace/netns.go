//go:build linux && amd64

package ptrace

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// NewNetns moves the calling OS thread into a new, anonymous network
// namespace and brings its loopback interface up. Every process the thread
// forks afterwards starts in that namespace, and the namespace goes when the
// thread and those processes are gone: nothing names it, so nothing can
// leak it.
//
// The caller must hold its goroutine on its thread (runtime.LockOSThread)
// and never unlock it: the thread is no longer like the others. The Go
// runtime starts new threads from a clean template thread when the current
// one is locked, so other goroutines stay in the original namespace.
func NewNetns() error {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		if err == unix.EPERM {
			return fmt.Errorf("new network namespace: %w (needs root or CAP_SYS_ADMIN)", err)
		}
		return fmt.Errorf("new network namespace: %w", err)
	}
	if err := linkUp("lo"); err != nil {
		return fmt.Errorf("new network namespace: loopback up: %w", err)
	}
	return nil
}

// linkUp sets IFF_UP on interface name of the calling thread's network
// namespace.
func linkUp(name string) error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr)
}
