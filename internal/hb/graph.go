package hb

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/boxofpain/pain/format"
)

// Edge says that event From happens before event To (indices into
// Graph.Events).
type Edge struct {
	From, To int
	Kind     EdgeKind
}

// Lane is one thread of one node: Graph.Events[First:First+N], in program order.
type Lane struct {
	Node, Thread string
	First, N     int
}

// Graph is the happens-before graph of one run. Events are grouped by lane,
// lanes sorted by node and thread name, events in program order; Edges are
// sorted by From, To and Kind and include the program-order edges. The same
// schedule gives the same Events (but for Seq, PayloadHash and TimeNS) and
// the same Edges in every run.
type Graph struct {
	Run         string // the run it was built from
	Granularity Granularity
	Events      []Event
	Edges       []Edge
	Lanes       []Lane
	// Syncs are the file syncs of the run, by node and file, sorted: not
	// part of the schedule.
	Syncs []FileSyncs
	// Untied counts, in a class graph, the messages tied to no workload
	// request that each message class carried in the run (Min = Max), by
	// class name, sorted: not part of the schedule, whose runs differ in
	// how often a timer fired. Compact does not keep them.
	Untied []format.UntiedCount

	id       string
	cls      []class
	indexed  bool    // the adjacency lists below are built (Builder.Scratch leaves them to first use)
	inStart  []int32 // CSR adjacency: edges into event i are inEdge[inStart[i]:inStart[i+1]]
	inEdge   []int32
	outStart []int32
	outEdge  []int32
}

// NewGraph makes a graph from events and edges in the order Graph keeps them,
// as read back from a file, and checks that they are consistent.
func NewGraph(run string, gran Granularity, events []Event, edges []Edge) (*Graph, error) {
	g := &Graph{Run: run, Granularity: gran, Events: events, Edges: edges}
	programs := 0
	for i := range events {
		e := &events[i]
		if i == 0 || e.Node != events[i-1].Node || e.Thread != events[i-1].Thread {
			if i > 0 && cmp.Or(strings.Compare(e.Node, events[i-1].Node), strings.Compare(e.Thread, events[i-1].Thread)) < 0 {
				return nil, fmt.Errorf("event %d: lanes out of order", i)
			}
			g.Lanes = append(g.Lanes, Lane{Node: e.Node, Thread: e.Thread, First: i})
		} else if e.Seq < events[i-1].Seq {
			return nil, fmt.Errorf("event %d: seq %d after %d", i, e.Seq, events[i-1].Seq)
		} else {
			programs++
		}
		g.Lanes[len(g.Lanes)-1].N++
		if e.Count < 1 {
			return nil, fmt.Errorf("event %d: count %d", i, e.Count)
		}
		if e.Role != RoleOf(e.Node) {
			return nil, fmt.Errorf("event %d: role %q for node %q", i, e.Role, e.Node)
		}
		g.cls = append(g.cls, classOf(e.Syscall, e.Arg))
	}
	for i, d := range edges {
		if d.From < 0 || d.From >= len(events) || d.To < 0 || d.To >= len(events) || d.From == d.To {
			return nil, fmt.Errorf("edge %d: %d -> %d out of range", i, d.From, d.To)
		}
		if d.Kind >= numKinds {
			return nil, fmt.Errorf("edge %d: unknown kind %d", i, d.Kind)
		}
		if i > 0 && compareEdges(edges[i-1], d) >= 0 {
			return nil, fmt.Errorf("edge %d: out of order", i)
		}
		if d.Kind == KindProgram {
			if d.To != d.From+1 || g.laneOf(d.From) != g.laneOf(d.To) {
				return nil, fmt.Errorf("edge %d: program order across threads", i)
			}
			programs--
		}
	}
	if programs != 0 {
		return nil, fmt.Errorf("program-order edges do not match the threads")
	}
	g.index()
	g.canon(nil)
	return g, nil
}

// normalize makes an empty graph's slices nil, as NewGraph's are.
func (g *Graph) normalize() {
	if len(g.Events) == 0 {
		g.Events, g.cls, g.Lanes = nil, nil, nil
	}
	if len(g.Edges) == 0 {
		g.Edges = nil
	}
}

// adjacency builds the adjacency lists if they are not built yet.
func (g *Graph) adjacency() {
	if !g.indexed {
		g.index()
	}
}

