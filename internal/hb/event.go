// Package hb builds the happens-before graph of one traced run: program order
// in each thread, clone, exec, exit and signal edges between threads,
// connect -> accept, the write that sent a byte -> the read that received it,
// and a datagram's send -> its receive. Everything is in stable names (no pids,
// fds, raw ports or timestamps), so graphs of two runs can be compared, and
// the graph reduces to a canonical form whose hash is the run's schedule id.
//
// A Builder takes the rows of one run in any order (a run's memory, no more);
// Graph then reduces them:
//
//   - threads that never touch a socket or pipe, and create no thread that
//     does, are left out with the clone, wait and kill rows that name them
//     (runtimes start helper threads at timing-dependent moments);
//   - at Message granularity, calls that failed with EAGAIN, EWOULDBLOCK or
//     EINTR are dropped (they did nothing and were retried), and consecutive
//     successful sends, or receives, of one thread on one stream with
//     contiguous offsets and no other event between them become one event
//     (one message), so TCP's splitting and merging of bytes do not make new
//     schedules. Such an event keeps the seq of its first call and the number
//     of calls it covers.
package hb

import (
	"net/netip"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/sysent"
)

// Granularity says what one graph node is.
type Granularity uint8

const (
	// Message coalesces consecutive transfers into messages (the default).
	Message Granularity = iota
	// Syscall keeps one graph node per recorded system call.
	Syscall
	// Class keeps the messages tied to workload requests, named by their
	// class and ordinal (package msgclass), one lane per node: timer traffic
	// and the timing of threads do not make new schedules (see classGraph).
	Class
)

func (g Granularity) String() string {
	switch g {
	case Syscall:
		return "syscall"
	case Class:
		return "class"
	}
	return "message"
}

// ParseGranularity reads "message", "syscall" or "class".
func ParseGranularity(s string) (Granularity, bool) {
	switch s {
	case "message":
		return Message, true
	case "syscall":
		return Syscall, true
	case "class":
		return Class, true
	}
	return Message, false
}

// Role says whose event it is: the workload's, the check's, or the system's.
type Role string

const (
	RoleSystem   Role = format.RoleSystem
	RoleWorkload Role = format.NodeWorkload
	RoleCheck    Role = format.NodeCheck
)

// RoleOf returns the role of a node (format.NodeRole): workload and check
// and the nodes they start (workload/kvnode.1) are the client side;
// everything else is the system.
func RoleOf(node string) Role { return Role(format.NodeRole(node)) }

// Event is one node of the graph: one system call or process event, or at
// Message granularity one message made of Count consecutive calls. Fields
// hold stable values only; Seq, PayloadHash and TimeNS come from the run the
// graph was built from and are not part of the schedule.
type Event struct {
	Node        string
	Thread      string
	Seq         int64 // seq of the (first) call in its thread
	Count       int64 // number of calls this event covers, 1 for a single call
	Syscall     string
	FDKind      string
	Local       string
	Peer        string
	Conn        string
	Offset      int64  // stream offset of the first byte, -1 for none
	Ret         int64  // bytes for transfers (summed over a message), exit status, else 0 or -1
	Errno       string // error name of a failed call
	PayloadHash uint64 // of the first call
	Arg         string // exec path or signal name of process events; "in" or "out" of sendfile and splice
	Role        Role
	TimeNS      int64 // of the first call, at its exit, for display only
	// DurNS is the first call's time in the kernel: package msgclass
	// names a send as of its entry, TimeNS-DurNS, as the injector does.
	// From one run, like TimeNS: not part of the schedule.
	DurNS int64
	// Fault is the fault mark of an injected run's row (p3:drop), for
	// display only: it is not part of the schedule.
	Fault string
	// Unsynced is, for an event of a system node, the writes its node had
	// made and not yet made durable when the event returned (ordered mode,
	// package durable), by file: the durability lineage of what it sends.
	// From one run, like TimeNS: not part of the schedule.
	Unsynced []Unsynced
}

