package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
)

// EventRef is format.EventRef, for brevity.
type EventRef = format.EventRef

// message is one message of a schedule, named so that the same message in
// another schedule gets the same key: its connection, its sender, and its
// stream offset or else its ordinal among the sender's messages on that
// connection.
type message struct {
	key      string
	send     Event // the sending event
	recv     Event // the receiving event (connect: the accept)
	prevSend *Event
	nextSend *Event
	prevRecv *Event
	connect  bool
	nth      int   // for a connect: its ordinal among the node's connects to that listener
	during   bool  // sent after the workload began: it can touch the workload's data
	data     bool  // carries the workload's data (see dataFlow)
	lineage  bool  // the outcome depends on it
	ord      int64 // when it was sent in the run the schedule was drawn from
	// The offsets of a connection between system nodes count what went
	// down it before the workload (readiness probes, timers), so a message
	// sent on one while the workload runs is pinned instead by its ordinal
	// among its sender's sends (and its receiver's receives) on the
	// connection since the workload started: sendNth, recvNth (0: not
	// known).
	sendNth, recvNth int
	start            *EventRef // the workload's first event, when m.during
	// ordKey names the message by its ordinal since the workload started
	// (sendNth); byOrdinal: key is ordKey (see targets). chooseKeys keys
	// a message tied to a class by whichever of the two names more runs
	// agree on.
	ordKey    string
	byOrdinal bool
}

// system reports whether a message goes between two nodes of the system,
// neither of them the workload or the check.
func (m *message) system(outcome func(string) bool) bool {
	return !outcome(m.send.Node) && !outcome(m.recv.Node)
}

// neighbour returns the event d places from event i in its thread, or nil.
func (s *Schedule) neighbour(i, d int) *Event {
	l := s.Graph.Lane(i)
	if i+d < l.First || i+d >= l.First+l.N {
		return nil
	}
	n := s.Events[i+d]
	return &n
}

// eventsOf returns the events of the nodes that nodes names.
func (s *Schedule) eventsOf(nodes func(string) bool) []int {
	var out []int
	for i, e := range s.Events {
		if nodes(e.Node) {
			out = append(out, i)
		}
	}
	return out
}

// lineageEdges returns the message edges from which an outcome event can be
// reached: the messages the outcome depends on.
func (s *Schedule) lineageEdges(outcome func(string) bool) map[int]bool {
	anc := s.Graph.Ancestors(s.eventsOf(outcome)...)
	msgs := map[int]bool{}
	for j, d := range s.Graph.Edges {
		if d.Kind.IsMessage() && anc[d.To] {
			msgs[j] = true
		}
	}
	return msgs
}

// messages returns the messages of s between two nodes that a fault can
// take away: those the outcome depends on, and those between system nodes
// that carry the workload's data (replication that no check reads in a
// fault-free run is still what a failover needs).
func messages(s *Schedule, outcome func(string) bool) []message {
	lin := s.lineageEdges(outcome)
	data := dataFlow(s)
	edges := s.Graph.MessageEdges()
	// Name each message by its sender's ordinal on its connection.
	slices.SortFunc(edges, func(a, b int) int {
		ea, eb := s.Events[s.Graph.Edges[a].From], s.Events[s.Graph.Edges[b].From]
		return cmp.Or(strings.Compare(ea.Node, eb.Node), strings.Compare(ea.Thread, eb.Thread), cmp.Compare(ea.Seq, eb.Seq), cmp.Compare(a, b))
	})
	ordinal := map[string]int{}
	connects := connectOrdinals(s)
	during := s.Graph.Descendants(s.eventsOf(workload)...)
	start, nth := sinceWorkload(s)
	var out []message
	for _, ei := range edges {
		e := s.Graph.Edges[ei]
		send, recv := s.Events[e.From], s.Events[e.To]
		if send.Node == recv.Node || hb.RoleOf(send.Node) == hb.RoleCheck || hb.RoleOf(recv.Node) == hb.RoleCheck {
			// Inside one node there is nothing for a fault between nodes to
			// take away; and the check is the oracle, not the system.
			continue
		}
		conn := cmp.Or(send.Conn, recv.Conn, send.Peer)
		connect := isConnect(send.Syscall)
		stem := fmt.Sprintf("%s|%s/%s|%v", conn, send.Node, send.Thread, connect)
		ordinal[stem]++
		key := fmt.Sprintf("%s|%d", stem, ordinal[stem])
		switch {
		case send.tied():
			// A message tied to a workload request is its class: the same
			// in every schedule, whatever timers sent before it.
			key = fmt.Sprintf("%s#%d", send.Class, send.Ordinal)
		case send.Offset >= 0:
			// A stream message is its bytes: the same offset is the same
			// message in every schedule, even where an earlier one differs.
			key = fmt.Sprintf("%s|%s|@%d", conn, send.Node, send.Offset)
		}
		m := message{
			key: key, send: send, recv: recv,
			prevSend: s.neighbour(e.From, -1), nextSend: s.neighbour(e.From, +1), prevRecv: s.neighbour(e.To, -1),
			connect: connect, nth: connects[e.From], during: during[e.From],
			data: data[e.From] && !outcome(send.Node), lineage: lin[ei], ord: send.TimeNS,
		}
		if m.during {
			m.start, m.sendNth, m.recvNth = start, nth[e.From], nth[e.To]
			if send.Offset >= 0 && m.system(outcome) && m.sendNth > 0 {
				// Offsets between system nodes move with whatever went
				// down the connection before the workload (readiness
				// probes); ordinals since the workload began do not.
				m.ordKey = fmt.Sprintf("%s|%s|#%d", conn, send.Node, m.sendNth)
				if !send.tied() {
					m.key, m.byOrdinal = m.ordKey, true
				}
			}
		}
		if !m.lineage && !(m.data && m.system(outcome)) {
			continue
		}
		out = append(out, m)
	}
	return out
}

