//go:build linux && amd64

package tracer

import (
	"syscall"
	"time"

	"github.com/boxofpain/pain/format"
)

// Hook lets a fault injector act on the traced system. Its methods run on the
// ptrace thread while one thread is stopped, so they must be quick and must
// not block; every other tracee keeps running meanwhile.
//
// Events are given in stable names, so a hook can match "the 4th sendto of
// thread kv1/main on conn client:main:s0>kv1:listen0" without knowing pids,
// fds or ports.
type Hook interface {
	// Enter is called at the entry of every call that gets a row: send and
	// receive calls, socket, bind, listen, connect, accept, shutdown and
	// close on sockets and pipes; clone, execve, exit, kill and wait4. e
	// holds the row so far: Node, Thread, Seq (the seq the row will get),
	// PID, TID, Syscall, FD, FDKind, Local, Peer, LocalAddr, PeerAddr, Conn
	// and Offset (-1 unless it is a stream transfer). For connect, Peer and
	// Conn name the listener being connected to.
	Enter(e *format.Event) Action
	// Exit is called when such a call returns, with e complete (Ret, Errno,
	// PayloadHash). Only ActNone and ActReturn mean something here.
	Exit(e *format.Event) Action
	// Observe is called for every row, in the order rows are written, just
	// before it is queued for writing.
	Observe(e *format.Event)
}

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
	// -int64(syscall.EPIPE) for a send, 0 for a receive's end of file).
	ActShutdown
	// ActHold keeps the calling thread stopped for Hold, then lets the call
	// run; other threads keep running.
	ActHold
	// ActSignal sends Signal to every process of Node (the caller's node when
	// empty), then lets the call run. A SIGKILLed caller never runs it; its
	// row is written with ret -1 and errno EINTR, so the fault shows.
	ActSignal
)

// Action is a Hook's decision. Fault, when not empty, is written to the
// row's fault column; for ActNone it marks the row without changing it.
type Action struct {
	Kind   ActKind
	Errno  syscall.Errno
	Ret    int64
	Hold   time.Duration
	Signal syscall.Signal
	Node   string
	Fault  string
}
