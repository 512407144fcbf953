//go:build linux && amd64

package inject

import (
	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/msgclass"
	"github.com/boxofpain/pain/internal/tracer"
)

// classes names the messages of the run as it goes, for targets pinned to a
// class (format.Target.Class): the same Tracker that names them offline,
// fed sends at their entry and every call at its exit.
type msgClasses struct {
	tr  *msgclass.Tracker
	cur msgclass.Msg // the message the send entering now starts or continues
	// With calls recorded by a Backend: the bytes sent so far on each
	// direction of each stream, and the threads whose calls are held
	// until the bytes one of their receives got are sent (order.go).
	unordered bool
	sent      map[dirKey]int64
	held      map[string]*heldCalls
}

func classEvent(e *format.Event) msgclass.Event {
	return msgclass.Event{Node: e.Node, Thread: e.Thread, Seq: e.Seq, Kind: msgclass.KindOf(e.Syscall, e.Arg),
		Conn: e.Conn, Local: e.Local, Peer: e.Peer, Pipe: e.FDKind == format.KindPipe,
		Offset: e.Offset, Len: max(e.Ret, 0), Workload: msgclass.Workload(e.Node), TimeNS: e.TimeNS, Hash: e.PayloadHash}
}

// enter notes a call's entry: a send starts or continues a message, told
// from timer traffic by the hash of the bytes it asks to send.
func (c *msgClasses) enter(call *tracer.Call) {
	c.cur = msgclass.Msg{}
	if c.hold(call.Event, call.Hash, true, call.Recorded) {
		return
	}
	c.enterNow(call.Event, call.Hash)
}

func (c *msgClasses) enterNow(e *format.Event, hash uint64) {
	c.cur = msgclass.Msg{}
	if msgclass.KindOf(e.Syscall, e.Arg) != msgclass.Send || !msgclass.Transfers(e.FDKind) {
		return
	}
	ev := classEvent(e)
	ev.Len = 0 // known at the exit
	ev.Hash = hash
	c.cur = c.tr.Send(&ev)
}

// exit notes a call's end.
func (c *msgClasses) exit(call *tracer.Call) {
	if !c.hold(call.Event, 0, false, call.Recorded) {
		c.exitNow(call.Event)
	}
}

func (c *msgClasses) exitNow(e *format.Event) {
	c.noteSent(e)
	ev := classEvent(e)
	switch {
	case !msgclass.Transfers(e.FDKind) && ev.Kind != msgclass.Other:
		return // a file
	case ev.Kind == msgclass.Send:
		c.tr.Sent(&ev, e.Ret, msgclass.Retry(e.Errno))
	case ev.Kind == msgclass.Recv && e.Ret > 0 && e.Errno == "":
		c.tr.Recv(&ev)
	case msgclass.Retry(e.Errno):
	default:
		ev.Kind = msgclass.Other
		c.tr.Other(&ev)
	}
}

// atClass reports whether the call entering as e is the one t pins by class
// (any call when t has none): the send that starts the t.Ordinal-th message
// of t.Class, or the stream receive that gets its first byte.
func (c *msgClasses) atClass(t *format.Target, e *format.Event) bool {
	if t.Class == "" {
		return true
	}
	if c == nil {
		return false
	}
	switch {
	case isSend(e):
		return c.cur.Ordinal == t.Ordinal && !c.cur.Cont && c.cur.Class.String() == t.Class
	case isRecv(e) && stream(e):
		o, ok := c.start(t, e)
		return ok && o == e.Offset
	}
	return false
}

// start returns the stream offset where the message t pins starts, if it
// was sent on the stream the receive e reads.
func (c *msgClasses) start(t *format.Target, e *format.Event) (int64, bool) {
	cl, err := msgclass.Parse(t.Class)
	if err != nil {
		return 0, false
	}
	ev := classEvent(e)
	return c.tr.Start(&ev, cl, t.Ordinal)
}
