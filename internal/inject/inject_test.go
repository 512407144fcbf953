package inject

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/ebpfrec"
	"github.com/boxofpain/pain/internal/netcut"
	"github.com/boxofpain/pain/internal/testenv"
	"github.com/boxofpain/pain/internal/tracee"
	"github.com/boxofpain/pain/internal/tracer"
)

// progs holds the C test program, built before any tracer runs.
var progs tracee.Programs

func TestMain(m *testing.M) { tracee.Main(m, &progs, "testdata/tn.c") }

// freePort returns a free loopback port as the test node takes it.
func freePort(t testing.TB) string { return strconv.Itoa(testenv.FreePort(t)) }

// node is one process of a test system: servers print "ready" on stdout
// when they accept, clients start after every server is ready.
type node struct {
	name   string
	args   []string
	server bool
}

// system runs nodes under one tracer with a hook, and restarts them for
// the tracer as pain-inject's launcher does.
type system struct {
	t     *testing.T
	tr    *tracer.Tracer
	dir   string
	nodes map[string]node
	outs  map[string]*os.File
	mu    sync.Mutex
	procs []*tracer.Proc
	net   *netcut.Net // the nodes' cgroups, for partitions
}

func (s *system) Restart(name string) error {
	_, err := s.start(s.nodes[name])
	return err
}

func (s *system) start(n node) (*tracer.Proc, error) {
	out := s.outs[n.name]
	spec := tracer.Spec{Node: n.name, Argv: append([]string{progs.Path("tn")}, n.args...), Stdout: out}
	if s.net != nil {
		spec.Cgroup = s.net.Dir(n.name)
	}
	p, err := s.tr.Start(spec)
	if err == nil {
		s.mu.Lock()
		s.procs = append(s.procs, p)
		s.mu.Unlock()
	}
	return p, err
}

// run is the result of a test system's run.
type run struct {
	rows []format.Event
	out  map[string]string // node -> what it printed
}

// runSystem starts the servers, waits until they are ready, runs the
// clients to their end, gives the servers 4s to end by themselves, then
// kills whatever is left. mk builds the hook (nil: none) once the system
// exists, so that it can restart its nodes.
func runSystem(t *testing.T, mk func(*system) tracer.Hook, nodes ...node) (r run) {
	t.Helper()
	s := &system{t: t, dir: t.TempDir(), nodes: map[string]node{}, outs: map[string]*os.File{}}
	for _, n := range nodes {
		s.nodes[n.name] = n
		f, err := os.OpenFile(filepath.Join(s.dir, n.name+".out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		s.outs[n.name] = f
	}
	cfg := tracer.Config{Warn: func(m string) { t.Logf("tracer: %s", m) }, Restart: s.Restart}
	if mk != nil {
		cfg.Hook = mk(s)
	}
	if in, ok := cfg.Hook.(*Injector); ok && os.Getenv("PAIN_INJECT_BACKEND") == "ebpf" {
		defer withEBPF(t, &cfg, in)()
	}
	tr, err := tracer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.tr = tr

	got := make(chan struct{})
	go func() {
		for b := range tr.Events() {
			r.rows = append(r.rows, b...)
		}
		close(got)
	}()
	defer func() {
		tr.Close()
		<-got
		if in, ok := cfg.Hook.(*Injector); ok {
			in.Stop()
		}
		r.out = map[string]string{}
		for name := range s.nodes {
			b, _ := os.ReadFile(filepath.Join(s.dir, name+".out"))
			r.out[name] = string(b)
		}
	}()
	var servers, clients []*tracer.Proc
	for _, n := range nodes {
		if !n.server {
			continue
		}
		p, err := s.start(n)
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, p)
		s.waitReady(n.name, p)
	}
	for _, n := range nodes {
		if n.server {
			continue
		}
		p, err := s.start(n)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, p)
	}
	deadline := time.After(time.Minute)
	for _, p := range clients {
		select {
		case <-p.Done():
		case <-deadline:
			t.Errorf("client %s did not finish", p.Node)
		}
	}
	// Servers that end only when told (a datagram receiver has no end of
	// stream, serve loops) get SIGTERM now; the others end on their own.
	for _, n := range nodes {
		if n.server && (n.args[0] == "urecv" || n.args[0] == "serve") {
			s.tr.Signal(n.name, syscall.SIGTERM)
		}
	}
	deadline = time.After(time.Minute)
	for _, p := range servers {
		select {
		case <-p.Done():
		case <-deadline:
			t.Errorf("server %s did not finish", p.Node)
		}
	}
	return r
}

