package durable

import (
	"strconv"
	"strings"

	"github.com/boxofpain/pain/format"
)

// Rows feeds one Model per node from a trace's file rows, in the order
// they are given (the trace's: the order calls returned), for the planner:
// it asks, at any row, which of a node's writes are not yet durable. Rows
// carry no inode, so files get identities of their own: a name's file is
// the one created or first seen under it, and a descriptor's is the one
// its open named (a descriptor inherited by a fork is found by the name it
// was opened under). A node's spawned nodes share its disk.
type Rows struct {
	mode  Mode
	next  File
	nodes map[string]*rowNode
	// Syncs counts the fsync and fdatasync calls of each node on each file
	// (by the name its descriptor was opened under).
	Syncs map[NodeFile]int
}

// NodeFile is a node's file, by name, and a call on it.
type NodeFile struct{ Node, File, Call string }

type rowNode struct {
	m      *Model
	fds    map[[2]int32]fdFile // pid, fd
	writes int                 // writes applied: none, nothing is pending
}

type fdFile struct {
	f    File
	sync Kind // O_SYNC: Fsync after each write; O_DSYNC: Fdatasync
}

// NewRows returns an empty Rows whose models follow mode.
func NewRows(mode Mode) *Rows {
	return &Rows{mode: mode, nodes: map[string]*rowNode{}, Syncs: map[NodeFile]int{}}
}

func (r *Rows) node(name string) *rowNode {
	name = format.TopNode(name)
	n := r.nodes[name]
	if n == nil {
		n = &rowNode{m: New(r.mode), fds: map[[2]int32]fdFile{}}
		r.nodes[name] = n
	}
	return n
}

// Pending is what a power loss of node now would take from it (Model.Pending).
func (r *Rows) Pending(node string) []Risk {
	name := format.TopNode(node)
	n := r.nodes[name]
	if n == nil || n.writes == 0 {
		return nil
	}
	return n.m.Pending()
}

// Add applies a file row (others are ignored, as are failed calls and
// calls the model cannot place).
func (r *Rows) Add(e *format.Event) {
	if e.FDKind != format.KindFile || e.Errno != "" || e.Ret < 0 {
		return
	}
	n := r.node(e.Node)
	switch e.Syscall {
	case "open", "openat", "creat":
		r.open(n, e)
		return
	case "mkdir", "mkdirat":
		r.next++
		n.m.Apply(Op{Kind: Mkdir, File: r.next, Path: e.Local})
		return
	case "unlink", "unlinkat":
		n.m.Apply(Op{Kind: Unlink, Path: e.Local})
		return
	case "rename", "renameat", "renameat2":
		n.m.Apply(Op{Kind: Rename, Path: e.Local, To: e.Peer})
		return
	case "link", "linkat":
		n.m.Apply(Op{Kind: Link, Path: e.Local, To: e.Peer})
		return
	case "sync", "syncfs":
		n.m.Apply(Op{Kind: Sync})
		return
	case "truncate":
		n.m.Apply(Op{Kind: Truncate, File: n.m.names[e.Local], Path: e.Local, Off: e.Offset})
		return
	}
	r.onFD(n, e)
}

// onFD applies a call on a descriptor.
func (r *Rows) onFD(n *rowNode, e *format.Event) {
	fd, ok := n.fds[[2]int32{e.PID, e.FD}]
	if !ok {
		fd.f = n.m.names[e.Local]
	}
	if fd.f == 0 {
		r.next++
		fd.f = r.next // a file from before the run
	}
	op := Op{File: fd.f, Path: e.Local}
	switch e.Syscall {
	case "fsync", "fdatasync":
		op.Kind = Fsync
		if e.Syscall == "fdatasync" {
			op.Kind = Fdatasync
		}
		r.Syncs[NodeFile{format.TopNode(e.Node), e.Local, e.Syscall}]++
	case "sync_file_range":
		op.Kind, op.Off = SyncRange, e.Offset
		op.Len, _ = strconv.ParseInt(e.Arg, 10, 64)
	case "ftruncate":
		op.Kind, op.Off = Truncate, e.Offset
	case "fallocate":
		n, mode, _ := strings.Cut(e.Arg, " mode=")
		if mode != "" {
			return
		}
		op.Kind, op.Off = Extend, e.Offset
		op.Len, _ = strconv.ParseInt(n, 10, 64)
	case "write", "pwrite64", "writev", "pwritev", "pwritev2":
		if e.Ret == 0 || e.Offset < 0 {
			return
		}
		op.Kind, op.Off, op.Len = Write, e.Offset, e.Ret
		n.writes++
	default:
		return // reads, close, mmap
	}
	if n.m.Apply(op) == nil && op.Kind == Write && fd.sync != 0 {
		n.m.Apply(Op{Kind: fd.sync, File: fd.f, Path: e.Local})
	}
}

func (r *Rows) open(n *rowNode, e *format.Event) {
	f, ok := n.m.names[e.Local]
	if !ok {
		r.next++
		f = r.next
		n.m.Apply(Op{Kind: Create, File: f, Path: e.Local})
	} else if strings.Contains(e.Arg, "O_TRUNC") {
		n.m.Apply(Op{Kind: Truncate, File: f, Path: e.Local})
	}
	fd := fdFile{f: f}
	switch {
	case strings.Contains(e.Arg, "O_SYNC"):
		fd.sync = Fsync
	case strings.Contains(e.Arg, "O_DSYNC"):
		fd.sync = Fdatasync
	}
	n.fds[[2]int32{e.PID, int32(e.Ret)}] = fd
}
