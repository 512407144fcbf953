package msgclass

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestGoTies: a leader whose process is one sequence of calls (a Go
// runtime) loses the request from its receive batch when something else
// comes in between: the append to its second follower after a heartbeat's
// answer (request 2), the reply to the workload after the appends'
// answers. The append goes on a stream that carried data before, so it carries
// the request the leader last heard of; the reply answers what its
// connection brought. A shell workload's pipes are its own plumbing, no
// request.
func TestGoTies(t *testing.T) {
	const (
		client = "workload:main.1:s0>leader:listen0"
		f1     = "leader:main:s1>f1:listen0"
		f2     = "leader:main:s2>f2:listen0"
		pipe   = "workload:main:s9"
	)
	tr := New()
	seq := map[string]int64{}
	off := map[string]int64{}
	var got []string
	ev := func(node, thread string, k Kind, conn string, fwd bool) *Event {
		local := node + ":main:s9" // the listening end
		if n, _, _ := strings.Cut(conn, ":"); n == node {
			local, _, _ = strings.Cut(conn, ">")
		}
		key := fmt.Sprint(conn, fwd, k)
		e := &Event{Node: node, Thread: thread, Seq: seq[node+thread], Kind: k, Conn: conn, Local: local,
			Pipe: conn == pipe, Offset: off[key], Len: 10, Workload: node == "workload", Hash: uint64(len(got) + 1)}
		if e.Pipe {
			e.Local = pipe
		}
		seq[node+thread]++
		off[key] += 10
		return e
	}
	send := func(node, thread, conn string, fwd bool) {
		got = append(got, node+" "+tr.Send(ev(node, thread, Send, conn, fwd)).String())
	}
	recv := func(node, thread, conn string, fwd bool) { tr.Recv(ev(node, thread, Recv, conn, fwd)) }
	for k := range 2 {
		send("workload", "main", pipe, true) // printf | base64
		recv("workload", "main", pipe, true)
		send("workload", "main.1", client, true)
		recv("leader", "main", client, true)
		send("leader", "main", f1, true)
		if k == 1 {
			recv("leader", "main", f2, false) // a heartbeat's answer
		}
		send("leader", "main", f2, true)
		recv("f1", "main", f1, true)
		send("f1", "main", f1, false)
		recv("f2", "main", f2, true)
		send("f2", "main", f2, false)
		recv("leader", "main", f1, false)
		recv("leader", "main", f2, false)
		send("leader", "main", client, false)
		recv("workload", "main.1", client, false)
	}
	want := []string{
		"workload workload:main:s9 -> - #1", "workload workload>leader:listen0 -> w1 #1",
		"leader leader>f1:listen0 -> w1 #1", "leader leader>f2:listen0 -> w1 #1",
		"f1 leader>f1:listen0 <- w1 #1", "f2 leader>f2:listen0 <- w1 #1",
		"leader workload>leader:listen0 <- w1 #1",
		"workload workload:main:s9 -> - #2", "workload workload>leader:listen0 -> w2 #1",
		"leader leader>f1:listen0 -> w2 #1", "leader leader>f2:listen0 -> w2 #1",
		"f1 leader>f1:listen0 <- w2 #1", "f2 leader>f2:listen0 <- w2 #1",
		"leader workload>leader:listen0 <- w2 #1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// TestPongKeepsTheRequest: a primary whose process is one sequence of
// calls (a Go runtime) replicates request 1 to backup 1, which crashed and
// never answers; the pong to its heartbeat comes in before it replicates
// to backup 2. The pong answers the node's own untied ping, so the
// replication to backup 2 is still request 1's (before, it opened a new
// batch of nothing tied and the replication went untied: a plan for
// "p>b2:listen0 -> w1" #1 never fired).
func TestPongKeepsTheRequest(t *testing.T) {
	const (
		client = "workload:main:s0>p:listen0"
		beat   = "p:main:s1>b2:listen0"
		b1     = "p:main:s2>b1:listen0"
		b2     = "p:main:s3>b2:listen0"
	)
	tr := New()
	seq := map[string]int64{}
	off := map[string]int64{}
	ev := func(node string, k Kind, conn string, fwd bool, hash uint64) *Event {
		local := node + ":main:s9" // the listening end
		if n, _, _ := strings.Cut(conn, ":"); n == node {
			local, _, _ = strings.Cut(conn, ">")
		}
		key := fmt.Sprint(conn, fwd, k)
		e := &Event{Node: node, Thread: "main", Seq: seq[node], Kind: k, Conn: conn, Local: local,
			Offset: off[key], Len: 5, Workload: node == "workload", Hash: hash}
		seq[node]++
		off[key] += 5
		return e
	}
	send := func(node, conn string, fwd bool, hash uint64) Msg { return tr.Send(ev(node, Send, conn, fwd, hash)) }
	recv := func(node, conn string, fwd bool) { tr.Recv(ev(node, Recv, conn, fwd, 0)) }
	ping := func() {
		send("p", beat, true, 7)
		recv("b2", beat, true)
		send("b2", beat, false, 8)
	}
	ping()
	recv("p", beat, false)
	send("workload", client, true, 1)
	recv("p", client, true)
	ping()
	if m := send("p", b1, true, 2); m.String() != "p>b1:listen0 -> w1 #1" {
		t.Errorf("replication to b1: %s", m)
	}
	recv("p", beat, false) // the pong; b1 never answers
	if m := send("p", b2, true, 3); m.String() != "p>b2:listen0 -> w1 #1" {
		t.Errorf("replication to b2 after the pong: %s, want p>b2:listen0 -> w1 #1", m)
	}
}

// TestPoolMemberCarries: a Go leader (one scope) replicates write 2 to f1
// on a member of its pool that carried nothing yet, right after it read
// the pong to a ping it had tied to write 1 (its first ping: nothing told
// it from data yet). Its batch then holds only write 1's tie, but the
// connection class carried write 1's data on another member, so the write
// carries the request the leader last heard of, as on the member that
// carried data: the members of a pool are alike. (Before, the write and
// its acknowledgement were named "w1 #2", and no message was "w2 #1" on
// that class for a plan to fire at.)
func TestPoolMemberCarries(t *testing.T) {
	const (
		client = "workload:main:s0>leader:listen0"
		a      = "leader:main:s1>f1:listen0" // two members of the pool to f1
		b      = "leader:main:s2>f1:listen0"
		d      = "leader:main:s4>f2:listen0" // two to f2
		e      = "leader:main:s5>f2:listen0"
	)
	const ping, pong, ok, put = 1, 2, 3, 10
	replay(t, []step{
		{"workload", true, client, true, put + 1, "workload>leader:listen0 -> w1 #1"},
		{"leader", false, client, true, 0, ""},
		{"leader", true, a, true, put + 1, "leader>f1:listen0 -> w1 #1"},
		{"leader", true, d, true, put + 1, "leader>f2:listen0 -> w1 #1"},
		{"f1", false, a, true, 0, ""},
		{"f1", true, a, false, ok, "leader>f1:listen0 <- w1 #1"},
		{"f2", false, d, true, 0, ""},
		{"f2", true, d, false, ok, "leader>f2:listen0 <- w1 #1"},
		{"leader", false, a, false, 0, ""},
		{"leader", false, d, false, 0, ""},
		{"leader", true, client, false, ok, "workload>leader:listen0 <- w1 #1"},
		{"workload", false, client, false, 0, ""},
		{"leader", true, e, true, ping, "leader>f2:listen0 -> w1 #2"}, // the first ping: tied by chance

		{"workload", true, client, true, put + 2, "workload>leader:listen0 -> w2 #1"},
		{"leader", false, client, true, 0, ""},
		{"leader", true, d, true, put + 2, "leader>f2:listen0 -> w2 #1"},
		{"f2", false, e, true, 0, ""},
		{"f2", true, e, false, pong, "leader>f2:listen0 <- w1 #2"},
		{"leader", false, e, false, 0, ""}, // the batch holds write 1's tie only
		{"leader", true, b, true, put + 2, "leader>f1:listen0 -> w2 #1"},
		{"f1", false, b, true, 0, ""},
		{"f1", true, b, false, ok, "leader>f1:listen0 <- w2 #1"},
		{"leader", false, b, false, 0, ""},
		{"f2", false, d, true, 0, ""},
		{"f2", true, d, false, ok, "leader>f2:listen0 <- w2 #1"},
		{"leader", false, d, false, 0, ""},
		{"leader", true, client, false, ok, "workload>leader:listen0 <- w2 #1"},
	})
}

// TestSendFedAtEntry: a Go server (one thread name, many OS threads)
// writes its reply to request 1 on one thread while another reads request
// 2, which the client sent once it had the reply. Under a loaded tracer
// the write can end after that read, so its row comes after it (Seq is
// given at exit), but the injector decides the write's tie at its entry,
// before the read: Classify must feed it there too, or the reply takes
// request 2's tag, the real reply to request 2 none, and a plan on either
// never fires.
func TestSendFedAtEntry(t *testing.T) {
	const conn = "workload:main:s0>server:listen0"
	ev := func(node string, seq int64, k Kind, off, n, time, dur int64) Event {
		local := "workload:main:s0"
		if node == "server" {
			local = "server:main:s1"
		}
		return Event{Node: node, Thread: "main", Seq: seq, Kind: k, Conn: conn, Local: local,
			Offset: off, Len: n, Workload: node == "workload", TimeNS: time, DurNS: dur}
	}
	evs := []Event{
		ev("workload", 0, Send, 0, 10, 1, 0), // request 1
		ev("server", 0, Recv, 0, 10, 2, 0),
		ev("workload", 1, Recv, 0, 5, 4, 0),   // the reply, sent from 3
		ev("workload", 2, Send, 10, 10, 5, 0), // request 2
		ev("server", 1, Recv, 10, 10, 6, 0),
		ev("server", 2, Send, 0, 5, 7, 4), // the reply to request 1: in the kernel from 3 to 7
		ev("server", 3, Send, 5, 5, 9, 1), // the reply to request 2
		ev("workload", 3, Recv, 5, 5, 10, 0),
	}
	msgs := Classify(evs)
	want := map[int]string{
		0: "workload>server:listen0 -> w1 #1", 3: "workload>server:listen0 -> w2 #1",
		5: "workload>server:listen0 <- w1 #1", 6: "workload>server:listen0 <- w2 #1",
	}
	for i, w := range want {
		if got := msgs[i].String(); got != w {
			t.Errorf("call %d: %s, want %s", i, got, w)
		}
	}
	// Online, in the order the injector hears of them: the reply to
	// request 1 at its entry, before the read of request 2.
	sameOnline(t, evs, []int{0, 1, 5, 2, 3, 4, 6, 7}, msgs)
}
