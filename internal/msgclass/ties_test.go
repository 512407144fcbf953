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
