//go:build linux && amd64

package ptrace

import (
	"slices"
	"unsafe"

	"github.com/boxofpain/pain/internal/sysent"
	"golang.org/x/sys/unix"
)

// Filter returns the seccomp-bpf program the shim installs before exec:
// SECCOMP_RET_TRACE for the calls in sysent.Table (restricted by argument
// where the table says so), SECCOMP_RET_ALLOW for everything else, including
// non-x86-64 and x32 calls. The call number is found by a binary search
// over the table (sorted by number), so every call, traced or not, runs a
// few instructions whatever the size of the table.
func Filter() []unix.SockFilter { return FilterOf(nil) }

// FilterOf is Filter restricted to the calls numbered in only (nil: every
// call of sysent.Table): an injected run recorded with eBPF stops only at
// the calls its plan can act on.
func FilterOf(only []int) []unix.SockFilter {
	tab := slices.Clone(sysent.Table)
	if only != nil {
		tab = slices.DeleteFunc(tab, func(e sysent.Entry) bool { return !slices.Contains(only, e.Nr) })
	}
	slices.SortFunc(tab, func(a, b sysent.Entry) int { return a.Nr - b.Nr })
	f := &filter{tab: tab}
	// Layout: 4 head, the search, one block per call with argument values
	// (ld, jeq..., ret ALLOW), ret TRACE.
	search := 4
	pos := search + f.size(0, len(tab))
	f.blockAt = make([]int, len(tab))
	for i, e := range tab {
		if n := len(e.ArgVals) + len(e.ArgSkip); n > 0 {
			f.blockAt[i] = pos
			pos += 2 + n
			if len(e.ArgSkip) > 0 {
				pos++ // the ja
			}
		}
	}
	f.trace = pos
	f.prog = make([]unix.SockFilter, 0, f.trace+1)
	f.add(unix.SockFilter{Code: ldW, K: offArch})
	f.add(unix.SockFilter{Code: jeq, K: unix.AUDIT_ARCH_X86_64, Jf: f.jmp(1, f.allowAt())})
	f.add(unix.SockFilter{Code: ldW, K: offNr})
	f.add(unix.SockFilter{Code: jge, K: 0x40000000, Jt: f.jmp(3, f.allowAt())})
	f.tree(0, len(tab))
	for _, e := range tab {
		if len(e.ArgVals)+len(e.ArgSkip) > 0 {
			f.argBlock(&e)
		}
	}
	f.add(unix.SockFilter{Code: ret, K: unix.SECCOMP_RET_TRACE})
	return f.prog
}

const (
	ldW     = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	jeq     = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	jge     = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	ret     = unix.BPF_RET | unix.BPF_K
	offNr   = 0
	offArch = 4
	offArgs = 16
	leaf    = 4 // calls a leaf of the search compares one by one
)

// filter is Filter's program under construction.
type filter struct {
	tab     []sysent.Entry
	prog    []unix.SockFilter
	blockAt []int // where a call's argument block starts
	trace   int   // where ret TRACE is
}

func (f *filter) add(in unix.SockFilter) { f.prog = append(f.prog, in) }

// jmp is the offset of a forward jump from instruction at to instruction
// to; a program too long for one is a bug Filter's test catches.
func (f *filter) jmp(at, to int) uint8 {
	d := to - at - 1
	if d < 0 || d > 255 {
		panic("seccomp filter: jump out of range")
	}
	return uint8(d)
}

// allowAt is where the head sends what is not an x86-64 call: the first
// leaf's ret ALLOW would do, but any ALLOW is the same; the last
// instruction of the search is one.
func (f *filter) allowAt() int { return 4 + f.size(0, len(f.tab)) - 1 }

// size is the length of the search over tab[lo:hi].
func (f *filter) size(lo, hi int) int {
	if hi-lo <= leaf {
		return hi - lo + 1 // jeq each, ret ALLOW
	}
	mid := (lo + hi) / 2
	return 1 + f.size(lo, mid) + f.size(mid, hi)
}

// tree emits the search over tab[lo:hi]: a jge splits it at its middle
// call, a leaf compares its calls one by one and allows what matches none.
func (f *filter) tree(lo, hi int) {
	if hi-lo <= leaf {
		for i := lo; i < hi; i++ {
			to := f.trace
			if f.blockAt[i] > 0 {
				to = f.blockAt[i]
			}
			at := len(f.prog)
			f.add(unix.SockFilter{Code: jeq, K: uint32(f.tab[i].Nr), Jt: f.jmp(at, to)})
		}
		f.add(unix.SockFilter{Code: ret, K: unix.SECCOMP_RET_ALLOW})
		return
	}
	mid := (lo + hi) / 2
	at := len(f.prog)
	f.add(unix.SockFilter{Code: jge, K: uint32(f.tab[mid].Nr), Jt: f.jmp(at, at+1+f.size(lo, mid))})
	f.tree(lo, mid)
	f.tree(mid, hi)
}

// argBlock traces e only for the argument values its entry says.
func (f *filter) argBlock(e *sysent.Entry) {
	f.add(unix.SockFilter{Code: ldW, K: uint32(offArgs + 8*e.ArgIdx)})
	for _, v := range e.ArgVals {
		at := len(f.prog)
		f.add(unix.SockFilter{Code: jeq, K: v, Jt: f.jmp(at, f.trace)})
	}
	// Skipped values jump over the next instruction to the block's end.
	for i, v := range e.ArgSkip {
		f.add(unix.SockFilter{Code: jeq, K: v, Jt: uint8(len(e.ArgSkip) - i)})
	}
	if len(e.ArgSkip) > 0 {
		// Not skipped: trace. Skipped: fall to the ALLOW below.
		at := len(f.prog)
		f.add(unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA, K: uint32(f.trace - at - 1)})
	}
	f.add(unix.SockFilter{Code: ret, K: unix.SECCOMP_RET_ALLOW})
}

// installFilter sets no_new_privs and installs FilterOf(only) on the
// calling thread.
func installFilter(only []int) error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	prog := FilterOf(only)
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	_, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog)))
	if e != 0 {
		return e
	}
	return nil
}