func (s *system) waitReady(name string, p *tracer.Proc) {
	s.t.Helper()
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		b, _ := os.ReadFile(filepath.Join(s.dir, name+".out"))
		if strings.Contains(string(b), "ready\n") {
			return
		}
		select {
		case <-p.Done():
			s.t.Fatalf("node %s exited with status %d before it was ready", name, p.ExitCode())
		default:
		}
	}
	s.t.Fatalf("node %s never got ready", name)
}

// withPlan returns a hook maker applying plan p.
func withPlan(t *testing.T, p *format.Plan, in **Injector) func(*system) tracer.Hook {
	return func(s *system) tracer.Hook {
		h, err := New(p, Options{Log: func(m string) { t.Log(m) }})
		if err != nil {
			t.Fatal(err)
		}
		*in = h
		return h
	}
}

func plan(faults ...format.Fault) *format.Plan {
	return &format.Plan{V: 1, ID: "p1", Faults: faults, Why: "test"}
}

// ref returns the k-th (1-based) row of node/thread whose call is in class
// (a name or a class like send), as an EventRef.
func ref(t *testing.T, rows []format.Event, node, thread, class string, k int) *format.EventRef {
	t.Helper()
	for _, e := range rows {
		if e.Node == node && e.Thread == thread && inClass(&e, class) {
			if k--; k == 0 {
				return &format.EventRef{Node: node, Thread: thread, Seq: e.Seq, Syscall: e.Syscall}
			}
		}
	}
	dump(t, rows)
	t.Fatalf("no such row: %s/%s %s #%d", node, thread, class, k)
	return nil
}

func dump(t testing.TB, rows []format.Event) {
	t.Helper()
	var b strings.Builder
	for i := range rows {
		format.WriteText(&b, &rows[i])
	}
	t.Log("\n" + b.String())
}

func marked(rows []format.Event) []format.Event {
	var m []format.Event
	for _, e := range rows {
		if e.Fault != "" {
			m = append(m, e)
		}
	}
	return m
}

func wantOut(t *testing.T, r run, node string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(r.out[node], l+"\n") {
			dump(t, r.rows)
			t.Fatalf("node %s printed %q, want a line %q", node, r.out[node], l)
		}
	}
}

func TestErrno(t *testing.T) {
	progs.Need(t)
	for _, tc := range []struct {
		name   string
		target format.Target
		errno  string
		a, b   string // what a and b print
	}{
		{"connect", format.Target{Node: "a", Syscall: "connect"}, "ECONNREFUSED", "connect PORT: ECONNREFUSED", ""},
		{"third write", format.Target{Node: "a", Thread: "main", Syscall: "send", Nth: 3}, "ECONNRESET", "to PORT: 2 of 5 ECONNRESET", "from a: 2 eof"},
		{"by name", format.Target{Node: "a", Syscall: "write", Nth: 2}, "EIO", "to PORT: 1 of 5 EIO", "from a: 1 eof"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			var in *Injector
			p := plan(format.Fault{Kind: format.FaultErrno, Errno: tc.errno, Target: tc.target})
			conns := "1"
			if tc.b == "" {
				conns = "0" // a never reaches b
			}
			r := runSystem(t, withPlan(t, p, &in),
				node{name: "b", args: []string{"recv", port, conns}, server: true},
				node{name: "a", args: []string{"send", "a", "5", port}})
			wantOut(t, r, "a", strings.ReplaceAll(tc.a, "PORT", port))
			if tc.b != "" {
				wantOut(t, r, "b", tc.b)
			}
			m := marked(r.rows)
			if len(m) != 1 || m[0].Errno != tc.errno || m[0].Fault != "p1:errno" || m[0].Node != "a" {
				dump(t, r.rows)
				t.Fatalf("marked rows %+v, want one failed with %s", m, tc.errno)
			}
			w := in.Fired()
			if len(w) != 1 || w[0].Seq != m[0].Seq || w[0].Thread != "main" || w[0].Node != "a" {
				t.Errorf("fired %+v, want at the marked row %s/%s#%d", w, m[0].Node, m[0].Thread, m[0].Seq)
			}
		})
	}
}

