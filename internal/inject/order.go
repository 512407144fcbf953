//go:build linux && amd64

package inject

import (
	"net/netip"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/tracer"
)

// Calls a Backend records (Options.Recorded) reach the Injector as their
// records come, entry and exit at once, in the order they returned: a
// receive can come before the send whose bytes it got, whose call returned
// after the receiver's. Under ptrace the send's entry always comes first,
// and the message classes tie what the receiver does next to the message
// it got. So msgClasses holds such a receive back, with every later call
// of its thread, until the sends of its bytes are known, and feeds the
// Tracker in ptrace's order. A call at a stop cannot wait: its thread's
// held calls go first, as they are. So do calls held holdMax long (a send
// whose record never comes).

// holdMax is how long (time_ns) a thread's calls are held at most.
const holdMax = int64(200e6)

// dirKey names one direction of a stream, as package msgclass does: its
// connection and which end sends.
type dirKey struct {
	conn string
	fwd  bool
	from string
}

// dirOf is the direction of the stream e moves bytes on (send: e's end
// sends them).
func dirOf(e *format.Event, send bool) dirKey {
	if i := strings.IndexByte(e.Conn, '>'); i >= 0 {
		return dirKey{conn: e.Conn, fwd: (e.Local == e.Conn[:i]) == send}
	}
	switch {
	case e.FDKind == format.KindPipe:
		return dirKey{conn: e.Conn}
	case send:
		return dirKey{conn: e.Conn, from: e.Local}
	}
	return dirKey{conn: e.Conn, from: e.Peer}
}

// heldCalls are a thread's calls held until direction need has carried
// its bytes up to end.
type heldCalls struct {
	need  dirKey
	end   int64
	calls []heldCall
}

type heldCall struct {
	e     format.Event
	hash  uint64
	enter bool
}

// hold holds the call e's thread makes (its entry, or its exit) when it
// must wait, and reports whether it did; a call at a stop (not recorded)
// first lets its thread's held calls go.
func (c *msgClasses) hold(e *format.Event, hash uint64, enter, recorded bool) bool {
	if !c.unordered {
		return false
	}
	k := e.Node + "/" + e.Thread
	h := c.held[k]
	switch {
	case h != nil && recorded && e.TimeNS-h.calls[0].e.TimeNS <= holdMax:
		h.calls = append(h.calls, heldCall{*e, hash, enter})
		return true
	case h != nil:
		c.release(k, true)
	}
	if !recorded || enter || !c.unsent(e) {
		return false
	}
	if c.held == nil {
		c.held = map[string]*heldCalls{}
	}
	c.held[k] = &heldCalls{need: dirOf(e, false), end: e.Offset + e.Ret, calls: []heldCall{{e: *e}}}
	return true
}

// unsent reports whether the receive ending as e got bytes a traced
// sender has not been seen sending yet.
func (c *msgClasses) unsent(e *format.Event) bool {
	if !isRecv(e) || !stream(e) || e.Ret <= 0 || e.Errno != "" || !named(e.Peer) {
		return false
	}
	return c.sent[dirOf(e, false)] < e.Offset+e.Ret
}

// named reports whether peer is a traced endpoint's stable name, not a
// raw address (an untraced sender, whose sends never come).
func named(peer string) bool {
	if peer == "" || peer[0] == '/' || peer[0] == '@' {
		return false
	}
	_, err := netip.ParseAddrPort(peer)
	return err != nil
}

// noteSent notes the bytes a stream send ending as e sent, and lets go
// the threads that waited for them.
func (c *msgClasses) noteSent(e *format.Event) {
	if !c.unordered || !isSend(e) || !stream(e) || e.Ret <= 0 {
		return
	}
	d := dirOf(e, true)
	if c.sent == nil {
		c.sent = map[dirKey]int64{}
	}
	c.sent[d] = max(c.sent[d], e.Offset+e.Ret)
	for k, h := range c.held {
		if h.need == d && c.sent[d] >= h.end {
			c.release(k, false)
		}
	}
}

// release feeds the Tracker thread k's held calls, in order; unless
// forced, a receive among them that must wait holds the rest again.
func (c *msgClasses) release(k string, force bool) {
	h := c.held[k]
	delete(c.held, k)
	for i := range h.calls {
		hc := &h.calls[i]
		if i > 0 && !force && !hc.enter && c.unsent(&hc.e) {
			c.held[k] = &heldCalls{need: dirOf(&hc.e, false), end: hc.e.Offset + hc.e.Ret, calls: h.calls[i:]}
			return
		}
		if hc.enter {
			c.enterNow(&hc.e, hc.hash)
		} else {
			c.exitNow(&hc.e)
		}
	}
}

// Await says whether the receive c stopped at the exit of got bytes whose
// send has not been recorded yet: the tracer then waits for that record,
// so a fault pinned to a message there (a crash inside a receive's data)
// knows where the message starts, as under ptrace.
func (in *Injector) Await(c *tracer.Call) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.cls != nil && in.cls.unordered && in.cls.unsent(c.Event)
}
