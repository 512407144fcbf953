package main

import (
	"testing"

	"github.com/boxofpain/pain/format"
)

func off(n int64) *int64 { return &n }

func TestInScope(t *testing.T) {
	// A run: a replication handshake at start-up, then the workload's SET
	// and the primary's reply and its replication of the SET.
	run := []format.Event{
		{TimeNS: 10, Node: "primary", Thread: "main", Seq: 1, Syscall: "write", Conn: "replica1:main:s2>primary:listen0", Offset: 0, Ret: 7},
		{TimeNS: 20, Node: "primary", Thread: "main", Seq: 2, Syscall: "read", Conn: "replica1:main:s2>primary:listen0", Offset: 0, Ret: 14},
		{TimeNS: 100, Node: "workload", Thread: "main", Seq: 0, Syscall: "start"},
		{TimeNS: 110, Node: "workload", Thread: "main", Seq: 5, Syscall: "connect", Conn: "workload:main:s1>primary:listen0"},
		{TimeNS: 120, Node: "primary", Thread: "main", Seq: 3, Syscall: "read", Conn: "workload:main:s1>primary:listen0", Offset: 0, Ret: 35},
		{TimeNS: 130, Node: "primary", Thread: "main", Seq: 4, Syscall: "write", Conn: "replica1:main:s2>primary:listen0", Offset: 7, Ret: 35},
		{TimeNS: 140, Node: "primary", Thread: "main", Seq: 5, Syscall: "write", Conn: "workload:main:s1>primary:listen0", Offset: 0, Ret: 5},
	}
	repl := "replica1:main:s2>primary:listen0"
	tests := []struct {
		name      string
		fault     format.Fault
		in, found bool
	}{
		{"handshake send", format.Fault{Kind: "drop", Target: format.Target{Node: "primary", Syscall: "send", Conn: repl, Offset: off(0)}}, false, true},
		{"replicated SET", format.Fault{Kind: "delay", Duration: "6s", Target: format.Target{Node: "primary", Syscall: "send", Conn: repl, Offset: off(7)}}, true, true},
		{"inside a send", format.Fault{Kind: "delay", Duration: "6s", Target: format.Target{Node: "primary", Syscall: "send", Conn: repl, Offset: off(20)}}, true, true},
		{"second send by nth", format.Fault{Kind: "crash", Target: format.Target{Node: "primary", Syscall: "send", Conn: repl, Nth: 2}}, true, true},
		{"first send", format.Fault{Kind: "crash", Target: format.Target{Node: "primary", Syscall: "write"}}, false, true},
		{"window after the handshake", format.Fault{Kind: "crash", Target: format.Target{Node: "primary", Syscall: "send"},
			After: &format.EventRef{Node: "primary", Thread: "main", Seq: 2}}, true, true},
		{"window closes early", format.Fault{Kind: "crash", Target: format.Target{Node: "primary", Syscall: "send"},
			After: &format.EventRef{Node: "primary", Thread: "main", Seq: 2}, Before: &format.EventRef{Node: "primary", Thread: "main", Seq: 4}}, false, false},
		{"unknown conn", format.Fault{Kind: "drop", Target: format.Target{Node: "primary", Syscall: "send", Conn: "replica2:main:s9>primary:listen0"}}, false, false},
		{"refused connect", format.Fault{Kind: "errno", Errno: "ECONNREFUSED", Target: format.Target{Node: "workload", Syscall: "connect", Peer: ""}}, true, true},
		{"partition from the start", format.Fault{Kind: "partition", Groups: [][]string{{"primary"}, {"replica1"}}}, false, true},
	}
	for _, tt := range tests {
		p := format.Plan{V: 1, ID: "p", Faults: []format.Fault{tt.fault}}
		in, found := inScope(&p, [][]format.Event{run}, "workload")
		if in != tt.in || found != tt.found {
			t.Errorf("%s: in %v found %v, want %v %v", tt.name, in, found, tt.in, tt.found)
		}
	}
	// Two faults: one before, one during the workload, is in scope.
	p := format.Plan{V: 1, ID: "p2", Faults: []format.Fault{tests[0].fault, tests[1].fault}}
	if in, _ := inScope(&p, [][]format.Event{run}, "workload"); !in {
		t.Error("a plan with one fault during the workload is out of scope")
	}
}

func TestRoundRobin(t *testing.T) {
	mk := func(id string, kinds ...string) format.Plan {
		p := format.Plan{V: 1, ID: id}
		for _, k := range kinds {
			p.Faults = append(p.Faults, format.Fault{Kind: k})
		}
		return p
	}
	in := []format.Plan{mk("d1", "drop"), mk("d2", "drop"), mk("d3", "drop"), mk("c1", "crash"), mk("x1", "delay"), mk("c2", "crash"), mk("dc1", "drop", "crash")}
	got := ""
	for _, p := range roundRobin(in) {
		got += p.ID + " "
	}
	if want := "d1 c1 x1 dc1 d2 c2 d3 "; got != want {
		t.Errorf("roundRobin = %q, want %q", got, want)
	}
}
