package inject

import (
	"slices"
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/msgclass"
)

// TestClassTarget: a fault pinned to a message class and ordinal, as
// pain-track names messages offline in a clean run, acts on that message
// online: the reply to the workload's 3rd ping (a request/reply per
// connection), and the receive of the 2nd ping (which waits for it).
func TestClassTarget(t *testing.T) {
	progs.Need(t)
	port := freePort(t)
	nodes := []node{
		{name: "b", args: []string{"serve", port}, server: true},
		{name: "workload", args: []string{"ping", "w", "4", port}},
	}
	clean := runSystem(t, nil, nodes...)
	wantOut(t, clean, "workload", "pings 4 ok")
	b := hb.NewBuilder(hb.Message)
	for i := range clean.rows {
		b.Add(&clean.rows[i])
	}
	g := b.Graph("clean")
	cls := g.Classes()
	find := func(node, tag string, back bool) (format.Target, *hb.Event) {
		for i, m := range cls {
			e := &g.Events[i]
			if g.IsSend(i) && e.Node == node && m.Class.Tag == tag && m.Class.Back == back {
				return format.Target{Node: node, Class: m.Class.String(), Ordinal: m.Ordinal}, e
			}
		}
		dump(t, clean.rows)
		t.Fatalf("no message of %s tied to %s", node, tag)
		return format.Target{}, nil
	}
	reply, replyEv := find("b", "w3", true)
	ping, pingEv := find("workload", "w2", false)
	for _, tc := range []struct {
		name   string
		fault  format.Fault
		node   string
		conn   string
		offset int64
	}{
		{"drop the 3rd reply", format.Fault{Kind: format.FaultDrop, Target: at(reply, "b", "send")}, "b", replyEv.Conn, replyEv.Offset},
		{"crash at the receive of the 2nd ping", format.Fault{Kind: format.FaultCrash, Target: at(ping, "b", "recv")}, "b", pingEv.Conn, pingEv.Offset},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in *Injector
			p := plan(tc.fault)
			p.V = format.VersionFor(p.Faults)
			r := runSystem(t, withPlan(t, p, &in), nodes...)
			m := marked(r.rows)
			if len(m) != 1 || m[0].Node != tc.node || m[0].Conn != tc.conn || m[0].Offset != tc.offset {
				dump(t, r.rows)
				t.Fatalf("marked rows %+v, want one by %s on %s at byte %d (%s #%d)", m, tc.node, tc.conn, tc.offset, tc.fault.Target.Class, tc.fault.Target.Ordinal)
			}
			if w := in.Fired(); len(w) != 1 || w[0].Seq != m[0].Seq {
				t.Errorf("fired %+v, want at the marked row", w)
			}
		})
	}
}

func at(t format.Target, node, sys string) format.Target {
	t.Node, t.Syscall = node, sys
	return t
}

// TestTimerTraffic: a relay whose process is one thread sends the same
// beat to its follower before each request's data, on another connection
// to the same listener (one connection class), so the beat is tied to the
// request in flight. The class graph the planner reads names the data
// "relay>f:listen0 -> w2 #1", the beat being timer traffic (the bytes of a
// beat sent before any request); the injector names it so too: a plan for
// that message strikes the data, not the beat sent just before it.
func TestTimerTraffic(t *testing.T) {
	progs.Need(t)
	port, fport := freePort(t), freePort(t)
	nodes := []node{
		{name: "f", args: []string{"follow", fport}, server: true},
		{name: "relay", args: []string{"relay", port, fport, "3"}, server: true},
		{name: "workload", args: []string{"ping", "w", "3", port}},
	}
	clean := runSystem(t, nil, nodes...)
	wantOut(t, clean, "relay", "relayed 3")
	b := hb.NewBuilder(hb.Class)
	for i := range clean.rows {
		b.Add(&clean.rows[i])
	}
	g := b.Graph("clean")
	const name = "relay>f:listen0 -> w2 #1"
	var args []string
	for i, e := range g.Events {
		if g.IsSend(i) {
			args = append(args, e.Arg)
		}
	}
	if !slices.Contains(args, name) {
		dump(t, clean.rows)
		t.Fatalf("no send %q in the class graph: %q", name, args)
	}
	// The beats go on the connection the relay wrote to first, before
	// any request; the data on the other.
	beats := ""
	for _, e := range clean.rows {
		if e.Node == "relay" && e.Syscall == "write" && strings.HasSuffix(e.Conn, ">f:listen0") {
			beats = e.Conn
			break
		}
	}
	c, ord, err := msgclass.ParseMsg(name)
	if err != nil {
		t.Fatal(err)
	}
	target := format.Target{Node: "relay", Syscall: "send", Class: c.String(), Ordinal: ord}
	var in *Injector
	p := plan(format.Fault{Kind: format.FaultDrop, Target: target})
	p.V = format.VersionFor(p.Faults)
	r := runSystem(t, withPlan(t, p, &in), nodes...)
	m := marked(r.rows)
	if len(m) != 1 || m[0].Node != "relay" || m[0].Conn == beats || m[0].Offset != 100 {
		dump(t, r.rows)
		t.Fatalf("marked rows %+v, want the relay's write of the 2nd request's data: byte 100 of its connection to f that is not %s", m, beats)
	}
}
