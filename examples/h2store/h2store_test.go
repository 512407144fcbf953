package h2store_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/msgclass"
	"github.com/boxofpain/pain/internal/testenv"
)

// bin holds the pipeline's commands and the HTTP/2 server and client,
// built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	// Nothing for -short: both tests skip.
	testenv.Main(m, &bin, []string{"./cmd/pain-trace", "./cmd/pain-track", "./cmd/pain-plan", "./cmd/pain-inject",
		"./examples/h2store/cmd/h2server", "./examples/h2store/cmd/h2client"}, nil)
}

// TestPlansFire traces a Go client speaking HTTP/2 without TLS to a Go
// server (stream offsets move from run to run: the runtime's goroutines
// write SETTINGS, WINDOW_UPDATE and the requests when they please, on
// whichever thread), tracks five runs at class granularity, plans, and
// injects each of the top
// plans ten times: a plan pinned to message classes must fire in at least
// 9 of 10 runs.
func TestPlansFire(t *testing.T) {
	if testing.Short() {
		t.Skip("traces and injects 35 runs")
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	dir := t.TempDir()
	procfile := filepath.Join(dir, "Procfile")
	os.WriteFile(procfile, []byte(fmt.Sprintf("server: %s/h2server -listen %s\n", bin, addr)), 0o644)
	acked := filepath.Join(dir, "acked.txt")
	system := []string{"-f", procfile,
		"-w", fmt.Sprintf("%s/h2client -server %s -n 5 -acked %s", bin, addr, acked),
		"-check", fmt.Sprintf("%s/h2client -server %s -check -acked %s", bin, addr, acked),
		"-timeout", "30s", "-grace", "2s"}
	run := func(tool string, args ...string) []byte {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(filepath.Join(bin, tool), args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 2 {
				t.Fatalf("%s %q: %v\n%s", tool, args, err, stderr.String())
			}
		}
		return stdout.Bytes()
	}
	var traces []string
	for i := 1; i <= 5; i++ {
		trace := filepath.Join(dir, fmt.Sprintf("run-%d.arrows", i))
		run("pain-trace", append([]string{"-run", fmt.Sprintf("run-%d", i), "-o", trace}, system...)...)
		traces = append(traces, trace)
	}
	sched := filepath.Join(dir, "schedules.arrows")
	run("pain-track", append([]string{"-granularity", "class", "-o", sched}, traces...)...)
	plansFile := filepath.Join(dir, "plans.jsonl")
	os.WriteFile(plansFile, run("pain-plan", "-max", "3", sched), 0o644)
	f, err := os.Open(plansFile)
	if err != nil {
		t.Fatal(err)
	}
	plans, err := format.ReadPlans(f, "plans.jsonl")
	f.Close()
	if err != nil || len(plans) == 0 {
		t.Fatalf("no plans: %v", err)
	}
	classes := 0
	for _, p := range plans {
		for _, fl := range p.Faults {
			if fl.Target.Class != "" {
				classes++
			}
		}
		fired := 0
		for i := 0; i < 10; i++ {
			os.Remove(acked)
			out := run("pain-inject", append([]string{"-plan", plansFile, "-id", p.ID, "-o", filepath.Join(dir, "inject.arrows")}, system...)...)
			res, err := format.ReadResults(bytes.NewReader(out), "result")
			if err != nil || len(res) != 1 {
				t.Fatalf("plan %s: result %q: %v", p.ID, out, err)
			}
			if res[0].Fired {
				fired++
			}
		}
		t.Logf("%s fired in %d of 10 runs", p.String(), fired)
		if fired < 9 {
			t.Errorf("plan %s fired in %d of 10 runs, want at least 9", p.ID, fired)
		}
	}
	if classes == 0 {
		t.Errorf("no plan is pinned to a message class")
	}
}

// TestOneRequestPerPut traces five runs of five PUTs on one HTTP/2
// connection and checks that the tracker numbers one workload request per
// PUT: the client's preface, its acknowledgement of the server's SETTINGS
// and the server's SETTINGS, WINDOW_UPDATE and acknowledgement are part of
// the first PUT's request, not requests of their own (package msgclass:
// a receive the server sent before it had read the request's opening
// answers nothing). Runs that number five requests are one class schedule.
//
// A run may number six when the preface was an exchange of its own, which
// no rule that does not parse HTTP/2 can tell from a request: the client
// got the server's answer to its preface (the server's SETTINGS or
// acknowledgement, sent after it read the whole preface) before it wrote
// the first PUT (3 runs in 71 at load 3 to 9 on 2 cores), or the server's
// SETTINGS went out after it had read the preface and the first PUT
// (1 run in 500 at load 1 to 2).
func TestOneRequestPerPut(t *testing.T) {
	if testing.Short() {
		t.Skip("traces 5 runs")
	}
	const puts = 5
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	dir := t.TempDir()
	procfile := filepath.Join(dir, "Procfile")
	os.WriteFile(procfile, []byte(fmt.Sprintf("server: %s/h2server -listen %s\n", bin, addr)), 0o644)
	acked := filepath.Join(dir, "acked.txt")
	var exact []string
	for i := 1; i <= 5; i++ {
		trace := filepath.Join(dir, fmt.Sprintf("run-%d.arrows", i))
		cmd := exec.Command(filepath.Join(bin, "pain-trace"), "-run", fmt.Sprintf("run-%d", i), "-o", trace, "-f", procfile,
			"-w", fmt.Sprintf("%s/h2client -server %s -n %d -acked %s", bin, addr, puts, acked),
			"-check", fmt.Sprintf("%s/h2client -server %s -check -acked %s", bin, addr, acked),
			"-timeout", "30s", "-grace", "2s")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pain-trace: %v\n%s", err, out)
		}
		n, own := requests(t, trace)
		t.Logf("run %d: %d requests for %d PUTs (the preface an exchange of its own: %v)", i, n, puts, own)
		switch {
		case n == puts:
			exact = append(exact, trace)
		case n == puts+1 && own:
		default:
			t.Errorf("run %d: %d workload requests for %d PUTs", i, n, puts)
		}
	}
	if len(exact) == 0 {
		t.Fatal("no run numbered one request per PUT")
	}
	out, err := exec.Command(filepath.Join(bin, "pain-track"), append([]string{"-granularity", "class", "-json"}, exact...)...).Output()
	if err != nil {
		t.Fatalf("pain-track: %v", err)
	}
	var sum struct{ Distinct int }
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Distinct != 1 {
		t.Errorf("%d runs of %d requests give %d class schedules, want 1", len(exact), puts, sum.Distinct)
	}
}