// TestDropStream: the peer sees the connection end exactly after the
// messages sent before the window (or before the pinned byte offset); the
// sender sees EPIPE.
func TestDropStream(t *testing.T) {
	progs.Need(t)
	port := freePort(t)
	nodes := []node{
		{name: "b", args: []string{"recv", port, "1"}, server: true},
		{name: "a", args: []string{"send", "a", "10", port}},
	}
	clean := runSystem(t, nil, nodes...)
	wantOut(t, clean, "b", "from a: 10 eof")
	after := ref(t, clean.rows, "a", "main", "send", 4)
	const conn = "a:main:s0>b:listen0"
	off := func(o int64) *int64 { return &o }
	for _, tc := range []struct {
		name   string
		fault  format.Fault
		b, a   string // what b and a print
		marked string // node and offset of the row the drop acted on
	}{
		{"after the 4th send", format.Fault{Target: format.Target{Node: "a", Thread: "main", Syscall: "send", Conn: conn}, After: after},
			"from a: 4 eof", "to " + port + ": 4 of 10 EPIPE", "a 400 EPIPE"},
		{"at byte 300", format.Fault{Target: format.Target{Node: "a", Syscall: "send", Conn: conn, Offset: off(300)}},
			"from a: 3 eof", "to " + port + ": 3 of 10 EPIPE", "a 300 EPIPE"},
		{"the send covering byte 350", format.Fault{Target: format.Target{Node: "a", Syscall: "send", Conn: conn, Offset: off(350)}},
			"from a: 3 eof", "to " + port + ": 3 of 10 EPIPE", "a 300 EPIPE"},
		{"the receive at byte 500", format.Fault{Target: format.Target{Node: "b", Syscall: "recv", Conn: conn, Offset: off(500)}},
			"from a: 5 eof", "", "b 500 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var in *Injector
			tc.fault.Kind = format.FaultDrop
			r := runSystem(t, withPlan(t, plan(tc.fault), &in), nodes...)
			wantOut(t, r, "b", tc.b)
			if tc.a != "" {
				wantOut(t, r, "a", tc.a)
			}
			m := marked(r.rows)
			if len(m) != 1 || fmt.Sprintf("%s %d %s", m[0].Node, m[0].Offset, m[0].Errno) != tc.marked || m[0].Fault != "p1:drop" {
				dump(t, r.rows)
				t.Fatalf("marked rows %+v, want one: %s", m, tc.marked)
			}
			if w := in.Fired(); len(w) != 1 || w[0].Seq != m[0].Seq || w[0].Node != m[0].Node {
				t.Errorf("fired %+v, want at the marked row", w)
			}
		})
	}
}

// TestDropDatagram: a dropped datagram is not received and its sender sees
// success.
func TestDropDatagram(t *testing.T) {
	progs.Need(t)
	port := freePort(t)
	var in *Injector
	p := plan(format.Fault{Kind: format.FaultDrop, Target: format.Target{Node: "a", Syscall: "sendto", Nth: 2}})
	r := runSystem(t, withPlan(t, p, &in),
		node{name: "b", args: []string{"urecv", port}, server: true},
		node{name: "a", args: []string{"usend", "a", "4", port}})
	wantOut(t, r, "a", "sent 4 ok")
	wantOut(t, r, "b", "got 3: 0 2 3")
	m := marked(r.rows)
	if len(m) != 1 || m[0].Ret != 100 || m[0].Syscall != "sendto" || m[0].Peer != "b:bind0" {
		dump(t, r.rows)
		t.Fatalf("marked rows %+v, want one sendto returning 100 to b:bind0", m)
	}
}

