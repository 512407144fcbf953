package tracer

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/prereq"
	"github.com/boxofpain/pain/internal/tracee"
)

// progs are the tracees of testdata, built before any tracer runs.
var progs tracee.Programs

func TestMain(m *testing.M) {
	if os.Getenv(envHop) != "" {
		hopOffMainThread() // started as a shim by TestShimOffMainThread
	}
	tracee.Main(m, &progs, "testdata/*.c", "testdata/Echo.java")
}

// trace runs one command under a new tracer and returns its rows and exit code.
func trace(t testing.TB, cfg Config, node string, argv ...string) ([]format.Event, int) {
	t.Helper()
	if !strings.Contains(argv[0], "/") {
		argv[0] = filepath.Join(progs.Dir, argv[0])
	}
	return traceArgv(t, cfg, node, argv)
}

// traceArgv is trace for a command found in PATH.
func traceArgv(t testing.TB, cfg Config, node string, argv []string) ([]format.Event, int) {
	t.Helper()
	return traceWith(t, cfg, nil, node, argv)
}

// traceWith is traceArgv that hands the tracer to started first.
func traceWith(t testing.TB, cfg Config, started func(*Tracer), node string, argv []string) ([]format.Event, int) {
	t.Helper()
	if cfg.Warn == nil {
		cfg.Warn = func(m string) { t.Logf("warning: %s", m) }
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var rows []format.Event
	got := make(chan struct{})
	go func() {
		for b := range tr.Events() {
			rows = append(rows, b...)
		}
		close(got)
	}()
	if started != nil {
		started(tr)
	}
	p, err := tr.Start(Spec{Node: node, Argv: argv, SplitExec: true})
	if err != nil {
		tr.Close()
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(2 * time.Minute): // a failure bound: python3 under ptrace on a busy machine takes long
		t.Errorf("%v did not finish", argv)
	}
	tr.Close()
	<-got
	return rows, p.ExitCode()
}

func dump(t testing.TB, rows []format.Event) {
	t.Helper()
	var b strings.Builder
	for i := range rows {
		format.WriteText(&b, &rows[i])
	}
	t.Log("\n" + b.String())
}

// sums adds up ret of the successful send and receive rows per conn.
func sums(rows []format.Event) (sent, recvd map[string]int64) {
	sent, recvd = map[string]int64{}, map[string]int64{}
	for _, e := range rows {
		if e.Ret <= 0 || e.Conn == "" {
			continue
		}
		switch e.Syscall {
		case "write", "sendto", "writev", "sendmsg":
			sent[e.Conn] += e.Ret
		case "read", "recvfrom", "readv", "recvmsg":
			recvd[e.Conn] += e.Ret
		}
	}
	return
}

// checkOffsets verifies that per (conn, local, direction) the offsets of
// stream rows are contiguous from 0.
func checkOffsets(t *testing.T, rows []format.Event) {
	t.Helper()
	next := map[string]int64{}
	for _, e := range rows {
		if e.Offset < 0 || e.Ret < 0 {
			continue
		}
		dir := "r"
		if strings.HasPrefix(e.Syscall, "write") || strings.HasPrefix(e.Syscall, "send") && e.Syscall != "sendfile" || e.Arg == "out" {
			dir = "w"
		}
		k := e.Local + " " + dir
		if e.Offset != next[k] {
			t.Errorf("%s/%s seq %d %s: offset %d, want %d", e.Node, e.Thread, e.Seq, e.Syscall, e.Offset, next[k])
		}
		next[k] = e.Offset + e.Ret
	}
}

func TestStreams(t *testing.T) {
	progs.Need(t)
	for _, c := range []struct {
		mode, kind string
		conn       string
		up, down   int64
	}{
		{"tcp", format.KindTCP, "peer:main.1:s0>peer:listen0", 5500, 7},
		{"tcp6", format.KindTCP, "peer:main.1:s0>peer:listen0", 5500, 7},
		{"unix", format.KindUnix, "peer:main.1:s0>peer:listen0", 5500, 7},
		{"pipe", format.KindPipe, "peer:main:s0", 3000, 0},
	} {
		t.Run(c.mode, func(t *testing.T) {
			rows, code := trace(t, Config{}, "peer", "peer", c.mode)
			if code != 0 {
				dump(t, rows)
				t.Fatalf("peer %s exited %d", c.mode, code)
			}
			sent, recvd := sums(rows)
			// Both directions share the conn: each side's sends are the
			// other side's receives, byte for byte.
			if want := c.up + c.down; sent[c.conn] != want || recvd[c.conn] != want {
				dump(t, rows)
				t.Fatalf("conn %s: sent %d received %d, want %d (all: %v %v)", c.conn, sent[c.conn], recvd[c.conn], want, sent, recvd)
			}
			checkOffsets(t, rows)
			for _, e := range rows {
				if e.Conn == c.conn && e.FDKind != c.kind {
					t.Errorf("seq %d %s: fd_kind %q, want %q", e.Seq, e.Syscall, e.FDKind, c.kind)
				}
			}
		})
	}
}

func TestUDP(t *testing.T) {
	progs.Need(t)
	rows, code := trace(t, Config{}, "peer", "peer", "udp")
	if code != 0 {
		dump(t, rows)
		t.Fatalf("exit %d", code)
	}
	sent, recvd := sums(rows)
	for conn, want := range map[string]int64{
		"peer:main.1:s0>peer:bind0": 150,
		"peer:bind0>peer:main.1:s0": 15,
	} {
		if sent[conn] != want || recvd[conn] != want {
			dump(t, rows)
			t.Errorf("conn %s: sent %d received %d, want %d", conn, sent[conn], recvd[conn], want)
		}
	}
	// Each datagram's hash is the same on both ends.
	hashes := map[uint64]int{}
	for _, e := range rows {
		if e.FDKind == format.KindUDP && e.Ret > 0 && e.Offset != -1 {
			t.Errorf("datagram row with offset %d", e.Offset)
		}
		if e.Syscall == "sendto" && e.Ret > 0 {
			hashes[e.PayloadHash]++
		}
		if e.Syscall == "recvfrom" && e.Ret > 0 {
			hashes[e.PayloadHash]--
		}
	}
	for h, n := range hashes {
		if n != 0 {
			t.Errorf("hash %x: %d more sends than receives", h, n)
		}
	}
}

func TestForkExecChain(t *testing.T) {
	progs.Need(t)
	rows, code := trace(t, Config{}, "peer", "peer", "chain", "2")
	if code != 0 {
		dump(t, rows)
		t.Fatalf("exit %d", code)
	}
	starts := map[string]string{}
	for _, e := range rows {
		if e.Syscall == format.EventStart && e.Thread == "main" {
			starts[e.Node] = e.Peer
		}
	}
	want := map[string]string{
		"peer":               "",
		"peer/peer.1":        "peer/main.1",
		"peer/peer.1/peer.1": "peer/peer.1/main.1",
	}
	for n, p := range want {
		if got, ok := starts[n]; !ok || got != p {
			dump(t, rows)
			t.Fatalf("node %s: start peer %q (present %v), want %q; all starts %v", n, got, ok, p, starts)
		}
	}
	sent, recvd := sums(rows)
	conn := "peer/peer.1/peer.1:main.1:s0>peer/peer.1/peer.1:listen0"
	if sent[conn] != 600 || recvd[conn] != 600 {
		t.Errorf("conn %s: sent %d received %d, want 600", conn, sent[conn], recvd[conn])
	}
	// Every thread's rows are numbered 0, 1, 2, ... and end with exited.
	next := map[string]int64{}
	last := map[string]string{}
	for _, e := range rows {
		k := e.Node + "/" + e.Thread
		if e.Seq != next[k] {
			t.Errorf("%s: seq %d, want %d", k, e.Seq, next[k])
		}
		next[k] = e.Seq + 1
		last[k] = e.Syscall
	}
	for k, s := range last {
		// A fork child that exec'd continues as a new node.
		if s != format.EventExited && !(s == "execve" && strings.HasSuffix(k, "/main.1")) {
			t.Errorf("%s: last row %s, want exited", k, s)
		}
	}
}

// stable is the part of a row that must not change between runs.
func stable(e format.Event) string {
	return fmt.Sprintf("%s %s %d %s %s %s %s %s %d %d %x", e.Node, e.Thread, e.Seq, e.Syscall, e.FDKind, e.Local, e.Peer, e.Conn, e.Offset, e.Ret*boolInt(e.Syscall != "clone" && e.Syscall != "wait4" && e.Syscall != "socket" && e.Syscall != "accept" && e.Syscall != "pipe"), e.PayloadHash)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func TestStableNames(t *testing.T) {
	progs.Need(t)
	for _, args := range [][]string{{"pingpong", "tcp"}, {"pingpong", "unix"}, {"udp"}, {"chain", "2"}} {
		t.Run(args[0]+"-"+args[len(args)-1], func(t *testing.T) {
			var runs [2][]string
			for i := range runs {
				rows, code := trace(t, Config{}, "peer", append([]string{"peer"}, args...)...)
				if code != 0 {
					t.Fatalf("exit %d", code)
				}
				for _, e := range rows {
					runs[i] = append(runs[i], stable(e))
				}
				slices.Sort(runs[i])
			}
			if !slices.Equal(runs[0], runs[1]) {
				t.Errorf("two runs differ:\n%s\n----\n%s", strings.Join(runs[0], "\n"), strings.Join(runs[1], "\n"))
			}
		})
	}
}

// refuse is a Hook that fails every connect with ECONNREFUSED.
type refuse struct{ observed int }

func (h *refuse) Enter(c *Call) Action {
	if e := c.Event; e.Syscall == "connect" && e.Peer == "peer:listen0" {
		return Action{Kind: ActFail, Errno: Errno(syscall.ECONNREFUSED), Fault: "refuse"}
	}
	return Action{}
}
func (h *refuse) Exit(c *Call) Action     { return Action{} }
func (h *refuse) Observe(e *format.Event) { h.observed++ }
func (h *refuse) Acted(r Report)          {}

func TestHookFailConnect(t *testing.T) {
	progs.Need(t)
	h := &refuse{}
	rows, code := trace(t, Config{Hook: h}, "peer", "peer", "refused")
	if code != 3 {
		dump(t, rows)
		t.Fatalf("exit %d, want 3 (connect failed with ECONNREFUSED)", code)
	}
	if h.observed != len(rows) {
		t.Errorf("Observe saw %d rows, %d written", h.observed, len(rows))
	}
	found := false
	for _, e := range rows {
		if e.Syscall == "connect" {
			found = true
			// Refused by the hook as by the kernel: no number (see
			// TestRefusedDialTakesNoNumber).
			if e.Ret != -1 || e.Errno != "ECONNREFUSED" || e.Fault != "refuse" || e.Conn != "peer:main:unconnected>peer:listen0" {
				t.Errorf("connect row: ret %d errno %q fault %q conn %q", e.Ret, e.Errno, e.Fault, e.Conn)
			}
		}
	}
	if !found {
		t.Error("no connect row")
	}
}

// TestRefusedDialTakesNoNumber: a node whose dials are refused before
// its peer listens (a timer's dial racing a peer's start) names the
// socket that connects as it would have without them: a refused socket
// gives its number back and is named node:thread:unconnected from its
// refusal on.
func TestRefusedDialTakesNoNumber(t *testing.T) {
	progs.Need(t)
	for _, family := range []string{"tcp", "unix"} {
		t.Run(family, func(t *testing.T) {
			var runs [2][]string
			for i, refusals := range []int{0, 3} {
				rows, code := trace(t, Config{}, "peer", "peer", "redial", family, strconv.Itoa(refusals))
				if code != 0 {
					dump(t, rows)
					t.Fatalf("exit %d", code)
				}
				runs[i] = withoutRefused(t, rows, refusals)
			}
			if !slices.Equal(runs[0], runs[1]) {
				t.Errorf("names change with refused dials before:\n%s\n----\n%s", strings.Join(runs[0], "\n"), strings.Join(runs[1], "\n"))
			}
			for _, want := range []string{"connect peer:main:s1 peer:listen0 peer:main:s1>peer:listen0", "accept peer:main:s2 peer:main:s1 peer:main:s1>peer:listen0"} {
				if !slices.Contains(runs[1], want) {
					t.Errorf("no row %q in\n%s", want, strings.Join(runs[1], "\n"))
				}
			}
		})
	}
}

// withoutRefused checks that rows have n refused connects, each named
// peer:main:unconnected from its connect on, and returns the names of the
// other rows (syscall, local, peer, conn), leaving out the socket rows of
// the refused sockets.
func withoutRefused(t *testing.T, rows []format.Event, n int) []string {
	t.Helper()
	const unconnected = "peer:main:unconnected"
	refusedFD := map[int32]bool{}
	for _, e := range rows {
		if e.Syscall == "connect" && e.Errno != "" {
			refusedFD[e.FD] = true
		}
	}
	var names []string
	refused := 0
	for i, e := range rows {
		switch {
		case e.Syscall == "socket" && refusedFD[e.FD] && nextOnFD(rows[i+1:], e.FD).Errno == "ECONNREFUSED":
			continue
		case e.Syscall == "connect" && e.Errno != "":
			refused++
			if e.Errno != "ECONNREFUSED" || e.Local != unconnected || !strings.HasPrefix(e.Conn, unconnected+">") {
				t.Errorf("refused connect: errno %q local %q conn %q, want ECONNREFUSED on %s", e.Errno, e.Local, e.Conn, unconnected)
			}
			continue
		case e.Local == unconnected:
			if e.Syscall != "close" {
				t.Errorf("%s on an unconnected socket", e.Syscall)
			}
			continue
		case e.FDKind != format.KindTCP && e.FDKind != format.KindUnix:
			continue
		}
		names = append(names, strings.Join([]string{e.Syscall, e.Local, e.Peer, e.Conn}, " "))
	}
	if refused != n {
		dump(t, rows)
		t.Errorf("%d refused connects, want %d", refused, n)
	}
	return names
}

// nextOnFD returns the first of rows on descriptor fd.
func nextOnFD(rows []format.Event, fd int32) format.Event {
	for _, e := range rows {
		if e.FD == fd {
			return e
		}
	}
	return format.Event{}
}

func TestEpollThreads(t *testing.T) {
	progs.Need(t)
	const clients, rounds = 4, 30
	rows, code := trace(t, Config{}, "epoll", "epoll", "3", strconv.Itoa(clients), strconv.Itoa(rounds))
	if code != 0 {
		dump(t, rows)
		t.Fatalf("exit %d", code)
	}
	sent, recvd := sums(rows)
	if len(sent) != clients {
		t.Errorf("%d conns, want %d: %v", len(sent), clients, sent)
	}
	for conn, n := range sent {
		if want := int64(2 * rounds * 50); n != want || recvd[conn] != want {
			t.Errorf("conn %s: sent %d received %d, want %d both ways", conn, n, recvd[conn], want)
		}
	}
	checkOffsets(t, rows)
	// The server's reads happen on its worker threads, not in main.
	servers := map[string]bool{}
	for _, e := range rows {
		if e.Node == "epoll" && e.Syscall == "read" && e.PID != e.TID {
			servers[e.Thread] = true
		}
	}
	if len(servers) == 0 {
		t.Errorf("no reads on worker threads")
	}
}

// BenchmarkPingPong measures the traced cost of one round trip (four
// recorded calls: two writes, two reads) on loopback TCP.
func BenchmarkPingPong(b *testing.B) {
	progs.Need(b)
	const n = 2000
	b.ResetTimer()
	events := 0
	for i := 0; i < b.N; i++ {
		rows, code := trace(b, Config{}, "peer", "peer", "pingpong", "tcp", strconv.Itoa(n))
		if code != 0 {
			b.Fatalf("exit %d", code)
		}
		events += len(rows)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/roundtrip")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// once is a Hook that acts on the first call entry matching match.
type once struct {
	match func(e *format.Event) bool
	act   Action
	fired atomic.Bool
}

func (h *once) Enter(c *Call) Action {
	if !h.fired.Load() && h.match(c.Event) {
		h.fired.Store(true)
		return h.act
	}
	return Action{}
}
func (h *once) Exit(c *Call) Action     { return Action{} }
func (h *once) Observe(e *format.Event) {}
func (h *once) Acted(r Report)          {}

// clientWrite matches the pingpong client's write at a stream offset.
func clientWrite(off int64) func(e *format.Event) bool {
	return func(e *format.Event) bool {
		return e.Syscall == "write" && e.Thread == "main.1" && e.Offset == off
	}
}

func find(rows []format.Event, f func(e format.Event) bool) *format.Event {
	for i := range rows {
		if f(rows[i]) {
			return &rows[i]
		}
	}
	return nil
}

// bytesRead sums what the pingpong server (thread main) read.
func bytesRead(rows []format.Event) int64 {
	n := int64(0)
	for _, e := range rows {
		if e.Thread == "main" && e.Syscall == "read" && e.Ret > 0 {
			n += e.Ret
		}
	}
	return n
}

func TestHookShutdown(t *testing.T) {
	progs.Need(t)
	h := &once{match: clientWrite(200), act: Action{Kind: ActShutdown, Ret: -int64(EPIPE), Fault: "drop"}}
	rows, code := trace(t, Config{Hook: h}, "peer", "peer", "pingpong", "tcp", "5")
	if code == 0 {
		t.Errorf("exit 0 although the connection was torn down")
	}
	w := find(rows, func(e format.Event) bool { return e.Fault != "" })
	if w == nil || w.Syscall != "write" || w.Ret != -1 || w.Errno != "EPIPE" || w.Fault != "drop" {
		dump(t, rows)
		t.Fatalf("faulted row %+v", w)
	}
	// The server got the first two messages, then end of file.
	if n := bytesRead(rows); n != 200 {
		t.Errorf("server read %d bytes, want 200", n)
	}
	if eof := find(rows, func(e format.Event) bool { return e.Thread == "main" && e.Syscall == "read" && e.Ret == 0 }); eof == nil || eof.Offset != 200 {
		t.Errorf("server's end of file: %+v, want a read returning 0 at offset 200", eof)
	}
}

func TestHookKillNode(t *testing.T) {
	progs.Need(t)
	h := &once{match: clientWrite(200), act: Action{Kind: ActSignal, Signal: SIGKILL, Fault: "crash"}}
	rows, code := trace(t, Config{Hook: h}, "peer", "peer", "pingpong", "tcp", "5")
	if code != 128+9 {
		t.Errorf("exit %d, want %d (SIGKILL)", code, 128+9)
	}
	w := find(rows, func(e format.Event) bool { return e.Fault == "crash" })
	if w == nil || w.Syscall != "write" || w.Offset != 200 || w.Errno != "EINTR" {
		dump(t, rows)
		t.Fatalf("faulted row %+v", w)
	}
	// Killed after its 2nd send and before its 3rd: the server got 2.
	if n := bytesRead(rows); n != 200 {
		t.Errorf("server read %d bytes, want 200", n)
	}
	for _, th := range []string{"main", "main.1"} {
		if find(rows, func(e format.Event) bool {
			return e.Thread == th && e.Syscall == format.EventSignaled && e.Arg == "SIGKILL"
		}) == nil {
			t.Errorf("%s: no signaled SIGKILL row", th)
		}
	}
}

func TestHookHold(t *testing.T) {
	progs.Need(t)
	const d = 300 * time.Millisecond
	h := &once{match: clientWrite(100), act: Action{Kind: ActHold, Hold: d, Fault: "delay"}}
	rows, code := trace(t, Config{Hook: h}, "peer", "peer", "pingpong", "tcp", "3")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var prev, held *format.Event
	for i := range rows {
		if rows[i].Fault == "delay" {
			held = &rows[i]
			break
		}
		if rows[i].Thread == "main.1" {
			prev = &rows[i]
		}
	}
	if held == nil || prev == nil {
		dump(t, rows)
		t.Fatal("no held row")
	}
	if gap := time.Duration(held.TimeNS - prev.TimeNS); gap < d {
		t.Errorf("held write finished %v after the previous row, want >= %v", gap, d)
	}
	if n := bytesRead(rows); n != 300 {
		t.Errorf("server read %d bytes, want 300", n)
	}
}

// TestInterpreters traces the same echo exchange written in Python and
// Java (skipped where they are not installed): 5 round trips of 100 bytes.
func TestInterpreters(t *testing.T) {
	progs.Need(t)
	py, _ := filepath.Abs("testdata/echo.py")
	for _, c := range []struct {
		name, bin string
		argv      []string
	}{
		{"python3", "python3", []string{"python3", py}},
		{"java", "java", []string{"java", "-cp", progs.Dir, "Echo"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			prereq.Command(t, c.bin)
			if c.name == "java" {
				if _, err := os.Stat(filepath.Join(progs.Dir, "Echo.class")); err != nil {
					prereq.Missing(t, "Echo.java not compiled (no javac)")
				}
			}
			rows, code := traceArgv(t, Config{}, c.name, c.argv)
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			sent, recvd := sums(rows)
			found := false
			for conn, n := range sent {
				if strings.HasSuffix(conn, ">"+c.name+":listen0") {
					found = true
					if n != 1000 || recvd[conn] != 1000 {
						t.Errorf("conn %s: sent %d received %d, want 1000", conn, n, recvd[conn])
					}
				}
			}
			if !found {
				t.Errorf("no connection to %s:listen0 in %v", c.name, sent)
			}
		})
	}
}

// TestNoSeccomp checks the PTRACE_SYSCALL fallback gives the same rows as
// the seccomp fast path.
func TestNoSeccomp(t *testing.T) {
	progs.Need(t)
	var runs [2][]string
	for i, cfg := range []Config{{}, {NoSeccomp: true, Warn: func(string) {}}} {
		rows, code := trace(t, cfg, "peer", "peer", "pingpong", "unix", "4")
		if code != 0 {
			t.Fatalf("NoSeccomp=%v: exit %d", cfg.NoSeccomp, code)
		}
		for _, e := range rows {
			runs[i] = append(runs[i], stable(e))
		}
		slices.Sort(runs[i])
	}
	if !slices.Equal(runs[0], runs[1]) {
		t.Errorf("seccomp and PTRACE_SYSCALL runs differ:\n%s\n----\n%s", strings.Join(runs[0], "\n"), strings.Join(runs[1], "\n"))
	}
}

// TestOtherTransfers covers writev, sendmsg, a dup2'd descriptor, readv,
// recvmsg, socketpair, pipe2, splice and sendfile: per endpoint, the bytes
// moved and the stream offsets.
func TestOtherTransfers(t *testing.T) {
	progs.Need(t)
	rows, code := trace(t, Config{}, "peer", "peer", "misc")
	if code != 0 {
		dump(t, rows)
		t.Fatalf("exit %d", code)
	}
	moved := map[string]int64{}
	calls := map[string]bool{}
	for _, e := range rows {
		if e.Offset >= 0 && e.Ret > 0 {
			moved[e.Local] += e.Ret
			calls[e.Syscall] = true
		}
	}
	want := map[string]int64{
		"peer:main:s0.1": 77, "peer:main:s0.0": 77, // socketpair
		"peer:main:s1.1": 100, "peer:main:s1.0": 100, // pipe, read by splice
		"peer:main:s2.0": 150, "peer:main:s2.1": 150, // splice + sendfile
	}
	for l, n := range want {
		if moved[l] != n {
			dump(t, rows)
			t.Fatalf("%s moved %d bytes, want %d (all: %v)", l, moved[l], n, moved)
		}
	}
	for _, c := range []string{"writev", "sendmsg", "write", "readv", "recvmsg", "splice", "sendfile", "read"} {
		if !calls[c] {
			t.Errorf("no %s row", c)
		}
	}
	checkOffsets(t, rows)
}

// TestPauseNode stops the whole node with SIGSTOP at the client's 2nd write
// and continues it 300ms later (the action's Then): the run completes, with
// the gap.
func TestPauseNode(t *testing.T) {
	progs.Need(t)
	const d = 300 * time.Millisecond
	h := &once{match: clientWrite(100), act: Action{Kind: ActSignal, Signal: SIGSTOP, Fault: "pause",
		Then: &Later{After: d, Signal: SIGCONT}}}
	rows, code := trace(t, Config{Hook: h}, "peer", "peer", "pingpong", "tcp", "3")
	if code != 0 {
		dump(t, rows)
		t.Fatalf("exit %d", code)
	}
	if n := bytesRead(rows); n != 300 {
		t.Errorf("server read %d bytes, want 300", n)
	}
	first, last := rows[0].TimeNS, rows[len(rows)-1].TimeNS
	if time.Duration(last-first) < d {
		t.Errorf("run took %v, want at least the %v pause", time.Duration(last-first), d)
	}
}

func TestPayloadPrefix(t *testing.T) {
	progs.Need(t)
	rows, code := trace(t, Config{Payload: 4}, "peer", "peer", "pingpong", "tcp", "2")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	n := 0
	for _, e := range rows {
		if e.FDKind == format.KindTCP && e.Ret > 0 && (e.Syscall == "read" || e.Syscall == "write") {
			n++
			if string(e.Payload) != "pppp" {
				t.Errorf("seq %d %s: payload %q, want %q", e.Seq, e.Syscall, e.Payload, "pppp")
			}
		} else if e.Payload != nil {
			t.Errorf("seq %d %s: payload %q on a row without data", e.Seq, e.Syscall, e.Payload)
		}
	}
	if n != 8 {
		t.Errorf("%d data rows, want 8", n)
	}
}

// TestCloseStopped: Close ends a run whose process stopped itself
// (group-stop) and one that ignores SIGTERM.
func TestCloseStopped(t *testing.T) {
	progs.Need(t)
	tr, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range tr.Events() {
		}
	}()
	var procs []*Proc
	for _, cmd := range []string{"kill -STOP $$; echo never", "trap '' TERM; sleep 60"} {
		p, err := tr.Start(Spec{Node: "n", Argv: []string{"/bin/sh", "-c", cmd}})
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}
	time.Sleep(100 * time.Millisecond)
	tr.Signal("", syscall.SIGTERM)
	done := make(chan struct{})
	go func() { tr.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	for _, p := range procs {
		select {
		case <-p.Done():
		default:
			t.Errorf("pid %d not reported done", p.Pid)
		}
		if err := syscall.Kill(p.Pid, 0); err == nil {
			t.Errorf("pid %d still exists", p.Pid)
		}
	}
}

// checkConnNames checks that the server's end of every connection (accept
// rows; recvfrom rows for datagrams) is named as the client's end (its
// connect or sendto row) names it, with a stable peer name, never a raw
// address, and that both ends saw the same bytes under that name (so two
// names swapped show too). It returns the number of client ends and of
// server ends.
func checkConnNames(t *testing.T, rows []format.Event) (int, int) {
	t.Helper()
	clients := map[string]bool{}
	sent, recvd := map[string]string{}, map[string]string{}
	for _, e := range rows {
		switch {
		case e.Syscall == "connect" && (e.Ret == 0 || e.Errno == "EINPROGRESS"):
			clients[e.Conn] = true
		case e.Syscall == "sendto" && e.Ret > 0:
			clients[e.Conn] = true
			sent[e.Conn] += string(e.Payload)
		case e.Syscall == "write" && e.Ret > 0:
			sent[e.Conn] += string(e.Payload)
		case (e.Syscall == "read" || e.Syscall == "recvfrom") && e.Ret > 0:
			recvd[e.Conn] += string(e.Payload)
		}
	}
	servers, seen := 0, map[string]bool{}
	for _, e := range rows {
		if !strings.HasPrefix(e.Syscall, "accept") && e.Syscall != "recvfrom" || e.Ret < 0 {
			continue
		}
		servers++
		if !clients[e.Conn] || seen[e.Conn] || isAddr(e.Peer) {
			t.Errorf("%s/%s seq %d %s: conn %q peer %q (peer_addr %s): not one client's name", e.Node, e.Thread, e.Seq, e.Syscall, e.Conn, e.Peer, e.PeerAddr)
		}
		seen[e.Conn] = true
	}
	for conn, b := range sent {
		if recvd[conn] != b {
			t.Errorf("conn %s: sent %x, received %x", conn, b, recvd[conn])
		}
	}
	return len(clients), servers
}

// isAddr reports whether s is a raw address ("127.0.0.1:80", "[::1]:80").
func isAddr(s string) bool {
	_, err := netip.ParseAddrPort(s)
	return err == nil
}

// TestNonBlockingConnect races accepts against non-blocking connects from
// other processes and threads (the Redis replica pattern): both ends must
// agree on the connection's name in every run.
func TestNonBlockingConnect(t *testing.T) {
	progs.Need(t)
	for _, c := range []struct {
		name, server, family    string
		clients, threads, socks int
	}{
		{"seq", "accept", "tcp", 1, 1, 8},
		{"procs", "accept", "tcp", 3, 1, 6},
		{"threads", "accept", "tcp", 1, 4, 5},
		{"epoll-procs", "epoll", "tcp", 3, 1, 6},
		{"epoll-threads", "epoll", "tcp", 2, 3, 4},
		{"unix-procs", "accept", "unix", 3, 1, 6},
		{"unix-threads", "accept", "unix", 2, 3, 4},
		{"unix-epoll", "epoll", "unix", 2, 3, 4},
		{"udp-threads", "accept", "udp", 2, 3, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			total := c.clients * c.threads * c.socks
			deadline := time.Now().Add(700 * time.Millisecond)
			runs := 0
			for ; runs < 30 && (runs < 3 || time.Now().Before(deadline)); runs++ {
				rows, code := trace(t, Config{Payload: 8}, "nbconn", "nbconn", c.server,
					strconv.Itoa(c.clients), strconv.Itoa(c.threads), strconv.Itoa(c.socks), c.family)
				if code != 0 {
					dump(t, rows)
					t.Fatalf("run %d: exit %d", runs, code)
				}
				// A lost connect row (its socket's descriptor dropped) shows
				// here too, not only as a misnamed accept.
				if nc, ns := checkConnNames(t, rows); nc != total || ns != total {
					t.Errorf("run %d: %d client ends, %d server ends, want %d", runs, nc, ns, total)
				}
				if t.Failed() {
					t.Fatalf("failed in run %d", runs)
				}
			}
			t.Logf("%d runs", runs)
		})
	}
}

// killFirst is a Hook that, at the entry of the first call matching match,
// has the caller killed from outside (as the OOM killer would) and waits
// until it is gone, then asks for act: the tracer's register write finds
// no thread.
type killFirst struct {
	match   func(e *format.Event) bool
	act     Action
	fired   bool
	reports []Report
}

func (h *killFirst) Enter(c *Call) Action {
	if h.fired || !h.match(c.Event) {
		return Action{}
	}
	h.fired = true
	tid := int(c.Event.TID)
	syscall.Kill(int(c.Event.PID), syscall.SIGKILL)
	for !dead(tid) {
		time.Sleep(time.Millisecond) // a condition polled: the kernel ends the thread
	}
	return h.act
}
func (h *killFirst) Exit(c *Call) Action     { return Action{} }
func (h *killFirst) Observe(e *format.Event) {}
func (h *killFirst) Acted(r Report)          { h.reports = append(h.reports, r) }

// dead reports whether thread tid has left every stop for good: a zombie,
// or gone.
func dead(tid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", tid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X')
}

// TestActionThatCannotAct: a fault whose register write fails (its thread
// was killed meanwhile) is reported to the Hook with the ptrace error, and
// leaves no fault mark in the trace.
func TestActionThatCannotAct(t *testing.T) {
	progs.Need(t)
	h := &killFirst{match: clientWrite(100), act: Action{Kind: ActFail, Errno: Errno(syscall.EIO), Fault: "eio"}}
	rows, code := trace(t, Config{Hook: h}, "peer", "peer", "pingpong", "tcp", "3")
	if code == 0 {
		t.Errorf("exit 0, although its client was killed")
	}
	if find(rows, func(e format.Event) bool {
		return e.Thread == "main.1" && e.Syscall == format.EventSignaled && e.Arg == "SIGKILL"
	}) == nil {
		t.Errorf("the client has no signaled SIGKILL row")
	}
	if len(h.reports) != 1 || h.reports[0].Fault != "eio" || !errors.Is(h.reports[0].Err, syscall.ESRCH) ||
		!strings.Contains(h.reports[0].Err.Error(), "ptrace(GETREGS) pid ") {
		t.Fatalf("reports %+v, want one for eio with ptrace(GETREGS) ... no such process", h.reports)
	}
	t.Logf("reported: %v", h.reports[0].Err)
	if w := find(rows, func(e format.Event) bool { return e.Fault != "" }); w != nil {
		dump(t, rows)
		t.Errorf("a row is marked although the fault did not act: %+v", w)
	}
}

// TestSignalNobody: a signal to a node with no live process does not act,
// and says so.
func TestSignalNobody(t *testing.T) {
	progs.Need(t)
	h := &once{match: clientWrite(100), act: Action{Kind: ActSignal, Signal: SIGSTOP, Node: "ghost", Fault: "pause"}}
	var reports []Report
	rec := &recorder{once: h, acted: func(r Report) { reports = append(reports, r) }}
	rows, code := trace(t, Config{Hook: rec}, "peer", "peer", "pingpong", "tcp", "3")
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	if len(reports) != 1 || reports[0].Err == nil || reports[0].Err.Error() != "SIGSTOP to node ghost: no live process" {
		t.Errorf("reports %+v, want SIGSTOP to node ghost: no live process", reports)
	}
	if w := find(rows, func(e format.Event) bool { return e.Fault != "" }); w != nil {
		t.Errorf("a row is marked although the fault did not act: %+v", w)
	}
}

// recorder is once, keeping the reports.
type recorder struct {
	*once
	acted func(Report)
}

func (r *recorder) Acted(rep Report) { r.acted(rep) }

// TestFiles traces what a store does to its files under a root and checks
// every row of them: names (the same whatever the folder), flags, offsets
// (appends, pwrites, the position after a write), lengths, syncs of files
// and of a directory, of a range and of everything, renames, links,
// truncation, preallocation; an open elsewhere gets no row.
func TestFiles(t *testing.T) {
	progs.Need(t)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var warnings []string
	h := &fileCalls{}
	cfg := Config{Files: []FileRoot{{Dir: dir, Name: "$D"}}, Hook: h,
		Warn: func(m string) { mu.Lock(); warnings = append(warnings, m); mu.Unlock() }}
	rows, code := trace(t, cfg, "files", "files", dir)
	if code != 0 {
		dump(t, rows)
		t.Fatalf("exit %d", code)
	}
	var got []string
	for _, e := range rows {
		ret := strconv.FormatInt(e.Ret, 10)
		if e.Syscall == "mmap" {
			ret = "addr"
		}
		if e.FDKind == format.KindFile && e.Syscall != "io_uring_setup" {
			got = append(got, fmt.Sprintf("%s %s %s off=%d ret=%s %s", e.Syscall, e.Local, e.Peer, e.Offset, ret, e.Arg))
		}
	}
	if find(rows, func(e format.Event) bool { return e.Syscall == "io_uring_setup" && e.Arg == "io_uring" }) == nil {
		t.Errorf("no io_uring_setup row")
	}
	mu.Lock()
	for _, w := range []string{"uses a shared writable mapping of $D/d/data", "uses io_uring"} {
		if !slices.ContainsFunc(warnings, func(s string) bool { return strings.Contains(s, w) }) {
			t.Errorf("no warning that the node %s in %q", w, warnings)
		}
	}
	mu.Unlock()
	// The hook learns at a write's entry where it will land: where its row
	// says it did.
	for i, e := range rows {
		if e.FDKind == format.KindFile && sysentWrite(e.Syscall) {
			if c, ok := h.at[e.Seq]; !ok || c.File != e.Local || c.FileOffset != e.Offset {
				t.Errorf("row %d, %s of %s at %d: the hook saw %+v", i, e.Syscall, e.Local, e.Offset, c)
			}
		}
	}
	want := []string{
		"mkdir $D/d  off=-1 ret=0 ",
		"openat $D/d/log  off=-1 ret=3 O_WRONLY|O_CREAT|O_APPEND",
		"write $D/d/log  off=0 ret=4 ",
		"write $D/d/log  off=4 ret=6 ",
		"fdatasync $D/d/log  off=-1 ret=0 ",
		"close $D/d/log  off=-1 ret=0 ",
		"openat $D/d/data.tmp  off=-1 ret=3 O_RDWR|O_CREAT|O_TRUNC",
		"write $D/d/data.tmp  off=0 ret=10 ",
		"pwrite64 $D/d/data.tmp  off=100 ret=5 ",
		"write $D/d/data.tmp  off=10 ret=3 ",
		"ftruncate $D/d/data.tmp  off=50 ret=0 ",
		"fsync $D/d/data.tmp  off=-1 ret=0 ",
		"close $D/d/data.tmp  off=-1 ret=0 ",
		"rename $D/d/data.tmp $D/d/data off=-1 ret=0 ",
		"openat $D/d  off=-1 ret=3 O_RDONLY|O_DIRECTORY",
		"renameat $D/d/log $D/d/log.old off=-1 ret=0 ",
		"fsync $D/d  off=-1 ret=0 ",
		"openat $D/d/data  off=-1 ret=4 O_RDONLY",
		"read $D/d/data  off=0 ret=8 ",
		"pread64 $D/d/data  off=2 ret=4 ",
		"close $D/d/data  off=-1 ret=0 ",
		"openat $D/d/log.old  off=-1 ret=4 O_WRONLY|O_APPEND|O_SYNC",
		"writev $D/d/log.old  off=10 ret=7 ",
		"close $D/d/log.old  off=-1 ret=0 ",
		"close $D/d  off=-1 ret=0 ",
		"openat $D/d/data  off=-1 ret=3 O_RDWR",
		"mmap $D/d/data  off=-1 ret=addr MAP_SHARED|PROT_WRITE",
		"close $D/d/data  off=-1 ret=0 ",
		"openat $D/d/log.old  off=-1 ret=3 O_WRONLY",
		"fallocate $D/d/log.old  off=4096 ret=0 8192",
		"sync_file_range $D/d/log.old  off=0 ret=0 17",
		"syncfs $D/d/log.old  off=-1 ret=0 ",
		"close $D/d/log.old  off=-1 ret=0 ",
		"link $D/d/log.old $D/d/log.link off=-1 ret=0 ",
		"truncate $D/d/log.link  off=3 ret=0 ",
		"sync   off=-1 ret=0 ",
		"unlink $D/d/data  off=-1 ret=0 ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("file rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Every write's payload is hashed, as a send's.
	for _, e := range rows {
		if e.FDKind == format.KindFile && sysentWrite(e.Syscall) && e.PayloadHash == 0 {
			t.Errorf("%s at %d of %s: no payload hash", e.Syscall, e.Offset, e.Local)
		}
	}
}

// fileCalls is a Hook that keeps what it saw of file calls at their entry,
// by seq (one thread).
type fileCalls struct{ at map[int64]Call }

func (h *fileCalls) Enter(c *Call) Action {
	if c.File != "" {
		if h.at == nil {
			h.at = map[int64]Call{}
		}
		h.at[c.Event.Seq] = Call{File: c.File, FileOffset: c.FileOffset}
	}
	return Action{}
}
func (h *fileCalls) Exit(c *Call) Action     { return Action{} }
func (h *fileCalls) Observe(e *format.Event) {}
func (h *fileCalls) Acted(r Report)          {}

func sysentWrite(name string) bool {
	return strings.HasPrefix(name, "write") || strings.HasPrefix(name, "pwrite")
}

// TestDatagramPortReused: a socket bound to the port of a closed sender is
// not named for the datagram the closed one left queued at the receiver.
func TestDatagramPortReused(t *testing.T) {
	progs.Need(t)
	rows, code := trace(t, Config{}, "u", "udpreuse")
	if code != 0 {
		dump(t, rows)
		t.Fatalf("exit %d", code)
	}
	sender := map[uint64]string{}
	for _, e := range rows {
		if e.Syscall == "sendto" && e.Ret == 8 {
			sender[e.PayloadHash] = e.Local
		}
	}
	n := 0
	for _, e := range rows {
		if e.Syscall != "recvfrom" || e.Ret != 8 {
			continue
		}
		n++
		if want := sender[e.PayloadHash]; want == "" || e.Peer != want || e.Conn != want+">"+e.Local {
			t.Errorf("recvfrom names peer %q, conn %q; the datagram's sender is %q", e.Peer, e.Conn, want)
		}
	}
	if n != 2 || len(sender) != 2 {
		dump(t, rows)
		t.Fatalf("%d receives, %d senders, want 2 and 2", n, len(sender))
	}
}

// TestGiveBackSock: the ordinal a refused socket gives back goes to the
// next socket; one given back while a later socket holds its own (two
// threads of a Go process dialling at once) is taken first.
func TestGiveBackSock(t *testing.T) {
	var c counters
	take := func(want int) {
		t.Helper()
		if k := c.takeSock(); k != want {
			t.Fatalf("took s%d, want s%d (next %d, free %v)", k, want, c.socks, c.freeSocks)
		}
	}
	take(0)
	take(1)
	c.giveBackSock(1) // the last one: as if never taken
	take(1)
	take(2)
	c.giveBackSock(1) // s2 still open
	take(1)
	take(3)
	c.giveBackSock(2)
	c.giveBackSock(3)
	if c.socks != 2 || len(c.freeSocks) != 0 {
		t.Fatalf("next %d, free %v after giving back the last two; want 2, none", c.socks, c.freeSocks)
	}
}

// TestEarlyListener: a connect seen after a node's listen returned in the
// kernel and before its exit stop was handled names the listener
// node:listen0, not the bound socket it was (node:main:s0); one seen before
// the listen ran is renamed when the listen is seen.
func TestEarlyListener(t *testing.T) {
	for _, listenFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("listening=%v", listenFirst), func(t *testing.T) {
			fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer syscall.Close(fd)
			if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
				t.Fatal(err)
			}
			listen := func() {
				if err := syscall.Listen(fd, 1); err != nil {
					t.Fatal(err)
				}
			}
			if listenFirst {
				listen()
			}
			var told []string
			tr := &Tracer{cfg: Config{OnListen: func(n string) { told = append(told, n) }}, byAddr: map[string]*endpoint{}}
			p := &process{tgid: os.Getpid(), node: &node{name: "b"}, pidfd: -1}
			defer func() {
				if p.pidfd >= 0 {
					syscall.Close(p.pidfd)
				}
			}()
			l := &endpoint{kind: format.KindTCP, family: syscall.AF_INET, stype: syscall.SOCK_STREAM, name: "b:main:s0", owner: p, ownerFD: int32(fd)}
			c := &endpoint{kind: format.KindTCP, family: syscall.AF_INET, stype: syscall.SOCK_STREAM, name: "a:main:s0", peer: l.name}
			c.conn = c.name + ">" + c.peer
			if got := tr.earlyListener(c, l); got != listenFirst {
				t.Fatalf("named a listener at the connect: %v, want %v", got, listenFirst)
			}
			if !listenFirst {
				if l.name != "b:main:s0" {
					t.Errorf("a socket that does not listen yet is named %q", l.name)
				}
				listen()
				tr.listens(p, int32(fd), l) // its exit stop
				if c.conn != "a:main:s0>b:listen0" {
					t.Errorf("connector's conn %q after the listen, want a:main:s0>b:listen0", c.conn)
				}
			}
			if l.name != "b:listen0" || !l.listening || len(told) != 1 {
				t.Errorf("listener %q listening %v, OnListen told %v; want b:listen0, once", l.name, l.listening, told)
			}
		})
	}
}
