package hb

import (
	"cmp"
	"slices"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/durable"
	"github.com/boxofpain/pain/internal/sysent"
)

// Builder gathers the rows of one run and builds its graph. Reset makes it
// ready for the next run and keeps its buffers, so tracking many runs
// allocates little.
type Builder struct {
	gran  Granularity
	index map[laneKey]int
	lanes []lane
	last  int // lane of the previous row: rows of one thread come in bursts
	buf   []byte
	g     Graph
	m     matcher
	order []int
	names map[string]int
	// Lanes by the identity of their node and thread names (see identical).
	cache [32]laneRef
	// stableName of endpoint and connection names, by identity.
	stable [64]struct{ raw, name string }
	// disk follows the nodes' files from their rows (nil until a file row
	// comes): the durability lineage of system nodes' events.
	disk *durable.Rows
}

type laneRef struct {
	node, thread string
	i            int
}

type laneKey struct{ node, thread string }

type lane struct {
	node, thread string
	role         Role
	evs          []Event
	cls          []class
	unsorted     bool // a row came with a lower seq than the one before it
	keep         bool
	first        int // index of its first event in the graph
}

// NewBuilder returns a Builder for graphs of the given granularity.
func NewBuilder(g Granularity) *Builder {
	return &Builder{gran: g, index: map[laneKey]int{}}
}

// Reset forgets the rows added so far.
func (b *Builder) Reset() {
	clear(b.index)
	for i := range b.lanes {
		b.lanes[i] = lane{evs: b.lanes[i].evs[:0], cls: b.lanes[i].cls[:0]}
	}
	b.lanes = b.lanes[:0]
	b.last = 0
	clear(b.cache[:])
	b.disk = nil
}

// Add adds one row of the run. Rows may come in any order.
func (b *Builder) Add(e *format.Event) {
	if e.FDKind == format.KindFile {
		// Files carry no happens-before edge: they give system nodes'
		// events their durability lineage.
		if b.disk == nil {
			b.disk = durable.NewRows(durable.Ordered)
		}
		b.disk.Add(e)
		return
	}
	c := classOf(e.Syscall, e.Arg)
	if b.gran != Syscall && e.Errno != "" && retry(e.Errno) {
		return
	}
	var l *lane
	if b.last < len(b.lanes) && identical(b.lanes[b.last].node, e.Node) && identical(b.lanes[b.last].thread, e.Thread) {
		l = &b.lanes[b.last]
	} else {
		c := &b.cache[(mix(ptr(e.Node))^mix(ptr(e.Thread)+1))>>59] // 32 slots
		i := c.i
		if c.node == "" || !identical(c.node, e.Node) || !identical(c.thread, e.Thread) {
			k := laneKey{e.Node, e.Thread}
			var ok bool
			i, ok = b.index[k]
			if !ok {
				i = len(b.lanes)
				if i < cap(b.lanes) {
					b.lanes = b.lanes[:i+1]
				} else {
					b.lanes = append(b.lanes, lane{})
				}
				b.lanes[i].node, b.lanes[i].thread, b.lanes[i].role = e.Node, e.Thread, RoleOf(e.Node)
				b.index[k] = i
			}
			*c = laneRef{e.Node, e.Thread, i}
		}
		b.last = i
		l = &b.lanes[i]
	}
	ev := Event{
		Node: l.node, Thread: l.thread, Seq: e.Seq, Count: 1,
		Syscall: e.Syscall, FDKind: e.FDKind,
		Local: b.stableName(e.Local), Peer: b.stableName(e.Peer), Conn: b.stableName(e.Conn),
		Offset: e.Offset, Ret: stableRet(c, e.Ret), Errno: e.Errno, PayloadHash: e.PayloadHash,
		Role: l.role, TimeNS: e.TimeNS, DurNS: e.DurNS, Fault: e.Fault,
	}
	switch c {
	case cStart, cEnd, cExec, cKill:
		ev.Arg = e.Arg
	case cSend, cRecv:
		if se := sysent.ByName(e.Syscall); se != nil && se.Class == sysent.Transfer {
			ev.Arg = e.Arg // the side: a graph read back classifies by it
		}
	}
	if ev.Offset < 0 {
		ev.Offset = -1
	}
	if b.disk != nil && l.role == RoleSystem {
		ev.Unsynced = unsynced(b.disk.Pending(e.Node))
	}
	if n := len(l.evs); n > 0 && ev.Seq < l.evs[n-1].Seq {
		l.unsorted = true
	}
	l.evs = append(l.evs, ev)
	l.cls = append(l.cls, c)
}

// unsynced keeps the risks that are writes.
func unsynced(rs []durable.Risk) []Unsynced {
	var out []Unsynced
	for _, r := range rs {
		if r.Writes > 0 && r.Path != "" {
			out = append(out, Unsynced{File: r.Path, Writes: r.Writes, Bytes: r.Bytes})
		}
	}
	return out
}

// fileSyncs lists the syncs the rows showed, sorted.
func (b *Builder) fileSyncs(out []FileSyncs) []FileSyncs {
	out = out[:0]
	if b.disk == nil {
		return out
	}
	for k, n := range b.disk.Syncs {
		out = append(out, FileSyncs{Node: k.Node, File: k.File, Call: k.Call, Syncs: n})
	}
	slices.SortFunc(out, func(x, y FileSyncs) int {
		return cmp.Or(strings.Compare(x.Node, y.Node), strings.Compare(x.File, y.File), strings.Compare(x.Call, y.Call))
	})
	return out
}

// stableName is stableName(s), remembered for the strings seen last.
func (b *Builder) stableName(s string) string {
	if s == "" {
		return ""
	}
	c := &b.stable[mix(ptr(s))>>58] // 64 slots
	if !identical(c.raw, s) {
		c.raw, c.name = s, stableName(s)
	}
	return c.name
}

