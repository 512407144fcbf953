// Package sysent is the x86-64 (amd64) Linux system call table as data: for
// each call the tracer cares about, its number, name, class and argument
// layout. The tracer builds its seccomp filter from it and decodes stops with
// it. Only amd64 is described; other architectures are not supported.
package sysent

import (
	"strconv"

	"github.com/boxofpain/pain/format"
)

// Class says what a system call does to the tracer's model of a process.
type Class uint8

const (
	None       Class = iota
	Send             // write, writev, sendto, sendmsg, sendmmsg: bytes out of fd arg 0
	Recv             // read, readv, recvfrom, recvmsg, recvmmsg: bytes into fd arg 0
	Transfer         // sendfile, splice: bytes between two fds, no user buffer
	Socket           // socket: ret is a new fd
	SocketPair       // socketpair: int[2] at arg 3
	Pipe             // pipe, pipe2: int[2] at arg 0
	Bind             // bind: sockaddr at arg 1
	Listen           // listen
	Connect          // connect: sockaddr at arg 1
	Accept           // accept, accept4: ret is a new fd, peer sockaddr at arg 1
	Shutdown         // shutdown
	Close            // close
	CloseRange       // close_range: not recorded, updates fd tables
	Dup              // dup, dup2, dup3, fcntl(F_DUPFD*): not recorded, updates fd tables
	Clone            // clone, clone3, fork, vfork
	Exec             // execve, execveat
	Exit             // exit, exit_group
	Kill             // kill, tkill, tgkill
	Wait             // wait4
	// Files (rows only for files under the run's folder, see the tracer).
	Open     // open, openat, creat: path at arg Path, flags at arg Flags; ret is a new fd
	Sync     // fsync, fdatasync, sync_file_range, syncfs (fd arg 0), sync (none)
	Rename   // rename, renameat, renameat2, link, linkat: two paths (Path, Path2)
	PathOp   // unlink, unlinkat, mkdir, mkdirat, truncate: one path (Path)
	Resize   // ftruncate, fallocate: fd arg 0
	Unfollow // mmap of a file, io_uring_setup: writes the tracer cannot follow
)

// Buf says where a Send or Recv call keeps its bytes.
type Buf uint8

const (
	BufNone  Buf = iota
	BufPlain     // arg 1 pointer, arg 2 length
	BufIovec     // arg 1 struct iovec[], arg 2 count
	BufMsg       // arg 1 struct msghdr
	BufMmsg      // arg 1 struct mmsghdr[], arg 2 count; ret counts messages
)

// Entry describes one system call.
type Entry struct {
	Nr    int
	Name  string
	Class Class
	Buf   Buf
	// Len is the index of the byte-count argument of a Transfer call
	// (sendfile 3, splice 4); for Send and Recv, Buf says (see LenArg).
	Len int
	// Addr is the index of a sockaddr argument (connect, bind, sendto's
	// destination, recvfrom's and accept's source), -1 when there is none.
	Addr int
	// Record is true when the call gets a row in the trace (on sockets and
	// pipes for fd calls).
	Record bool
	// Off, when not 0, is the index of a file offset argument (pread64,
	// pwrite64, preadv, pwritev and their 2 variants); 0: the call moves
	// bytes at the descriptor's position.
	Off int
	// Path and Path2 are the indexes of path arguments (Open, Rename,
	// PathOp), and Dirfd and Dirfd2 of the directories they are relative
	// to (-1: the working directory); Flags of open's flags.
	Path, Path2, Dirfd, Dirfd2, Flags int
	// ArgIdx and ArgVals, when ArgVals is not empty, restrict tracing to
	// calls whose argument ArgIdx (low 32 bits) is one of ArgVals.
	ArgIdx  int
	ArgVals []uint32
	// ArgSkip, when not empty, leaves calls whose argument ArgIdx is one of
	// these values untraced.
	ArgSkip []uint32
}

