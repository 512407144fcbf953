package msgclass

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// script builds the calls of a small replicated store: the workload writes
// n keys to the primary, which forwards each to the backup and waits for
// its OK; a heartbeat thread of the primary pings the backup on its own
// connection, hb[i] times before write i. Calls of one thread get seqs in
// order; times interleave the threads as a run would.
func script(n int, hb []int) []Event {
	const (
		client = "workload:main:s0>primary:listen0"
		repl   = "primary:main:s1>backup:listen0"
		beat   = "primary:main.1:s0>backup:listen0"
	)
	var evs []Event
	seq := map[string]int64{}
	off := map[string]int64{}
	now := int64(0)
	add := func(node, thread string, k Kind, conn, local string, n int64, dir string) {
		now++
		key := node + "/" + thread
		o := off[conn+dir]
		if k == Send {
			off[conn+dir] += n
		}
		evs = append(evs, Event{Node: node, Thread: thread, Seq: seq[key], Kind: k, Conn: conn, Local: local,
			Offset: o, Len: n, Workload: node == "workload", TimeNS: now})
		seq[key]++
	}
	// Receives read what was sent: their offsets follow the stream.
	recv := func(node, thread, conn, local string, n int64, dir string) {
		now++
		key := node + "/" + thread
		o := off[conn+dir+"r"]
		off[conn+dir+"r"] += n
		evs = append(evs, Event{Node: node, Thread: thread, Seq: seq[key], Kind: Recv, Conn: conn, Local: local,
			Offset: o, Len: n, Workload: node == "workload", TimeNS: now})
		seq[key]++
	}
	for i := 0; i < n; i++ {
		for j := 0; j < hb[i]; j++ {
			add("primary", "main.1", Send, beat, "primary:main.1:s0", 5, ">")
			recv("backup", "main", beat, "backup:main:s2", 5, ">")
			add("backup", "main", Send, beat, "backup:main:s2", 3, "<")
			recv("primary", "main.1", beat, "primary:main.1:s0", 3, "<")
		}
		add("workload", "main", Send, client, "workload:main:s0", 10, ">")
		recv("primary", "main", client, "primary:main:s3", 10, ">")
		add("primary", "main", Send, repl, "primary:main:s1", 10, ">")
		recv("backup", "main", repl, "backup:main:s1", 10, ">")
		add("backup", "main", Send, repl, "backup:main:s1", 3, "<")
		recv("primary", "main", repl, "primary:main:s1", 3, "<")
		add("primary", "main", Send, client, "primary:main:s3", 3, "<")
		recv("workload", "main", client, "workload:main:s0", 3, "<")
	}
	return evs
}

// names lists the class names of the sends of node, in order.
func names(evs []Event, msgs []Msg, node string) []string {
	var out []string
	for i, e := range evs {
		if e.Kind == Send && e.Node == node && e.Thread == "main" {
			out = append(out, msgs[i].String())
		}
	}
	return out
}

func TestHeartbeatsDoNotShiftClasses(t *testing.T) {
	a := script(3, []int{0, 2, 1})
	b := script(3, []int{3, 0, 4})
	ma, mb := Classify(a), Classify(b)
	want := []string{
		"primary>backup:listen0 -> w1 #1", "workload>primary:listen0 <- w1 #1",
		"primary>backup:listen0 -> w2 #1", "workload>primary:listen0 <- w2 #1",
		"primary>backup:listen0 -> w3 #1", "workload>primary:listen0 <- w3 #1",
	}
	for _, r := range []struct {
		evs  []Event
		msgs []Msg
	}{{a, ma}, {b, mb}} {
		if got := names(r.evs, r.msgs, "primary"); !slices.Equal(got, want) {
			t.Errorf("primary sends:\n got %q\nwant %q", got, want)
		}
		if got := names(r.evs, r.msgs, "backup"); len(got) == 0 {
			t.Errorf("no backup sends")
		}
		for i, e := range r.evs {
			if e.Kind == Send && e.Conn == "primary:main.1:s0>backup:listen0" && r.msgs[i].Class.Tied() {
				t.Errorf("heartbeat %d tied: %s", i, r.msgs[i])
			}
			if e.Kind == Send && e.Node == "backup" && e.Conn == "primary:main:s1>backup:listen0" && !r.msgs[i].Class.Tied() {
				t.Errorf("backup's reply %d untied", i)
			}
		}
	}
}

