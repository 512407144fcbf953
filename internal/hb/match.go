package hb

import (
	"cmp"
	"slices"
	"strings"

	"github.com/boxofpain/pain/format"
)

// Edge kinds.
const (
	KindProgram  = "program"  // the next event of the same thread
	KindClone    = "clone"    // clone, fork or vfork -> the child's first event
	KindExec     = "exec"     // execve -> the first event of the node it became
	KindExit     = "exit"     // a thread's end -> the wait4 that reaped it
	KindSignal   = "signal"   // kill -> the target's death by that signal
	KindConnect  = "connect"  // connect -> the accept that took the connection
	KindStream   = "stream"   // the send that wrote byte b -> the receive that read it (sockets)
	KindPipe     = "pipe"     // the same on a pipe
	KindDatagram = "datagram" // a datagram's send -> its receive
	KindClose    = "close"    // the other end's close or shutdown -> the receive that saw end of file
)

// IsMessage reports whether edges of this kind are messages between threads:
// the edges a fault can remove.
func IsMessage(kind string) bool {
	switch kind {
	case KindConnect, KindStream, KindPipe, KindDatagram, KindClose:
		return true
	}
	return false
}

var kinds = []string{KindProgram, KindClone, KindExec, KindExit, KindSignal, KindConnect, KindStream, KindPipe, KindDatagram, KindClose}

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

// match finds the edges of g, whose events are in lane order.
func match(g *Graph) []Edge {
	var edges []Edge
	add := func(from, to int, kind string) {
		if from != to {
			edges = append(edges, Edge{From: from, To: to, Kind: kind})
		}
	}
	lanes := make(map[string]int, len(g.Lanes))
	for i, l := range g.Lanes {
		lanes[l.Node+"/"+l.Thread] = i
		for j := l.First + 1; j < l.First+l.N; j++ {
			add(j-1, j, KindProgram)
		}
	}
	cloned := make([]bool, len(g.Lanes))
	connects := map[string]int{}
	streams := map[stream]*sides{}
	closers := map[stream]int{}
	var eofs []int
	var sends, recvs []int
	for i := range g.Events {
		e := &g.Events[i]
		switch c := g.cls[i]; c {
		case cClone:
			if k, ok := lanes[e.Peer]; ok && e.Errno == "" && !cloned[k] {
				cloned[k] = true
				add(i, g.Lanes[k].First, KindClone)
			}
		case cConnect:
			if _, ok := connects[e.Conn]; !ok && e.Conn != "" && (e.Errno == "" || e.Errno == "EINPROGRESS") {
				connects[e.Conn] = i
			}
		case cClose:
			if e.Conn != "" {
				s := streamOf(e, true)
				if _, ok := closers[s]; !ok {
					closers[s] = i
				}
			}
		case cSend, cRecv:
			switch {
			case e.Errno != "" || e.Ret < 0:
			case e.Offset >= 0 && e.Conn != "":
				if e.Ret == 0 {
					if c == cRecv {
						eofs = append(eofs, i)
					}
					break
				}
				s := streamOf(e, c == cSend)
				sd := streams[s]
				if sd == nil {
					sd = &sides{pipe: e.FDKind == format.KindPipe}
					streams[s] = sd
				}
				sp := span{e.Offset, e.Offset + e.Ret, i}
				if c == cSend {
					sd.w = append(sd.w, sp)
				} else {
					sd.r = append(sd.r, sp)
				}
			case e.Offset < 0 && e.Ret > 0 && (e.FDKind == format.KindUDP || e.FDKind == format.KindUnix):
				if c == cSend {
					sends = append(sends, i)
				} else {
					recvs = append(recvs, i)
				}
			}
		}
	}
	for i := range g.Events {
		e := &g.Events[i]
		switch g.cls[i] {
		case cStart:
			// The first event of a node made by execve: its peer is the
			// thread that called execve, and nobody cloned it.
			l := g.laneOf(i)
			if i != g.Lanes[l].First || cloned[l] {
				break
			}
			if k, ok := lanes[e.Peer]; ok {
				if x := lastOf(g, k, cExec); x >= 0 {
					add(x, i, KindExec)
				}
			}
		case cWait:
			if k, ok := lanes[e.Peer]; ok && e.Errno == "" {
				if x := g.Lanes[k].First + g.Lanes[k].N - 1; g.cls[x] == cEnd {
					add(x, i, KindExit)
				}
			}
		case cKill:
			if k, ok := lanes[e.Peer]; ok && e.Errno == "" {
				x := g.Lanes[k].First + g.Lanes[k].N - 1
				if t := &g.Events[x]; t.Syscall == format.EventSignaled && t.Arg == e.Arg {
					add(i, x, KindSignal)
				}
			}
		case cAccept:
			if j, ok := connects[e.Conn]; ok && e.Errno == "" {
				add(j, i, KindConnect)
			}
		}
	}
	for _, i := range eofs {
		if j, ok := closers[streamOf(&g.Events[i], false)]; ok {
			add(j, i, KindClose)
		}
	}
	for _, sd := range streams { // edges are sorted below, so map order does not matter
		kind := KindStream
		if sd.pipe {
			kind = KindPipe
		}
		bySpan := func(a, b span) int { return cmp.Or(cmp.Compare(a.off, b.off), cmp.Compare(a.ev, b.ev)) }
		slices.SortFunc(sd.w, bySpan)
		slices.SortFunc(sd.r, bySpan)
		// Each read gets an edge from every write whose bytes it covers.
		w := 0
		for _, r := range sd.r {
			for w < len(sd.w) && sd.w[w].end <= r.off {
				w++
			}
			for x := w; x < len(sd.w) && sd.w[x].off < r.end; x++ {
				if sd.w[x].end > r.off {
					add(sd.w[x].ev, r.ev, kind)
				}
			}
		}
	}
	matchDatagrams(g, sends, recvs, add)
	slices.SortFunc(edges, compareEdges)
	return slices.Compact(edges)
}

// matchDatagrams pairs the k-th send of a datagram with the k-th receive of
// the same endpoints, size and payload hash; order is by time within a run.
func matchDatagrams(g *Graph, sends, recvs []int, add func(int, int, string)) {
	if len(sends) == 0 || len(recvs) == 0 {
		return
	}
	byTime := func(a, b int) int {
		return cmp.Or(cmp.Compare(g.Events[a].TimeNS, g.Events[b].TimeNS), cmp.Compare(a, b))
	}
	slices.SortFunc(sends, byTime)
	slices.SortFunc(recvs, byTime)
	queue := map[dgram][]int{}
	for _, i := range sends {
		e := &g.Events[i]
		k := dgram{e.Local, e.Peer, e.Ret, e.PayloadHash}
		queue[k] = append(queue[k], i)
	}
	for _, i := range recvs {
		e := &g.Events[i]
		k := dgram{e.Peer, e.Local, e.Ret, e.PayloadHash}
		if q := queue[k]; len(q) > 0 {
			add(q[0], i, KindDatagram)
			queue[k] = q[1:]
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
	return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To), strings.Compare(a.Kind, b.Kind))
}
