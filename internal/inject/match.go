//go:build linux && amd64

package inject

import (
	"strconv"
	"strings"
	"syscall"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/sysent"
)

// Syscall classes a Target may name instead of one call.
var classes = map[string]map[string]bool{
	"send":    set("write", "writev", "sendto", "sendmsg", "sendmmsg", "sendfile", "splice"),
	"recv":    set("read", "readv", "recvfrom", "recvmsg", "recvmmsg"),
	"connect": set("connect"),
	"accept":  set("accept", "accept4"),
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// inClass reports whether call is want, or belongs to the class want.
func inClass(call, want string) bool {
	if c, ok := classes[want]; ok {
		return c[call]
	}
	return call == want
}

func isSend(call string) bool { return classes["send"][call] }
func isRecv(call string) bool { return classes["recv"][call] }

// targetMatches reports whether the call at entry e is one t names. Empty
// fields match anything.
func targetMatches(t *format.Target, e *format.Event) bool {
	return (t.Node == "" || t.Node == e.Node) &&
		(t.Thread == "" || t.Thread == e.Thread) &&
		(t.Syscall == "" || inClass(e.Syscall, t.Syscall)) &&
		(t.Conn == "" || t.Conn == e.Conn) &&
		(t.Peer == "" || t.Peer == e.Peer)
}

// atOffset reports whether the call entering as e moves the byte at
// t.Offset of its stream (any call when t has no offset): the call starting
// there, or a send that starts before it and asks to send enough bytes to
// cover it. (What a receive will get is not known at its entry.)
func atOffset(t *format.Target, e *format.Event) bool {
	if t.Offset == nil {
		return true
	}
	o := *t.Offset
	switch {
	case !stream(e) || e.Offset > o:
		return false
	case e.Offset == o:
		return true
	}
	return isSend(e.Syscall) && o < e.Offset+callLen(e)
}

// stream reports whether e transfers bytes on a stream (TCP, unix stream,
// pipe): the tracer gives stream transfers an offset at entry, datagrams -1.
func stream(e *format.Event) bool { return e.Offset >= 0 }

// endpointNode returns the node an endpoint name belongs to: the part before
// the first ':' of "kv1:listen0" or "client:main:s0". Raw addresses of
// untraced peers give a string that is no node name.
func endpointNode(ep string) string {
	if i := strings.IndexByte(ep, ':'); i > 0 {
		return ep[:i]
	}
	return ""
}

// inGroup reports whether node belongs to one of group's nodes: the node
// itself or a node it spawned ("client/worker.1" belongs to "client").
func inGroup(node string, group []string) bool {
	for _, g := range group {
		if node == g || strings.HasPrefix(node, g+"/") {
			return true
		}
	}
	return false
}

// errnos maps errno names to values, from the tracer's own table.
var errnos = func() map[string]syscall.Errno {
	m := map[string]syscall.Errno{}
	for e := 1; e < 256; e++ {
		if n := sysent.ErrnoName(e); n != "E"+strconv.Itoa(e) {
			if _, dup := m[n]; !dup {
				m[n] = syscall.Errno(e)
			}
		}
	}
	// Aliases Linux defines as the same number.
	m["EWOULDBLOCK"], m["ENOTSUP"], m["EDEADLOCK"] = syscall.EAGAIN, syscall.EOPNOTSUPP, syscall.EDEADLK
	return m
}()
