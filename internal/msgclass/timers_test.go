package msgclass

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestTimerTraffic: a leader whose process is one thread ties the pings it
// sends while a write is in flight to that write. They repeat the bytes of
// the ping it sent before any request, so they are timer traffic: tied to
// nothing, with their pongs; the writes and their answers are numbered as
// if no ping had gone out, and stay tied to their requests although a pong
// came in between (request 1: the ping goes out before the write; request
// 2: after it). A pong that a follower tied to the write, having got the
// ping and the write in one batch, is untied too: it is the ping's answer
// (request 3).
func TestTimerTraffic(t *testing.T) {
	const (
		client = "workload:main:s0>leader:listen0"
		data   = "leader:main:s1>f1:listen0"
		beat   = "leader:main:s2>f1:listen0"
	)
	tr := New()
	seq := map[string]int64{}
	off := map[string]int64{} // per stream: bytes sent, bytes received
	var got []string
	ev := func(node string, k Kind, conn string, fwd bool, hash uint64) *Event {
		local := node + ":main:s9" // the listening end
		if n, _, _ := strings.Cut(conn, ":"); n == node {
			local, _, _ = strings.Cut(conn, ">")
		}
		key := fmt.Sprint(conn, fwd, k)
		e := &Event{Node: node, Thread: "main", Seq: seq[node], Kind: k, Conn: conn, Local: local,
			Offset: off[key], Len: 10, Workload: node == "workload", Hash: hash}
		seq[node]++
		off[key] += 10
		return e
	}
	send := func(node, conn string, fwd bool, hash uint64) {
		got = append(got, node+" "+tr.Send(ev(node, Send, conn, fwd, hash)).String())
	}
	recv := func(node, conn string, fwd bool) { tr.Recv(ev(node, Recv, conn, fwd, 0)) }
	other := func(node string) { tr.Other(ev(node, Other, "", false, 0)) }
	ping := func() {
		send("leader", beat, true, 1)
		recv("f1", beat, true)
		send("f1", beat, false, 2)
		recv("leader", beat, false)
	}
	write := func(k uint64) {
		send("leader", data, true, 10+k)
		recv("f1", data, true)
		send("f1", data, false, 20+k)
		recv("leader", data, false)
	}
	request := func(k uint64, body func()) {
		send("workload", client, true, 100+k)
		recv("leader", client, true)
		body()
		send("leader", client, false, 200+k)
		recv("workload", client, false)
	}
	ping()
	request(1, func() { ping(); write(1) })
	request(2, func() { write(2); ping() })
	request(3, func() {
		// A ping and the write on one connection; the follower reads
		// both before it answers, the pong in other bytes than before.
		send("leader", data, true, 1)
		other("leader")
		send("leader", data, true, 13)
		recv("f1", data, true)
		recv("f1", data, true)
		send("f1", data, false, 4)
		other("f1")
		send("f1", data, false, 23)
		recv("leader", data, false)
		recv("leader", data, false)
	})
	want := []string{
		"leader leader>f1:listen0 -> - #1", "f1 leader>f1:listen0 <- - #1",
		"workload workload>leader:listen0 -> w1 #1",
		"leader leader>f1:listen0 -> - #2", "f1 leader>f1:listen0 <- - #2",
		"leader leader>f1:listen0 -> w1 #1", "f1 leader>f1:listen0 <- w1 #1",
		"leader workload>leader:listen0 <- w1 #1",
		"workload workload>leader:listen0 -> w2 #1",
		"leader leader>f1:listen0 -> w2 #1", "f1 leader>f1:listen0 <- w2 #1",
		"leader leader>f1:listen0 -> - #3", "f1 leader>f1:listen0 <- - #3",
		"leader workload>leader:listen0 <- w2 #1",
		"workload workload>leader:listen0 -> w3 #1",
		"leader leader>f1:listen0 -> - #4", "leader leader>f1:listen0 -> w3 #1",
		"f1 leader>f1:listen0 <- - #4", "f1 leader>f1:listen0 <- w3 #1",
		"leader workload>leader:listen0 <- w3 #1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// TestAckStaysTied: a follower acknowledges every write in the same bytes
// ("OK\n"). When one write goes out tied to nothing by chance (here the
// leader, one scope as a Go process is, read another node's untied
// message just before it sent the write to f1, on a connection class that
// carried no data yet), its acknowledgement goes out untied too. The
// next write is tied by the request the leader just read, and its
// acknowledgement by that write: it stays tied although its bytes once
// went out untied. (Before, it was named "<- - #2", as was every later
// acknowledgement, so a plan pinned to one never fired.)
func TestAckStaysTied(t *testing.T) {
	const (
		client = "workload:main:s0>leader:listen0"
		a      = "leader:main:s1>f1:listen0"
		d      = "leader:main:s4>f2:listen0"
		gossip = "f2:main:s7>leader:listen0" // f2's own connection to the leader
	)
	const ok, put, news = 3, 10, 20 // an acknowledgement is the same bytes every time; a write + its number
	replay(t, []step{
		{"workload", true, client, true, put + 1, "workload>leader:listen0 -> w1 #1"},
		{"leader", false, client, true, 0, ""},
		{"leader", true, d, true, put + 1, "leader>f2:listen0 -> w1 #1"},
		{"f2", true, gossip, true, news, "f2>leader:listen0 -> - #1"},
		{"leader", false, gossip, true, 0, ""},                          // opens a batch of nothing tied
		{"leader", true, a, true, put + 1, "leader>f1:listen0 -> - #1"}, // tied to nothing by chance
		{"f1", false, a, true, 0, ""},
		{"f1", true, a, false, ok, "leader>f1:listen0 <- - #1"}, // and so its acknowledgement
		{"leader", false, a, false, 0, ""},
		{"f2", false, d, true, 0, ""},
		{"f2", true, d, false, ok, "leader>f2:listen0 <- w1 #1"},
		{"leader", false, d, false, 0, ""},
		{"leader", true, client, false, ok, "workload>leader:listen0 <- w1 #1"},
		{"workload", false, client, false, 0, ""},

		{"workload", true, client, true, put + 2, "workload>leader:listen0 -> w2 #1"},
		{"leader", false, client, true, 0, ""},
		{"leader", true, a, true, put + 2, "leader>f1:listen0 -> w2 #1"},
		{"f1", false, a, true, 0, ""},
		{"f1", true, a, false, ok, "leader>f1:listen0 <- w2 #1"}, // tied by write 2, in bytes once untied
		{"leader", false, a, false, 0, ""},
		{"leader", true, d, true, put + 2, "leader>f2:listen0 -> w2 #1"},
		{"f2", false, d, true, 0, ""},
		{"f2", true, d, false, ok, "leader>f2:listen0 <- w2 #1"},
		{"leader", false, d, false, 0, ""},
		{"leader", true, client, false, ok, "workload>leader:listen0 <- w2 #1"},
	})
}

// step is one call of a replayed run: a send (named want) or a receive of
// the next bytes sent on conn in its direction (fwd: from the connecting
// end).
type step struct {
	node string
	send bool
	conn string
	fwd  bool
	hash uint64
	want string
}

// replay feeds steps to a Tracker, every node one thread (a Go process
// under -threads auto), and checks the name of each send.
func replay(t *testing.T, steps []step) {
	t.Helper()
	tr := New()
	seq := map[string]int64{}
	off := map[string]int64{} // per direction of each connection and call kind: bytes moved
	for i, s := range steps {
		k := Recv
		if s.send {
			k = Send
		}
		local := s.node + ":main:s9" // the listening end
		if n, _, _ := strings.Cut(s.conn, ":"); n == s.node {
			local, _, _ = strings.Cut(s.conn, ">")
		}
		key := fmt.Sprint(s.conn, s.fwd, k)
		e := &Event{Node: s.node, Thread: "main", Seq: seq[s.node], Kind: k, Conn: s.conn, Local: local,
			Offset: off[key], Len: 10, Workload: s.node == "workload", Hash: s.hash}
		seq[s.node]++
		off[key] += 10
		if !s.send {
			tr.Recv(e)
			continue
		}
		if got := tr.Send(e).String(); got != s.want {
			t.Errorf("step %d: %s's send on %s named %q, want %q", i, s.node, s.conn, got, s.want)
		}
	}
}
