package msgclass

import (
	"maps"
	"slices"
	"sort"
	"strings"
)

// Tracker follows the calls of one run and names the messages sent. Feed
// it every call of the run's threads in an order where a call comes after
// the calls of its own thread before it and a receive after the sends of
// the bytes it reads: sends at their entry (Send; Sent or Unsent when the
// call ends), receives that moved bytes at their exit (Recv), and every
// other recorded call (Other). The zero Tracker is not ready; use New.
type Tracker struct {
	threads  map[threadKey]*thread
	nodes    map[string]*nodeState
	requests int                  // workload requests so far
	ordinals map[Class]int        // messages per class so far
	spans    map[stream]*spanList // where each message starts, per stream
	starts   map[classKey]start   // where each stream message starts
	timers   timers               // timer traffic tied by chance (timers.go)
	asked    map[string]int       // per connection (raw name), the highest tag its listening end got since it last sent on it
	carried  map[stream]bool      // streams that carried a tied message of a system node, by connection class (carriedKey)
	pinged   map[string]int       // per connection (raw name), untied requests a system node sent from its connecting end, not answered yet
	recvd    map[stream]int64     // per stream, how far its receiving end has read it
}

type threadKey struct{ node, thread string }

type classKey struct {
	c   Class
	ord int
}

// start is where a stream message starts: the member of its connection
// class that carried it, and its offset there.
type start struct {
	st  stream
	off int64
}

type got struct {
	conn string
	tag  int
}

// thread is what one thread's calls remember: its last call, when it was
// a send (a send right after it on the same stream continues its message),
// and the send in progress.
type thread struct {
	last    *Event
	lastMsg Msg
	recvs   int   // the scope's receives when last was sent
	undo    *undo // the send in progress, until Sent or Unsent
	sc      *scope
}

// scope is what decides the ties of a thread's sends: its receives since its
// last send. A thread has a scope of its own until two threads of its node
// use one connection (a runtime that moves work between threads, as Go's
// does); from then on the node's threads share one.
type scope struct {
	batch   []got    // receives since the last send
	inBatch bool     // the last transfer was a receive (or none yet)
	used    []string // connections a tied message went out on since the batch began
	recvs   int      // receives so far: a receive by another thread ends a message too
	high    int      // the highest tag received so far
	// A workload's scope: whether a receive since its last send answered
	// its current request (or it made none yet), whether that request is
	// still opening (no receive since it began), and how far its opening
	// went on each connection (raw name; see answers).
	answered bool
	opening  bool
	open     map[string]int64
}

type nodeState struct {
	owner  map[string]string // connection -> the thread that used it first
	shared *scope
}

// undo restores what a send changed, if the call fails.
type undo struct {
	seq     int64
	prev    thread
	inBatch bool   // the scope's before the send
	used    string // the connection the send added to the scope's used
	request bool   // the send started a workload request
	newMsg  bool
	st      stream
	timer   timerUndo
	asked   int  // asked[conn] before a reply cleared it
	carried bool // the send made st carried
	pinged  bool // the send added to pinged[conn]
	// A workload send: the opening before a request it began (open: its
	// map; answered, opening: true, false before), and the end on its
	// connection the send moved (opened: it is part of an opening).
	open    map[string]int64
	openWas int64
	openHad bool
	opened  bool
	wasOpen bool // the scope's opening before the send
}

// span is a message's bytes on a stream.
type span struct {
	off  int64
	tag  int
	msg  Msg
	seen int64 // how far its sender had read the other direction of the connection when it sent it
	end  int64 // where its bytes end, as far as known (off: not known yet)
}

type spanList struct{ s []span } // sorted by off

// New returns an empty Tracker.
func New() *Tracker {
	return &Tracker{threads: map[threadKey]*thread{}, nodes: map[string]*nodeState{},
		ordinals: map[Class]int{}, spans: map[stream]*spanList{}, starts: map[classKey]start{}, timers: newTimers(), asked: map[string]int{}, carried: map[stream]bool{}, pinged: map[string]int{},
		recvd: map[stream]int64{}}
}