// LenArg returns the index of the argument holding how much a transfer
// call asks to move: bytes for BufPlain and Transfer calls, iovecs for
// BufIovec, messages for BufMmsg; -1 when no argument holds it (BufMsg:
// the msghdr does) or the call moves no bytes.
func (e *Entry) LenArg() int {
	switch {
	case e.Class == Transfer:
		return e.Len
	case e.Buf == BufPlain, e.Buf == BufIovec, e.Buf == BufMmsg:
		return 2
	}
	return -1
}

// Dir says which way a recorded row moved bytes through its fd.
type Dir uint8

const (
	NoDir Dir = iota // not a transfer
	Out              // a send: bytes left the process through the fd
	In               // a receive: bytes came in through the fd
)

// DirOf says which way the row of call name with arg arg moved bytes.
// sendfile and splice give one row per followed fd and say its side in
// arg: "in" is the fd the bytes left, so the row is a receive.
// The group names "send" and "recv" have their direction too: graphs at
// class granularity (package hb) name their transfers by group.
func DirOf(name, arg string) Dir {
	switch name {
	case "send":
		return Out
	case "recv":
		return In
	}
	e := ByName(name)
	if e == nil {
		return NoDir
	}
	switch e.Class {
	case Send:
		return Out
	case Recv:
		return In
	case Transfer:
		if arg == "in" {
			return In
		}
		return Out
	}
	return NoDir
}

// Group names what a fault target may name instead of one call, so that a
// plan made from a write also fires on a sendto: "send" and "recv" for
// transfers by direction, "accept" for accept and accept4; any other call
// is a group of its own.
func Group(name, arg string) string {
	switch DirOf(name, arg) {
	case Out:
		return "send"
	case In:
		return "recv"
	}
	if e := ByName(name); e != nil && e.Class == Accept {
		return "accept"
	}
	return name
}

// Groups are the group names Group returns beside call names.
var Groups = []string{"send", "recv", "accept"}

// sigURG is the signal the Go runtime sends its own threads to preempt
// goroutines, thousands of times a second in busy Go programs: noise, not
// communication, so tgkill(SIGURG) is not traced.
const sigURG = 23

// Fcntl commands that duplicate a descriptor.
const (
	FDupFD        = 0
	FDupFDCloexec = 1030
)

