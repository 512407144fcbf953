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
//     the thread sees it before or after the launcher's mark is a race.
//
// Give it the rows of one file in file order; a file of another part of
// the run (another host) needs its own Teardown, since its mark was taken
// by its own launcher.
type Teardown struct {
	marked  bool
	stopped map[laneKey]bool
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
	if e.Ret == 0 && e.Errno == "" && checkEnd(e) && classOf(e.Syscall, e.Arg) == cRecv {
		if t.stopped == nil {
			t.stopped = map[laneKey]bool{}
		}
		t.stopped[k] = true
		return false
	}
	return true
}

// checkEnd says whether e is a system node's row on a stream from the
// check.
func checkEnd(e *format.Event) bool {
	if e.FDKind != format.KindTCP && e.FDKind != format.KindUnix || format.NodeRole(e.Node) != format.RoleSystem {
		return false
	}
	node, _, _ := strings.Cut(e.Peer, ":")
	return format.NodeRole(node) == format.NodeCheck
}