// index builds the adjacency lists, reusing the buffers g already has.
func (g *Graph) index() {
	g.normalize()
	g.indexed = true
	n := len(g.Events)
	g.inStart = slices.Grow(g.inStart[:0], n+1)[:n+1]
	g.outStart = slices.Grow(g.outStart[:0], n+1)[:n+1]
	clear(g.inStart)
	clear(g.outStart)
	for _, e := range g.Edges {
		g.inStart[e.To+1]++
		g.outStart[e.From+1]++
	}
	for i := 0; i < n; i++ {
		g.inStart[i+1] += g.inStart[i]
		g.outStart[i+1] += g.outStart[i]
	}
	m := len(g.Edges)
	g.inEdge = slices.Grow(g.inEdge[:0], m)[:m]
	g.outEdge = slices.Grow(g.outEdge[:0], m)[:m]
	// Fill by walking the edges; the start arrays serve as cursors and are
	// shifted back afterwards.
	for j, e := range g.Edges {
		g.inEdge[g.inStart[e.To]] = int32(j)
		g.inStart[e.To]++
		g.outEdge[g.outStart[e.From]] = int32(j)
		g.outStart[e.From]++
	}
	for i := n; i > 0; i-- {
		g.inStart[i] = g.inStart[i-1]
		g.outStart[i] = g.outStart[i-1]
	}
	g.inStart[0], g.outStart[0] = 0, 0
}

// CanonVersion numbers the canonical form that ID hashes. Schedule ids of
// different versions are not comparable; a change to canon (or to what
// Builder reduces a run to) must increase it.
const CanonVersion = 2

// canon computes the schedule id: a hash of everything that makes the
// schedule, and nothing that differs between runs of the same schedule
// (Seq, PayloadHash, TimeNS, Count at Message granularity, the run name).
// buf is scratch space, returned for reuse.
func (g *Graph) canon(buf []byte) []byte {
	str := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	buf = append(buf, byte(g.Granularity))
	if g.Granularity == Class {
		return g.classCanon(buf)
	}
	buf = binary.AppendUvarint(buf, uint64(len(g.Lanes)))
	for _, l := range g.Lanes {
		str(l.Node)
		str(l.Thread)
		buf = binary.AppendUvarint(buf, uint64(l.N))
	}
	h := sha256.New()
	// A string equal to the same field of the thread's previous event is
	// written as a single 0 (others as length+1, then the bytes): names
	// repeat along a thread, and the hash is much of the cost of a graph.
	same := func(s, prev string) {
		if s == prev {
			buf = append(buf, 0)
			return
		}
		buf = binary.AppendUvarint(buf, uint64(len(s))+1)
		buf = append(buf, s...)
	}
	var none Event
	for _, l := range g.Lanes {
		prev := &none
		for i := l.First; i < l.First+l.N; i++ {
			e := &g.Events[i]
			same(e.Syscall, prev.Syscall)
			same(e.FDKind, prev.FDKind)
			same(e.Local, prev.Local)
			same(e.Peer, prev.Peer)
			same(e.Conn, prev.Conn)
			buf = binary.AppendVarint(buf, e.Offset)
			buf = binary.AppendVarint(buf, e.Ret)
			same(e.Errno, prev.Errno)
			same(e.Arg, prev.Arg)
			prev = e
			if len(buf) > 32<<10 {
				h.Write(buf)
				buf = buf[:0]
			}
		}
	}
	for _, d := range g.Edges {
		if d.Kind != KindProgram {
			buf = binary.AppendUvarint(buf, uint64(d.From))
			buf = binary.AppendUvarint(buf, uint64(d.To))
			str(kindNames[d.Kind])
		}
	}
	h.Write(buf)
	var sum [sha256.Size]byte
	g.id = hex.EncodeToString(h.Sum(sum[:0])[:6])
	return buf[:0]
}

// Clone returns a copy of g that shares nothing mutable with it.
func (g *Graph) Clone() *Graph {
	g.adjacency()
	c := *g
	c.Events, c.Edges, c.Lanes, c.cls = slices.Clone(g.Events), slices.Clone(g.Edges), slices.Clone(g.Lanes), slices.Clone(g.cls)
	c.Syncs = slices.Clone(g.Syncs)
	c.Untied = slices.Clone(g.Untied)
	c.inStart, c.inEdge = slices.Clone(g.inStart), slices.Clone(g.inEdge)
	c.outStart, c.outEdge = slices.Clone(g.outStart), slices.Clone(g.outEdge)
	return &c
}

// ID is the schedule id: 12 hex digits of a hash of the canonical form.
// Two runs have the same ID exactly when they have the same schedule.
func (g *Graph) ID() string { return g.id }

func (g *Graph) laneOf(i int) int {
	return sort.Search(len(g.Lanes), func(k int) bool { return g.Lanes[k].First+g.Lanes[k].N > i })
}

// Lane returns the lane of event i.
func (g *Graph) Lane(i int) Lane { return g.Lanes[g.laneOf(i)] }

// Pos returns the position of event i in its thread, counting from 0.
func (g *Graph) Pos(i int) int { return i - g.Lane(i).First }

