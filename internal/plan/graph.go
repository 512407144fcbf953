package plan

import (
	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/msgclass"
)

// FromGraph takes what the planner needs from a schedule's happens-before
// graph: the graph itself, which the planner walks (lanes, edges,
// ancestry), and each event as the planner names it (its message class).
func FromGraph(id string, runs int, g *hb.Graph) Schedule {
	s := Schedule{ID: id, Runs: runs, Graph: g, Events: make([]Event, len(g.Events))}
	var cls []msgclass.Msg
	if g.Granularity != hb.Class {
		cls = g.Classes()
	}
	for i, e := range g.Events {
		s.Events[i] = Event{Node: e.Node, Thread: e.Thread, Seq: e.Seq, Calls: int(e.Count),
			Syscall: e.Syscall, FDKind: e.FDKind, Conn: e.Conn, Peer: e.Peer, Offset: e.Offset, TimeNS: e.TimeNS}
		if e.Arg == "in" || e.Arg == "out" {
			s.Events[i].Side = e.Arg
		}
		if cls == nil {
			// A class graph: its transfers are named messages, its lanes
			// whole nodes (package hb), so targets name no thread.
			s.Events[i].Thread = ""
			if c, n, err := msgclass.ParseMsg(e.Arg); err == nil && g.IsTransfer(i) {
				s.Events[i].Class, s.Events[i].Ordinal = c.String(), n
			}
		} else if m := cls[i]; m.Ordinal > 0 {
			s.Events[i].Class, s.Events[i].Ordinal = m.Class.String(), m.Ordinal
		}
	}
	return s
}
