package pool_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/testenv"
)

// bin holds the pipeline's commands and the pooled store's, built once by
// TestMain.
var bin string

func TestMain(m *testing.M) {
	// Nothing for -short: TestPlansFire, the only test, skips.
	testenv.Main(m, &bin, []string{"./cmd/pain-trace", "./cmd/pain-track", "./cmd/pain-plan", "./cmd/pain-inject", "./examples/pool/cmd/..."}, nil)
}

// TestPlansFire runs the pipeline on the pooled store: five traced runs,
// tracked at class granularity, the top 12 plans, each injected once. The
// leader's pool is dialled concurrently and its writes and pings go out on
// whichever member is free, so the connections a message travels on, and
// their names, change from run to run; plans name messages by connection
// class, so at least 11 of the 12 must fire, with the default thread
// naming (-threads auto: the Go processes' threads as one) and with
// -threads process given. The pipeline must find the bug: a plan whose
// injected run loses an acknowledged write. (With -threads os, a name per
// OS thread, which Go's scheduler shuffles, a replication sent from a
// goroutine on another thread than the one that read the request is tied
// to it only once the node's threads share one scope, and 9 of 12 fired
// in one try.)
func TestPlansFire(t *testing.T) {
	if testing.Short() {
		t.Skip("traces and injects 34 runs")
	}
	var addrs []string
	for _, p := range testenv.FreePorts(t, 3) {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", p))
	}
	followers := addrs[1] + "," + addrs[2]
	for _, threads := range []string{"", "process"} {
		t.Run("threads="+threads, func(t *testing.T) {
			dir := t.TempDir()
			procfile := filepath.Join(dir, "Procfile")
			os.WriteFile(procfile, []byte(fmt.Sprintf("leader: %s/poolnode -role leader -listen %s -followers %s\nf1: %[1]s/poolnode -role follower -listen %[4]s\nf2: %[1]s/poolnode -role follower -listen %[5]s\n",
				bin, addrs[0], followers, addrs[1], addrs[2])), 0o644)
			acked := filepath.Join(dir, "acked.txt")
			system := []string{"-f", procfile,
				"-w", fmt.Sprintf("%s/poolload -leader %s -n 5 -acked %s", bin, addrs[0], acked),
				"-check", fmt.Sprintf("%s/poolcheck -followers %s -acked %s", bin, followers, acked),
				"-timeout", "30s", "-grace", "2s"}
			if threads != "" {
				system = append(system, "-threads", threads)
			}
			pipeline(t, bin, dir, acked, system)
		})
	}
}

func pipeline(t *testing.T, bin, dir, acked string, system []string) {
	var stderr bytes.Buffer // of the last tool run
	run := func(tool string, args ...string) []byte {
		t.Helper()
		var stdout bytes.Buffer
		stderr.Reset()
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
		os.Remove(acked)
		trace := filepath.Join(dir, fmt.Sprintf("run-%d.arrows", i))
		run("pain-trace", append([]string{"-run", fmt.Sprintf("run-%d", i), "-o", trace}, system...)...)
		traces = append(traces, trace)
	}
	sched := filepath.Join(dir, "schedules.arrows")
	summary := run("pain-track", append([]string{"-granularity", "class", "-o", sched}, traces...)...)
	t.Logf("%s", bytes.SplitN(summary, []byte("\n"), 2)[0])
	plansFile := filepath.Join(dir, "plans.jsonl")
	run("pain-plan", "-o", plansFile, "-max", "12", "-pause", "1s", "-restart", "300ms", sched)
	f, err := os.Open(plansFile)
	if err != nil {
		t.Fatal(err)
	}
	plans, err := format.ReadPlans(f, "plans.jsonl")
	f.Close()
	if err != nil || len(plans) < 12 {
		t.Fatalf("%d plans: %v", len(plans), err)
	}
	fired, bugs, classes := 0, 0, 0
	for _, p := range plans[:12] {
		os.Remove(acked)
		out := run("pain-inject", append([]string{"-plan", plansFile, "-id", p.ID, "-o", filepath.Join(dir, p.ID+".arrows")}, system...)...)
		res, err := format.ReadResults(bytes.NewReader(out), "result")
		if err != nil || len(res) != 1 {
			t.Fatalf("plan %s: result %q: %v", p.ID, out, err)
		}
		r := res[0]
		if r.Fired {
			fired++
		}
		if r.Verdict == format.VerdictBug {
			bugs++
		}
		if strings.Contains(p.String(), " of message ") {
			classes++
		}
		t.Logf("%s: fired %v, %s", p.String(), r.Fired, r.Verdict)
		if !r.Fired {
			// A plan can miss its message because the system did not send
			// it (the leader forgot a follower that answered a ping late on
			// a loaded machine) or because it was named otherwise: say which.
			t.Logf("the nodes' failures in that run:\n%s", failures(stderr.String()))
		}
	}
	t.Logf("%d of 12 plans fired, %d found the bug, %d pinned to a message class", fired, bugs, classes)
	if classes == 0 {
		t.Errorf("no plan is pinned to a message class")
	}
	if fired < 11 {
		t.Errorf("%d of 12 plans fired, want at least 11", fired)
	}
	if bugs == 0 {
		t.Errorf("no plan found the bug")
	}
}

// failures returns the lines of a run's output where the leader forgot a
// follower, or "none".
func failures(out string) string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "going on without it") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return "none"
	}
	return strings.Join(lines, "\n")
}
