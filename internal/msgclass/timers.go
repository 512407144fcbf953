package msgclass

// Timer traffic tied by chance. A thread that handles a request and a
// timer in one breath (a Go process, whose threads are one scope; a
// single-threaded event loop) ties the ping its timer sends to the request
// in flight, so that the ordinals of the request's real messages (its
// replication) would depend on how many pings went out meanwhile. A
// stream send by a system node is timer traffic, and tied to nothing,
// when it repeats bytes already sent on its connection class untied or
// tied to another request (a ping is the same bytes every time, a
// replicated write is not); so is the first answer to it on its
// connection, and an answer whose bytes are those of an untied answer.
// The rule looks only at what came before the send, so that the injector,
// which names messages as they happen, and pain-track, which names them
// after the run, name them alike; a send is told by the hash of its first
// call's bytes (Event.Hash), which the injector gets at the call's entry.
//
// A timer send leaves its thread's receive batch as it was, and the answer
// joins the batch: the request's data sent next is still tied to the
// request.

// timerKey is what a message looks like to the rule: its connection class,
// direction and bytes.
type timerKey struct {
	conn string
	back bool
	hash uint64
}

// timers is what the rule remembers of the run so far.
type timers struct {
	untied map[timerKey]bool // bytes sent untied
	tiedTo map[timerKey]int  // requests sent from the connecting end: the request they were first tied to
	answer map[string]int    // per connection (raw name), timer requests not answered yet
}

func newTimers() timers {
	return timers{untied: map[timerKey]bool{}, tiedTo: map[timerKey]int{}, answer: map[string]int{}}
}

// timerUndo is what the rule changed for one send.
type timerUndo struct {
	untied, tied *timerKey
	conn         string
	answer       int // +1 or -1 on answer[conn]
}

// timer decides whether the new message e, tied to request tag by its
// thread's receives, is timer traffic, and notes what it needs of it.
func (ts *timers) timer(e *Event, tag int, u *timerUndo) bool {
	if e.Workload || e.Offset < 0 || e.Hash == 0 {
		return false
	}
	back := listening(e)
	k := timerKey{ConnClass(e.Conn), back, e.Hash}
	if back {
		if ts.answer[e.Conn] > 0 {
			ts.answer[e.Conn]--
			u.conn, u.answer = e.Conn, -1
			return tag > 0
		}
		return tag > 0 && ts.untied[k]
	}
	if tag == 0 {
		return false
	}
	if first, ok := ts.tiedTo[k]; ts.untied[k] || ok && first != tag {
		ts.answer[e.Conn]++
		u.conn, u.answer = e.Conn, 1
		return true
	} else if !ok {
		ts.tiedTo[k] = tag
		u.tied = &k
	}
	return false
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
}