func isConnect(sys string) bool { return sys == "connect" }

// workload reports whether node is the workload or a node it started.
func workload(node string) bool { return hb.RoleOf(node) == hb.RoleWorkload }

// sinceWorkload returns the workload's first event and, for every send and
// receive that happens after it, its ordinal (counting system calls) among
// its node's calls of the same class on its connection since then.
func sinceWorkload(s *Schedule) (*EventRef, map[int]int) {
	first := -1
	for i, e := range s.Events {
		if workload(e.Node) && (first < 0 || e.TimeNS < s.Events[first].TimeNS) {
			first = i
		}
	}
	if first < 0 {
		return nil, nil
	}
	w := s.Events[first]
	idx := make([]int, 0, len(s.Events))
	for i, e := range s.Events {
		if e.TimeNS >= w.TimeNS && e.Conn != "" {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(s.Events[a].TimeNS, s.Events[b].TimeNS) })
	calls := map[string]int{}
	nth := map[int]int{}
	for _, i := range idx {
		e := s.Events[i]
		k := e.Node + "|" + e.Conn + "|" + class(&e)
		nth[i] = calls[k] + 1
		calls[k] += max(e.Calls, 1)
	}
	return &EventRef{Node: w.Node, Thread: w.Thread, Seq: w.Seq, Syscall: w.Syscall}, nth
}

// dataFlow marks the events that carry the workload's data: every event of
// the workload, the receive of a marked message, and what a thread sends
// after a marked receive, up to its next receive or its answer on the
// connection that marked message came in on. So the primary's writes to its
// replicas between reading a client's request and answering it are marked;
// and a heartbeat that a server's timer sends right after it answered a
// client is not, although it happens after the workload began
// (afterWorkload marks it).
func dataFlow(s *Schedule) []bool {
	g := s.Graph
	from := map[int][]int{} // receiving event -> sending events
	for _, j := range g.MessageEdges() {
		from[g.Edges[j].To] = append(from[g.Edges[j].To], g.Edges[j].From)
	}
	data := make([]bool, len(s.Events))
	// Marks only grow, so this reaches its fixed point in as many rounds as
	// the longest chain of threads the data passes through.
	for changed := true; changed; {
		changed = false
		for _, l := range g.Lanes {
			cur, origin := false, ""
			for i := l.First; i < l.First+l.N; i++ {
				e := &s.Events[i]
				mark := cur
				if senders, ok := from[i]; ok {
					cur, origin = false, e.Conn
					for _, f := range senders {
						cur = cur || data[f]
					}
					mark = cur
				} else if cur && e.Conn != "" && e.Conn == origin {
					cur = false // the answer: marked, and the last
				}
				if (mark || workload(e.Node)) && !data[i] {
					data[i], changed = true, true
				}
			}
		}
	}
	return data
}

// hasTimers reports whether the system sends messages of its own while the
// workload runs: messages between system nodes, sent after the workload's
// first event, that carry none of its data (heartbeats, gossip, leases).
// Such a system has failure detectors that a delay can set off.
func hasTimers(s *Schedule, outcome func(string) bool) bool {
	start := int64(-1)
	for _, e := range s.Events {
		if workload(e.Node) && (start < 0 || e.TimeNS < start) {
			start = e.TimeNS
		}
	}
	if start < 0 {
		return false
	}
	data := dataFlow(s)
	for _, j := range s.Graph.MessageEdges() {
		e := s.Graph.Edges[j]
		send, recv := s.Events[e.From], s.Events[e.To]
		if send.Node != recv.Node && !outcome(send.Node) && !outcome(recv.Node) && send.TimeNS > start && !data[e.From] {
			return true
		}
	}
	return false
}

// connectOrdinals numbers each node's connects to each listener in the order
// they happened, 1-based: a refused connect is named "the 2nd connect of
// primary to backup1:listen0", which holds whichever thread makes it.
func connectOrdinals(s *Schedule) map[int]int {
	var idx []int
	for i, e := range s.Events {
		if isConnect(e.Syscall) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ea, eb := s.Events[a], s.Events[b]
		return cmp.Or(cmp.Compare(ea.TimeNS, eb.TimeNS), strings.Compare(ea.Thread, eb.Thread), cmp.Compare(ea.Seq, eb.Seq))
	})
	n := map[string]int{}
	out := map[int]int{}
	for _, i := range idx {
		e := s.Events[i]
		k := e.Node + "|" + listener(&e)
		n[k]++
		out[i] = n[k]
	}
	return out
}

// listener names the listening end of a connect.
func listener(e *Event) string {
	_, l, _ := strings.Cut(e.Conn, ">")
	return cmp.Or(e.Peer, l)
}