// requests returns how many workload requests the tracker numbers in the
// trace, and whether the preface was an exchange of its own: the workload
// received something on its connection before its second write there (the
// first is Go's preface, written alone; the second the first PUT), or the
// server's first send there entered after the server had read all that
// the workload sent before its first receive.
func requests(t *testing.T, path string) (int, bool) {
	t.Helper()
	_, rows, err := format.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Classes as the injector and class granularity name them: over
	// the calls, not over messages coalesced from them.
	b := hb.NewBuilder(hb.Syscall)
	for i := range rows {
		b.Add(&rows[i])
	}
	g := b.Graph("run")
	tags := map[string]bool{}
	for i, m := range g.Classes() {
		if e := &g.Events[i]; e.Role == hb.RoleWorkload && m.Ordinal > 0 && msgclass.KindOf(e.Syscall, e.Arg) == msgclass.Send {
			tags[m.Class.Tag] = true
		}
	}
	// The workload's calls on its connection, in its order (a Go
	// process: one thread name).
	var calls []*format.Event
	for i := range rows {
		if e := &rows[i]; e.Node == "workload" && e.FDKind == format.KindTCP && e.Ret > 0 {
			calls = append(calls, e)
		}
	}
	slices.SortFunc(calls, func(a, b *format.Event) int { return cmp.Compare(a.Seq, b.Seq) })
	writes, early, opening, conn := 0, false, int64(-1), ""
	for _, e := range calls {
		conn = e.Conn
		switch msgclass.KindOf(e.Syscall, e.Arg) {
		case msgclass.Send:
			writes++
		case msgclass.Recv:
			early = early || writes < 2
			if opening < 0 {
				opening = sentBefore(calls, e.Seq)
			}
		}
	}
	// The server's first send on that connection, at its entry, and how
	// far the server had read by then.
	var first *format.Event
	for i := range rows {
		if e := &rows[i]; e.Node == "server" && e.Conn == conn && e.Offset == 0 && e.Ret > 0 &&
			msgclass.KindOf(e.Syscall, e.Arg) == msgclass.Send {
			first = e
		}
	}
	late := false
	if first != nil && opening > 0 {
		var read int64
		for i := range rows {
			if e := &rows[i]; e.Node == "server" && e.Conn == conn && e.Ret > 0 && e.TimeNS <= first.TimeNS-first.DurNS &&
				msgclass.KindOf(e.Syscall, e.Arg) == msgclass.Recv {
				read = max(read, e.Offset+e.Ret)
			}
		}
		late = read >= opening
	}
	return len(tags), early || late
}

// sentBefore returns how many bytes the calls before seq sent.
func sentBefore(calls []*format.Event, seq int64) int64 {
	var n int64
	for _, e := range calls {
		if e.Seq < seq && msgclass.KindOf(e.Syscall, e.Arg) == msgclass.Send {
			n = max(n, e.Offset+e.Ret)
		}
	}
	return n
}
