//go:build linux && amd64

package inject

import (
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/msgclass"
	"github.com/boxofpain/pain/internal/tracer"
)

// TestRecordOrder: calls a Backend records come in the order they
// returned, so the primary's receive of the workload's request can come
// before the workload's send of it. Held until that send is known, the
// receive ties the primary's next message to the request (w1) as under
// ptrace, where the send's entry comes first; fed as it comes, it does not.
func TestRecordOrder(t *testing.T) {
	const req = "workload:main:s0>primary:listen0"
	send := format.Event{Node: "workload", Thread: "main", Seq: 4, Syscall: "write", FDKind: format.KindTCP,
		Local: "workload:main:s0", Peer: "primary:listen0", Conn: req, Offset: 0, Ret: 10, TimeNS: 2}
	recv := format.Event{Node: "primary", Thread: "main", Seq: 6, Syscall: "read", FDKind: format.KindTCP,
		Local: "primary:main:s1", Peer: "workload:main:s0", Conn: req, Offset: 0, Ret: 10, TimeNS: 1}
	fwd := format.Event{Node: "primary", Thread: "main", Seq: 7, Syscall: "write", FDKind: format.KindTCP,
		Local: "primary:main:s2", Peer: "backup1:listen0", Conn: "primary:main:s2>backup1:listen0", Offset: 0, Ret: 10, TimeNS: 3}
	// class is the class of the primary's forward after the calls, each
	// entered and exited at once, as a Backend's records are.
	class := func(unordered bool, calls ...format.Event) string {
		c := &msgClasses{tr: msgclass.New(), unordered: unordered}
		for i := range calls {
			e := calls[i]
			call := &tracer.Call{Event: &e, Recorded: true}
			c.enter(call)
			if e.Seq == fwd.Seq {
				return c.cur.Class.String()
			}
			c.exit(call)
		}
		return ""
	}
	ptrace := class(false, send, recv, fwd)
	if !strings.Contains(ptrace, "w1") {
		t.Fatalf("in ptrace's order the forward is %q, tied to no request", ptrace)
	}
	if got := class(true, recv, send, fwd); got != ptrace {
		t.Errorf("recorded order, held: %q, want %q", got, ptrace)
	}
	if got := class(false, recv, send, fwd); got == ptrace {
		t.Errorf("recorded order, not held: %q: the test shows nothing", got)
	}
	if got := class(true, send, recv, fwd); got != ptrace {
		t.Errorf("ptrace's order, held: %q, want %q", got, ptrace)
	}
}