// Graph reduces the rows added so far to the happens-before graph of run.
// Call it once per run: it reduces the rows in place.
func (b *Builder) Graph(run string) *Graph { return b.Scratch(run).Clone() }

// Scratch is Graph without the copy: the graph it returns lives in the
// Builder's buffers and is valid until the next call of Reset. It builds
// its adjacency lists (In, Out) on first use, so it is not for concurrent
// use. Tracking many runs uses it to allocate only for graphs it keeps
// (Clone).
func (b *Builder) Scratch(run string) *Graph {
	b.markKept()
	order, n := b.compact()
	g := &b.g
	g.Run, g.Granularity = run, b.gran
	if b.gran == Class {
		// First the calls (retries left out), then their classes: messages
		// as msgclass coalesces them, which is how the injector sees them.
		g.Granularity = Syscall
	}
	g.Events, g.cls, g.Lanes = slices.Grow(g.Events[:0], n), slices.Grow(g.cls[:0], n), g.Lanes[:0]
	for _, i := range order {
		l := &b.lanes[i]
		l.first = len(g.Events)
		g.Lanes = append(g.Lanes, Lane{Node: l.node, Thread: l.thread, First: l.first, N: len(l.evs)})
		g.Events = append(g.Events, l.evs...)
		g.cls = append(g.cls, l.cls...)
	}
	g.Edges = b.m.match(g, g.Edges[:0])
	g.Syncs = b.fileSyncs(g.Syncs)
	// The adjacency lists wait for their first use: tracking many runs
	// never uses them.
	g.normalize()
	g.indexed = false
	if b.gran == Class {
		return classGraph(g)
	}
	b.buf = g.canon(b.buf[:0])
	return g
}

// markKept sorts each lane by seq, indexes the lanes by name (b.names) and
// marks the threads the graph keeps: main threads, threads that use a
// socket or pipe, and the threads that created a kept one, so the clone
// and exec chain that leads to it stays in the graph.
func (b *Builder) markKept() {
	lanes := b.lanes
	if b.names == nil {
		b.names = map[string]int{}
	}
	byName := b.names
	clear(byName)
	for i := range lanes {
		l := &lanes[i]
		if l.unsorted {
			sortLane(l)
			l.unsorted = false
		}
		byName[l.node+"/"+l.thread] = i
		l.keep = l.thread == "main" || slices.ContainsFunc(l.evs, func(e Event) bool { return communicates(e.FDKind) })
	}
	for i := range lanes {
		if !lanes[i].keep {
			continue
		}
		for j, steps := i, 0; steps < len(lanes); steps++ {
			l := &lanes[j]
			if len(l.evs) == 0 || l.cls[0] != cStart {
				break
			}
			k, ok := byName[l.evs[0].Peer]
			if !ok || k == j {
				break
			}
			lanes[k].keep = true
			j = k
		}
	}
}

// compact leaves out of the kept lanes the events that name dropped
// threads and, at Message granularity, merges transfers into messages. It
// returns the kept lanes that have events left, sorted by node and thread,
// and how many events they hold.
func (b *Builder) compact() (order []int, n int) {
	lanes := b.lanes
	dropped := func(peer string) bool {
		k, ok := b.names[peer]
		return ok && !lanes[k].keep
	}
	order = b.order[:0]
	for i := range lanes {
		l := &lanes[i]
		if !l.keep {
			continue
		}
		// Compact in place: an event moves only once one before it went.
		evs, cls := l.evs[:0], l.cls[:0]
		for j := range l.evs {
			e, c := &l.evs[j], l.cls[j]
			if (c == cClone || c == cWait || c == cKill) && dropped(e.Peer) {
				continue
			}
			if k := len(evs) - 1; b.gran == Message && k >= 0 && mergeable(&evs[k], cls[k], e, c) {
				evs[k].Count += e.Count
				evs[k].Ret += e.Ret
				evs[k].Unsynced = e.Unsynced // as the message's last call returned
				if evs[k].Fault == "" {
					evs[k].Fault = e.Fault
				}
				continue
			}
			if len(evs) == j {
				evs, cls = evs[:j+1], cls[:j+1]
			} else {
				evs, cls = append(evs, *e), append(cls, c)
			}
		}
		l.evs, l.cls = evs, cls
		if len(evs) == 0 {
			continue // nothing left of it: a thread is in a graph by its events
		}
		order = append(order, i)
		n += len(evs)
	}
	slices.SortFunc(order, func(x, y int) int {
		return cmp.Or(strings.Compare(lanes[x].node, lanes[y].node), strings.Compare(lanes[x].thread, lanes[y].thread))
	})
	b.order = order
	return order, n
}

func sortLane(l *lane) {
	idx := make([]int, len(l.evs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return cmp.Compare(l.evs[x].Seq, l.evs[y].Seq) })
	evs, cls := make([]Event, len(idx)), make([]class, len(idx))
	for i, j := range idx {
		evs[i], cls[i] = l.evs[j], l.cls[j]
	}
	l.evs, l.cls = evs, cls
}

// mergeable reports whether e continues the message a: the same direction
// of the same stream, right after it.
func mergeable(a *Event, ca class, e *Event, ce class) bool {
	return ca == ce && (ca == cSend || ca == cRecv) &&
		a.Offset >= 0 && a.Ret > 0 && e.Ret > 0 && a.Errno == "" && e.Errno == "" &&
		e.Offset == a.Offset+a.Ret && a.Conn != "" && e.Conn == a.Conn &&
		e.Local == a.Local && e.FDKind == a.FDKind
}
