//go:build linux && amd64

package tracer

import (
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/sysent"
)

// Hook lets a fault injector act on the traced system. Its methods run on the
// ptrace thread while one thread is stopped, so they must be quick and must
// not block; every other tracee keeps running meanwhile. A Hook acts only
// through the Actions it returns: the tracer sends every signal, writes
// every register and restarts nodes (Config.Restart), and says in Acted
// what became of each.
//
// Events are given in stable names, so a hook can match "the 4th sendto of
// thread kv1/main on conn client:main:s0>kv1:listen0" without knowing pids,
// fds or ports.
type Hook interface {
	// Enter is called at the entry of every call that gets a row: send and
	// receive calls, socket, bind, listen, connect, accept, shutdown and
	// close on sockets and pipes; clone, execve, exit, kill and wait4.
	// c.Event holds the row so far: Node, Thread, Seq (the seq the row will
	// get), PID, TID, Syscall, FD, FDKind, Local, Peer, LocalAddr,
	// PeerAddr, Conn and Offset (-1 unless it is a stream transfer). For
	// connect, Peer and Conn name the listener being connected to.
	Enter(c *Call) Action
	// Exit is called when such a call returns, with c.Event complete (Ret,
	// Errno, PayloadHash). ActNone, ActReturn and ActSignal mean something
	// here.
	Exit(c *Call) Action
	// Observe is called for every row, in the order rows are written, just
	// before it is queued for writing.
	Observe(e *format.Event)
	// Acted is told what became of an Action that carried a Fault (and of
	// its Then, later): whether it took effect, and if not, why. An Action
	// that could not act (its register write failed, its signal reached no
	// process, its shutdown failed) leaves the call to run as it would
	// have, and its row unmarked.
	Acted(r Report)
}

// Call is a recorded call as a Hook sees it: its row, and what the row does
// not say.
type Call struct {
	// Event is the row so far at entry, complete at exit.
	Event *format.Event
	// Args are the call's raw arguments.
	Args [6]uint64
	// Len is what a transfer asks to move, known at its entry: bytes, or
	// messages for sendmmsg and recvmmsg. 0 for other calls.
	Len int64
	// Dir is a transfer's direction (sysent.Out: a send), sysent.NoDir
	// for other calls.
	Dir sysent.Dir
	// TimeNS is the time of this stop, as time_ns counts: at entry, when
	// the call started (a killed caller's row has no later time).
	TimeNS int64
	// Recorded says the call did not stop: a Backend recorded it (with
	// Config.Stops), it ran already, its Exit follows at once, and no
	// Action can act on it. Such calls come in the order they returned.
	Recorded bool
	// Hash, for a send on a stream, is the payload hash of the bytes it
	// asks to send, read at its entry: its row's payload_hash if it sends
	// them all (a send cut short hashes fewer). 0 for other calls.
	Hash uint64
	// File is the stable name of the file a call on a followed file acts
	// on (the row's local), and FileOffset where a read or write will
	// start, known at entry (the end of the file for O_APPEND), so that a
	// Hook can save the bytes a write is about to overwrite; -1 otherwise.
	File       string
	FileOffset int64
}

// Errno is an error number and Signal a signal number, as the kernel
// numbers them: a Hook names them without the syscall package.
type (
	Errno  int
	Signal int
)

// The errnos and signals the injector's faults use.
const (
	EPIPE     Errno  = 32
	ETIMEDOUT Errno  = 110
	SIGKILL   Signal = 9
	SIGCONT   Signal = 18
	SIGSTOP   Signal = 19
)

// ActKind is what a Hook wants done with a call.
type ActKind uint8

const (
	// ActNone lets the call run.
	ActNone ActKind = iota
	// ActFail skips the call; it returns -Errno.
	ActFail
	// ActReturn at entry skips the call and makes it return Ret (a dropped
	// datagram reports success this way); at exit it replaces the result.
	ActReturn
	// ActShutdown replaces the call by shutdown(fd, SHUT_RDWR), so the peer
	// sees the connection end there; the call then returns Ret (use
	// -int64(EPIPE) for a send, 0 for a receive's end of file). On a pipe,
	// which has no shutdown, it does not act.
	ActShutdown
	// ActHold keeps the calling thread stopped for Hold, then lets the call
	// run; other threads keep running.
	ActHold
	// ActShorten makes a write or pwrite64 ask to write Ret bytes instead
	// (a short write); the call then runs.
	ActShorten
	// ActSignal sends Signal to every process of Node (the caller's node when
	// empty), then lets the call run. A SIGKILLed caller never runs it; its
	// row is written with ret -1 and errno EINTR, so the fault shows.
	ActSignal
)

// Action is a Hook's decision. Fault, when not empty, is written to the
// row's fault column; for ActNone it marks the row without changing it.
type Action struct {
	Kind   ActKind
	Errno  Errno
	Ret    int64
	Hold   time.Duration
	Signal Signal
	Node   string
	// Nodes, for ActSignal, are more nodes that get Signal at the same
	// moment (a power loss of several machines); Then applies to each,
	// those with no process left included. Only Node must have a process.
	Nodes []string
	Fault string
	// Then, for ActSignal, is done Then.After later (unless the tracer is
	// closed by then): the end of a pause, the restart of a crashed node.
	Then *Later
}

// Later is the second half of a signal Action, on the same node.
type Later struct {
	After time.Duration
	// Signal, when not 0, is sent to the node's processes (SIGCONT).
	Signal Signal
	// Restart starts the node again through Config.Restart. A node
	// SIGKILLed without it is killed for good (Tracer.Killed).
	Restart bool
	// Gone, when set, is called off the ptrace thread once no process of
	// the node is left, before any restart (a power loss rewrites the
	// node's files there); its error is reported and stops the restart.
	Gone func(node string) error
}

// FileRootsHook is a Hook that is told where the followed files are
// (Config.Files) when the tracer starts, to find a stable file name on disk.
type FileRootsHook interface {
	Hook
	FileRoots(roots []FileRoot)
}

// Report says what became of an Action that carried a Fault.
type Report struct {
	Fault string
	// Then says the report is about the Action's Then.
	Then bool
	// Err says why it did not take effect; nil when it did.
	Err error
	// Signaled is how many processes a signal reached.
	Signaled int
}
