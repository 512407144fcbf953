package inject

import (
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/tracer"
)

func TestTargetMatches(t *testing.T) {
	e := format.Event{Node: "kv1", Thread: "main.2", Syscall: "sendmsg", Conn: "kv1:main.2:s0>kv2:listen0", Peer: "kv2:listen0", Offset: 0}
	for _, tc := range []struct {
		t    format.Target
		want bool
	}{
		{format.Target{}, true},
		{format.Target{Node: "kv1"}, true},
		{format.Target{Node: "kv2"}, false},
		{format.Target{Node: "kv1", Thread: "main.2", Syscall: "send"}, true},
		{format.Target{Node: "kv1", Thread: "main"}, false},
		{format.Target{Syscall: "sendmsg"}, true},
		{format.Target{Syscall: "sendto"}, false},
		{format.Target{Syscall: "recv"}, false},
		{format.Target{Conn: "kv1:main.2:s0>kv2:listen0", Peer: "kv2:listen0"}, true},
		{format.Target{Peer: "kv3:listen0"}, false},
	} {
		if got := targetMatches(&tc.t, &e); got != tc.want {
			t.Errorf("%+v matches %s: %v, want %v", tc.t, e.Syscall, got, tc.want)
		}
	}
	for _, tc := range []struct{ call, arg, class string }{
		{"write", "", "send"}, {"splice", "out", "send"}, {"splice", "in", "recv"}, {"sendfile", "in", "recv"},
		{"readv", "", "recv"}, {"recvmmsg", "", "recv"}, {"accept4", "", "accept"}, {"connect", "", "connect"},
	} {
		e := format.Event{Syscall: tc.call, Arg: tc.arg}
		if !inClass(&e, tc.class) || inClass(&e, "close") {
			t.Errorf("%s arg=%s: class %s", tc.call, tc.arg, tc.class)
		}
	}
}

func TestNames(t *testing.T) {
	g := []string{"client", "kv2"}
	for n, want := range map[string]bool{"client": true, "client/worker.1": true, "clientx": false, "kv2": true, "kv1": false} {
		if inGroup(n, g) != want {
			t.Errorf("inGroup(%q, %v) != %v", n, g, want)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		f    format.Fault
		want string
	}{
		{format.Fault{Kind: format.FaultErrno, Errno: "EBOGUS", Target: format.Target{Node: "a"}}, "unknown errno EBOGUS"},
		{format.Fault{Kind: format.FaultPartition, Errno: "ENOPE", Groups: [][]string{{"a"}, {"b"}}}, "unknown errno ENOPE"},
		{format.Fault{Kind: format.FaultDelay, Target: format.Target{Node: "a"}}, "needs a duration"},
	} {
		_, err := New(plan(tc.f), Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%s) = %v, want an error containing %q", tc.f.Kind, err, tc.want)
		}
	}
}

// TestEnterCounts drives the hook with rows as the tracer gives them: the
// window opens and closes on observed rows, the Nth matching call inside
// it is hit once, and a restarted call (same seq again) counts once.
func TestEnterCounts(t *testing.T) {
	in, err := New(plan(format.Fault{Kind: format.FaultErrno, Errno: "EIO",
		Target: format.Target{Node: "a", Syscall: "recv", Nth: 2},
		After:  &format.EventRef{Node: "b", Thread: "main", Seq: 1},
		Before: &format.EventRef{Node: "b", Thread: "main", Seq: 9}}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	row := func(node string, seq int64, call string) *format.Event {
		return &format.Event{Node: node, Thread: "main", Seq: seq, Syscall: call, Offset: -1}
	}
	steps := []struct {
		enter   *format.Event // nil: observe only
		observe *format.Event
		want    tracer.ActKind
	}{
		{row("a", 0, "read"), row("a", 0, "read"), tracer.ActNone},         // window not open
		{nil, row("b", 1, "write"), tracer.ActNone},                        // opens it
		{row("a", 1, "read"), nil, tracer.ActNone},                         // 1st, interrupted
		{row("a", 1, "read"), row("a", 1, "read"), tracer.ActNone},         // restarted: still 1st
		{row("a", 2, "write"), row("a", 2, "write"), tracer.ActNone},       // not a recv
		{row("a", 3, "recvfrom"), row("a", 3, "recvfrom"), tracer.ActFail}, // 2nd
		{row("a", 4, "read"), row("a", 4, "read"), tracer.ActNone},         // fired already
	}
	for i, s := range steps {
		if s.enter != nil {
			if got := in.Enter(&tracer.Call{Event: s.enter}).Kind; got != s.want {
				t.Fatalf("step %d: action %d, want %d", i, got, s.want)
			}
		}
		if s.observe != nil {
			in.Observe(s.observe)
		}
	}
	if w := in.Fired(); len(w) != 1 || w[0].Seq != 3 || w[0].Syscall != "recvfrom" {
		t.Errorf("fired %+v", w)
	}
	// A window closed before the target came: nothing fires.
	in, _ = New(plan(format.Fault{Kind: format.FaultDrop, Target: format.Target{Node: "a"},
		Before: &format.EventRef{Node: "b", Thread: "main", Seq: 0}}), Options{})
	in.Observe(row("b", 0, "start"))
	if act := in.Enter(&tracer.Call{Event: &format.Event{Node: "a", Thread: "main", Syscall: "write", Offset: 0}}); act.Kind != tracer.ActNone {
		t.Errorf("acted after the window closed: %+v", act)
	}
	if len(in.Fired()) != 0 || len(in.Notes()) != 0 {
		t.Errorf("fired %v notes %v", in.Fired(), in.Notes())
	}
}
