package format

import "strings"

// Event is one row of a trace: a system call with its entry and exit folded
// together, or a process event (start, exited, signaled, teardown). The field comments
// name the Arrow column each one is stored in; doc.go says what they mean.
type Event struct {
	TimeNS      int64  // time_ns
	DurNS       int64  // dur_ns
	Node        string // node
	Thread      string // thread
	Seq         int64  // seq
	PID         int32  // pid
	TID         int32  // tid
	Syscall     string // syscall
	FD          int32  // fd
	FDKind      string // fd_kind
	Local       string // local
	Peer        string // peer
	LocalAddr   string // local_addr
	PeerAddr    string // peer_addr
	Conn        string // conn
	Offset      int64  // offset
	Ret         int64  // ret
	Errno       string // errno
	PayloadHash uint64 // payload_hash
	Payload     []byte // payload
	Arg         string // arg
	Fault       string // fault
}

// File descriptor kinds, the values of the fd_kind column.
const (
	KindTCP   = "tcp"
	KindUDP   = "udp"
	KindUnix  = "unix"
	KindPipe  = "pipe"
	KindFile  = "file"
	KindOther = "other"
)

// Process events: rows that are not system calls. They use the syscall column
// with names no system call has.
const (
	EventStart    = "start"    // a thread or process begins; peer names its creator
	EventExited   = "exited"   // a thread ended; ret is its exit status
	EventSignaled = "signaled" // a process was killed by a signal; arg names it
	// EventTeardown marks the moment the launcher begins to stop the nodes
	// (the check has ended): the rows after it in the file are teardown,
	// recorded but no part of a schedule, so the order in which the nodes
	// die never splits one. Its node and thread are NoNode.
	EventTeardown = "teardown"
)

// NoNode is the node and thread of rows that belong to no process (the
// teardown mark): no Procfile name can be "-".
const NoNode = "-"

// The nodes every run has besides the system's own: pain-trace and
// pain-inject run the workload and the check as nodes of these names, and
// a node either of them starts is named under it (workload/kvload.1).
// Their roles are the client side of a run; every other node's is
// RoleSystem. Schedules files store an event's role by these names.
const (
	NodeWorkload = "workload"
	NodeCheck    = "check"
	RoleSystem   = "system"
)

// TopNode returns the node of the Procfile (or workload, or check) that
// node is or was started by: "client/worker.1" belongs to "client". Its
// spawned nodes share its machine: its disk, its network group.
func TopNode(node string) string {
	top, _, _ := strings.Cut(node, "/")
	return top
}

// NodeRole returns the role of a node: NodeWorkload for the workload and
// the nodes it started, NodeCheck likewise, RoleSystem for the others.
func NodeRole(node string) string {
	for _, r := range []string{NodeWorkload, NodeCheck} {
		if node == r || len(node) > len(r) && node[:len(r)] == r && node[len(r)] == '/' {
			return r
		}
	}
	return RoleSystem
}