// Unsynced is what a power loss would take from one file of a node: the
// schedules file's own record, kept as it is.
type Unsynced = format.Unsynced

// FileSyncs is how many times a node synced a file with one call (fsync,
// fdatasync) in the run a graph was built from.
type FileSyncs = format.FileSyncs

// class is what an event does to the graph.
type class uint8

const (
	cOther class = iota
	cSend
	cRecv
	cConnect
	cAccept
	cClose // close, shutdown
	cClone
	cExec
	cWait
	cKill
	cStart
	cEnd // exited, signaled
)

// classOf says what a system call or process event does to the graph; arg
// is the row's arg, which says on which side of a sendfile or splice its fd
// is. System calls are classified by package sysent, the one table of them.
func classOf(syscall, arg string) class {
	switch syscall {
	case format.EventStart:
		return cStart
	case format.EventExited, format.EventSignaled:
		return cEnd
	}
	switch sysent.DirOf(syscall, arg) {
	case sysent.Out:
		return cSend
	case sysent.In:
		return cRecv
	}
	e := sysent.ByName(syscall)
	if e == nil {
		return cOther
	}
	if int(e.Class) < len(graphClass) {
		return graphClass[e.Class]
	}
	return cOther
}

// graphClass is what the calls of each sysent class other than transfers
// do to the graph.
var graphClass = [...]class{
	sysent.Connect:  cConnect,
	sysent.Accept:   cAccept,
	sysent.Close:    cClose,
	sysent.Shutdown: cClose,
	sysent.Clone:    cClone,
	sysent.Exec:     cExec,
	sysent.Wait:     cWait,
	sysent.Kill:     cKill,
	sysent.Exit:     cOther,
}

// communicates reports whether an fd kind is one whose events are messages.
func communicates(kind string) bool {
	switch kind {
	case format.KindTCP, format.KindUDP, format.KindUnix, format.KindPipe:
		return true
	}
	return false
}

// retry reports whether a failed call did nothing and is retried by its caller.
func retry(errno string) bool {
	return errno == "EAGAIN" || errno == "EWOULDBLOCK" || errno == "EINTR"
}

// stableRet keeps the return values that mean the same in every run (bytes
// transferred, exit statuses) and reduces the others (fds, pids) to success
// or failure.
func stableRet(c class, ret int64) int64 {
	switch c {
	case cSend, cRecv, cEnd:
		return ret
	}
	if ret < 0 {
		return -1
	}
	return 0
}

// stableName replaces a raw address with an ephemeral port (an untraced peer
// whose name is its address) by the address with port "ephemeral"; fixed
// ports (below the Linux ephemeral range) stay, they mean the same in every run.
func stableName(s string) string {
	// Fast path: a raw address starts with a digit or '[' or ends in
	// ":<digits>"; a name made of stable parts (kv1:listen0,
	// c:main:s0>kv1:listen0) does neither.
	if s == "" || !(s[0] >= '0' && s[0] <= '9' || s[0] == '[' || mayBeRaw(s)) {
		return s
	}
	if strings.IndexByte(s, '>') >= 0 {
		a, b, _ := strings.Cut(s, ">")
		na, nb := stableName(a), stableName(b)
		if na == a && nb == b {
			return s
		}
		return na + ">" + nb
	}
	if !mayBeRaw(s) {
		return s
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() < 32768 {
		return s
	}
	return ap.Addr().String() + ":ephemeral"
}

// mayBeRaw is a cheap test that s ends in ":<digits>" like a raw address
// does; stable names end in a letter and an ordinal (kv1:listen0, c:main:s2).
func mayBeRaw(s string) bool {
	i := len(s) - 1
	for i >= 0 && s[i] >= '0' && s[i] <= '9' {
		i--
	}
	return i >= 0 && i < len(s)-1 && s[i] == ':'
}
