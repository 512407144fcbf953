package hb

import "testing"

// TestClassCanon: a class schedule is the workload's requests and replies
// in order, each once, and the set of classes between system nodes that
// carried them. Two runs that tied a leader's messages to its followers to
// other requests, or sent more of them, have one schedule; a run whose
// leader got no answer from a follower, or whose workload got no reply,
// has another.
func TestClassCanon(t *testing.T) {
	id := func(leader, follower []string, reply bool) string {
		t.Helper()
		var evs []Event
		lane := func(node string, items []string) {
			evs = append(evs, Event{Node: node, Thread: "*", Seq: 0, Count: 1, Syscall: "start", Role: RoleOf(node), Offset: -1})
			for _, it := range items {
				sys, arg := it[:4], it[5:]
				evs = append(evs, Event{Node: node, Thread: "*", Seq: int64(len(evs)), Count: 1, Syscall: sys, FDKind: "tcp",
					Conn: arg, Arg: arg, Role: RoleOf(node), Offset: -1})
			}
		}
		w := []string{"recv workload>e1:listen1 -> w1 #1"}
		if reply {
			w = append(w, "send workload>e1:listen1 <- w1 #1")
		}
		lane("e1", append(w, leader...))
		lane("e2", follower)
		var edges []Edge
		for i := 1; i < len(evs); i++ {
			if evs[i].Node == evs[i-1].Node {
				edges = append(edges, Edge{From: i - 1, To: i, Kind: KindProgram})
			}
		}
		g, err := NewGraph("r", Class, evs, edges)
		if err != nil {
			t.Fatal(err)
		}
		return g.ID()
	}
	base := id([]string{"send e2>e1:listen0 <- w1 #1", "recv e1>e2:listen0 <- w1 #1"},
		[]string{"recv e2>e1:listen0 <- w1 #1", "send e1>e2:listen0 <- w1 #1"}, true)
	same := id([]string{"send e2>e1:listen0 <- w1 #1", "send e2>e1:listen0 <- w2 #1", "recv e1>e2:listen0 <- w2 #2"},
		[]string{"recv e2>e1:listen0 <- w1 #1", "recv e2>e1:listen0 <- w2 #1", "send e1>e2:listen0 <- w2 #2"}, true)
	if same != base {
		t.Errorf("tags and counts of messages between system nodes made another schedule: %s, %s", base, same)
	}
	if id([]string{"send e2>e1:listen0 <- w1 #1"}, []string{"recv e2>e1:listen0 <- w1 #1"}, true) == base {
		t.Errorf("a follower's answer left out, and the same schedule")
	}
	if id([]string{"send e2>e1:listen0 <- w1 #1", "recv e1>e2:listen0 <- w1 #1"},
		[]string{"recv e2>e1:listen0 <- w1 #1", "send e1>e2:listen0 <- w1 #1"}, false) == base {
		t.Errorf("the reply to the workload left out, and the same schedule")
	}
}
