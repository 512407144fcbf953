package kvstore_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTeardownOneSchedule traces eight runs of the store, whose nodes exit
// at once on SIGTERM: as the launcher stops them, a backup reads its
// primary's end of file, or is killed before it does, in an order that
// varies from run to run. The store is otherwise deterministic, so the runs
// must be one schedule: what happens after the teardown mark is no part of
// it. The same traces without their mark (their text form, the mark left
// out) show how often the shutdown order differed.
func TestTeardownOneSchedule(t *testing.T) {
	if testing.Short() {
		t.Skip("traces several runs")
	}
	dir := t.TempDir()
	procfile, addr := freeStore(t, dir, "")
	const runs = 8
	var traces, unmarked []string
	for i := 1; i <= runs; i++ {
		acked := filepath.Join(dir, fmt.Sprintf("acked-%d.txt", i))
		trace := filepath.Join(dir, fmt.Sprintf("run-%d.arrows", i))
		cmd := exec.Command(filepath.Join(bin, "pain-trace"), "-run", fmt.Sprintf("run-%d", i), "-o", trace, "-f", procfile,
			"-w", fmt.Sprintf("%s/kvload -primary %s -n 5 -acked %s", bin, addr(0), acked),
			"-check", fmt.Sprintf("%s/kvcheck -backups %s,%s -acked %s", bin, addr(1), addr(2), acked),
			"-timeout", "30s", "-grace", "5s")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pain-trace run %d: %v\n%s", i, err, out)
		}
		traces = append(traces, trace)
		text, err := exec.Command(filepath.Join(bin, "pain-trace"), "-r", trace).Output()
		if err != nil {
			t.Fatalf("pain-trace -r: %v", err)
		}
		var kept []string
		for _, line := range strings.SplitAfter(string(text), "\n") {
			if !strings.Contains(line, " teardown ") {
				kept = append(kept, line)
			}
		}
		if len(kept) == len(strings.SplitAfter(string(text), "\n")) {
			t.Fatalf("run %d: no teardown mark in its trace", i)
		}
		u := filepath.Join(dir, fmt.Sprintf("unmarked-%d.txt", i))
		os.WriteFile(u, []byte(strings.Join(kept, "")), 0o644)
		unmarked = append(unmarked, u)
	}
	track := func(files []string) int {
		t.Helper()
		out, err := exec.Command(filepath.Join(bin, "pain-track"), append([]string{"-json"}, files...)...).Output()
		if err != nil {
			t.Fatalf("pain-track: %v", err)
		}
		var s trackSummary
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatal(err)
		}
		return s.Distinct
	}
	got, without := track(traces), track(unmarked)
	t.Logf("%d runs: %d schedule(s); %d without the teardown mark", runs, got, without)
	if got != 1 {
		t.Errorf("%d runs of a deterministic store: %d schedules, want 1", runs, got)
	}
}
