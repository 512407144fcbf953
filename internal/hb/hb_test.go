package hb

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
)

var update = flag.Bool("update", false, "rewrite golden files")

func readText(t testing.TB, path string) []format.Event {
	t.Helper()
	_, evs, err := format.ReadTextFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func build(evs []format.Event, gran Granularity) *Graph {
	b := NewBuilder(gran)
	for i := range evs {
		b.Add(&evs[i])
	}
	return b.Graph("run")
}

// dump prints a graph for golden files and failure messages.
func dump(g *Graph) string {
	var b strings.Builder
	fmt.Fprintf(&b, "schedule %s (%s)\n", g.ID(), g.Granularity)
	for i, e := range g.Events {
		fmt.Fprintf(&b, "%3d %-28s count=%d ret=%d errno=%s role=%s\n", i, g.Label(i), e.Count, e.Ret, e.Errno, e.Role)
	}
	for _, d := range g.Edges {
		if d.Kind != KindProgram {
			fmt.Fprintf(&b, "%-8s %s -> %s\n", d.Kind, g.Label(d.From), g.Label(d.To))
		}
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	// shpipe is a real trace of sh -c 'echo hello | cat; true'.
	for _, name := range []string{"exchange", "procs", "shpipe"} {
		for _, gran := range []Granularity{Message, Syscall} {
			g := build(readText(t, filepath.Join("testdata", name+".txt")), gran)
			got := dump(g)
			golden := filepath.Join("testdata", name+"."+gran.String()+".golden")
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s: graph changed (run with -update if intended):\n%s", golden, got)
			}
		}
	}
}

// TestEdges checks the edges that matter by hand, independently of the golden files.
func TestEdges(t *testing.T) {
	for _, tc := range []struct {
		file string
		gran Granularity
		want []string // kind from -> to
	}{
		{"exchange", Message, []string{
			"connect workload/main[2] connect workload:main:s0>kv1:listen0 -> kv1/main[3] accept4 workload:main:s0>kv1:listen0",
			"stream workload/main write workload:main:s0>kv1:listen0@0+12 -> kv1/main read workload:main:s0>kv1:listen0@0+12",
			"stream kv1/main write workload:main:s0>kv1:listen0@0+3 -> workload/main read workload:main:s0>kv1:listen0@0+3",
			"close workload/main[5] close workload:main:s0>kv1:listen0 -> kv1/main read workload:main:s0>kv1:listen0@12+0",
		}},
		{"exchange", Syscall, []string{
			"stream workload/main write workload:main:s0>kv1:listen0@0+7 -> kv1/main read workload:main:s0>kv1:listen0@0+4",
			"stream workload/main write workload:main:s0>kv1:listen0@0+7 -> kv1/main read workload:main:s0>kv1:listen0@4+8",
			"stream workload/main write workload:main:s0>kv1:listen0@7+5 -> kv1/main read workload:main:s0>kv1:listen0@4+8",
		}},
		{"shpipe", Message, []string{
			"pipe sh/main.1 write sh:main:s0@0+6 -> sh/cat.2/main read sh:main:s0@0+6",
			"exec sh/main.2[2] execve -> sh/cat.2/main[0] start >sh/main.2",
			"close sh/main[3] close sh:main:s0 -> sh/cat.2/main read sh:main:s0@6+0",
			"close sh/main.1[2] close sh:main:s0 -> sh/cat.2/main read sh:main:s0@6+0",
			"exit sh/cat.2/main[5] exited -> sh/main[7] wait4 >sh/cat.2/main",
		}},
		// xfer is a real trace of testdata/xfer.py (pain-trace -o x.arrows --
		// python3 xfer.py): the bytes a splice and a sendfile take in were
		// written by other processes; their "in" rows are the receives.
		{"xfer", Message, []string{
			"pipe python3/main.1 write python3:main:s0@0+5 -> python3/main splice python3:main:s0@0+5",
			"stream python3/main.2 sendto python3:main:s2@0+5 -> python3/main sendfile python3:main:s2@0+5",
			"stream python3/main splice python3:main:s1@0+5 -> python3/main recvfrom python3:main:s1@0+5",
			"pipe python3/main sendfile python3:main:s3@0+5 -> python3/main read python3:main:s3@0+5",
		}},
		{"xfer", Syscall, []string{
			"pipe python3/main.1 write python3:main:s0@0+5 -> python3/main splice python3:main:s0@0+5",
			"stream python3/main.2 sendto python3:main:s2@0+5 -> python3/main sendfile python3:main:s2@0+5",
		}},
		{"procs", Message, []string{
			"clone sh/main[2] clone >sh/main.1 -> sh/main.1[0] start >sh/main",
			"exec sh/main.1[1] execve -> sh/tool.1/main[0] start >sh/main.1",
			"pipe sh/tool.1/main write sh:main:s0@0+5 -> sh/main read sh:main:s0@0+5",
			"datagram sh/tool.1/main[3] sendto sh/tool.1:main:s0>srv:bind0 -> srv/main[2] recvfrom srv:bind0>sh/tool.1:main:s0",
			"exit sh/tool.1/main[4] exited -> sh/main[4] wait4 >sh/tool.1/main",
		}},
	} {
		g := build(readText(t, filepath.Join("testdata", tc.file+".txt")), tc.gran)
		have := map[string]bool{}
		for _, d := range g.Edges {
			have[d.Kind.String()+" "+g.Label(d.From)+" -> "+g.Label(d.To)] = true
		}
		for _, w := range tc.want {
			if !have[w] {
				t.Errorf("%s/%s: no edge %q in\n%s", tc.file, tc.gran, w, dump(g))
			}
		}
	}
}

func TestPrune(t *testing.T) {
	g := build(readText(t, "testdata/exchange.txt"), Message)
	for _, l := range g.Lanes {
		if l.Thread == "main.1" {
			t.Errorf("thread kv1/main.1 never communicates but is in the graph")
		}
	}
	for _, e := range g.Events {
		if e.Syscall == "clone" || e.Errno == "EAGAIN" {
			t.Errorf("event %s should have been dropped", e.Syscall)
		}
	}
	// The check's last event and what it depends on.
	last := g.Last(RoleCheck)
	if len(last) != 1 || g.Events[last[0]].Syscall != format.EventExited {
		t.Fatalf("Last(check) = %v", last)
	}
	deps := g.DependsOn(last[0])
	var keys []string
	for _, j := range deps {
		keys = append(keys, g.EdgeKey(j))
	}
	// The check depends on its own exchange and, through kv1's program
	// order, on the workload's.
	want := []string{
		"workload/main[2] connect workload:main:s0>kv1:listen0 -> kv1/main[3] accept4 workload:main:s0>kv1:listen0",
		"workload/main write workload:main:s0>kv1:listen0@0+12 -> kv1/main read workload:main:s0>kv1:listen0@0+12",
		"check/main write check:main:s0>kv1:listen0@0+4 -> kv1/main read check:main:s0>kv1:listen0@0+4",
		"kv1/main write check:main:s0>kv1:listen0@0+6 -> check/main read check:main:s0>kv1:listen0@0+6",
	}
	for _, w := range want {
		found := false
		for _, k := range keys {
			found = found || k == w
		}
		if !found {
			t.Errorf("DependsOn(check's end) lacks %q; has %q", w, keys)
		}
	}
	// Nothing the check does happens before the workload's end.
	for _, j := range g.DependsOn(g.Last(RoleWorkload)[0]) {
		if k := g.EdgeKey(j); strings.Contains(k, "check") {
			t.Errorf("DependsOn(workload's end) has %q", k)
		}
	}
}

// perturb does to a run what a different run of the same schedule does:
// other pids, tids, fds and ephemeral ports, shifted and jittered times,
// rows in another order.
func perturb(r *rand.Rand, evs []format.Event) []format.Event {
	out := make([]format.Event, len(evs))
	copy(out, evs)
	pid := r.Int32N(1000) + 1
	fd := r.Int32N(50) + 1
	port := r.IntN(20000) + 1
	shift := r.Int64N(1e12) - 5e11
	for i := range out {
		e := &out[i]
		if e.PID != 0 {
			e.PID += pid
		}
		if e.TID != 0 {
			e.TID += pid
		}
		if e.FD >= 0 {
			e.FD += fd
		}
		e.TimeNS += shift + r.Int64N(1000)
		e.LocalAddr = renamePort(e.LocalAddr, port)
		e.PeerAddr = renamePort(e.PeerAddr, port)
		e.Peer = renamePort(e.Peer, port)
		switch e.Syscall {
		case "clone", "accept4", "socket", "wait4":
			if e.Ret > 0 {
				e.Ret += int64(pid)
			}
		}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// renamePort moves an ephemeral port (>= 32768 here, as in Linux) elsewhere
// in the ephemeral range.
func renamePort(addr string, by int) string {
	i := strings.LastIndexByte(addr, ':')
	var p int
	if i < 0 || addr[0] == '/' {
		return addr
	}
	if _, err := fmt.Sscanf(addr[i+1:], "%d", &p); err != nil || p < 32768 {
		return addr
	}
	return fmt.Sprintf("%s:%d", addr[:i], 32768+(p-32768+by)%28000)
}

func TestInvariance(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, name := range []string{"exchange", "procs"} {
		evs := readText(t, filepath.Join("testdata", name+".txt"))
		for _, gran := range []Granularity{Message, Syscall} {
			want := build(evs, gran)
			for n := 0; n < 200; n++ {
				got := build(perturb(r, evs), gran)
				if got.ID() != want.ID() || !sameSchedule(got, want) {
					t.Fatalf("%s/%s: perturbed run has schedule\n%s\nwant\n%s", name, gran, dump(got), dump(want))
				}
			}
		}
	}
}

// sameSchedule compares graphs but for the fields that come from one run.
func sameSchedule(a, b *Graph) bool {
	strip := func(g *Graph) []Event {
		evs := append([]Event(nil), g.Events...)
		for i := range evs {
			evs[i].TimeNS = 0
		}
		return evs
	}
	return reflect.DeepEqual(strip(a), strip(b)) && reflect.DeepEqual(a.Edges, b.Edges)
}

// TestSplit splits the workload's request into many writes and kv1's reads
// of it into many reads, at random points: at Message granularity the
// schedule stays the same; at Syscall granularity it changes.
func TestSplit(t *testing.T) {
	evs := readText(t, "testdata/exchange.txt")
	want := build(evs, Message)
	wantSys := build(evs, Syscall)
	r := rand.New(rand.NewPCG(3, 4))
	changed := false
	for n := 0; n < 200; n++ {
		s := split(r, evs)
		if got := build(s, Message); got.ID() != want.ID() {
			t.Fatalf("split run has schedule\n%s\nwant\n%s", dump(got), dump(want))
		}
		changed = changed || build(s, Syscall).ID() != wantSys.ID()
	}
	if !changed {
		t.Errorf("splitting never changed the schedule at syscall granularity")
	}
}

// split rewrites the 12-byte request on conn workload>kv1 as random writes
// and random reads, renumbering the seqs of the two threads.
func split(r *rand.Rand, evs []format.Event) []format.Event {
	const conn = "workload:main:s0>kv1:listen0"
	isReq := func(e format.Event) bool {
		return e.Conn == conn && e.Offset >= 0 && e.Offset < 12 &&
			(e.Node == "workload" && e.Syscall == "write" || e.Node == "kv1" && e.Syscall == "read")
	}
	lanes := map[string][]format.Event{}
	var order []string
	for _, e := range evs {
		k := e.Node + "/" + e.Thread
		if lanes[k] == nil {
			order = append(order, k)
		}
		lanes[k] = append(lanes[k], e)
	}
	var out []format.Event
	for _, k := range order {
		var seq int64
		done := false
		for _, e := range lanes[k] {
			if !isReq(e) {
				e.Seq = seq
				seq++
				out = append(out, e)
				continue
			}
			if done {
				continue
			}
			done = true
			for off := int64(0); off < 12; seq++ {
				p := e
				p.Errno, p.Offset, p.Ret, p.Seq = "", off, r.Int64N(12-off)+1, seq
				p.PayloadHash = r.Uint64()
				off += p.Ret
				out = append(out, p)
			}
		}
	}
	return out
}

func TestNewGraphRoundTrip(t *testing.T) {
	for _, name := range []string{"exchange", "procs"} {
		g := build(readText(t, filepath.Join("testdata", name+".txt")), Message)
		back, err := NewGraph(g.Run, g.Granularity, append([]Event(nil), g.Events...), append([]Edge(nil), g.Edges...))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, g) {
			t.Errorf("%s: NewGraph(g.Events, g.Edges) differs from g", name)
		}
	}
	g := build(readText(t, "testdata/exchange.txt"), Message)
	for _, tc := range []struct {
		name  string
		edges []Edge
	}{
		{"out of range", append(append([]Edge(nil), g.Edges...), Edge{From: 0, To: 999, Kind: KindStream})},
		{"unknown kind", []Edge{{From: 0, To: 5, Kind: 99}}},
		{"program order missing", nil},
	} {
		if _, err := NewGraph("x", Message, g.Events, tc.edges); err == nil {
			t.Errorf("%s: NewGraph accepted it", tc.name)
		}
	}
}

func TestCompact(t *testing.T) {
	for _, name := range []string{"exchange", "procs", "shpipe"} {
		for _, gran := range []Granularity{Message, Syscall} {
			g := build(readText(t, filepath.Join("testdata", name+".txt")), gran)
			c := g.Compact()
			back, err := Uncompact(g.Run, c)
			if err != nil {
				t.Fatalf("%s/%s: %v", name, gran, err)
			}
			if !reflect.DeepEqual(back, g) {
				t.Errorf("%s/%s: compact graph comes back differently", name, gran)
			}
			for cut := 0; cut < len(c); cut += 7 {
				if _, err := Uncompact("x", c[:cut]); err == nil {
					t.Errorf("%s/%s: compact graph cut at %d accepted", name, gran, cut)
					break
				}
			}
		}
	}
}

func TestStableName(t *testing.T) {
	for in, want := range map[string]string{
		"kv1:listen0":                       "kv1:listen0",
		"client:main:s0":                    "client:main:s0",
		"127.0.0.1:6379":                    "127.0.0.1:6379",
		"127.0.0.1:40112":                   "127.0.0.1:ephemeral",
		"[::1]:50000":                       "::1:ephemeral",
		"c:main:s0>127.0.0.1:6379":          "c:main:s0>127.0.0.1:6379",
		"127.0.0.1:45000>kv1:listen0":       "127.0.0.1:ephemeral>kv1:listen0",
		"/tmp/sock":                         "/tmp/sock",
		"":                                  "",
		"weird:123456789012345678901234567": "weird:123456789012345678901234567",
	} {
		if got := stableName(in); got != want {
			t.Errorf("stableName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFaultMark: the fault mark of an injected run's row reaches the graph
// (and survives compaction) for diagrams, but is not part of the schedule.
func TestFaultMark(t *testing.T) {
	evs := readText(t, filepath.Join("testdata", "exchange.txt"))
	plain := build(evs, Message)
	marked := slices.Clone(evs)
	k := slices.IndexFunc(marked, func(e format.Event) bool { return e.Syscall == "write" })
	marked[k].Fault = "p1:delay"
	g := build(marked, Message)
	if g.ID() != plain.ID() {
		t.Errorf("a fault mark changed the schedule: %s, want %s", g.ID(), plain.ID())
	}
	back, err := Uncompact(g.Run, g.Compact())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range back.Events {
		if e.Fault == "p1:delay" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d events carry the fault mark after compaction, want 1", n)
	}
}

// TestDropShutsDown: in an injected run, a drop fault that shut a stream
// down ends it there: the end of file its peer reads comes from the faulted
// call, not from the close that followed it (which came after the read).
func TestDropShutsDown(t *testing.T) {
	g := build(readText(t, filepath.Join("testdata", "dropped.txt")), Message)
	var got []Edge
	for _, d := range g.Edges {
		if d.Kind == KindClose {
			got = append(got, d)
		}
	}
	if len(got) != 1 || g.Events[got[0].From].Fault != "p1:drop" || g.Events[got[0].To].Ret != 0 {
		t.Fatalf("end-of-file edges %v, want one from the dropped write to b's read of the end\n%s", got, dump(g))
	}
}

// TestReach: Ancestors and Descendants of several events at once are the
// unions of each one's.
func TestReach(t *testing.T) {
	evs := []Event{
		{Node: "a", Thread: "main", Seq: 0, Count: 1, Syscall: "write", Role: RoleSystem},
		{Node: "a", Thread: "main", Seq: 1, Count: 1, Syscall: "read", Role: RoleSystem},
		{Node: "b", Thread: "main", Seq: 0, Count: 1, Syscall: "read", Role: RoleSystem},
		{Node: "b", Thread: "main", Seq: 1, Count: 1, Syscall: "write", Role: RoleSystem},
		{Node: "c", Thread: "main", Seq: 0, Count: 1, Syscall: "socket", Role: RoleSystem},
	}
	g, err := NewGraph("r", Syscall, evs, []Edge{{0, 1, KindProgram}, {0, 2, KindStream}, {2, 3, KindProgram}, {3, 1, KindStream}})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(g.Ancestors(1)); got != "[true true true true false]" {
		t.Errorf("Ancestors(1) = %s", got)
	}
	if got := fmt.Sprint(g.Ancestors(2, 4)); got != "[true false true false true]" {
		t.Errorf("Ancestors(2, 4) = %s", got)
	}
	if got := fmt.Sprint(g.Descendants(2)); got != "[false true true true false]" {
		t.Errorf("Descendants(2) = %s", got)
	}
	if got := fmt.Sprint(g.Descendants()); got != "[false false false false false]" {
		t.Errorf("Descendants() = %s", got)
	}
}

// TestUnsynced: a system node's events carry the writes its node had not
// made durable when they returned (the durability lineage), kept through
// compaction, out of the schedule id; the graph counts the syncs.
func TestUnsynced(t *testing.T) {
	rows := readText(t, filepath.Join("testdata", "wal.txt"))
	g := build(rows, Message)
	var got []string
	for i, e := range g.Events {
		if len(e.Unsynced) > 0 {
			got = append(got, fmt.Sprintf("%s %v", g.Label(i), e.Unsynced))
		}
	}
	want := []string{"kv1/main write workload:main:s0>kv1:listen0@0+3 [{$PAIN_RUN_DIR/kv1/wal.log 1 10}]"}
	if !slices.Equal(got, want) {
		t.Errorf("unsynced events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantSyncs := []FileSyncs{{Node: "kv1", File: "$PAIN_RUN_DIR/kv1/wal.log", Call: "fdatasync", Syncs: 2}, {Node: "kv1", File: "$PAIN_RUN_DIR/kv1/wal.log", Call: "fsync", Syncs: 1}}
	if !reflect.DeepEqual(g.Syncs, wantSyncs) {
		t.Errorf("syncs %v, want %v", g.Syncs, wantSyncs)
	}
	back, err := Uncompact(g.Run, g.Compact())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Events, g.Events) || !reflect.DeepEqual(back.Syncs, g.Syncs) {
		t.Errorf("compaction lost the durability lineage")
	}
	var net []format.Event
	for _, e := range rows {
		if e.FDKind != format.KindFile {
			net = append(net, e)
		}
	}
	if id := build(net, Message).ID(); id != g.ID() {
		t.Errorf("the file rows changed the schedule id: %s, without them %s", g.ID(), id)
	}
}
