package hb

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
)

// untiedRun is a trace of kv1 pinging kv2 pings times at start, then
// replicating the workload's one put to kv2 and answering it.
func untiedRun(t *testing.T, pings int) []format.Event {
	t.Helper()
	var b strings.Builder
	b.WriteString("# pain trace v1\n# run: \"run-1\"\n")
	ns := 0
	seq := map[string]int{}
	line := func(node, rest string) {
		ns += 1000
		fmt.Fprintf(&b, "0.%09d %s main #%d %s\n", ns, node, seq[node], rest)
		seq[node]++
	}
	pid := map[string]int{"kv1": 10, "kv2": 20, "workload": 30}
	call := func(node, rest string) {
		line(node, fmt.Sprintf("%s pid=%d tid=%d%s", strings.Fields(rest)[0], pid[node], pid[node], strings.TrimPrefix(rest, strings.Fields(rest)[0])))
	}
	// io is a read or write of n bytes at off on connection conn.
	io := func(node, sys string, fd int, local, peer, conn string, off, n, hash int) {
		call(node, fmt.Sprintf("%s fd=%d kind=tcp local=%s peer=%s conn=%s off=%d ret=%d hash=%d", sys, fd, local, peer, conn, off, n, hash))
	}
	const repl, put = "kv1:main:s0>kv2:listen0", "workload:main:s0>kv1:listen0"
	call("kv2", "start ret=0 arg=/bin/kv")
	call("kv2", "listen fd=3 kind=tcp local=kv2:listen0 laddr=127.0.0.1:7002 ret=0")
	call("kv1", "start ret=0 arg=/bin/kv")
	call("kv1", "listen fd=3 kind=tcp local=kv1:listen0 laddr=127.0.0.1:7001 ret=0")
	call("kv1", "connect fd=4 kind=tcp local=kv1:main:s0 peer=kv2:listen0 laddr=127.0.0.1:40001 paddr=127.0.0.1:7002 conn="+repl+" ret=0")
	call("kv2", "accept4 fd=4 kind=tcp local=kv2:main:s1 peer=kv1:main:s0 laddr=127.0.0.1:7002 paddr=127.0.0.1:40001 conn="+repl+" ret=4")
	off := 0
	for range pings {
		io("kv1", "write", 4, "kv1:main:s0", "kv2:listen0", repl, off, 4, 1111)
		io("kv2", "read", 4, "kv2:main:s1", "kv1:main:s0", repl, off, 4, 1111)
		io("kv2", "write", 4, "kv2:main:s1", "kv1:main:s0", repl, off, 4, 2222)
		io("kv1", "read", 4, "kv1:main:s0", "kv2:listen0", repl, off, 4, 2222)
		off += 4
	}
	call("workload", "start ret=0 arg=/bin/client")
	call("workload", "connect fd=3 kind=tcp local=workload:main:s0 peer=kv1:listen0 laddr=127.0.0.1:40002 paddr=127.0.0.1:7001 conn="+put+" ret=0")
	call("kv1", "accept4 fd=5 kind=tcp local=kv1:main:s1 peer=workload:main:s0 laddr=127.0.0.1:7001 paddr=127.0.0.1:40002 conn="+put+" ret=5")
	io("workload", "write", 3, "workload:main:s0", "kv1:listen0", put, 0, 9, 3333)
	io("kv1", "read", 5, "kv1:main:s1", "workload:main:s0", put, 0, 9, 3333)
	io("kv1", "write", 4, "kv1:main:s0", "kv2:listen0", repl, off, 9, 4444)
	io("kv2", "read", 4, "kv2:main:s1", "kv1:main:s0", repl, off, 9, 4444)
	io("kv2", "write", 4, "kv2:main:s1", "kv1:main:s0", repl, off, 2, 5555)
	io("kv1", "read", 4, "kv1:main:s0", "kv2:listen0", repl, off, 2, 5555)
	io("kv1", "write", 5, "kv1:main:s1", "workload:main:s0", put, 0, 2, 6666)
	io("workload", "read", 3, "workload:main:s0", "kv1:listen0", put, 0, 2, 6666)
	call("workload", "exited ret=0")
	_, evs, err := format.ReadText(strings.NewReader(b.String()), "untied")
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// Runs that did the same but for how often a timer fired share a class
// schedule, and each counts the untied messages of its own run.
func TestUntiedCounts(t *testing.T) {
	one, three := build(untiedRun(t, 1), Class), build(untiedRun(t, 3), Class)
	if one.ID() != three.ID() {
		t.Errorf("1 and 3 pings: schedules %s and %s", one.ID(), three.ID())
	}
	want := func(n int) []format.UntiedCount {
		return []format.UntiedCount{{Class: "kv1>kv2:listen0 -> -", Min: n, Max: n}, {Class: "kv1>kv2:listen0 <- -", Min: n, Max: n}}
	}
	if !reflect.DeepEqual(one.Untied, want(1)) || !reflect.DeepEqual(three.Untied, want(3)) {
		t.Errorf("untied counts %+v and %+v, want 1 and 3 each way\n%s", one.Untied, three.Untied, dump(three))
	}
	if c := three.Clone(); !reflect.DeepEqual(c.Untied, three.Untied) {
		t.Errorf("Clone dropped the untied counts: %+v", c.Untied)
	}
}
