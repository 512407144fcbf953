package hb

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/boxofpain/pain/format"
)

// EdgeKind says why one event happens before another.
type EdgeKind uint8

// Edge kinds.
const (
	KindProgram  EdgeKind = iota // the next event of the same thread
	KindClone                    // clone, fork or vfork -> the child's first event
	KindExec                     // execve -> the first event of the node it became
	KindExit                     // a thread's end -> the wait4 that reaped it
	KindSignal                   // kill -> the target's death by that signal
	KindConnect                  // connect -> the accept that took the connection
	KindStream                   // the send that wrote byte b -> the receive that read it (sockets)
	KindPipe                     // the same on a pipe
	KindDatagram                 // a datagram's send -> its receive
	KindClose                    // the other end's close or shutdown -> the receive that saw end of file
	numKinds
)

var kindNames = [numKinds]string{"program", "clone", "exec", "exit", "signal", "connect", "stream", "pipe", "datagram", "close"}

func (k EdgeKind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "kind" + strconv.Itoa(int(k))
}

// ParseEdgeKind reads the name of an edge kind.
func ParseEdgeKind(s string) (EdgeKind, bool) {
	for k, n := range kindNames {
		if n == s {
			return EdgeKind(k), true
		}
	}
	return 0, false
}

// IsMessage reports whether edges of this kind are messages between threads:
// the edges a fault can remove.
func (k EdgeKind) IsMessage() bool { return k >= KindConnect && k < numKinds }

// stream identifies one direction of one connection. For conn "a>b", fwd is
// true for bytes from a (the connecting end) to b. A pipe has one direction;
// the two directions of a socketpair are told apart by the sending end's name.
type stream struct {
	conn, from string
	fwd        bool
}

func streamOf(e *Event, send bool) stream {
	if i := strings.IndexByte(e.Conn, '>'); i >= 0 {
		atConnector := e.Local == e.Conn[:i]
		return stream{conn: e.Conn, fwd: atConnector == send}
	}
	if e.FDKind == format.KindPipe {
		return stream{conn: e.Conn}
	}
	if send {
		return stream{conn: e.Conn, from: e.Local}
	}
	return stream{conn: e.Conn, from: e.Peer}
}

// shutByFault reports whether an injected fault replaced e, a call on a
// stream socket, by a shutdown of the stream (a drop, or a partition
// cutting it in traces from before partitions were silent): the send then
// fails with EPIPE, the receive returns 0. A silent partition's marked
// call ran as it would have: it returns what it moved.
func shutByFault(e *Event) bool {
	if !strings.HasSuffix(e.Fault, ":drop") && !strings.HasSuffix(e.Fault, ":partition") {
		return false
	}
	if e.Conn == "" || (e.FDKind != format.KindTCP && e.FDKind != format.KindUnix) {
		return false
	}
	return e.Errno == "EPIPE" || (e.Errno == "" && e.Ret == 0)
}

type pipeEnd struct{ conn, local string }

type span struct {
	off, end int64
	ev       int
}

type sides struct {
	w, r []span
	pipe bool
}

type dgram struct {
	from, to string
	n        int64
	hash     uint64
}

// matcher holds the scratch space of match, kept between runs.
type matcher struct {
	lanes    map[string]int
	cloned   []bool
	connects map[string]int
	streams  map[stream]*sides
	pool     []*sides
	closers  map[stream]int
	// Pipes: the ends that wrote, and the closes to match with them.
	pipeWriters map[pipeEnd]bool
	pipeCloses  []int
	queue       map[dgram][]int
	eofs        []int
	sends       []int
	recvs       []int
	extra       []Edge
	count       []int32
	sorted      []Edge
	// The streams of recent transfers, by the identity of the strings that
	// decide them: transfers come in runs on a few streams, so most skip
	// streamOf and the map.
	recent [64]recentStream
}

