package msgclass

import "slices"

// Timer traffic tied by chance. A thread that handles a request and a
// timer in one breath (a Go process, whose threads are one scope; a
// single-threaded event loop) ties the ping its timer sends to the request
// in flight, so that the ordinals of the request's real messages (its
// replication) would depend on how many pings went out meanwhile. A
// stream send by a system node is timer traffic, and tied to nothing,
// when it repeats bytes already sent on its connection class untied or
// tied to another request (a ping is the same bytes every time, a
// replicated write is not); so is the first answer to it on its
// connection, and an answer whose bytes are those of an untied answer,
// unless every request it answers is in bytes never sent untied (below).
// The rule looks only at what came before the send, so that the injector,
// which names messages as they happen, and pain-track, which names them
// after the run, name them alike; a send is told by the hash of its first
// call's bytes (Event.Hash), which the injector gets at the call's entry.
//
// A timer send leaves its thread's receive batch as it was, and the answer
// joins the batch: the request's data sent next is still tied to the
// request.
//
// Answers in the same bytes are not all timer traffic: a follower
// acknowledges every write with "OK\n". Once one write went out tied to
// nothing by chance (a Go leader, one scope, that read another node's
// untied message just before it sent the write on a connection class
// that carried no data yet), its acknowledgement went out untied, and the bytes rule alone would untie
// the acknowledgement of every later write, tied though it is by the
// write it answers: the names of the data path would change with one
// chance untie. So an answer in untied bytes is timer traffic only when
// it answers a request in untied bytes too (a pong to a ping tied by
// chance before its bytes were known as a ping's), or when nothing was
// asked on its connection since its last answer.

// timerKey is what a message looks like to the rule: its connection class,
// direction and bytes.
type timerKey struct {
	conn string
	back bool
	hash uint64
}

// timers is what the rule remembers of the run so far.
type timers struct {
	untied map[timerKey]bool     // bytes sent untied
	tiedTo map[timerKey]int      // requests sent from the connecting end: the request they were first tied to
	answer map[string]int        // per connection (raw name), timer requests not answered yet
	asks   map[string][]timerKey // per connection (raw name), the distinct requests sent on it since its last answer
}

func newTimers() timers {
	return timers{untied: map[timerKey]bool{}, tiedTo: map[timerKey]int{}, answer: map[string]int{}, asks: map[string][]timerKey{}}
}

// timerUndo is what the rule changed for one send.
type timerUndo struct {
	untied, tied *timerKey
	conn         string
	answer       int        // +1 or -1 on answer[conn]
	asked        bool       // the send added to asks[conn]
	answered     []timerKey // asks[conn] before the send, an answer, cleared it
}

// timer decides whether the new message e, tied to request tag by its
// thread's receives, is timer traffic, and notes what it needs of it.
func (ts *timers) timer(e *Event, tag int, u *timerUndo) bool {
	if e.Offset < 0 || e.Hash == 0 {
		return false
	}
	back := listening(e)
	k := timerKey{ConnClass(e.Conn), back, e.Hash}
	u.conn = e.Conn
	if back {
		return !e.Workload && ts.timerAnswer(e.Conn, k, tag, u)
	}
	ts.ask(e.Conn, k, u)
	if e.Workload || tag == 0 {
		return false
	}
	if first, ok := ts.tiedTo[k]; ts.untied[k] || ok && first != tag {
		ts.answer[e.Conn]++
		u.answer = 1
		return true
	} else if !ok {
		ts.tiedTo[k] = tag
		u.tied = &k
	}
	return false
}

// maxAsked bounds the distinct requests remembered per connection: a
// one-way stream (replication with no answers) asks without end, and a few
// distinct requests already show the data path.
const maxAsked = 16

// ask notes the request k sent on conn.
func (ts *timers) ask(conn string, k timerKey, u *timerUndo) {
	q := ts.asks[conn]
	if len(q) < maxAsked && !slices.Contains(q, k) {
		ts.asks[conn] = append(q, k)
		u.asked = true
	}
}

// timerAnswer decides whether k, an answer sent on conn tied to request
// tag, is timer traffic: the first answer to a timer request, or an answer
// in untied bytes to requests in untied bytes (see above).
func (ts *timers) timerAnswer(conn string, k timerKey, tag int, u *timerUndo) bool {
	reqs := ts.asks[conn]
	u.answered = reqs
	delete(ts.asks, conn)
	if ts.answer[conn] > 0 {
		ts.answer[conn]--
		u.answer = -1
		return tag > 0
	}
	if tag == 0 || !ts.untied[k] {
		return false
	}
	for _, r := range reqs {
		if !ts.untied[r] {
			return false // it answers the data path
		}
	}
	return true
}

// sentUntied notes the bytes of a new message tied to nothing.
func (ts *timers) sentUntied(e *Event, u *timerUndo) {
	if e.Offset < 0 || e.Hash == 0 {
		return
	}
	k := timerKey{ConnClass(e.Conn), listening(e), e.Hash}
	if !ts.untied[k] {
		ts.untied[k] = true
		u.untied = &k
	}
}

// undo takes back what the rule noted for a send that failed.
func (ts *timers) undo(u *timerUndo) {
	if u.untied != nil {
		delete(ts.untied, *u.untied)
	}
	if u.tied != nil {
		delete(ts.tiedTo, *u.tied)
	}
	if u.answer != 0 {
		ts.answer[u.conn] -= u.answer
	}
	if u.asked {
		if q := ts.asks[u.conn]; len(q) > 0 {
			ts.asks[u.conn] = q[:len(q)-1]
		}
	}
	if u.answered != nil {
		ts.asks[u.conn] = u.answered
	}
}
