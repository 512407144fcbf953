//go:build linux && amd64

package inject

import (
	"encoding/binary"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/ptrace"
	"github.com/boxofpain/pain/internal/sysent"
)

// callLen returns how many bytes the transfer call e is entering asks to
// move (for sendmmsg and recvmmsg: how many messages), so that a dropped
// datagram can report success and a target pinned at a stream offset can
// find the call that covers it. The Hook API does not carry it, so it is
// read from the stopped caller: hooks run on the tracer's ptrace thread,
// which may do that.
func callLen(e *format.Event) int64 {
	var si ptrace.SyscallInfo
	tid := int(e.TID)
	if ptrace.GetSyscallInfo(tid, &si) != nil || (si.Op != ptrace.OpEntry && si.Op != ptrace.OpSeccomp) {
		return 0
	}
	a := si.Args
	ent := sysent.ByName(e.Syscall)
	if ent == nil {
		return 0
	}
	switch ent.Buf {
	case sysent.BufIovec:
		return iovLen(tid, a[1], a[2])
	case sysent.BufMsg:
		var h [32]byte // struct msghdr up to msg_iovlen
		if _, err := ptrace.ReadMem(tid, a[1], h[:]); err != nil {
			return 0
		}
		return iovLen(tid, binary.LittleEndian.Uint64(h[16:]), binary.LittleEndian.Uint64(h[24:]))
	case sysent.BufMmsg:
		return int64(min(a[2], 1024)) // the kernel's UIO_MAXIOV cap
	}
	if i := ent.LenArg(); i >= 0 {
		return int64(a[i])
	}
	return 0
}

// iovLen sums the lengths of a struct iovec array in the tracee.
func iovLen(tid int, addr, cnt uint64) int64 {
	cnt = min(cnt, 1024)
	b := make([]byte, 16*cnt)
	if _, err := ptrace.ReadMem(tid, addr, b); err != nil {
		return 0
	}
	var n int64
	for i := uint64(0); i < cnt; i++ {
		n += int64(binary.LittleEndian.Uint64(b[16*i+8:]))
	}
	return n
}
