package hb

import (
	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/msgclass"
)

// Classes names the message of each event (package msgclass): for a send,
// the message it sends, for a receive the message its first byte belongs
// to; Ordinal 0 for every other event. The injector names messages online
// with the same package, so a plan pinned to a class and ordinal found here
// acts on the same message in a rerun, where heartbeats moved its bytes.
func (g *Graph) Classes() []msgclass.Msg {
	evs := make([]msgclass.Event, 0, len(g.Events))
	idx := make([]int, 0, len(g.Events))
	for i := range g.Events {
		e := &g.Events[i]
		if e.Errno != "" && retry(e.Errno) {
			continue // made again: no call at all (only kept at Syscall granularity)
		}
		k := msgclass.Other
		if (g.cls[i] == cSend || g.cls[i] == cRecv) && e.Ret > 0 && e.Errno == "" && communicates(e.FDKind) {
			k = msgclass.Send
			if g.cls[i] == cRecv {
				k = msgclass.Recv
			}
		}
		evs = append(evs, msgclass.Event{Node: e.Node, Thread: e.Thread, Seq: e.Seq, Kind: k,
			Conn: e.Conn, Local: e.Local, Peer: e.Peer, Pipe: e.FDKind == format.KindPipe,
			Offset: e.Offset, Len: max(e.Ret, 0), Workload: e.Role == RoleWorkload, TimeNS: e.TimeNS})
		idx = append(idx, i)
	}
	msgs := msgclass.Classify(evs)
	out := make([]msgclass.Msg, len(g.Events))
	for j, i := range idx {
		out[i] = msgs[j]
	}
	return out
}
