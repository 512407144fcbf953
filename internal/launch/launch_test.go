package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/testenv"
	"github.com/boxofpain/pain/internal/tracee"
	"github.com/boxofpain/pain/internal/tracer"
)

// progs holds the C test program, built before any tracer runs.
var progs tracee.Programs

func TestMain(m *testing.M) { tracee.Main(m, &progs, "testdata/node.c") }

// runSystem runs s and returns the result, the error, the rows of the trace
// and the progress text.
func runSystem(t *testing.T, s System) (Result, []format.Event, string, error) {
	t.Helper()
	var trace, progress bytes.Buffer
	res, err := Run(context.Background(), s, Options{Out: &trace, Progress: &progress, Prefix: "test: ", Tool: "test", Run: t.Name()})
	t.Logf("progress:\n%s", progress.String())
	r, rerr := format.NewReader(&trace, t.Name())
	if rerr != nil {
		t.Fatalf("trace unreadable: %v", rerr)
	}
	var rows []format.Event
	for {
		var e format.Event
		if err := r.Next(&e); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("reading trace: %v", err)
		}
		rows = append(rows, e)
	}
	if int64(len(rows)) != res.Rows {
		t.Errorf("trace has %d rows, Run says %d", len(rows), res.Rows)
	}
	return res, rows, progress.String(), err
}

func TestProcfileRun(t *testing.T) {
	progs.Need(t)
	p1, p2 := testenv.FreePort(t), testenv.FreePort(t)
	nodes, err := ParseProcfile(strings.NewReader(fmt.Sprintf("# two servers\nkv1: exec %s serve %d\n\nkv2: %s serve %d\n", progs.Path("node"), p1, progs.Path("node"), p2)))
	if err != nil {
		t.Fatal(err)
	}
	res, rows, _, err := runSystem(t, System{
		Nodes:    nodes,
		Workload: fmt.Sprintf("%s client %d 2 && %s client %d 1", progs.Path("node"), p1, progs.Path("node"), p2),
		Check:    "exit 0",
		Timeout:  10 * time.Second,
		Grace:    time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Ready || res.WorkloadStatus != 0 || res.CheckStatus != 0 {
		t.Fatalf("result %+v", res)
	}
	accepts := map[string]int{}
	conns := map[string]bool{}
	for _, e := range rows {
		if e.Syscall == "accept" && e.Ret >= 0 {
			accepts[e.Node]++
			conns[e.Conn] = true
		}
	}
	if accepts["kv1"] != 2 || accepts["kv2"] != 1 {
		t.Errorf("accepts per node %v, want kv1:2 kv2:1", accepts)
	}
	for c := range conns {
		if !strings.HasPrefix(c, "workload:") || !(strings.HasSuffix(c, ">kv1:listen0") || strings.HasSuffix(c, ">kv2:listen0")) {
			t.Errorf("conn %q: want workload:...>kvN:listen0", c)
		}
	}
}

func TestCheckFails(t *testing.T) {
	progs.Need(t)
	res, _, _, err := runSystem(t, System{Argv: []string{"/bin/true"}, Check: "exit 4", Timeout: 5 * time.Second})
	if err != nil || res.CheckStatus != 4 {
		t.Fatalf("err %v, check status %d, want 4", err, res.CheckStatus)
	}
}

func TestNeverReady(t *testing.T) {
	progs.Need(t)
	res, rows, _, err := runSystem(t, System{
		Nodes:   []Node{{Name: "slow", Command: "sleep 30"}},
		Timeout: 300 * time.Millisecond,
		Grace:   200 * time.Millisecond,
	})
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "slow") {
		t.Fatalf("err %v, want ErrNotReady naming the node", err)
	}
	if res.Ready || len(rows) == 0 {
		t.Errorf("ready %v, %d rows", res.Ready, len(rows))
	}
}

func TestNodeCrashBeforeReady(t *testing.T) {
	progs.Need(t)
	_, _, _, err := runSystem(t, System{Nodes: []Node{{Name: "bad", Command: progs.Path("node") + " crash"}}, Timeout: 5 * time.Second})
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "bad exited with status 3") {
		t.Fatalf("err %v", err)
	}
}

func TestWorkloadHangs(t *testing.T) {
	progs.Need(t)
	port := testenv.FreePort(t)
	res, _, _, err := runSystem(t, System{
		Nodes:    []Node{{Name: "srv", Command: fmt.Sprintf("%s serve %d", progs.Path("node"), port)}},
		Workload: "sleep 30",
		Check:    "true",
		Timeout:  500 * time.Millisecond,
	})
	if err != nil || res.WorkloadStatus != -1 || len(res.TimedOut) != 1 || res.CheckStatus != 0 {
		t.Fatalf("err %v result %+v", err, res)
	}
}