// In returns the indices (into Edges) of the edges into event i.
func (g *Graph) In(i int) []int32 {
	g.adjacency()
	return g.inEdge[g.inStart[i]:g.inStart[i+1]]
}

// Out returns the indices (into Edges) of the edges out of event i.
func (g *Graph) Out(i int) []int32 {
	g.adjacency()
	return g.outEdge[g.outStart[i]:g.outStart[i+1]]
}

// IsTransfer reports whether event i sends or receives data.
func (g *Graph) IsTransfer(i int) bool { return g.cls[i] == cSend || g.cls[i] == cRecv }

// IsSend reports whether event i sends data.
func (g *Graph) IsSend(i int) bool { return g.cls[i] == cSend }

// Ancestors marks the events that happen before any of the events is, and
// those events themselves.
func (g *Graph) Ancestors(is ...int) []bool { return g.reach(is, true) }

// Descendants marks the events that happen after any of the events is, and
// those events themselves.
func (g *Graph) Descendants(is ...int) []bool { return g.reach(is, false) }

// reach walks the edges from the events is, backwards or forwards.
func (g *Graph) reach(is []int, back bool) []bool {
	seen := make([]bool, len(g.Events))
	stack := slices.Clone(is)
	for _, i := range is {
		seen[i] = true
	}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		next, far := g.Out(x), func(d Edge) int { return d.To }
		if back {
			next, far = g.In(x), func(d Edge) int { return d.From }
		}
		for _, j := range next {
			if f := far(g.Edges[j]); !seen[f] {
				seen[f] = true
				stack = append(stack, f)
			}
		}
	}
	return seen
}

// DependsOn returns the message edges (indices into Edges) that happen
// before event i: remove one and i, as observed, cannot happen.
func (g *Graph) DependsOn(i int) []int {
	anc := g.Ancestors(i)
	var out []int
	for j, d := range g.Edges {
		if d.Kind.IsMessage() && anc[d.To] {
			out = append(out, j)
		}
	}
	return out
}

// Last returns the last event of each thread of the given role: for the
// check, the events whose outcome the check reports.
func (g *Graph) Last(r Role) []int {
	var out []int
	for _, l := range g.Lanes {
		if l.N > 0 && g.Events[l.First].Role == r {
			out = append(out, l.First+l.N-1)
		}
	}
	return out
}

// MessageEdges returns the indices of the edges that are messages.
func (g *Graph) MessageEdges() []int {
	var out []int
	for j, d := range g.Edges {
		if d.Kind.IsMessage() {
			out = append(out, j)
		}
	}
	return out
}

// Label names event i the same way in every run of every schedule where it
// happens: a stream transfer by its bytes (kv1/main read c:main:s0>kv1:listen0@0+12),
// any other event by its thread and position in it
// (kv1/main[3] accept4 c:main:s0>kv1:listen0).
func (g *Graph) Label(i int) string { return string(g.AppendLabel(nil, i)) }

// AppendLabel appends Label(i) to b.
func (g *Graph) AppendLabel(b []byte, i int) []byte {
	e := &g.Events[i]
	b = append(b, e.Node...)
	b = append(b, '/')
	b = append(b, e.Thread...)
	if g.Granularity == Class && g.IsTransfer(i) {
		b = append(b, ' ')
		b = append(b, e.Syscall...)
		b = append(b, ' ')
		return append(b, e.Arg...) // the message's class and ordinal
	}
	if g.IsTransfer(i) && e.Offset >= 0 && e.Conn != "" && e.Ret >= 0 && e.Errno == "" {
		b = append(b, ' ')
		b = append(b, e.Syscall...)
		b = append(b, ' ')
		b = append(b, e.Conn...)
		b = append(b, '@')
		b = strconv.AppendInt(b, e.Offset, 10)
		b = append(b, '+')
		return strconv.AppendInt(b, e.Ret, 10)
	}
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(g.Pos(i)), 10)
	b = append(b, "] "...)
	b = append(b, e.Syscall...)
	switch {
	case e.Conn != "":
		b = append(b, ' ')
		b = append(b, e.Conn...)
	case e.Local != "" || e.Peer != "":
		b = append(b, ' ')
		b = append(b, e.Local...)
		if e.Peer != "" {
			b = append(b, '>')
			b = append(b, e.Peer...)
		}
	}
	return b
}

// EdgeKey names edge j across runs and schedules: "from-label -> to-label".
func (g *Graph) EdgeKey(j int) string { return string(g.AppendEdgeKey(nil, j)) }

// AppendEdgeKey appends EdgeKey(j) to b.
func (g *Graph) AppendEdgeKey(b []byte, j int) []byte {
	b = g.AppendLabel(b, g.Edges[j].From)
	b = append(b, " -> "...)
	return g.AppendLabel(b, g.Edges[j].To)
}