// Table lists every system call the tracer stops at, by number.
var Table = []Entry{
	{Nr: 0, Name: "read", Class: Recv, Buf: BufPlain, Addr: -1, Record: true},
	{Nr: 1, Name: "write", Class: Send, Buf: BufPlain, Addr: -1, Record: true},
	{Nr: 2, Name: "open", Class: Open, Addr: -1, Record: true, Path: 0, Dirfd: -1, Flags: 1},
	{Nr: 3, Name: "close", Class: Close, Addr: -1, Record: true},
	{Nr: 9, Name: "mmap", Class: Unfollow, Addr: -1, Record: true, ArgIdx: 4, ArgSkip: []uint32{0xffffffff}},
	{Nr: 17, Name: "pread64", Class: Recv, Buf: BufPlain, Addr: -1, Record: true, Off: 3},
	{Nr: 18, Name: "pwrite64", Class: Send, Buf: BufPlain, Addr: -1, Record: true, Off: 3},
	{Nr: 19, Name: "readv", Class: Recv, Buf: BufIovec, Addr: -1, Record: true},
	{Nr: 20, Name: "writev", Class: Send, Buf: BufIovec, Addr: -1, Record: true},
	{Nr: 22, Name: "pipe", Class: Pipe, Addr: -1, Record: true},
	{Nr: 32, Name: "dup", Class: Dup, Addr: -1},
	{Nr: 33, Name: "dup2", Class: Dup, Addr: -1},
	{Nr: 40, Name: "sendfile", Class: Transfer, Len: 3, Addr: -1, Record: true},
	{Nr: 41, Name: "socket", Class: Socket, Addr: -1, Record: true},
	{Nr: 42, Name: "connect", Class: Connect, Addr: 1, Record: true},
	{Nr: 43, Name: "accept", Class: Accept, Addr: 1, Record: true},
	{Nr: 44, Name: "sendto", Class: Send, Buf: BufPlain, Addr: 4, Record: true},
	{Nr: 45, Name: "recvfrom", Class: Recv, Buf: BufPlain, Addr: 4, Record: true},
	{Nr: 46, Name: "sendmsg", Class: Send, Buf: BufMsg, Addr: -1, Record: true},
	{Nr: 47, Name: "recvmsg", Class: Recv, Buf: BufMsg, Addr: -1, Record: true},
	{Nr: 48, Name: "shutdown", Class: Shutdown, Addr: -1, Record: true},
	{Nr: 49, Name: "bind", Class: Bind, Addr: 1, Record: true},
	{Nr: 50, Name: "listen", Class: Listen, Addr: -1, Record: true},
	{Nr: 53, Name: "socketpair", Class: SocketPair, Addr: -1, Record: true},
	{Nr: 56, Name: "clone", Class: Clone, Addr: -1, Record: true},
	{Nr: 57, Name: "fork", Class: Clone, Addr: -1, Record: true},
	{Nr: 58, Name: "vfork", Class: Clone, Addr: -1, Record: true},
	{Nr: 59, Name: "execve", Class: Exec, Addr: -1, Record: true},
	{Nr: 60, Name: "exit", Class: Exit, Addr: -1, Record: true},
	{Nr: 61, Name: "wait4", Class: Wait, Addr: -1, Record: true},
	{Nr: 62, Name: "kill", Class: Kill, Addr: -1, Record: true},
	{Nr: 72, Name: "fcntl", Class: Dup, Addr: -1, ArgIdx: 1, ArgVals: []uint32{FDupFD, FDupFDCloexec}},
	{Nr: 74, Name: "fsync", Class: Sync, Addr: -1, Record: true},
	{Nr: 75, Name: "fdatasync", Class: Sync, Addr: -1, Record: true},
	{Nr: 76, Name: "truncate", Class: PathOp, Addr: -1, Record: true, Path: 0, Dirfd: -1},
	{Nr: 77, Name: "ftruncate", Class: Resize, Addr: -1, Record: true},
	{Nr: 82, Name: "rename", Class: Rename, Addr: -1, Record: true, Path: 0, Path2: 1, Dirfd: -1, Dirfd2: -1},
	{Nr: 83, Name: "mkdir", Class: PathOp, Addr: -1, Record: true, Path: 0, Dirfd: -1},
	{Nr: 85, Name: "creat", Class: Open, Addr: -1, Record: true, Path: 0, Dirfd: -1, Flags: -1},
	{Nr: 86, Name: "link", Class: Rename, Addr: -1, Record: true, Path: 0, Path2: 1, Dirfd: -1, Dirfd2: -1},
	{Nr: 87, Name: "unlink", Class: PathOp, Addr: -1, Record: true, Path: 0, Dirfd: -1},
	{Nr: 162, Name: "sync", Class: Sync, Addr: -1, Record: true},
	{Nr: 200, Name: "tkill", Class: Kill, Addr: -1, Record: true, ArgIdx: 1, ArgSkip: []uint32{sigURG}},
	{Nr: 231, Name: "exit_group", Class: Exit, Addr: -1, Record: true},
	{Nr: 234, Name: "tgkill", Class: Kill, Addr: -1, Record: true, ArgIdx: 2, ArgSkip: []uint32{sigURG}},
	{Nr: 257, Name: "openat", Class: Open, Addr: -1, Record: true, Path: 1, Dirfd: 0, Flags: 2},
	{Nr: 258, Name: "mkdirat", Class: PathOp, Addr: -1, Record: true, Path: 1, Dirfd: 0},
	{Nr: 263, Name: "unlinkat", Class: PathOp, Addr: -1, Record: true, Path: 1, Dirfd: 0},
	{Nr: 264, Name: "renameat", Class: Rename, Addr: -1, Record: true, Path: 1, Path2: 3, Dirfd: 0, Dirfd2: 2},
	{Nr: 265, Name: "linkat", Class: Rename, Addr: -1, Record: true, Path: 1, Path2: 3, Dirfd: 0, Dirfd2: 2},
	{Nr: 275, Name: "splice", Class: Transfer, Len: 4, Addr: -1, Record: true},
	{Nr: 277, Name: "sync_file_range", Class: Sync, Addr: -1, Record: true},
	{Nr: 285, Name: "fallocate", Class: Resize, Addr: -1, Record: true},
	{Nr: 288, Name: "accept4", Class: Accept, Addr: 1, Record: true},
	{Nr: 292, Name: "dup3", Class: Dup, Addr: -1},
	{Nr: 293, Name: "pipe2", Class: Pipe, Addr: -1, Record: true},
	{Nr: 295, Name: "preadv", Class: Recv, Buf: BufIovec, Addr: -1, Record: true, Off: 3},
	{Nr: 296, Name: "pwritev", Class: Send, Buf: BufIovec, Addr: -1, Record: true, Off: 3},
	{Nr: 299, Name: "recvmmsg", Class: Recv, Buf: BufMmsg, Addr: -1, Record: true},
	{Nr: 306, Name: "syncfs", Class: Sync, Addr: -1, Record: true},
	{Nr: 307, Name: "sendmmsg", Class: Send, Buf: BufMmsg, Addr: -1, Record: true},
	{Nr: 316, Name: "renameat2", Class: Rename, Addr: -1, Record: true, Path: 1, Path2: 3, Dirfd: 0, Dirfd2: 2},
	{Nr: 322, Name: "execveat", Class: Exec, Addr: -1, Record: true},
	{Nr: 327, Name: "preadv2", Class: Recv, Buf: BufIovec, Addr: -1, Record: true, Off: 3},
	{Nr: 328, Name: "pwritev2", Class: Send, Buf: BufIovec, Addr: -1, Record: true, Off: 3},
	{Nr: 425, Name: "io_uring_setup", Class: Unfollow, Addr: -1, Record: true},
	{Nr: 435, Name: "clone3", Class: Clone, Addr: -1, Record: true},
	{Nr: 436, Name: "close_range", Class: CloseRange, Addr: -1},
}

