//go:build linux && amd64

package ptrace

import (
	"unsafe"

	"github.com/boxofpain/pain/internal/sysent"
	"golang.org/x/sys/unix"
)

// Filter returns the seccomp-bpf program the shim installs before exec:
// SECCOMP_RET_TRACE for the calls in sysent.Table (restricted by argument
// where the table says so), SECCOMP_RET_ALLOW for everything else, including
// non-x86-64 and x32 calls.
func Filter() []unix.SockFilter {
	const (
		ldW     = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq     = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jge     = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		ret     = unix.BPF_RET | unix.BPF_K
		offNr   = 0
		offArch = 4
		offArgs = 16
	)
	tab := sysent.Table
	// Layout: 4 head, one jeq per call, ret ALLOW, one block per call with
	// argument values (ld, jeq..., ret ALLOW), ret TRACE.
	chain := 4
	allow := chain + len(tab)
	blockAt := make([]int, len(tab))
	pos := allow + 1
	for i, e := range tab {
		if n := len(e.ArgVals) + len(e.ArgSkip); n > 0 {
			blockAt[i] = pos
			pos += 2 + n
			if len(e.ArgSkip) > 0 {
				pos++ // the ja
			}
		}
	}
	trace := pos
	prog := make([]unix.SockFilter, 0, trace+1)
	jmp := func(from, to int) uint8 { return uint8(to - from - 1) }
	prog = append(prog,
		unix.SockFilter{Code: ldW, K: offArch},
		unix.SockFilter{Code: jeq, K: unix.AUDIT_ARCH_X86_64, Jt: 0, Jf: jmp(1, allow)},
		unix.SockFilter{Code: ldW, K: offNr},
		unix.SockFilter{Code: jge, K: 0x40000000, Jt: jmp(3, allow), Jf: 0},
	)
	for i, e := range tab {
		at := chain + i
		to := trace
		if len(e.ArgVals)+len(e.ArgSkip) > 0 {
			to = blockAt[i]
		}
		prog = append(prog, unix.SockFilter{Code: jeq, K: uint32(e.Nr), Jt: jmp(at, to)})
	}
	prog = append(prog, unix.SockFilter{Code: ret, K: unix.SECCOMP_RET_ALLOW})
	for _, e := range tab {
		if len(e.ArgVals)+len(e.ArgSkip) == 0 {
			continue
		}
		prog = append(prog, unix.SockFilter{Code: ldW, K: uint32(offArgs + 8*e.ArgIdx)})
		for _, v := range e.ArgVals {
			at := len(prog)
			prog = append(prog, unix.SockFilter{Code: jeq, K: v, Jt: jmp(at, trace)})
		}
		// Skipped values jump over the next instruction to the block's end.
		for i, v := range e.ArgSkip {
			prog = append(prog, unix.SockFilter{Code: jeq, K: v, Jt: uint8(len(e.ArgSkip) - i)})
		}
		if len(e.ArgSkip) > 0 {
			// Not skipped: trace. Skipped: fall to the ALLOW below.
			at := len(prog)
			prog = append(prog, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA, K: uint32(trace - at - 1)})
		}
		prog = append(prog, unix.SockFilter{Code: ret, K: unix.SECCOMP_RET_ALLOW})
	}
	prog = append(prog, unix.SockFilter{Code: ret, K: unix.SECCOMP_RET_TRACE})
	return prog
}

// installFilter sets no_new_privs and installs Filter on the calling thread.
func installFilter() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	prog := Filter()
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	_, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog)))
	if e != 0 {
		return e
	}
	return nil
}
