package inject

import (
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
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
