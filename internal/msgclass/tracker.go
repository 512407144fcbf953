package msgclass

import (
	"slices"
	"sort"
)

// Tracker follows the calls of one run and names the messages sent. Feed
// it every call of the run's threads in an order where a call comes after
// the calls of its own thread before it and a receive after the sends of
// the bytes it reads: sends at their entry (Send; Sent or Unsent when the
// call ends), receives that moved bytes at their exit (Recv), and every
// other recorded call (Other). The zero Tracker is not ready; use New.
type Tracker struct {
	threads  map[threadKey]*thread
	requests int                  // workload requests so far
	ordinals map[Class]int        // messages per class so far
	spans    map[stream]*spanList // where each message starts, per stream
	starts   map[classKey]int64   // the start offset of each stream message
}

type threadKey struct{ node, thread string }

type classKey struct {
	c   Class
	ord int
}

type got struct {
	conn string
	tag  int
}

type thread struct {
	batch   []got    // receives since the last send
	inBatch bool     // the last transfer was a receive (or none yet)
	used    []string // connections a tied message went out on since the batch began
	// The thread's last call, when it was a send: a send right after it on
	// the same stream continues its message.
	last    *Event
	lastMsg Msg
	lastTag int
	undo    *undo // the send in progress, until Sent or Unsent
}

// undo restores what a send changed, if the call fails.
type undo struct {
	seq      int64
	prev     thread
	requests int
	newMsg   bool
	st       stream
}

// span is a message's bytes on a stream.
type span struct {
	off int64
	tag int
	msg Msg
}

type spanList struct{ s []span } // sorted by off

// New returns an empty Tracker.
func New() *Tracker {
	return &Tracker{threads: map[threadKey]*thread{}, ordinals: map[Class]int{},
		spans: map[stream]*spanList{}, starts: map[classKey]int64{}}
}

func (t *Tracker) thread(e *Event) *thread {
	k := threadKey{e.Node, e.Thread}
	th := t.threads[k]
	if th == nil {
		th = &thread{inBatch: true}
		t.threads[k] = th
	}
	return th
}

// Send names the message the send e belongs to, and counts it. Call it at
// the send's entry, with Len the bytes asked; Sent or Unsent when it ends.
func (t *Tracker) Send(e *Event) Msg {
	th := t.thread(e)
	th.settle(t)
	if e.Conn == "" {
		th.last = nil
		return Msg{}
	}
	st := streamOf(e, true)
	u := &undo{seq: e.Seq, prev: *th, requests: t.requests, st: st}
	th.undo = u
	if l := th.last; l != nil && e.Offset >= 0 && l.Conn == e.Conn && l.Local == e.Local && e.Offset == l.Offset+l.Len {
		// The next bytes of the same message.
		m := th.lastMsg
		m.Cont = true
		c := *e
		th.last = &c
		th.lastMsg = m
		return m
	}
	tag := t.tagOf(th, e)
	if tag > 0 && !e.Workload {
		// One tied message per connection per batch: what the thread
		// sends on it later without receiving anything (a timer's ping
		// in the same stream) is tied to nothing.
		if slices.Contains(th.used, e.Conn) {
			tag = 0
		} else {
			th.used = append(th.used, e.Conn)
		}
	}
	c := Class{Conn: e.Conn, Back: listening(e), Tag: tagName(tag)}
	t.ordinals[c]++
	m := Msg{Class: c, Ordinal: t.ordinals[c], Start: -1}
	u.newMsg = true
	if e.Offset >= 0 {
		m.Start = e.Offset
		t.starts[classKey{c, m.Ordinal}] = e.Offset
		t.spansOf(st).add(span{off: e.Offset, tag: tag, msg: m})
	}
	ce := *e
	th.last, th.lastMsg, th.lastTag = &ce, m, tag
	th.inBatch = false
	return m
}

// tagOf decides the request a new message of thread th is tied to.
func (t *Tracker) tagOf(th *thread, e *Event) int {
	if e.Workload {
		if th.inBatch {
			t.requests++
		}
		return t.requests
	}
	reply := listening(e)
	on, other := 0, 0
	answered := false
	for _, g := range th.batch {
		if g.conn == e.Conn {
			on, answered = max(on, g.tag), true
		} else {
			other = max(other, g.tag)
		}
	}
	if reply && answered {
		return on
	}
	return other
}

