// Package msgclass names messages by what they are, not by when they
// happened. A message's class is its connection in stable names, its
// direction, and the workload request it is causally tied to; its ordinal
// counts the messages of its class. "The replication of the workload's 5th
// write from the primary to backup 2" is
//
//	primary>backup2:listen0#1 -> w5 #1
//
// in every run, however many heartbeats went out before it: a message tied
// to no request (timer traffic: heartbeats, gossip, leases) has tag "-" and
// its own classes, and never shifts the ordinals of tied messages.
//
// The tie follows the bytes. Every message the workload sends carries the
// tag w<k> of the request it belongs to: k counts the workload's requests,
// a request being the sends of a workload thread between two of its
// receives that answer one: a receive does not answer the request when
// its bytes were sent before their sender had read the request's opening
// (its sends before its first receive) on that connection, as an HTTP/2
// server's SETTINGS, written while the client's preface and first request
// come in; what the workload sends after it (the acknowledgement) is part
// of the request. A receive takes the highest tag among the bytes it read. A
// thread's receives since its last send (a receive batch) decide the tag of
// its next sends:
//
//   - a reply, sent by the listening end of a connection on which the batch
//     received, carries the tag of what it received there (a server answering
//     a heartbeat answers untied, whatever else it read in the same batch);
//   - any other send (a request the thread forwards, a reply to another
//     connection) carries the highest tag received on other connections.
//     A connecting end's periodic report on the connection it got data
//     from (a replica's acknowledgements) is thus untied.
//
// A batch ties at most one message per connection: what a thread sends on
// a connection after the first tied message, without receiving anything in
// between (a timer's ping in the replication stream), is untied.
//
// A send that repeats the bytes of a timer's ping, tied to the request in
// flight only because its thread handled both in one breath, is untied,
// with its answer (timers.go).
//
// Both sides use this package, so they never disagree: offline, Classify
// names the messages of a traced run (pain-track, pain-plan); online, a
// Tracker fed the calls of a run as they happen tells the injector whether
// the current send is the k-th message of a class. Datagrams have classes
// too, but carry no tie to their receiver.
package msgclass

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/sysent"
)

// Untied is the tag of a message tied to no workload request.
const Untied = format.ClassUntied

// Class is a message class.
type Class struct {
	Conn string // the connection class: connecting node>listener (ConnClass), or a pipe's name
	Back bool   // sent by the listening end to the connecting end
	Tag  string // w<k>: tied to the workload's k-th request; Untied: to none
}

// String is the class's name: "conn -> tag" (from the connecting end) or
// "conn <- tag" (from the listening end).
func (c Class) String() string {
	arrow := " -> "
	if c.Back {
		arrow = " <- "
	}
	return c.Conn + arrow + c.Tag
}

// Tied reports whether the class is tied to a workload request.
func (c Class) Tied() bool { return c.Tag != Untied && c.Tag != "" }

// Parse reads a class name as String writes it (format.ParseClass: plans
// hold class names). A connection named as before connection classes,
// "node>listener#n" or "node>listener~n" (the n-th connection), reads as
// its class "node>listener".
func Parse(s string) (Class, error) {
	conn, back, tag, err := format.ParseClass(s)
	if err != nil {
		return Class{}, err
	}
	if i := strings.LastIndexAny(conn, "#~"); i > strings.IndexByte(conn, '>') && i+1 < len(conn) {
		if _, err := strconv.Atoi(conn[i+1:]); err == nil {
			conn = conn[:i]
		}
	}
	return Class{Conn: conn, Back: back, Tag: tag}, nil
}

func tagName(k int) string {
	if k == 0 {
		return Untied
	}
	return "w" + strconv.Itoa(k)
}

// Msg is the message a call belongs to.
type Msg struct {
	Class   Class
	Ordinal int   // 1-based, among the messages of Class; 0: the call is no message
	Start   int64 // stream offset of the message's first byte, -1 for datagrams
	// Cont is true for a send that continues its thread's previous send:
	// the next bytes of the same stream, with no other call of the thread
	// between (as pain-track coalesces messages) and, once the node's
	// threads share a scope, no receive by any of them (a Go runtime writes
	// one request after the other from one thread while others read the
	// answers; pain-track's message granularity does not see that, so its
	// classes of such programs may differ from the injector's: track them
	// at class granularity).
	Cont bool
}

// String is "class #ordinal", or "" for no message.
func (m Msg) String() string {
	if m.Ordinal == 0 {
		return ""
	}
	return m.Class.String() + " #" + strconv.Itoa(m.Ordinal)
}