// TestCrash: a node killed after its 3rd send and before its 4th: its trace
// ends there and the peer got exactly 3 messages.
func TestCrash(t *testing.T) {
	progs.Need(t)
	port := freePort(t)
	nodes := []node{
		{name: "b", args: []string{"recv", port, "1"}, server: true},
		{name: "a", args: []string{"send", "a", "10", port}},
	}
	clean := runSystem(t, nil, nodes...)
	after, before := ref(t, clean.rows, "a", "main", "send", 3), ref(t, clean.rows, "a", "main", "send", 4)
	var in *Injector
	p := plan(format.Fault{Kind: format.FaultCrash, Target: format.Target{Node: "a", Syscall: "send"}, After: after, Before: before})
	r := runSystem(t, withPlan(t, p, &in), nodes...)
	wantOut(t, r, "b", "from a: 3 eof")
	// The 4th send may still get a row, failed and marked (the kill
	// interrupted it), or none; the node's trace ends with its death.
	sent, last, end := 0, format.Event{}, before.Seq
	for _, e := range r.rows {
		if e.Node != "a" {
			continue
		}
		switch {
		case inClass(&e, "send") && e.Ret > 0:
			sent++
		case inClass(&e, "send") && e.Seq == before.Seq && e.Ret == -1 && e.Fault == "p1:crash":
			end++
		case e.Syscall != format.EventSignaled:
			if e.Seq > after.Seq {
				t.Errorf("row after the 3rd send: %s/%s#%d %s", e.Node, e.Thread, e.Seq, e.Syscall)
			}
		}
		last = e
	}
	if sent != 3 || last.Syscall != format.EventSignaled || last.Arg != "SIGKILL" || last.Seq != end {
		dump(t, r.rows)
		t.Fatalf("node a: %d sends, last row %s %s seq %d; want 3 sends, then signaled SIGKILL at seq %d", sent, last.Syscall, last.Arg, last.Seq, end)
	}
	if w := in.Fired(); len(w) != 1 || w[0].Seq != before.Seq {
		t.Errorf("fired %+v, want at seq %d", w, before.Seq)
	}
}

// TestCrashAtReceivedByte: a crash pinned at a stream byte kills the
// receiver before it reads that byte, or, when a read gets it in the middle
// of its data, at that read's exit: either way it has read 500 bytes.
func TestCrashAtReceivedByte(t *testing.T) {
	progs.Need(t)
	port := freePort(t)
	for _, tc := range []struct {
		offset int64
		marked string // the read the crash is marked on
	}{
		// Killed at the read's entry: it may still get a row, failed (the
		// kill interrupted it), or none when the process died first.
		{500, "read 500 -1"},
		{450, "read 400 100"},
	} {
		t.Run(fmt.Sprint(tc.offset), func(t *testing.T) {
			var in *Injector
			p := plan(format.Fault{Kind: format.FaultCrash, Target: format.Target{Node: "b", Syscall: "recv", Conn: "a:main:s0>b:listen0", Offset: &tc.offset}})
			r := runSystem(t, withPlan(t, p, &in),
				node{name: "b", args: []string{"recv", port, "1"}, server: true},
				node{name: "a", args: []string{"send", "a", "10", port}})
			got, last, mk := int64(0), format.Event{}, ""
			for _, e := range r.rows {
				if e.Node != "b" {
					continue
				}
				if e.Syscall == "read" && e.Ret > 0 {
					got += e.Ret
				}
				if e.Fault != "" {
					mk = fmt.Sprintf("%s %d %d", e.Syscall, e.Offset, e.Ret)
				}
				last = e
			}
			if got != 500 || last.Syscall != format.EventSignaled || (mk != tc.marked && !(tc.offset == 500 && mk == "")) || len(marked(r.rows)) > 1 {
				dump(t, r.rows)
				t.Fatalf("b read %d bytes, last row %s, marked %q; want 500, signaled, %q", got, last.Syscall, mk, tc.marked)
			}
			w := in.Fired()
			if len(w) != 1 || w[0].Node != "b" || (mk == "" && w[0].Seq != last.Seq) || (mk != "" && w[0].Seq != last.Seq-1) {
				t.Errorf("fired %+v, want at the marked read, or at b's last seq %d", w, last.Seq)
			}
		})
	}
}

