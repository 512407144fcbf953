package hb

import (
	"fmt"
	"slices"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/msgclass"
)

// Classes names the message of each event (package msgclass): for a send,
// the message it sends, for a receive the message its first byte belongs
// to; Ordinal 0 for every other event. The injector names messages online
// with the same package, so a plan pinned to a class and ordinal found here
// acts on the same message in a rerun, where heartbeats moved its bytes.
func (g *Graph) Classes() []msgclass.Msg {
	idx, a := g.analyze()
	out := make([]msgclass.Msg, len(g.Events))
	for j, i := range idx {
		out[i] = a.Msgs[j]
	}
	return out
}

// analyze runs msgclass over g's events; idx maps its calls to events.
func (g *Graph) analyze() (idx []int, a *msgclass.Analysis) {
	evs := make([]msgclass.Event, 0, len(g.Events))
	idx = make([]int, 0, len(g.Events))
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
	return idx, msgclass.Analyze(evs)
}

// classGraph reduces a run's message graph to its classes. Each node gets
// one lane, "node/*", holding in the order msgclass followed the run: its
// main thread's start and end, each message tied to a workload request that
// it sent ("send", Arg naming the message: "conn -> w5 #1") and each such
// message whose first byte it got ("recv"), with a message edge from the
// send to the receive. Left out: untied messages (timers, heartbeats,
// start-up), byte offsets and sizes, thread names, and how a node's
// threads interleave beyond that order; so runs that differ only in those
// have the same schedule.
func classGraph(m *Graph) *Graph {
	idx, a := m.analyze()
	lanes := map[string][]Event{}
	type pos struct {
		node string
		i    int
	}
	sent, got := map[string]pos{}, map[string]pos{}
	add := func(e *Event, sys, conn, arg string, ret int64) pos {
		l := lanes[e.Node]
		lanes[e.Node] = append(l, Event{Node: e.Node, Thread: "*", Seq: int64(len(l)), Count: 1, Syscall: sys,
			FDKind: e.FDKind, Conn: conn, Offset: -1, Ret: ret, Arg: arg, Role: e.Role, TimeNS: e.TimeNS, Fault: e.Fault})
		return pos{e.Node, len(l)}
	}
	for _, j := range a.Order {
		i := idx[j]
		e := &m.Events[i]
		switch c := m.cls[i]; {
		case (c == cStart || c == cEnd) && e.Thread == "main":
			add(e, e.Syscall, "", e.Arg, e.Ret)
		case c == cSend:
			if msg := a.Msgs[j]; msg.Ordinal > 0 && !msg.Cont && msg.Class.Tied() {
				sent[msg.String()] = add(e, "send", msg.Class.Conn, msg.String(), 0)
			}
		case c == cRecv:
			for _, msg := range a.Got[j] {
				if _, dup := got[msg.String()]; msg.Class.Tied() && !dup {
					got[msg.String()] = add(e, "recv", msg.Class.Conn, msg.String(), 0)
				}
			}
		}
	}
	nodes := make([]string, 0, len(lanes))
	for n := range lanes {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	first := map[string]int{}
	var events []Event
	var edges []Edge
	for _, n := range nodes {
		first[n] = len(events)
		for k := range lanes[n] {
			if k > 0 {
				edges = append(edges, Edge{From: len(events) - 1, To: len(events), Kind: KindProgram})
			}
			events = append(events, lanes[n][k])
		}
	}
	for name, s := range sent {
		r, ok := got[name]
		if !ok || r.node == s.node {
			continue
		}
		kind := KindStream
		if events[first[s.node]+s.i].FDKind == format.KindPipe {
			kind = KindPipe
		}
		edges = append(edges, Edge{From: first[s.node] + s.i, To: first[r.node] + r.i, Kind: kind})
	}
	slices.SortFunc(edges, compareEdges)
	g, err := NewGraph(m.Run, Class, events, edges)
	if err != nil {
		panic(fmt.Sprintf("hb: the class graph of run %s is inconsistent: %v", m.Run, err))
	}
	return g
}

// TiedClasses counts the distinct message classes tied to workload
// requests that g's messages fall in (at Class granularity, its sends').
func (g *Graph) TiedClasses() int {
	seen := map[string]bool{}
	if g.Granularity == Class {
		for i := range g.Events {
			if g.cls[i] == cSend {
				name, _, _ := strings.Cut(g.Events[i].Arg, " #")
				seen[name] = true
			}
		}
		return len(seen)
	}
	for i, m := range g.Classes() {
		if g.cls[i] == cSend && m.Class.Tied() {
			seen[m.Class.String()] = true
		}
	}
	return len(seen)
}
