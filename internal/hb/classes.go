package hb

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
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
			Offset: e.Offset, Len: max(e.Ret, 0), Workload: e.Role == RoleWorkload, TimeNS: e.TimeNS, DurNS: e.DurNS, Hash: e.PayloadHash})
		idx = append(idx, i)
	}
	return idx, msgclass.Analyze(evs)
}

// classGraph reduces a run's message graph to its classes. Each node gets
// one lane, "node/*", holding its main thread's start and end and, between
// them, the messages tied to workload requests that it sent ("send", Arg
// naming the message: "conn -> w5 #1") and whose first byte it got
// ("recv"), ordered by request, then by name; a message edge goes from each
// send to its receive. Only connections on the workload's data path are
// kept: those carrying messages tied to at least half of the requests (the
// workload's own, replication), not those a tie reaches now and then when
// a node answered a timer in the same breath as a request (a Sentinel's
// probe of a primary). Left out as well: untied messages (timers,
// heartbeats, start-up, and pings a thread tied to the request in flight:
// package msgclass unties them), byte offsets and sizes, thread names, and the
// order in which a node's threads handled messages of the same request; so
// runs that differ only in those have the same schedule.
func classGraph(m *Graph) *Graph {
	lanes, untied := classLanes(m)
	nodes := make([]string, 0, len(lanes))
	for n := range lanes {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	var events []Event
	var edges []Edge
	sent, got := map[string]int{}, map[string]int{}
	for _, n := range nodes {
		for k, it := range lanes[n] {
			if k > 0 {
				edges = append(edges, Edge{From: len(events) - 1, To: len(events), Kind: KindProgram})
			}
			e := it.ev
			ce := Event{Node: e.Node, Thread: "*", Seq: int64(k), Count: 1, Syscall: it.sys, FDKind: e.FDKind,
				Offset: -1, Arg: it.arg, Role: e.Role, TimeNS: e.TimeNS, DurNS: e.DurNS, Fault: e.Fault, Unsynced: e.Unsynced}
			switch {
			case it.msg.Ordinal == 0:
				ce.Ret = e.Ret
			case it.sys == "send":
				ce.Conn = it.msg.Class.Conn
				sent[it.arg] = len(events)
			default:
				ce.Conn = it.msg.Class.Conn
				if _, dup := got[it.arg]; !dup {
					got[it.arg] = len(events)
				}
			}
			events = append(events, ce)
		}
	}
	for name, s := range sent {
		r, ok := got[name]
		if !ok || events[r].Node == events[s].Node {
			continue
		}
		kind := KindStream
		if events[s].FDKind == format.KindPipe {
			kind = KindPipe
		}
		edges = append(edges, Edge{From: s, To: r, Kind: kind})
	}
	slices.SortFunc(edges, compareEdges)
	g, err := NewGraph(m.Run, Class, events, edges)
	if err != nil {
		panic(fmt.Sprintf("hb: the class graph of run %s is inconsistent: %v", m.Run, err))
	}
	g.Syncs = slices.Clone(m.Syncs)
	g.Untied = untied
	return g
}

// classItem is one event of a class graph before it gets its place.
type classItem struct {
	ev       *Event
	sys, arg string
	msg      msgclass.Msg // Ordinal 0 for a process event
}

// classLanes gathers the events of m's class graph by node, each lane in
// its order (see classGraph), and counts the messages of each untied class
// of a socket.
func classLanes(m *Graph) (map[string][]classItem, []format.UntiedCount) {
	idx, a := m.analyze()
	var items []classItem
	untied := map[string]int{}
	tags := map[string]map[int]bool{} // per connection, the requests its messages are tied to
	requests := 0
	for _, j := range a.Order {
		i := idx[j]
		e := &m.Events[i]
		switch c := m.cls[i]; {
		case (c == cStart || c == cEnd) && e.Thread == "main":
			items = append(items, classItem{ev: e, sys: e.Syscall, arg: e.Arg})
		case c == cSend:
			if msg := a.Msgs[j]; msg.Ordinal > 0 && !msg.Cont && msg.Class.Tag == msgclass.Untied {
				if e.FDKind == format.KindPipe {
					continue // a process's own plumbing, no connection
				}
				untied[msg.Class.String()]++
			} else if msg.Ordinal > 0 && !msg.Cont && msg.Class.Tied() {
				items = append(items, classItem{ev: e, sys: "send", arg: msg.String(), msg: msg})
				k := msg.Class.Request()
				if tags[msg.Class.Conn] == nil {
					tags[msg.Class.Conn] = map[int]bool{}
				}
				tags[msg.Class.Conn][k] = true
				requests = max(requests, k)
			}
		case c == cRecv:
			for _, msg := range a.Got[j] {
				if msg.Class.Tied() {
					items = append(items, classItem{ev: e, sys: "recv", arg: msg.String(), msg: msg})
				}
			}
		}
	}
	lanes := map[string][]classItem{}
	for _, it := range items {
		if it.msg.Ordinal > 0 && 2*len(tags[it.msg.Class.Conn]) < requests {
			continue // off the data path
		}
		lanes[it.ev.Node] = append(lanes[it.ev.Node], it)
	}
	// By request, the process's start first and its end last; within a
	// request by kind and name.
	rank := func(it classItem) int {
		switch {
		case it.msg.Ordinal > 0:
			return it.msg.Class.Request()
		case classOf(it.sys, "") == cStart:
			return -1
		}
		return 1 << 30
	}
	for _, l := range lanes {
		slices.SortStableFunc(l, func(x, y classItem) int {
			return cmp.Or(cmp.Compare(rank(x), rank(y)), strings.Compare(x.sys, y.sys), strings.Compare(x.arg, y.arg))
		})
	}
	var counts []format.UntiedCount
	for _, c := range slices.Sorted(maps.Keys(untied)) {
		counts = append(counts, format.UntiedCount{Class: c, Min: untied[c], Max: untied[c]})
	}
	return lanes, counts
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

// classCanon computes the id of a class schedule (see canon) from what
// makes it: per node, its start and end and the workload's requests and
// replies, each message of a request once, in the lane's order; and the set
// of connection classes, with their directions, that carried messages tied
// to requests between system nodes. Which request a message between system
// nodes is tied to, and how many messages carried it, is a guess from the
// order of calls in a process whose threads are one sequence of calls (a
// Go runtime: a raft leader's append is tied to the next request when a
// heartbeat went out between), and batching moves it from run to run; the
// graph keeps those names, for plans and message support, but two runs
// that differ only in them have one schedule. Edges follow from the names.
func (g *Graph) classCanon(buf []byte) []byte {
	h := sha256.New()
	str := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	for _, l := range g.Lanes {
		str(l.Node)
		seen := map[string]bool{}
		var internal []string
		for i := l.First; i < l.First+l.N; i++ {
			e := &g.Events[i]
			tok := e.Syscall + " " + e.Arg
			if c, _, err := msgclass.ParseMsg(e.Arg); err == nil && g.IsTransfer(i) {
				if systemConn(c.Conn) {
					c.Tag = ""
					internal = append(internal, e.Syscall+" "+c.String())
					continue
				}
				tok = e.Syscall + " " + c.String()
			} else {
				tok += " " + e.FDKind + " " + strconv.FormatInt(e.Ret, 10) + " " + e.Errno
			}
			if !seen[tok] {
				seen[tok] = true
				str(tok)
			}
		}
		slices.Sort(internal)
		str("")
		for _, t := range slices.Compact(internal) {
			str(t)
		}
		str("")
		h.Write(buf)
		buf = buf[:0]
	}
	var sum [sha256.Size]byte
	g.id = hex.EncodeToString(h.Sum(sum[:0])[:6])
	return buf[:0]
}

// systemConn reports whether a connection class joins two system nodes.
func systemConn(conn string) bool {
	from, to, ok := strings.Cut(conn, ">")
	to, _, _ = strings.Cut(to, ":")
	return ok && RoleOf(from) == RoleSystem && RoleOf(to) == RoleSystem
}
