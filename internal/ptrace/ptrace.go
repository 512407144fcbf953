//go:build linux && amd64

// Package ptrace is the only code in the project that talks to the kernel's
// ptrace, seccomp and pidfd interfaces (through golang.org/x/sys/unix). It is
// a thin layer, allocation-free but for errors: the tracer package decides
// what to do.
//
// Every function that takes a tid must be called from the OS thread that
// seized the tracee (the tracer's locked thread); the memory and socket
// helpers may be called from anywhere.
//
// Only linux/amd64 is supported.
package ptrace

import (
	"fmt"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Options are the ptrace options of a traced process after its first exec.
const Options = unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEFORK |
	unix.PTRACE_O_TRACEVFORK | unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_TRACESECCOMP |
	unix.PTRACE_O_EXITKILL

// SeizeOptions are used while the launcher shim runs, before the command's
// exec: no TRACECLONE, so the shim's own runtime threads stay untraced.
const SeizeOptions = unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACEEXEC |
	unix.PTRACE_O_TRACESECCOMP | unix.PTRACE_O_EXITKILL

// LeashOptions are the ptrace options of a process an eBPF recorder
// records: nothing stops but forks, clones and execs, and EXITKILL kills
// every process of the run if the tracer dies.
const LeashOptions = unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK |
	unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_EXITKILL

// StopOptions are LeashOptions plus the seccomp stops of a narrow filter
// (StartStopping) and syscall-exit stops told apart from signals.
const StopOptions = LeashOptions | unix.PTRACE_O_TRACESECCOMP | unix.PTRACE_O_TRACESYSGOOD

// Stop events (WaitStatus.Event).
const (
	EventFork    = unix.PTRACE_EVENT_FORK
	EventVfork   = unix.PTRACE_EVENT_VFORK
	EventClone   = unix.PTRACE_EVENT_CLONE
	EventExec    = unix.PTRACE_EVENT_EXEC
	EventSeccomp = unix.PTRACE_EVENT_SECCOMP
	EventStop    = unix.PTRACE_EVENT_STOP
)

// SyscallTrap is the stop signal of a syscall-stop under TRACESYSGOOD.
const SyscallTrap = syscall.SIGTRAP | 0x80

// Clone flags the tracer needs.
const (
	CloneVM     = unix.CLONE_VM
	CloneFiles  = unix.CLONE_FILES
	CloneThread = unix.CLONE_THREAD
	CloneVfork  = unix.CLONE_VFORK
)

// Misc constants the tracer needs, named here so it need not import unix.
const (
	SockCloexec       = unix.SOCK_CLOEXEC
	OCloexec          = unix.O_CLOEXEC
	OAccmode          = unix.O_ACCMODE
	OWronly           = unix.O_WRONLY
	ORdwr             = unix.O_RDWR
	OCreat            = unix.O_CREAT
	OExcl             = unix.O_EXCL
	OTrunc            = unix.O_TRUNC
	OAppend           = unix.O_APPEND
	ODsync            = unix.O_DSYNC
	OSync             = unix.O_SYNC
	ODirect           = unix.O_DIRECT
	ODirectory        = unix.O_DIRECTORY
	ATFdcwd           = unix.AT_FDCWD
	ATRemovedir       = unix.AT_REMOVEDIR
	MapShared         = unix.MAP_SHARED
	ProtWrite         = unix.PROT_WRITE
	ShutRDWR          = unix.SHUT_RDWR
	MsgPeek           = unix.MSG_PEEK
	CloseRangeCloexec = unix.CLOSE_RANGE_CLOEXEC
	AFUnix            = unix.AF_UNIX
	AFInet            = unix.AF_INET
	AFInet6           = unix.AF_INET6
	SockStream        = unix.SOCK_STREAM
	SockDgram         = unix.SOCK_DGRAM
)

func ptrace(req, pid int, addr, data uintptr) error {
	for {
		_, _, e := unix.RawSyscall6(unix.SYS_PTRACE, uintptr(req), uintptr(pid), addr, data, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return &Error{Op: requests[req], Pid: pid, Err: e}
		}
		return nil
	}
}

// Error is a failed ptrace request: which one, on which thread, and why
// ("ptrace(SETREGS) pid 123: no such process"). errors.Is sees the errno.
type Error struct {
	Op  string
	Pid int
	Err unix.Errno
}

func (e *Error) Error() string { return fmt.Sprintf("ptrace(%s) pid %d: %v", e.Op, e.Pid, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// requests names the ptrace requests this package makes, for errors.
var requests = map[int]string{
	unix.PTRACE_SEIZE: "SEIZE", unix.PTRACE_SETOPTIONS: "SETOPTIONS", unix.PTRACE_CONT: "CONT",
	unix.PTRACE_SYSCALL: "SYSCALL", unix.PTRACE_LISTEN: "LISTEN", unix.PTRACE_GETEVENTMSG: "GETEVENTMSG",
	unix.PTRACE_GET_SYSCALL_INFO: "GET_SYSCALL_INFO", unix.PTRACE_GETREGS: "GETREGS", unix.PTRACE_SETREGS: "SETREGS",
}

// Seize attaches to pid without stopping it.
func Seize(pid, opts int) error { return ptrace(unix.PTRACE_SEIZE, pid, 0, uintptr(opts)) }

// SetOptions replaces the ptrace options of a stopped tracee.
func SetOptions(tid, opts int) error { return ptrace(unix.PTRACE_SETOPTIONS, tid, 0, uintptr(opts)) }

// Cont resumes a stopped tracee, delivering sig (0 for none).
func Cont(tid, sig int) error { return ptrace(unix.PTRACE_CONT, tid, 0, uintptr(sig)) }

// Syscall resumes a stopped tracee until its next syscall stop.
func Syscall(tid, sig int) error { return ptrace(unix.PTRACE_SYSCALL, tid, 0, uintptr(sig)) }

// Listen lets a tracee in group-stop stay stopped while still reporting.
func Listen(tid int) error { return ptrace(unix.PTRACE_LISTEN, tid, 0, 0) }

// EventMsg returns the message of the last ptrace event (new tid, former tid).
func EventMsg(tid int) (uint64, error) {
	var m uint64
	err := ptrace(unix.PTRACE_GETEVENTMSG, tid, 0, uintptr(unsafe.Pointer(&m)))
	return m, err
}

// Operations of SyscallInfo.
const (
	OpEntry   = 1
	OpExit    = 2
	OpSeccomp = 3
)

// SyscallInfo is the kernel's struct ptrace_syscall_info, flattened.
type SyscallInfo struct {
	Op      uint8
	Nr      uint64
	Args    [6]uint64
	Rval    int64
	IsError bool
}

type rawSyscallInfo struct {
	op     uint8
	pad    [3]uint8
	arch   uint32
	ip     uint64
	sp     uint64
	nr     uint64 // entry/seccomp: nr; exit: rval
	args   [6]uint64
	retDat uint32
	_      uint32
}

// GetSyscallInfo fills si for a tracee in a syscall or seccomp stop.
func GetSyscallInfo(tid int, si *SyscallInfo) error {
	var r rawSyscallInfo
	if err := ptrace(unix.PTRACE_GET_SYSCALL_INFO, tid, unsafe.Sizeof(r), uintptr(unsafe.Pointer(&r))); err != nil {
		return err
	}
	si.Op = r.op
	switch r.op {
	case OpEntry, OpSeccomp:
		si.Nr = r.nr
		si.Args = r.args
	case OpExit:
		si.Rval = int64(r.nr)
		si.IsError = r.args[0]&0xff != 0
	}
	return nil
}

// Regs is the register file of a stopped tracee.
type Regs = unix.PtraceRegs

// GetRegs reads the registers of a stopped tracee.
func GetRegs(tid int, r *Regs) error {
	return ptrace(unix.PTRACE_GETREGS, tid, 0, uintptr(unsafe.Pointer(r)))
}

// SetRegs writes the registers of a stopped tracee.
func SetRegs(tid int, r *Regs) error {
	return ptrace(unix.PTRACE_SETREGS, tid, 0, uintptr(unsafe.Pointer(r)))
}

// SkipSyscall makes the call a tracee is entering (seccomp stop) not run and
// return ret instead.
func SkipSyscall(tid int, ret int64) error {
	var r Regs
	if err := GetRegs(tid, &r); err != nil {
		return err
	}
	r.Orig_rax = ^uint64(0)
	r.Rax = uint64(ret)
	return SetRegs(tid, &r)
}

// ReplaceSyscall turns the call a tracee is entering into nr(args...).
func ReplaceSyscall(tid int, nr uint64, args ...uint64) error {
	var r Regs
	if err := GetRegs(tid, &r); err != nil {
		return err
	}
	r.Orig_rax = nr
	regs := []*uint64{&r.Rdi, &r.Rsi, &r.Rdx, &r.R10, &r.R8, &r.R9}
	for i, a := range args {
		*regs[i] = a
	}
	return SetRegs(tid, &r)
}

// SetReturn replaces the return value of a call at its exit stop.
func SetReturn(tid int, ret int64) error {
	var r Regs
	if err := GetRegs(tid, &r); err != nil {
		return err
	}
	r.Rax = uint64(ret)
	return SetRegs(tid, &r)
}

// WaitStatus is a wait(2) status with the ptrace event in bits 16-23.
type WaitStatus = syscall.WaitStatus

// Event returns the ptrace event of a stop (0 for none).
func Event(ws WaitStatus) int { return int(ws>>16) & 0xff }

// Wait waits for any child or tracee (__WALL), retrying on EINTR.
func Wait(ws *WaitStatus) (int, error) {
	for {
		pid, err := syscall.Wait4(-1, ws, unix.WALL, nil)
		if err == syscall.EINTR {
			continue
		}
		return pid, err
	}
}

// Kill sends sig to a process (pid > 0) or a process group (pid < 0).
func Kill(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }

// Tgkill sends sig to one thread.
func Tgkill(tgid, tid int, sig syscall.Signal) error { return unix.Tgkill(tgid, tid, sig) }

// SetChildSubreaper makes this process adopt orphaned descendants, so the
// tracer reaps them and no zombie outlives a run.
func SetChildSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// Probe reports whether this process may trace: it starts a child that
// asks to be traced (PTRACE_TRACEME, which the kernel's ptrace policy
// allows or refuses as it does a seize of a child), and kills it at its
// exec, before it runs anything. It needs no Shim.
func Probe() error {
	runtime.LockOSThread() // the child's tracer is this thread
	defer runtime.UnlockOSThread()
	pid, err := syscall.ForkExec("/proc/self/exe", []string{"pain-ptrace-probe"},
		&syscall.ProcAttr{Env: []string{}, Sys: &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL}})
	if err != nil {
		return err
	}
	syscall.Kill(pid, syscall.SIGKILL)
	var ws syscall.WaitStatus
	for {
		// Its exec stop may be reported first: wait until it is gone.
		_, err := syscall.Wait4(pid, &ws, unix.WALL, nil)
		if err == nil && (ws.Exited() || ws.Signaled()) || err != nil && err != syscall.EINTR {
			return nil
		}
	}
}

const saNoCldStop = 1 // SA_NOCLDSTOP

// sigaction is the kernel's struct sigaction on amd64.
type sigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

// QuietStops adds SA_NOCLDSTOP to this process's SIGCHLD handler (keeping
// the Go runtime's handler): the kernel then sends no SIGCHLD for each
// ptrace stop of a tracee, only for exits, while wait4 still wakes up. This
// saves a signal delivery per stop.
func QuietStops() error {
	var old sigaction
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(syscall.SIGCHLD), 0, uintptr(unsafe.Pointer(&old)), 8, 0, 0); e != 0 {
		return e
	}
	if old.handler == 0 || old.handler == 1 { // SIG_DFL, SIG_IGN: nothing runs anyway
		return nil
	}
	old.flags |= saNoCldStop
	if _, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(syscall.SIGCHLD), uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0); e != 0 {
		return e
	}
	return nil
}