// Kind says what a call does to the classes.
type Kind uint8

const (
	Other Kind = iota // any other call: it ends a message of its thread
	Send              // sends bytes
	Recv              // receives bytes
)

// Event is what the classes need of one call.
type Event struct {
	Node, Thread string
	Seq          int64
	Kind         Kind
	Conn         string // stable connection name; empty: no class
	Local, Peer  string // stable endpoint names
	Pipe         bool   // a pipe: one direction only
	Offset       int64  // stream offset of the first byte; -1 for datagrams
	Len          int64  // bytes moved (a send at its entry: bytes asked)
	Workload     bool   // the node is the workload (or one it started)
	Hash         uint64 // a send's payload hash: of its bytes sent, or at its entry of those it asks to send (timers.go)
	TimeNS       int64  // the call's exit: orders calls of different threads in Classify
	DurNS        int64  // time in the call: Classify feeds a send at its entry, TimeNS-DurNS
}

// fedAt is when the injector's Tracker hears of e: a send at its entry (it
// decides the send's tie and whether a fault takes it before the bytes go
// out), any other call at its exit. Classify feeds calls in this order, so
// that both name a message alike when a receive on another thread of the
// node ends while the send is in the kernel: a Go server's write that a
// loaded tracer saw end after the read of the next request, which the
// write's reply made the client send.
func (e *Event) fedAt() int64 {
	if e.Kind == Send && e.DurNS > 0 {
		return e.TimeNS - e.DurNS
	}
	return e.TimeNS
}

// stream is one direction of one connection, as package hb names it.
type stream struct {
	conn, from string
	fwd        bool
}

func streamOf(e *Event, send bool) stream {
	if i := strings.IndexByte(e.Conn, '>'); i >= 0 {
		return stream{conn: e.Conn, fwd: (e.Local == e.Conn[:i]) == send}
	}
	if e.Pipe {
		return stream{conn: e.Conn}
	}
	if send {
		return stream{conn: e.Conn, from: e.Local}
	}
	return stream{conn: e.Conn, from: e.Peer}
}

// carriedKey is the stream a send of e goes on, by its connection class:
// the members of a pool are alike, so one that never carried data before
// (opened last, or free when the write came) is on the data path as soon
// as another member is.
func carriedKey(e *Event) stream {
	st := streamOf(e, true)
	st.conn = ConnClass(st.conn)
	return st
}

// listening reports whether a send of e goes from a connection's listening
// end: a reply, in request-response protocols.
func listening(e *Event) bool {
	i := strings.IndexByte(e.Conn, '>')
	return i >= 0 && e.Local != e.Conn[:i]
}

// KindOf says what a system call does to the classes: the send and receive
// calls, by package sysent's table. arg is the row's arg: "in" makes a
// sendfile or splice row a receive.
func KindOf(syscall, arg string) Kind {
	switch sysent.DirOf(syscall, arg) {
	case sysent.Out:
		return Send
	case sysent.In:
		return Recv
	}
	return Other
}

// Retry reports whether a call that failed with errno did nothing and is
// made again by its caller: it is no call at all to the classes.
func Retry(errno string) bool {
	return errno == "EAGAIN" || errno == "EWOULDBLOCK" || errno == "EINTR"
}

// Transfers reports whether calls on an fd of this kind (format.Kind*)
// carry messages.
func Transfers(fdKind string) bool {
	switch fdKind {
	case "tcp", "udp", "unix", "pipe":
		return true
	}
	return false
}

// Workload reports whether node is the workload or a node it started
// (workload/kvnode.1): its messages start requests.
func Workload(node string) bool {
	return format.NodeRole(node) == format.NodeWorkload
}

// ParseMsg reads a message's name as Msg.String writes it: "class #ordinal".
func ParseMsg(s string) (Class, int, error) {
	i := strings.LastIndex(s, " #")
	if i < 0 {
		return Class{}, 0, fmt.Errorf("message %q has no \" #ordinal\"", s)
	}
	n, err := strconv.Atoi(s[i+2:])
	if err != nil || n < 1 {
		return Class{}, 0, fmt.Errorf("message %q: bad ordinal", s)
	}
	c, err := Parse(s[:i])
	return c, n, err
}

// Request returns k for a class tied to the workload's k-th request, 0 for
// an untied one.
func (c Class) Request() int {
	k, err := strconv.Atoi(strings.TrimPrefix(c.Tag, "w"))
	if err != nil || !strings.HasPrefix(c.Tag, "w") {
		return 0
	}
	return k
}
