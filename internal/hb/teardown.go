package hb

import (
	"strings"

	"github.com/boxofpain/pain/format"
)

// Teardown tells the rows of one trace file that belong to the run's
// schedule from those of its teardown, which are recorded but no part of
// it, so the order in which nodes are stopped never splits a schedule.
// Teardown begins
//   - for every thread, at the launcher's mark (format.EventTeardown):
//     rows after it in the file happened after it;
//   - for a thread of the system, at its first end of file read on a
//     connection from the check: the check has ended there, and whether
//     the thread sees it before or after the launcher's mark is a race;
//   - for a connection from the workload, at a system node's end of file
//     read on it: the rows of that node on that connection from there on
//     (the read, the close that answers it) are left out wherever they
//     fall, since the workload's last close races with the mark just as
//     the check's does (a primary read its client's end of file before
//     the mark and closed after it in 2 of 12 runs at load 2 on 2 cores).
//     A connection the workload ends mid-run loses those rows too, so
//     every run names the same ones; but not a send that moved bytes,
//     which the workload may have read: a Go server's reply, written by
//     one thread while another read the workload's end of file, can come
//     after that read in the file (etcd's gateway did in 3 of 10 runs).
//
// Give it the rows of one file in file order; a file of another part of
// the run (another host) needs its own Teardown, since its mark was taken
// by its own launcher.
type Teardown struct {
	marked  bool
	stopped map[laneKey]bool
	ended   map[laneKey]bool // node and connection from the workload
}

// Keep reports whether e is part of the run's schedule.
func (t *Teardown) Keep(e *format.Event) bool {
	if t.marked || e.Syscall == format.EventTeardown {
		t.marked = true
		return false
	}
	k := laneKey{e.Node, e.Thread}
	if t.stopped[k] {
		return false
	}
	c := laneKey{e.Node, e.Conn}
	if e.Conn != "" && t.ended[c] && (e.Ret <= 0 || e.Errno != "" || classOf(e.Syscall, e.Arg) != cSend) {
		return false
	}
	if e.Ret != 0 || e.Errno != "" || classOf(e.Syscall, e.Arg) != cRecv {
		return true
	}
	switch clientEnd(e) {
	case format.NodeCheck:
		if t.stopped == nil {
			t.stopped = map[laneKey]bool{}
		}
		t.stopped[k] = true
		return false
	case format.NodeWorkload:
		if t.ended == nil {
			t.ended = map[laneKey]bool{}
		}
		t.ended[c] = true
		return false
	}
	return true
}

// clientEnd returns the role of the peer (format.NodeCheck or
// format.NodeWorkload) when e is a system node's row on a stream from a
// client, "" otherwise.
func clientEnd(e *format.Event) string {
	if e.FDKind != format.KindTCP && e.FDKind != format.KindUnix || format.NodeRole(e.Node) != format.RoleSystem {
		return ""
	}
	node, _, _ := strings.Cut(e.Peer, ":")
	if r := format.NodeRole(node); r != format.RoleSystem {
		return r
	}
	return ""
}
