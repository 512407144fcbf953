//go:build linux && amd64

package ptrace

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

// TestErrorSays: a failed request names itself and the thread it was for,
// and still matches its errno.
func TestErrorSays(t *testing.T) {
	pid := os.Getpid() // not our tracee: every request fails with ESRCH
	var r Regs
	err := SetRegs(pid, &r)
	if want := fmt.Sprintf("ptrace(SETREGS) pid %d: no such process", pid); err == nil || err.Error() != want {
		t.Errorf("SetRegs = %v, want %q", err, want)
	}
	if !errors.Is(err, syscall.ESRCH) {
		t.Errorf("errors.Is(%v, ESRCH) = false", err)
	}
}

// TestNoShim: this test binary never calls Shim, so it refuses to start a
// traced process (which would be the test binary run again) instead of
// starting one; Probe needs no shim.
func TestNoShim(t *testing.T) {
	if _, err := StartWaker(); !errors.Is(err, errNoShim) {
		t.Errorf("StartWaker = %v, want %v", err, errNoShim)
	}
	if err := Probe(); errors.Is(err, errNoShim) {
		t.Errorf("Probe = %v: it needs no shim", err)
	}
}
