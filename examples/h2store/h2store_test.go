package h2store_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/boxofpain/pain/format"
)

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
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "../../cmd/pain-trace", "../../cmd/pain-track", "../../cmd/pain-plan",
		"../../cmd/pain-inject", "./cmd/h2server", "./cmd/h2client")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
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