// TestCrashRestart: a server killed at its 2nd receive comes back from its
// command line and the client's retries succeed.
func TestCrashRestart(t *testing.T) {
	progs.Need(t)
	port := freePort(t)
	var in *Injector
	p := plan(format.Fault{Kind: format.FaultCrash, Restart: true, Duration: format.Duration(300 * time.Millisecond),
		Target: format.Target{Node: "b", Syscall: "recv", Nth: 2}})
	r := runSystem(t, withPlan(t, p, &in),
		node{name: "b", args: []string{"serve", port}, server: true},
		node{name: "a", args: []string{"ping", "a", "4", port}})
	wantOut(t, r, "a", "pings 4 ok")
	if n := strings.Count(r.out["b"], "ready\n"); n != 2 {
		t.Fatalf("b got ready %d times, want 2 (restarted)", n)
	}
	killed, starts := false, 0
	for _, e := range r.rows {
		if e.Node == "b" && e.Syscall == format.EventSignaled && e.Arg == "SIGKILL" {
			killed = true
		}
		if e.Node == "b" && e.Syscall == format.EventStart {
			starts++
		}
	}
	if !killed || starts != 2 {
		dump(t, r.rows)
		t.Fatalf("node b killed %v, started %d times; want killed and started twice", killed, starts)
	}
}

// TestDelay: a delay holds one thread while the others run.
func TestDelay(t *testing.T) {
	progs.Need(t)
	const hold = 600 * time.Millisecond
	var in *Injector
	p := plan(format.Fault{Kind: format.FaultDelay, Duration: format.Duration(hold), Target: format.Target{Node: "t", Thread: "main.1", Syscall: "write"}})
	r := runSystem(t, withPlan(t, p, &in), node{name: "t", args: []string{"threads"}})
	wantOut(t, r, "t", "one 1 ten 10")
	var prev, held *format.Event
	for i, e := range r.rows {
		if e.Node == "t" && e.Thread == "main.1" {
			if e.Fault == "p1:delay" {
				held = &r.rows[i]
				break
			}
			prev = &r.rows[i]
		}
	}
	if prev == nil || held == nil {
		dump(t, r.rows)
		t.Fatal("no delayed write in thread main.1")
	}
	if d := time.Duration(held.TimeNS - prev.TimeNS); d < hold {
		t.Errorf("main.1's write came %v after its previous row, want at least %v", d, hold)
	}
	during := 0
	for _, e := range r.rows {
		if e.Thread == "main.2" && e.Syscall == "write" && e.TimeNS > prev.TimeNS && e.TimeNS < held.TimeNS {
			during++
		}
	}
	if during < 5 {
		dump(t, r.rows)
		t.Errorf("main.2 wrote %d times while main.1 was held, want at least 5", during)
	}
}

// TestPause: a paused node stops for the pause and then finishes its work.
func TestPause(t *testing.T) {
	progs.Need(t)
	const pause = 500 * time.Millisecond
	port := freePort(t)
	var in *Injector
	p := plan(format.Fault{Kind: format.FaultPause, Duration: format.Duration(pause), Target: format.Target{Node: "a", Syscall: "send", Nth: 4}})
	r := runSystem(t, withPlan(t, p, &in),
		node{name: "b", args: []string{"recv", port, "1"}, server: true},
		node{name: "a", args: []string{"send", "a", "10", port}})
	wantOut(t, r, "a", "to "+port+": 10 of 10 ok")
	wantOut(t, r, "b", "from a: 10 eof")
	var w []int64
	for _, e := range r.rows {
		if e.Node == "a" && e.Syscall == "write" {
			w = append(w, e.TimeNS)
		}
	}
	if len(w) != 10 {
		t.Fatalf("%d writes, want 10", len(w))
	}
	if gap := time.Duration(w[4] - w[3]); gap < pause-50*time.Millisecond {
		t.Errorf("the 4th and 5th writes are %v apart, want about %v", gap, pause)
	}
}