// Sent completes the send in progress of e's thread: n bytes went out. A
// send that failed (n <= 0) is taken back; unless it is to be made again
// (retry: EAGAIN and the like, which pain-track leaves out), it still ends
// its thread's message, as any other call.
func (t *Tracker) Sent(e *Event, n int64, retry bool) {
	th := t.threads[threadKey{e.Node, e.Thread}]
	if th == nil || th.undo == nil || th.undo.seq != e.Seq {
		return
	}
	if n <= 0 {
		t.Unsent(e)
		if !retry {
			th.last = nil
		}
		return
	}
	if th.last != nil {
		th.last.Len = n
	}
	th.undo = nil
}

// Unsent takes back the send in progress of e's thread: the call failed
// (EAGAIN and the like: it will be made again), or a fault took it.
func (t *Tracker) Unsent(e *Event) {
	th := t.threads[threadKey{e.Node, e.Thread}]
	if th == nil || th.undo == nil || th.undo.seq != e.Seq {
		return
	}
	u := th.undo
	if u.newMsg {
		m := th.lastMsg
		t.ordinals[m.Class]--
		delete(t.starts, classKey{m.Class, m.Ordinal})
		if m.Start >= 0 {
			t.spansOf(u.st).remove(m.Start)
		}
	}
	t.requests = u.requests
	*th = u.prev
}

// settle forgets the undo record of a finished send.
func (th *thread) settle(t *Tracker) { th.undo = nil }

// Recv notes that e received Len > 0 bytes (at its exit) and returns the
// message its first byte belongs to (Ordinal 0 when none is known).
func (t *Tracker) Recv(e *Event) Msg {
	th := t.thread(e)
	th.settle(t)
	th.last = nil
	if !th.inBatch {
		th.batch, th.used = th.batch[:0], th.used[:0]
		th.inBatch = true
	}
	tag, m := 0, Msg{}
	if e.Conn != "" && e.Offset >= 0 && e.Len > 0 {
		if l := t.spans[streamOf(e, false)]; l != nil {
			tag, m = l.over(e.Offset, e.Offset+e.Len)
		}
	}
	th.batch = append(th.batch, got{conn: e.Conn, tag: tag})
	return m
}

// Other notes a call of e's thread that is neither a send nor a receive
// with data: it ends the thread's message.
func (t *Tracker) Other(e *Event) {
	th := t.thread(e)
	th.settle(t)
	th.last = nil
}

// Start returns the stream offset where the ord-th message of class c
// starts, once it was sent.
func (t *Tracker) Start(c Class, ord int) (int64, bool) {
	o, ok := t.starts[classKey{c, ord}]
	return o, ok
}

// Messages returns the messages whose bytes [off, end) of e's stream hold
// (e a receive), in stream order.
func (t *Tracker) Messages(e *Event, off, end int64) []Msg {
	l := t.spans[streamOf(e, false)]
	if l == nil {
		return nil
	}
	var out []Msg
	for i := max(l.find(off), 0); i < len(l.s) && l.s[i].off < end; i++ {
		out = append(out, l.s[i].msg)
	}
	return out
}

func (t *Tracker) spansOf(st stream) *spanList {
	l := t.spans[st]
	if l == nil {
		l = &spanList{}
		t.spans[st] = l
	}
	return l
}

func (l *spanList) add(s span) {
	if n := len(l.s); n == 0 || l.s[n-1].off < s.off {
		l.s = append(l.s, s)
		return
	}
	i := sort.Search(len(l.s), func(i int) bool { return l.s[i].off >= s.off })
	if i < len(l.s) && l.s[i].off == s.off {
		l.s[i] = s // the same bytes sent again after a failed call
		return
	}
	l.s = slices.Insert(l.s, i, s)
}

func (l *spanList) remove(off int64) {
	i := sort.Search(len(l.s), func(i int) bool { return l.s[i].off >= off })
	if i < len(l.s) && l.s[i].off == off {
		l.s = slices.Delete(l.s, i, i+1)
	}
}

// find returns the index of the span holding byte off (-1 when off comes
// before every span).
func (l *spanList) find(off int64) int {
	return sort.Search(len(l.s), func(i int) bool { return l.s[i].off > off }) - 1
}

// over returns the highest tag among the spans that bytes [off, end) touch,
// and the message holding byte off.
func (l *spanList) over(off, end int64) (int, Msg) {
	i := l.find(off)
	var m Msg
	if i >= 0 {
		m = l.s[i].msg
	}
	tag := 0
	for j := max(i, 0); j < len(l.s) && l.s[j].off < end; j++ {
		tag = max(tag, l.s[j].tag)
	}
	return tag, m
}