func TestReadyCommand(t *testing.T) {
	progs.Need(t)
	port := testenv.FreePort(t)
	res, _, _, err := runSystem(t, System{
		Nodes:    []Node{{Name: "srv", Command: fmt.Sprintf("sleep 0.2; exec %s serve %d", progs.Path("node"), port)}},
		Ready:    fmt.Sprintf("%s client %d 1", progs.Path("node"), port),
		Workload: fmt.Sprintf("%s client %d 1", progs.Path("node"), port),
		Timeout:  5 * time.Second,
	})
	if err != nil || !res.Ready || res.WorkloadStatus != 0 {
		t.Fatalf("err %v result %+v", err, res)
	}
}

// TestNoSurvivors runs a node that ignores SIGTERM and leaves a setsid()
// child behind: after Run nothing of the run may be left.
func TestNoSurvivors(t *testing.T) {
	progs.Need(t)
	mark := testenv.Mark()
	port := testenv.FreePort(t)
	res, _, progress, err := runSystem(t, System{
		Nodes:   []Node{{Name: "stub", Command: fmt.Sprintf("%s stubborn %d", progs.Path("node"), port)}},
		Env:     append(os.Environ(), mark),
		Timeout: 5 * time.Second,
		Grace:   300 * time.Millisecond,
	})
	if err != nil || !res.Ready {
		t.Fatalf("err %v result %+v", err, res)
	}
	if !strings.Contains(progress, "killing them") {
		t.Errorf("progress does not say it killed stragglers:\n%s", progress)
	}
	if pids := testenv.Marked(mark); len(pids) > 0 {
		t.Errorf("processes left after the run: %v", pids)
	}
}

// crashOnce kills node srv once it has served its first connection, then
// has the tracer restart it, as pain-inject's crash-with-restart does.
type crashOnce struct {
	fired     bool
	restarted string // a file made once the restart is done
}

func (h *crashOnce) Enter(c *tracer.Call) tracer.Action { return tracer.Action{} }
func (h *crashOnce) Exit(c *tracer.Call) tracer.Action {
	e := c.Event
	if !h.fired && e.Node == "srv" && e.Syscall == "close" && e.Ret == 0 && e.Local != "srv:listen0" {
		h.fired = true
		return tracer.Action{Kind: tracer.ActSignal, Signal: tracer.SIGKILL, Fault: "crash", Then: &tracer.Later{Restart: true}}
	}
	return tracer.Action{}
}
func (h *crashOnce) Observe(e *format.Event) {}
func (h *crashOnce) Acted(r tracer.Report) {
	if r.Then && r.Err == nil {
		os.WriteFile(h.restarted, nil, 0o666)
	}
}

