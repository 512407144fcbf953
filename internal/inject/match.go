//go:build linux && amd64

package inject

import (
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/sysent"
)

// inClass reports whether the call e is entering is want, or belongs to
// the group want names ("send", "recv", "accept": sysent.Group).
func inClass(e *format.Event, want string) bool {
	return e.Syscall == want || sysent.Group(e.Syscall, e.Arg) == want
}

// isSend and isRecv say which way e moves bytes (sysent.DirOf: the side of
// a sendfile or splice is in its arg).
func isSend(e *format.Event) bool { return sysent.DirOf(e.Syscall, e.Arg) == sysent.Out }
func isRecv(e *format.Event) bool { return sysent.DirOf(e.Syscall, e.Arg) == sysent.In }

// targetMatches reports whether the call at entry e is one t names. Empty
// fields match anything.
func targetMatches(t *format.Target, e *format.Event) bool {
	return (t.Node == "" || t.Node == e.Node) &&
		(t.Thread == "" || t.Thread == e.Thread) &&
		(t.Syscall == "" || inClass(e, t.Syscall)) &&
		(t.Conn == "" || t.Conn == e.Conn) &&
		(t.Peer == "" || t.Peer == e.Peer) &&
		(t.File == "" || e.FDKind == format.KindFile && t.File == e.Local)
}

// atOffset reports whether the call entering as e moves the byte at
// t.Offset of its stream (any call when t has no offset): the call starting
// there, or a send that starts before it and asks to send enough bytes to
// cover it, n bytes. (What a receive will get is not known at its entry.)
func atOffset(t *format.Target, e *format.Event, n int64) bool {
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
	return isSend(e) && o < e.Offset+n
}

// stream reports whether e transfers bytes on a stream (TCP, unix stream,
// pipe): the tracer gives stream transfers an offset at entry, datagrams -1
// (and files their file offset).
func stream(e *format.Event) bool { return e.Offset >= 0 && e.FDKind != format.KindFile }

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