// Numbers of calls the tracer issues on a tracee's behalf or looks for.
const (
	NrShutdown = 48
	NrExecve   = 59
)

var (
	byNr   [512]*Entry
	byName = make(map[string]*Entry, len(Table))
)

func init() {
	for i := range Table {
		byNr[Table[i].Nr] = &Table[i]
		byName[Table[i].Name] = &Table[i]
	}
}

// ByName returns the entry for the system call called name, or nil when
// the tracer does not stop at it (process events such as "start" included).
func ByName(name string) *Entry { return byName[name] }

// Lookup returns the entry for system call nr, or nil when the tracer does
// not stop at it.
func Lookup(nr uint64) *Entry {
	if nr >= uint64(len(byNr)) {
		return nil
	}
	return byNr[nr]
}

// Name returns the name of any x86-64 system call, or "syscall_<nr>".
func Name(nr int) string {
	if n, ok := names[nr]; ok {
		return n
	}
	return "syscall_" + strconv.Itoa(nr)
}

// ErrnoName returns the symbolic name of errno e ("ECONNREFUSED"), from
// format's errno table (format.ErrnoName), for the tracer.
func ErrnoName(e int) string { return format.ErrnoName(e) }

// Restart reports whether e is a kernel-internal errno that means the call
// was interrupted by a signal and will be restarted (or turned into EINTR).
func Restart(e int) bool { return e >= 512 && e <= 516 }

var signalNames = [...]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
	7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
	13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD",
	18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU",
	23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF",
	28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}

// SignalName returns "SIGTERM" for 15, "SIGRT<n>" for real-time signals.
func SignalName(sig int) string {
	if sig > 0 && sig < len(signalNames) {
		return signalNames[sig]
	}
	if sig == 0 {
		return "0"
	}
	return "SIG" + strconv.Itoa(sig)
}