// TestPartition: a partition cuts only the named pairs, and silently:
// from the start of the run, a's datagrams to b vanish while a sees every
// sendto succeed; a's to c and d's to b arrive.
func TestPartition(t *testing.T) {
	progs.Need(t)
	pb, pc := freePort(t), freePort(t)
	var in *Injector
	p := plan(format.Fault{Kind: format.FaultPartition, Groups: [][]string{{"a"}, {"b"}}})
	r := runSystem(t, withNet(t, p, &in, "a", "b", "c", "d"),
		node{name: "b", args: []string{"urecv", pb}, server: true},
		node{name: "c", args: []string{"urecv", pc}, server: true},
		node{name: "a", args: []string{"usend", "a", "3", pb, pc}},
		node{name: "d", args: []string{"usend", "d", "3", pb}})
	wantOut(t, r, "a", "sent 6 ok")
	wantOut(t, r, "d", "sent 3 ok")
	wantOut(t, r, "b", "got 3: 0 1 2") // d's
	wantOut(t, r, "c", "got 3: 0 1 2") // a's
	if w := in.Fired(); len(w) != 1 {
		t.Errorf("fired %+v, want the partition", w)
	}

	// Over a window: from a's 2nd sendto (it got through) to its 4th (the
	// Before call is still inside the window: dropped), then healed.
	nodes := []node{{name: "b", args: []string{"urecv", pb}, server: true}, {name: "a", args: []string{"usend", "a", "6", pb}}}
	clean := runSystem(t, nil, nodes...)
	wantOut(t, clean, "b", "got 6: 0 1 2 3 4 5")
	p = plan(format.Fault{Kind: format.FaultPartition, Groups: [][]string{{"a"}, {"b"}},
		After: ref(t, clean.rows, "a", "main", "sendto", 2), Before: ref(t, clean.rows, "a", "main", "sendto", 4)})
	r = runSystem(t, withNet(t, p, &in, "a", "b"), nodes...)
	wantOut(t, r, "a", "sent 6 ok")
	wantOut(t, r, "b", "got 4: 0 1 4 5")
}

// TestSilentPartition: a partition of a from b for 1s starts at a's 2nd
// write on its connection to b. b sees no end of file or reset: its
// reads wait, and get the bytes a wrote during the partition once it
// heals (TCP retransmits them). a's writes succeed, and its second
// connect to b does not complete until the heal.
func TestSilentPartition(t *testing.T) {
	progs.Need(t)
	const heal = time.Second
	port := freePort(t)
	var in *Injector
	p := plan(format.Fault{Kind: format.FaultPartition, Groups: [][]string{{"a"}, {"b"}}, Duration: format.Duration(heal),
		Target: format.Target{Node: "a", Syscall: "write", Nth: 2}})
	r := runSystem(t, withNet(t, p, &in, "a", "b"),
		node{name: "b", args: []string{"recv", port, "2"}, server: true},
		node{name: "a", args: []string{"quiet", "a", port}})
	wantOut(t, r, "a", "connect2 ok", "wrote 4 ok")
	wantOut(t, r, "b", "from a: 3 eof", "from a: 1 eof")
	m := marked(r.rows)
	if len(m) != 1 || m[0].Node != "a" || m[0].Syscall != "write" || m[0].Ret != 100 {
		dump(t, r.rows)
		t.Fatalf("marked %+v, want a's 2nd write, which wrote its 100 bytes", m)
	}
	// Rows are stamped at the call's exit; the cut began at the write's
	// entry, its duration before. A connect's row is stamped at its exit.
	cut := m[0].TimeNS - m[0].DurNS
	slack := int64(10 * time.Millisecond) // the heal's timer starts just after the cut
	connects := 0
	for _, e := range r.rows {
		switch {
		case e.Node == "a" && e.Syscall == "connect":
			if connects++; connects == 2 {
				t.Logf("a's second connect returned %v after the partition began", time.Duration(e.TimeNS-cut))
			}
			if connects == 2 && e.TimeNS-cut < int64(heal)-slack {
				t.Errorf("a's second connect returned %v after the partition began, before it healed (%v)", time.Duration(e.TimeNS-cut), heal)
			}
		case e.Node == "b" && e.Syscall == "read" && e.Conn == m[0].Conn && e.Offset >= 100 && e.Ret > 0 && e.Offset < 200:
			t.Logf("b read the bytes written during the partition %v after it began", time.Duration(e.TimeNS-cut))
			if e.TimeNS-cut < int64(heal)-slack {
				t.Errorf("b read the bytes written during the partition %v after it began, before it healed (%v)", time.Duration(e.TimeNS-cut), heal)
			}
		case e.Node == "b" && e.Conn == m[0].Conn && e.Syscall == "read" && e.Ret <= 0 && e.Offset < 300:
			t.Errorf("b's read at offset %d ended the connection early: ret %d %s", e.Offset, e.Ret, e.Errno)
		}
	}
	if connects != 2 {
		t.Errorf("%d connects by a, want 2", connects)
	}
}

