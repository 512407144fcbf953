package tracer

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/ptrace"
)

var (
	binDir   string
	buildErr error
)

// TestMain builds the C tracees once, before any tracer runs (a tracer reaps
// every child of the test process, so no exec.Command may run beside one).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pain-tracer-test")
	if err != nil {
		panic(err)
	}
	binDir = dir
	buildErr = build(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func build(dir string) error {
	if _, err := exec.LookPath("gcc"); err != nil {
		return fmt.Errorf("gcc not found: %w", err)
	}
	srcs, _ := filepath.Glob("testdata/*.c")
	for _, src := range srcs {
		out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(src), ".c"))
		if b, err := exec.Command("gcc", "-O2", "-pthread", "-o", out, src).CombinedOutput(); err != nil {
			return fmt.Errorf("gcc %s: %v\n%s", src, err, b)
		}
	}
	return nil
}

func need(t testing.TB) {
	t.Helper()
	if buildErr != nil {
		t.Skip(buildErr)
	}
	if err := ptrace.Probe(); err != nil {
		t.Skipf("ptrace unavailable: %v", err)
	}
}

// trace runs one command under a new tracer and returns its rows and exit code.
func trace(t testing.TB, cfg Config, node string, argv ...string) ([]format.Event, int) {
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
		for e := range tr.Events() {
			rows = append(rows, e)
		}
		close(got)
	}()
	argv[0] = filepath.Join(binDir, argv[0])
	p, err := tr.Start(Spec{Node: node, Argv: argv, SplitExec: true})
	if err != nil {
		tr.Close()
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(20 * time.Second):
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
		if strings.HasPrefix(e.Syscall, "write") || strings.HasPrefix(e.Syscall, "send") {
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
	need(t)
	for _, c := range []struct {
		mode, kind string
		conn       string
		up, down   int64
	}{
		{"tcp", format.KindTCP, "peer:main.1:s0>peer:listen0", 5500, 7},
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