// ConnName returns the name classes give the connection a call of the run
// names raw: its connection class, "node>listener", the same for every
// connection the node opens to that listener (a pool of them, a
// heartbeat's own, one dialled again), so a message is named by what it
// carries and not by which member of the pool carried it: the order in
// which a pool's members are opened or first used changes from run to
// run. The thread that made the socket (which a runtime like Go's picks at
// random) is left out. Other names (pipes) stay as they are.
func (t *Tracker) ConnName(raw string) (string, bool) {
	if raw == "" {
		return "", false
	}
	return ConnClass(raw), true
}

// ConnClass is the connection class of a raw connection name
// ("primary:main:s3>backup1:listen0" is "primary>backup1:listen0").
func ConnClass(raw string) string {
	i := strings.IndexByte(raw, '>')
	if i <= 0 {
		return raw
	}
	node, _, _ := strings.Cut(raw[:i], ":")
	return node + ">" + raw[i+1:]
}

// thread returns e's thread, its scope decided (see scope).
func (t *Tracker) thread(e *Event) *thread {
	k := threadKey{e.Node, e.Thread}
	th := t.threads[k]
	if th == nil {
		th = &thread{sc: &scope{inBatch: true, answered: true, open: map[string]int64{}}}
		t.threads[k] = th
	}
	n := t.nodes[e.Node]
	if n == nil {
		n = &nodeState{owner: map[string]string{}}
		t.nodes[e.Node] = n
	}
	if n.shared == nil && e.Conn != "" && e.Kind != Other {
		if o, ok := n.owner[e.Conn]; !ok {
			n.owner[e.Conn] = e.Thread
		} else if o != e.Thread {
			c := *th.sc
			c.open = maps.Clone(c.open)
			n.shared = &c
		}
	}
	if n.shared != nil {
		th.sc = n.shared
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
	u := &undo{seq: e.Seq, prev: *th, inBatch: th.sc.inBatch, st: st}
	th.undo = u
	if l := th.last; l != nil && e.Offset >= 0 && l.Conn == e.Conn && l.Local == e.Local && e.Offset == l.Offset+l.Len && th.recvs == th.sc.recvs {
		// The next bytes of the same message.
		m := th.lastMsg
		m.Cont = true
		c := *e
		th.last = &c
		th.lastMsg = m
		th.sc.noteOpening(e, e.Len, u)
		if m.Start >= 0 {
			t.spansOf(st).extend(m.Start, e.Offset, e.Len)
		}
		return m
	}
	sc := th.sc
	u.wasOpen = sc.opening
	before := t.requests
	tag := t.tagOf(sc, e, u)
	u.request = t.requests != before
	sc.noteOpening(e, e.Len, u)
	if listening(e) {
		u.asked = t.asked[e.Conn]
		delete(t.asked, e.Conn)
	}
	timer := t.timers.timer(e, tag, &u.timer)
	if timer {
		tag = 0
	}
	if tag > 0 && !e.Workload {
		// One tied message per connection per batch: what the thread
		// sends on it later without receiving anything (a timer's ping
		// in the same stream) is tied to nothing.
		if slices.Contains(sc.used, e.Conn) {
			tag = 0
		} else {
			sc.used = append(sc.used, e.Conn)
			u.used = e.Conn
		}
	}
	if tag == 0 {
		t.timers.sentUntied(e, &u.timer)
		if !e.Workload && !listening(e) {
			t.pinged[e.Conn]++
			u.pinged = true
		}
	}
	if ck := carriedKey(e); tag > 0 && !e.Workload && !t.carried[ck] {
		t.carried[ck], u.carried = true, true
	}
	c := Class{Conn: ConnClass(e.Conn), Back: listening(e), Tag: tagName(tag)}
	t.ordinals[c]++
	m := Msg{Class: c, Ordinal: t.ordinals[c], Start: -1}
	u.newMsg = true
	if e.Offset >= 0 {
		m.Start = e.Offset
		t.starts[classKey{c, m.Ordinal}] = start{st, e.Offset}
		t.spansOf(st).add(span{off: e.Offset, tag: tag, msg: m, seen: t.recvd[streamOf(e, false)], end: e.Offset + max(e.Len, 0)})
	}
	ce := *e
	th.last, th.lastMsg, th.recvs = &ce, m, sc.recvs
	if !timer {
		sc.inBatch = false // a timer's send leaves the batch open (timers.go)
	}
	return m
}

// tagOf decides the request a new message sent in scope sc is tied to.
func (t *Tracker) tagOf(sc *scope, e *Event, u *undo) int {
	if e.Workload {
		if e.Pipe {
			return 0 // the workload's own plumbing (a shell's pipes), no request to the system
		}
		if sc.inBatch && sc.answered {
			t.requests++
			u.open = sc.open
			sc.answered, sc.opening, sc.open = false, true, map[string]int64{}
		}
		return t.requests
	}
	reply := listening(e)
	on, other := 0, 0
	answered := false
	for _, g := range sc.batch {
		if g.conn == e.Conn {
			on, answered = max(on, g.tag), true
		} else {
			other = max(other, g.tag)
		}
	}
	if reply && answered {
		return on
	}
	tag := other
	if reply {
		// What the connection brought since the last reply on it, when
		// the batch no longer holds it: the threads of a Go process,
		// one scope, sent other messages between request and reply.
		tag = max(tag, t.asked[e.Conn])
	}
	if t.carried[carriedKey(e)] {
		// A stream on the data path (it carried tied messages before)
		// carries the request the scope last heard of, when the batch
		// no longer holds it: a Go raft leader's append to its second
		// follower, sent after a heartbeat's answer came in.
		tag = max(tag, sc.high)
	}
	return tag
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
	if u := th.undo; u.opened {
		th.sc.open[e.Conn] = max(th.sc.open[e.Conn], e.Offset+n)
	}
	if m := th.lastMsg; m.Ordinal > 0 && m.Start >= 0 {
		t.spansOf(th.undo.st).extend(m.Start, e.Offset, n)
	}
	th.undo = nil
}

// noteOpening notes that the workload's send e, of n bytes (0 when not yet
// known: Sent notes them), is part of its request's opening, if the
// request is still opening.
func (sc *scope) noteOpening(e *Event, n int64, u *undo) {
	if !e.Workload || e.Pipe || e.Offset < 0 || !sc.opening {
		return
	}
	if !u.opened {
		u.openWas, u.openHad = sc.open[e.Conn]
		u.opened = true
	}
	sc.open[e.Conn] = max(sc.open[e.Conn], e.Offset+n)
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
	// Only what the send changed: in a shared scope other threads' calls
	// may have come since.
	sc := th.sc
	t.timers.undo(&u.timer)
	if u.carried {
		delete(t.carried, carriedKey(e))
	}
	if u.asked > 0 {
		t.asked[e.Conn] = u.asked
	}
	if u.pinged {
		t.pinged[e.Conn]--
	}
	if u.opened {
		if u.openHad {
			sc.open[e.Conn] = u.openWas
		} else {
			delete(sc.open, e.Conn)
		}
	}
	if u.request {
		t.requests--
		sc.answered, sc.opening, sc.open = true, u.wasOpen, u.open
	}
	if u.used != "" {
		if i := slices.Index(sc.used, u.used); i >= 0 {
			sc.used = slices.Delete(sc.used, i, i+1)
		}
	}
	if !sc.inBatch {
		sc.inBatch = u.inBatch
	}
	*th = u.prev
	th.sc = sc
}

// settle forgets the undo record of a finished send.
func (th *thread) settle(t *Tracker) { th.undo = nil }

// Recv notes that e received Len > 0 bytes (at its exit) and returns the
// message its first byte belongs to (Ordinal 0 when none is known).
func (t *Tracker) Recv(e *Event) Msg {
	th := t.thread(e)
	th.settle(t)
	th.last = nil
	sc := th.sc
	tag, m, seen := 0, Msg{}, int64(-1)
	if e.Conn != "" && e.Offset >= 0 && e.Len > 0 {
		st := streamOf(e, false)
		if l := t.spans[st]; l != nil {
			tag, m, seen = l.over(e.Offset, e.Offset+e.Len)
		}
		t.recvd[st] = max(t.recvd[st], e.Offset+e.Len)
	}
	if e.Workload {
		sc.answers(e, seen)
	}
	// The untied answer to an untied request of the node's own (a
	// heartbeat's pong) leaves a closed batch as it was: in a Go process,
	// one scope, it comes in between a request's replication to one
	// backup and to the next when the first backup's answer never comes
	// (it crashed), and the replication to the next is still the request's.
	answer := tag == 0 && m.Ordinal > 0 && !listening(e) && t.pinged[e.Conn] > 0
	if answer {
		t.pinged[e.Conn]--
	}
	switch {
	case answer && !sc.inBatch:
	case !sc.inBatch:
		sc.batch, sc.used = sc.batch[:0], sc.used[:0]
		sc.inBatch = true
		fallthrough
	default:
		sc.batch = append(sc.batch, got{conn: e.Conn, tag: tag})
	}
	sc.recvs++
	sc.high = max(sc.high, tag)
	if tag > 0 && listening(e) {
		t.asked[e.Conn] = max(t.asked[e.Conn], tag)
	}
	return m
}

// answers notes the workload's receive e, whose bytes their sender sent
// when it had read seen bytes of e's connection the other way (-1: not
// known). It answers the current request, so that the workload's next send
// begins a new one, unless its connection carried part of the request's
// opening (the request's sends before its first receive) and the sender
// sent the bytes before it had read all of that: they come from the
// sender's side of the protocol, not from the request (an HTTP/2 server's
// SETTINGS, written as its client's preface and first request come in),
// and what the workload sends in return (the SETTINGS' acknowledgement)
// is part of the request. A request-response protocol (HTTP/1.1, RESP, a
// line protocol) answers a request after it read it, so its numbering is
// as it was: a request is the sends of a workload thread between two of
// its receives.
func (sc *scope) answers(e *Event, seen int64) {
	end, ok := sc.open[e.Conn]
	sc.opening = false
	if !ok || seen < 0 || seen >= end {
		sc.answered = true
	}
}

// Other notes a call of e's thread that is neither a send nor a receive
// with data: it ends the thread's message.
func (t *Tracker) Other(e *Event) {
	th := t.thread(e)
	th.settle(t)
	th.last = nil
}

// Start returns the stream offset where the ord-th message of class c
// starts, if it was sent on the stream the receive e reads: the member of
// c's connection class that carried it, towards e's end.
func (t *Tracker) Start(e *Event, c Class, ord int) (int64, bool) {
	s, ok := t.starts[classKey{c, ord}]
	if !ok || streamOf(e, false) != s.st {
		return 0, false
	}
	return s.off, true
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

// extend notes that the message starting at start goes on with n bytes
// at off (n 0: not known yet, at a send's entry).
func (l *spanList) extend(start, off, n int64) {
	i := sort.Search(len(l.s), func(i int) bool { return l.s[i].off >= start })
	if i == len(l.s) || l.s[i].off != start {
		return
	}
	if n > 0 {
		l.s[i].end = max(l.s[i].end, off+n)
	} else {
		l.s[i].end = start
	}
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
// the message holding byte off, and the most any of them had seen (-1
// when they touch none, or when byte off comes after the known end of the
// message before it: Classify fed the receive before the send of its
// bytes, the threads of a Go process being one lane whose order it
// could not keep).
func (l *spanList) over(off, end int64) (int, Msg, int64) {
	i := l.find(off)
	var m Msg
	if i >= 0 {
		m = l.s[i].msg
	}
	tag, seen := 0, int64(-1)
	for j := max(i, 0); j < len(l.s) && l.s[j].off < end; j++ {
		tag = max(tag, l.s[j].tag)
		seen = max(seen, l.s[j].seen)
	}
	if i >= 0 && l.s[i].end > l.s[i].off && off >= l.s[i].end {
		seen = -1
	}
	return tag, m, seen
}
