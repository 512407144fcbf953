//go:build linux && amd64

package ptrace

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// ReadMem copies tracee memory at addr into buf with process_vm_readv and
// returns how many bytes it got.
func ReadMem(pid int, addr uint64, buf []byte) (int, error) {
	if len(buf) == 0 {
		return 0, nil
	}
	local := [1]unix.Iovec{{Base: &buf[0], Len: uint64(len(buf))}}
	remote := [1]unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}
	return readv(pid, local[:], remote[:])
}

// Span is a piece of tracee memory.
type Span struct {
	Addr uint64
	Len  uint64
}

// ReadSpans gathers the tracee memory spans into buf (in order, up to
// len(buf) bytes) with one process_vm_readv call per 1024 spans.
func ReadSpans(pid int, spans []Span, buf []byte) (int, error) {
	var remote [64]unix.RemoteIovec
	got := 0
	for len(spans) > 0 && got < len(buf) {
		n := 0
		want := 0
		for n < len(remote) && n < len(spans) && got+want < len(buf) {
			l := int(spans[n].Len)
			if got+want+l > len(buf) {
				l = len(buf) - got - want
			}
			remote[n] = unix.RemoteIovec{Base: uintptr(spans[n].Addr), Len: l}
			want += l
			n++
		}
		if want == 0 {
			spans = spans[n:]
			continue
		}
		local := [1]unix.Iovec{{Base: &buf[got], Len: uint64(want)}}
		r, err := readv(pid, local[:], remote[:n])
		got += r
		if err != nil || r < want {
			return got, err
		}
		spans = spans[n:]
	}
	return got, nil
}

func readv(pid int, local []unix.Iovec, remote []unix.RemoteIovec) (int, error) {
	for {
		r, _, e := unix.RawSyscall6(unix.SYS_PROCESS_VM_READV, uintptr(pid),
			uintptr(unsafe.Pointer(&local[0])), uintptr(len(local)),
			uintptr(unsafe.Pointer(&remote[0])), uintptr(len(remote)), 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(r), nil
	}
}

// Monotonic returns CLOCK_MONOTONIC in nanoseconds, the clock of eBPF's
// bpf_ktime_get_ns.
func Monotonic() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}