func (m *matcher) reset(g *Graph) {
	if m.lanes == nil {
		m.lanes, m.connects, m.streams = map[string]int{}, map[string]int{}, map[stream]*sides{}
		m.closers, m.queue, m.pipeWriters = map[stream]int{}, map[dgram][]int{}, map[pipeEnd]bool{}
	}
	clear(m.lanes)
	clear(m.connects)
	clear(m.streams)
	clear(m.closers)
	clear(m.pipeWriters)
	m.pipeCloses = m.pipeCloses[:0]
	clear(m.queue)
	clear(m.recent[:])
	m.cloned = slices.Grow(m.cloned[:0], len(g.Lanes))[:len(g.Lanes)]
	clear(m.cloned)
	m.eofs, m.sends, m.recvs, m.extra = m.eofs[:0], m.sends[:0], m.recvs[:0], m.extra[:0]
}

type recentStream struct {
	conn, local, peer string
	send              bool
	sd                *sides
}

// sidesOf returns the stream of transfer e.
func (m *matcher) sidesOf(e *Event, send bool) *sides {
	h := mix(ptr(e.Conn)) ^ mix(ptr(e.Local)+1) ^ mix(ptr(e.Peer)+2)
	if send {
		h = ^h
	}
	r := &m.recent[h>>58] // 64 slots
	if r.sd != nil && r.send == send && identical(r.conn, e.Conn) && identical(r.local, e.Local) && identical(r.peer, e.Peer) {
		return r.sd
	}
	s := streamOf(e, send)
	sd := m.streams[s]
	if sd == nil {
		n := len(m.streams)
		if n == len(m.pool) {
			m.pool = append(m.pool, &sides{})
		}
		sd = m.pool[n]
		sd.w, sd.r, sd.pipe = sd.w[:0], sd.r[:0], e.FDKind == format.KindPipe
		m.streams[s] = sd
	}
	*r = recentStream{e.Conn, e.Local, e.Peer, send, sd}
	return sd
}

// ptr returns where a string's bytes are, as a hash of the string for
// caches that check identity (identical) rather than equality.
func ptr(s string) uint64 { return uint64(uintptr(unsafe.Pointer(unsafe.StringData(s)))) }

// mix spreads the bits of a pointer over the top bits, which the caches
// index by: pointers of small strings differ in a few low bits.
func mix(p uint64) uint64 { return p * 0x9E3779B97F4A7C15 }