// withNet returns a hook maker applying plan p, partitions through a
// netcut.Net (every node in a cgroup of its own, root needed), closed at
// the end of the test.
func withNet(t *testing.T, p *format.Plan, in **Injector, nodes ...string) func(*system) tracer.Hook {
	net, err := netcut.New(nodes)
	if err != nil {
		t.Skipf("no silent partitions here: %v", err)
	}
	t.Cleanup(func() {
		if err := net.Close(); err != nil {
			t.Error(err)
		}
	})
	return func(s *system) tracer.Hook {
		s.net = net
		h, err := New(p, Options{Log: func(m string) { t.Log(m) }, Net: net})
		if err != nil {
			t.Fatal(err)
		}
		*in = h
		return h
	}
}

// TestWindow: a fault whose window closes before its target comes never
// fires; Notes say which fault of a plan did not.
func TestWindow(t *testing.T) {
	progs.Need(t)
	port := freePort(t)
	nodes := []node{
		{name: "b", args: []string{"recv", port, "1"}, server: true},
		{name: "a", args: []string{"send", "a", "3", port}},
	}
	var in *Injector
	p := plan(
		format.Fault{Kind: format.FaultErrno, Errno: "EIO", Target: format.Target{Node: "a", Syscall: "send", Nth: 5}},
		format.Fault{Kind: format.FaultErrno, Errno: "EIO", Target: format.Target{Node: "a", Syscall: "send"},
			After: &format.EventRef{Node: "b", Thread: "main", Seq: 1000}},
		format.Fault{Kind: format.FaultDrop, Target: format.Target{Node: "a", Syscall: "send", Nth: 3}},
	)
	r := runSystem(t, withPlan(t, p, &in), nodes...)
	wantOut(t, r, "b", "from a: 2 eof")
	if w := in.Fired(); len(w) != 1 || w[0].Fault != 2 {
		t.Fatalf("fired %+v, want only fault index 2", w)
	}
	if m := marked(r.rows); len(m) != 1 || m[0].Fault != "p1#3:drop" {
		t.Errorf("marked %+v, want one row marked p1#3:drop", m)
	}
	notes := strings.Join(in.Notes(), "; ")
	if !strings.Contains(notes, "fault 1 (errno) did not fire") || !strings.Contains(notes, "fault 2 (errno) did not fire") {
		t.Errorf("notes %q", notes)
	}
}

// withEBPF makes cfg record with the eBPF recorder and stop only where
// plan can act (Stops), as pain-inject -backend ebpf does, when the plan
// allows it; it returns what closes the recorder. The package's tests run
// so with PAIN_INJECT_BACKEND=ebpf (TestBackends).
func withEBPF(t *testing.T, cfg *tracer.Config, in *Injector) func() {
	t.Helper()
	stops, err := Stops(in.plan)
	if err != nil {
		t.Logf("full ptrace: %v", err)
		return func() {}
	}
	rec, err := ebpfrec.Open(cfg.Warn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Backend, cfg.Stops = rec, stops
	in.opt.Recorded = true
	if in.cls != nil {
		in.cls.unordered = true
	}
	return func() {
		if n := rec.Lost(); n > 0 {
			t.Errorf("%d records lost", n)
		}
		rec.Close()
	}
}