func TestRestart(t *testing.T) {
	progs.Need(t)
	port := testenv.FreePort(t)
	h := &crashOnce{restarted: filepath.Join(t.TempDir(), "restarted")}
	var trace, progress bytes.Buffer
	// The second client waits for the restart, then until the new srv
	// listens: no guess at how long a restart takes.
	client := fmt.Sprintf("%s client %d 1", progs.Path("node"), port)
	res, err := Run(context.Background(), System{
		Nodes: []Node{{Name: "srv", Command: fmt.Sprintf("%s serve %d", progs.Path("node"), port)}},
		Workload: fmt.Sprintf("%s && until [ -e %s ]; do sleep 0.01; done && until %s 2>/dev/null; do sleep 0.02; done",
			client, h.restarted, client),
		Timeout: time.Minute,
	}, Options{Out: &trace, Progress: &progress, Hook: h})
	t.Logf("progress:\n%s", progress.String())
	if err != nil || res.WorkloadStatus != 0 {
		t.Fatalf("err %v result %+v", err, res)
	}
	_, rows, err := format.ReadFile(writeTemp(t, trace.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var listens []string
	for _, e := range rows {
		if e.Node == "srv" && e.Syscall == "listen" {
			listens = append(listens, e.Thread+" "+e.Local)
		}
	}
	if want := []string{"main srv:listen0", "main@1 srv:listen0"}; !slices.Equal(listens, want) {
		t.Errorf("listens %q, want %q", listens, want)
	}
}

// crashAtListen kills node srv at its first listen, before the system is
// ready, and has the tracer restart it.
type crashAtListen struct{ fired bool }

func (h *crashAtListen) Enter(c *tracer.Call) tracer.Action {
	if !h.fired && c.Event.Node == "srv" && c.Event.Syscall == "listen" {
		h.fired = true
		return tracer.Action{Kind: tracer.ActSignal, Signal: tracer.SIGKILL, Fault: "crash",
			Then: &tracer.Later{After: 50 * time.Millisecond, Restart: true}}
	}
	return tracer.Action{}
}
func (h *crashAtListen) Exit(c *tracer.Call) tracer.Action { return tracer.Action{} }
func (h *crashAtListen) Observe(e *format.Event)           {}
func (h *crashAtListen) Acted(r tracer.Report)             {}

// TestRestartBeforeReady: a node a fault kills and restarts before the
// system is ready is waited for, not reported as a node that ended before
// it was ready (which pain-inject judged a bug: a false finding on etcd,
// whose members a power loss with restart struck while they started).
func TestRestartBeforeReady(t *testing.T) {
	progs.Need(t)
	port := testenv.FreePort(t)
	h := &crashAtListen{}
	var trace, progress bytes.Buffer
	res, err := Run(context.Background(), System{
		Nodes:    []Node{{Name: "srv", Command: fmt.Sprintf("%s serve %d", progs.Path("node"), port)}},
		Workload: fmt.Sprintf("%s client %d 1", progs.Path("node"), port),
		Timeout:  time.Minute,
	}, Options{Out: &trace, Progress: &progress, Hook: h})
	t.Logf("progress:\n%s", progress.String())
	if !h.fired {
		t.Fatal("the crash never fired")
	}
	if err != nil || !res.Ready || res.WorkloadStatus != 0 {
		t.Fatalf("err %v, ready %v, workload status %d; want the restarted node waited for", err, res.Ready, res.WorkloadStatus)
	}
}

func writeTemp(t *testing.T, b []byte) string {
	p := filepath.Join(t.TempDir(), "t.arrows")
	if err := os.WriteFile(p, b, 0o666); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCommandOutput: the `-- CMD` command writes its stdout to
// Options.Stdout and its stderr to Options.Output.
func TestCommandOutput(t *testing.T) {
	progs.Need(t)
	dir := t.TempDir()
	var files [2]*os.File
	for i := range files {
		f, err := os.Create(filepath.Join(dir, fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files[i] = f
	}
	var trace bytes.Buffer
	res, err := Run(context.Background(), System{Argv: []string{"/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2"}, Timeout: 5 * time.Second},
		Options{Out: &trace, Stdout: files[0], Output: files[1]})
	if err != nil || res.WorkloadStatus != 0 {
		t.Fatalf("err %v result %+v", err, res)
	}
	for i, want := range []string{"to-stdout\n", "to-stderr\n"} {
		if b, _ := os.ReadFile(files[i].Name()); string(b) != want {
			t.Errorf("file %d holds %q, want %q", i, b, want)
		}
	}
}

// TestCheckOutput: the result keeps the end of what the check wrote on
// stdout and stderr, and the run's output still gets all of it.
func TestCheckOutput(t *testing.T) {
	progs.Need(t)
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	var trace bytes.Buffer
	check := fmt.Sprintf("head -c %d /dev/zero | tr '\\0' x; echo; echo lost k3 >&2; exit 1", format.CheckOutputMax)
	res, err := Run(context.Background(), System{Argv: []string{"/bin/true"}, Check: check, Timeout: 5 * time.Second},
		Options{Out: &trace, Output: out})
	if err != nil || res.CheckStatus != 1 {
		t.Fatalf("err %v, check status %d", err, res.CheckStatus)
	}
	if len(res.CheckOutput) != format.CheckOutputMax || !strings.HasSuffix(res.CheckOutput, "xx\nlost k3\n") {
		t.Errorf("check output: %d bytes ending %q", len(res.CheckOutput), res.CheckOutput[max(0, len(res.CheckOutput)-20):])
	}
	if b, _ := os.ReadFile(out.Name()); len(b) != format.CheckOutputMax+len("\nlost k3\n") {
		t.Errorf("the run's output got %d bytes of the check's", len(b))
	}
}

// runWatched runs s with o (trace and progress to buffers), failing t if
// Run has not returned within a minute, which only a run that waits for
// something it should have killed takes.
func runWatched(t *testing.T, ctx context.Context, s System, o Options, mark string) (Result, string, error) {
	t.Helper()
	var trace, progress bytes.Buffer
	o.Out, o.Progress, o.Prefix = &trace, &progress, "test: "
	type ret struct {
		res Result
		err error
	}
	done := make(chan ret, 1)
	go func() {
		res, err := Run(ctx, s, o)
		done <- ret{res, err}
	}()
	select {
	case r := <-done:
		t.Logf("progress:\n%s", progress.String())
		return r.res, progress.String(), r.err
	case <-time.After(time.Minute):
		for _, pid := range testenv.Marked(mark) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		t.Fatalf("Run still running after a minute; left: %v", testenv.Marked(mark))
	}
	panic("unreachable")
}

// TestReadyChildDies: a ready command that leaves a background child
// behind. The child is part of the run: it must neither outlive the run
// nor keep Run waiting for it.
func TestReadyChildDies(t *testing.T) {
	progs.Need(t)
	mark := testenv.Mark()
	port := testenv.FreePort(t)
	res, _, err := runWatched(t, context.Background(), System{
		Nodes:   []Node{{Name: "srv", Command: fmt.Sprintf("%s serve %d", progs.Path("node"), port)}},
		Ready:   "sleep 3600 & true",
		Env:     append(os.Environ(), mark),
		Timeout: 30 * time.Second,
		Grace:   time.Second,
	}, Options{}, mark)
	if err != nil || !res.Ready {
		t.Fatalf("err %v result %+v", err, res)
	}
	if pids := testenv.Marked(mark); len(pids) > 0 {
		t.Errorf("processes left after the run: %v", pids)
	}
}

// TestReadyBounded: a ready command that never ends is bounded by the
// timeout, and killed.
func TestReadyBounded(t *testing.T) {
	progs.Need(t)
	mark := testenv.Mark()
	port := testenv.FreePort(t)
	_, _, err := runWatched(t, context.Background(), System{
		Nodes:   []Node{{Name: "srv", Command: fmt.Sprintf("%s serve %d", progs.Path("node"), port)}},
		Ready:   "sleep 3600; true",
		Env:     append(os.Environ(), mark),
		Timeout: 300 * time.Millisecond,
		Grace:   time.Second,
	}, Options{}, mark)
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "ready command") {
		t.Fatalf("err %v, want ErrNotReady about the ready command", err)
	}
	if pids := testenv.Marked(mark); len(pids) > 0 {
		t.Errorf("processes left after the run: %v", pids)
	}
}

// TestInterrupted cancels the run while the workload runs: the run is
// cut short, the workload does not count as timed out, and the check
// never starts.
func TestInterrupted(t *testing.T) {
	progs.Need(t)
	dir := t.TempDir()
	mark := testenv.Mark()
	port := testenv.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		waitFile(filepath.Join(dir, "started"))
		cancel()
	}()
	res, progress, err := runWatched(t, ctx, System{
		Nodes:    []Node{{Name: "srv", Command: fmt.Sprintf("%s serve %d", progs.Path("node"), port)}},
		Workload: "touch started; exec sleep 3600",
		Check:    "touch checked",
		Dir:      dir,
		Env:      append(os.Environ(), mark),
		Timeout:  time.Hour,
		Grace:    time.Second,
	}, Options{}, mark)
	if !errors.Is(err, ErrInterrupted) || !res.Cut {
		t.Fatalf("err %v, cut %v: want ErrInterrupted and a cut run", err, res.Cut)
	}
	if len(res.TimedOut) > 0 || res.WorkloadStatus != -1 || res.CheckStatus != -1 {
		t.Errorf("result %+v: want no timeout and no statuses", res)
	}
	if _, err := os.Stat(filepath.Join(dir, "checked")); err == nil || strings.Contains(progress, "running check") {
		t.Error("the check ran after the interruption")
	}
}

// TestAbort: a second interruption (Options.Abort) does not wait out the
// grace period of a node that ignores SIGTERM.
func TestAbort(t *testing.T) {
	progs.Need(t)
	mark := testenv.Mark()
	port := testenv.FreePort(t)
	// Interrupt only once the node listens: it ignores SIGTERM from then on
	// (a SIGTERM before that kills it at once, with no grace to cut short).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		defer cancel()
		for ctx.Err() == nil {
			if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
				c.Close()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	abort := make(chan struct{})
	close(abort)
	_, progress, err := runWatched(t, ctx, System{
		Nodes:    []Node{{Name: "stub", Command: fmt.Sprintf("%s stubborn %d", progs.Path("node"), port)}},
		Workload: "sleep 600", // still running when the interruption comes
		Env:      append(os.Environ(), mark),
		Timeout:  time.Hour,
		Grace:    time.Hour,
	}, Options{Abort: abort}, mark)
	if !errors.Is(err, ErrInterrupted) || !strings.Contains(progress, "interrupted again") {
		t.Fatalf("err %v, want ErrInterrupted and the abort said", err)
	}
	if pids := testenv.Marked(mark); len(pids) > 0 {
		t.Errorf("processes left after the run: %v", pids)
	}
}

// waitFile returns once path exists.
func waitFile(path string) {
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