// identical reports whether a and b are the same bytes in memory, which
// implies equal. Rows read from traces share their names (the readers
// intern them), so equal names are usually identical: a cache keyed by
// identity is exact when it hits and costs no string comparison.
func identical(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// match finds the edges of g, whose events are in lane order, and appends
// them to edges sorted by From, To and Kind, without duplicates.
func (m *matcher) match(g *Graph, edges []Edge) []Edge {
	m.reset(g)
	for i, l := range g.Lanes {
		m.lanes[l.Node+"/"+l.Thread] = i
	}
	m.gather(g)
	m.processEdges(g)
	m.closeEdges(g)
	m.streamEdges()
	m.matchDatagrams(g, m.add)
	m.sortExtra(len(g.Events))
	return m.merge(g, edges)
}

// add records a non-program edge.
func (m *matcher) add(from, to int, kind EdgeKind) {
	if from != to {
		m.extra = append(m.extra, Edge{From: from, To: to, Kind: kind})
	}
}

// gather walks the events once: clone edges, and the connects, closes and
// transfers the other phases match.
func (m *matcher) gather(g *Graph) {
	for i := range g.Events {
		e := &g.Events[i]
		switch c := g.cls[i]; c {
		case cClone:
			if k, ok := m.lanes[e.Peer]; ok && e.Errno == "" && !m.cloned[k] {
				m.cloned[k] = true
				m.add(i, g.Lanes[k].First, KindClone)
			}
		case cConnect:
			if _, ok := m.connects[e.Conn]; !ok && e.Conn != "" && (e.Errno == "" || e.Errno == "EINPROGRESS") {
				m.connects[e.Conn] = i
			}
		case cClose:
			switch {
			case e.Conn == "":
			case e.FDKind == format.KindPipe:
				m.pipeCloses = append(m.pipeCloses, i) // matched once the write ends are known
			default:
				s := streamOf(e, true)
				if _, ok := m.closers[s]; !ok {
					m.closers[s] = i
				}
			}
		case cSend, cRecv:
			switch {
			case shutByFault(e):
				// The injector shut the stream down here: the ends of file
				// read after it come from this call, and its own receive
				// saw nothing from the peer.
				for _, s := range [...]stream{streamOf(e, true), streamOf(e, false)} {
					if _, ok := m.closers[s]; !ok {
						m.closers[s] = i
					}
				}
			case e.Errno != "" || e.Ret < 0:
			case e.Offset >= 0 && e.Conn != "":
				if e.Ret == 0 {
					if c == cRecv {
						m.eofs = append(m.eofs, i)
					}
					break
				}
				sd := m.sidesOf(e, c == cSend)
				if c == cSend && sd.pipe {
					m.pipeWriters[pipeEnd{e.Conn, e.Local}] = true
				}
				sp := span{e.Offset, e.Offset + e.Ret, i}
				if c == cSend {
					sd.w = append(sd.w, sp)
				} else {
					sd.r = append(sd.r, sp)
				}
			case e.Offset < 0 && e.Ret > 0 && (e.FDKind == format.KindUDP || e.FDKind == format.KindUnix):
				if c == cSend {
					m.sends = append(m.sends, i)
				} else {
					m.recvs = append(m.recvs, i)
				}
			}
		}
	}
}

// processEdges adds the exec, exit, signal and connect edges.
func (m *matcher) processEdges(g *Graph) {
	for i := range g.Events {
		e := &g.Events[i]
		switch g.cls[i] {
		case cStart:
			// The first event of a node made by execve: its peer is the
			// thread that called execve, and nobody cloned it.
			l := g.laneOf(i)
			if i != g.Lanes[l].First || m.cloned[l] {
				break
			}
			if k, ok := m.lanes[e.Peer]; ok {
				if x := lastOf(g, k, cExec); x >= 0 {
					m.add(x, i, KindExec)
				}
			}
		case cWait:
			if k, ok := m.lanes[e.Peer]; ok && e.Errno == "" {
				if x := g.Lanes[k].First + g.Lanes[k].N - 1; g.cls[x] == cEnd {
					m.add(x, i, KindExit)
				}
			}
		case cKill:
			if k, ok := m.lanes[e.Peer]; ok && e.Errno == "" {
				x := g.Lanes[k].First + g.Lanes[k].N - 1
				if t := &g.Events[x]; t.Syscall == format.EventSignaled && t.Arg == e.Arg {
					m.add(i, x, KindSignal)
				}
			}
		case cAccept:
			if j, ok := m.connects[e.Conn]; ok && e.Errno == "" {
				m.add(j, i, KindConnect)
			}
		}
	}
}

// closeEdges adds the edges to the ends of file.
func (m *matcher) closeEdges(g *Graph) {
	// A reader sees the end of a stream after the other end closed it. A
	// socket: its first close or shutdown (a shutdown may come before other
	// closes). A pipe has no shutdown, so every close of its write end
	// (whoever holds a copy) comes before the end of file.
	for _, i := range m.eofs {
		e := &g.Events[i]
		if e.FDKind != format.KindPipe {
			if j, ok := m.closers[streamOf(e, false)]; ok {
				m.add(j, i, KindClose)
			}
			continue
		}
		for _, j := range m.pipeCloses {
			if c := &g.Events[j]; c.Conn == e.Conn && m.pipeWriters[pipeEnd{c.Conn, c.Local}] {
				m.add(j, i, KindClose)
			}
		}
	}
}

// streamEdges adds the edges from writes to the reads of their bytes.
func (m *matcher) streamEdges() {
	bySpan := func(a, b span) int {
		if a.off != b.off {
			return cmp.Compare(a.off, b.off)
		}
		return cmp.Compare(a.ev, b.ev)
	}
	for _, sd := range m.streams { // edges are sorted below, so map order does not matter
		kind := KindStream
		if sd.pipe {
			kind = KindPipe
		}
		if !slices.IsSortedFunc(sd.w, bySpan) {
			slices.SortFunc(sd.w, bySpan)
		}
		if !slices.IsSortedFunc(sd.r, bySpan) {
			slices.SortFunc(sd.r, bySpan)
		}
		// Each read gets an edge from every write whose bytes it covers.
		w := 0
		for _, r := range sd.r {
			for w < len(sd.w) && sd.w[w].end <= r.off {
				w++
			}
			for x := w; x < len(sd.w) && sd.w[x].off < r.end; x++ {
				if sd.w[x].end > r.off {
					m.add(sd.w[x].ev, r.ev, kind)
				}
			}
		}
	}
}

// merge merges the program-order edges, made in order as the lanes are
// walked, with the others, into edges.
func (m *matcher) merge(g *Graph, edges []Edge) []Edge {
	x := m.extra
	emit := func(d Edge) {
		if len(edges) == 0 || d != edges[len(edges)-1] {
			edges = append(edges, d)
		}
	}
	for _, l := range g.Lanes {
		for j := l.First; j+1 < l.First+l.N; j++ {
			p := Edge{From: j, To: j + 1, Kind: KindProgram}
			for len(x) > 0 && compareEdges(x[0], p) < 0 {
				emit(x[0])
				x = x[1:]
			}
			emit(p)
		}
	}
	for _, d := range x {
		emit(d)
	}
	return edges
}

// sortExtra sorts the non-program edges by From, To and Kind: a counting
// sort by From (linear; a comparison sort of half a million edges per
// thousand runs showed in profiles), then by To and Kind among the few
// edges of one event.
func (m *matcher) sortExtra(n int) {
	if len(m.extra) < 64 {
		slices.SortFunc(m.extra, compareEdges)
		return
	}
	m.count = slices.Grow(m.count[:0], n+1)[:n+1]
	clear(m.count)
	for _, d := range m.extra {
		m.count[d.From+1]++
	}
	for i := 0; i < n; i++ {
		m.count[i+1] += m.count[i]
	}
	m.sorted = slices.Grow(m.sorted[:0], len(m.extra))[:len(m.extra)]
	for _, d := range m.extra {
		m.sorted[m.count[d.From]] = d
		m.count[d.From]++
	}
	for i := 0; i < len(m.sorted); {
		j := i + 1
		for j < len(m.sorted) && m.sorted[j].From == m.sorted[i].From {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(m.sorted[i:j], compareEdges)
		}
		i = j
	}
	m.extra, m.sorted = m.sorted, m.extra
}

// matchDatagrams pairs the k-th send of a datagram with the k-th receive of
// the same endpoints, size and payload hash; order is by time within a run.
func (m *matcher) matchDatagrams(g *Graph, add func(int, int, EdgeKind)) {
	if len(m.sends) == 0 || len(m.recvs) == 0 {
		return
	}
	byTime := func(a, b int) int {
		return cmp.Or(cmp.Compare(g.Events[a].TimeNS, g.Events[b].TimeNS), cmp.Compare(a, b))
	}
	slices.SortFunc(m.sends, byTime)
	slices.SortFunc(m.recvs, byTime)
	for _, i := range m.sends {
		e := &g.Events[i]
		k := dgram{e.Local, e.Peer, e.Ret, e.PayloadHash}
		m.queue[k] = append(m.queue[k], i)
	}
	for _, i := range m.recvs {
		e := &g.Events[i]
		k := dgram{e.Peer, e.Local, e.Ret, e.PayloadHash}
		if q := m.queue[k]; len(q) > 0 {
			add(q[0], i, KindDatagram)
			m.queue[k] = q[1:]
		}
	}
}

// lastOf returns the last event of lane k of class c, preferring successful ones.
func lastOf(g *Graph, k int, c class) int {
	l := g.Lanes[k]
	found := -1
	for i := l.First + l.N - 1; i >= l.First; i-- {
		if g.cls[i] == c {
			if g.Events[i].Errno == "" {
				return i
			}
			if found < 0 {
				found = i
			}
		}
	}
	return found
}

func compareEdges(a, b Edge) int {
	if a.From != b.From {
		return cmp.Compare(a.From, b.From)
	}
	if a.To != b.To {
		return cmp.Compare(a.To, b.To)
	}
	return cmp.Compare(a.Kind, b.Kind)
}