// The Tracker fed online (sends at entry, a failed send taken back and
// made again, receives at exit) names messages as Classify does.
func TestOnlineMatchesOffline(t *testing.T) {
	evs := script(3, []int{1, 0, 2})
	want := Classify(evs)
	tr := New()
	for _, i := range Order(evs) {
		e := evs[i]
		switch e.Kind {
		case Send:
			// A first attempt that fails with EAGAIN.
			try := e
			tr.Send(&try)
			tr.Unsent(&try)
			if got := tr.Send(&e); got != want[i] {
				t.Fatalf("event %d: online %s, offline %s", i, got, want[i])
			}
			tr.Sent(&e, e.Len, false)
		case Recv:
			tr.Recv(&e)
		}
	}
	for i, e := range evs {
		if e.Kind != Send || want[i].Start < 0 {
			continue
		}
		for _, r := range evs {
			if r.Kind == Recv && r.Offset == e.Offset && streamOf(&r, false) == streamOf(&e, true) {
				if o, ok := tr.Start(&r, want[i].Class, want[i].Ordinal); !ok || o != e.Offset {
					t.Errorf("Start(%s) = %d, %v; want %d", want[i], o, ok, e.Offset)
				}
			}
		}
	}
}

func TestCoalesce(t *testing.T) {
	conn := "a:main:s0>b:listen0"
	evs := []Event{
		{Node: "a", Thread: "main", Seq: 0, Kind: Send, Conn: conn, Local: "a:main:s0", Offset: 0, Len: 4},
		{Node: "a", Thread: "main", Seq: 1, Kind: Send, Conn: conn, Local: "a:main:s0", Offset: 4, Len: 4},
		{Node: "a", Thread: "main", Seq: 2, Kind: Other},
		{Node: "a", Thread: "main", Seq: 3, Kind: Send, Conn: conn, Local: "a:main:s0", Offset: 8, Len: 4},
	}
	m := Classify(evs)
	got := fmt.Sprint(m[0].Ordinal, m[1].Ordinal, m[1].Cont, m[3].Ordinal)
	if got != "1 1 true 2" {
		t.Errorf("ordinals, cont: %s, want 1 1 true 2", got)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"a:main:s0>b:listen0 -> w5", true},
		{"a:main:s0>b:listen0 <- -", true},
		{"a:main:s0>b:listen0 <- w0", false},
		{"a:main:s0>b:listen0 w5", false},
		{" -> w1", false},
	} {
		c, err := Parse(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if tc.ok && c.String() != tc.in {
			t.Errorf("Parse(%q).String() = %q", tc.in, c)
		}
	}
}

// A pool: the primary keeps two connections to the backup and spreads the
// writes over them, differently in each run. The messages
// are named alike in both runs, whichever member carried them.
func TestPoolMembersAlike(t *testing.T) {
	pool := func(member []int) []Event {
		const client = "workload:main:s0>primary:listen0"
		conns := []string{"primary:main.2:s1>backup:listen0", "primary:main.3:s0>backup:listen0"}
		var evs []Event
		seq := map[string]int64{}
		off := map[string]int64{}
		add := func(node, thread string, k Kind, conn, local string, n int64, dir string) {
			key := conn + dir
			if k == Recv {
				key += "r"
			}
			evs = append(evs, Event{Node: node, Thread: thread, Seq: seq[node], Kind: k, Conn: conn, Local: local,
				Offset: off[key], Len: n, Workload: node == "workload", TimeNS: int64(len(evs))})
			off[key] += n
			seq[node]++
		}
		for i := range 4 {
			c := conns[member[i]]
			local, _, _ := strings.Cut(c, ">")
			add("workload", "main", Send, client, "workload:main:s0", 10, ">")
			add("primary", "main", Recv, client, "primary:main:s3", 10, ">")
			add("primary", "main", Send, c, local, 10, ">")
			add("backup", "main", Recv, c, "backup:main:s9", 10, ">")
			add("backup", "main", Send, c, "backup:main:s9", 3, "<")
			add("primary", "main", Recv, c, local, 3, "<")
			add("primary", "main", Send, client, "primary:main:s3", 3, "<")
			add("workload", "main", Recv, client, "workload:main:s0", 3, "<")
		}
		return evs
	}
	a, b := pool([]int{0, 1, 0, 1}), pool([]int{1, 1, 0, 0})
	ma, mb := Classify(a), Classify(b)
	for i := range a {
		if a[i].Kind == Send && ma[i].String() != mb[i].String() {
			t.Errorf("call %d: %s in one run, %s in the other", i, ma[i], mb[i])
		}
	}
	if got := ma[2].String(); got != "primary>backup:listen0 -> w1 #1" {
		t.Errorf("the first replication is %q", got)
	}
}

// Plans written before connection classes name the n-th connection; they
// read as its class.
func TestParseOldConnNames(t *testing.T) {
	for _, s := range []string{"a>b:listen0#2 -> w5", "a>b:listen0~1 <- -"} {
		c, err := Parse(s)
		if err != nil || c.Conn != "a>b:listen0" {
			t.Errorf("Parse(%q) = %+v, %v; want conn a>b:listen0", s, c, err)
		}
	}
}
