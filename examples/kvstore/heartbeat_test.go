package kvstore_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

type trackSummary struct {
	Distinct  int `json:"distinct"`
	Schedules []struct {
		Runs    int `json:"runs"`
		Classes int `json:"classes"`
	} `json:"schedules"`
	Edges []struct {
		Key  string `json:"key"`
		Runs int    `json:"runs"`
	} `json:"edges"`
}

// TestHeartbeatClasses traces several runs of the store whose primary pings
// its backups from a thread of its own (-heartbeat): the number of
// heartbeats differs from run to run, so at message granularity the runs
// are different schedules. At class granularity they are one, and the
// replication of every write to each backup has the same class name in
// every run, its support adding up to all runs. It traces with the default
// for Go programs (-threads auto: a process is one thread, so the heartbeat
// goroutine's pings sent while a write is in flight are tied to it, and
// untied again as timer traffic, package msgclass); 9 of 9 tries gave one
// class schedule (load 1.5), where -threads os was needed before.
func TestHeartbeatClasses(t *testing.T) {
	if testing.Short() {
		t.Skip("traces several runs")
	}
	dir := t.TempDir()
	procfile, addr := freeStore(t, dir, " -heartbeat 3ms")
	const runs = 5
	var traces []string
	for i := 1; i <= runs; i++ {
		acked := filepath.Join(dir, fmt.Sprintf("acked-%d.txt", i))
		trace := filepath.Join(dir, fmt.Sprintf("run-%d.arrows", i))
		cmd := exec.Command(filepath.Join(bin, "pain-trace"), "-run", fmt.Sprintf("run-%d", i), "-o", trace, "-f", procfile,
			"-w", fmt.Sprintf("%s/kvload -primary %s -n 5 -interval 15ms -acked %s", bin, addr(0), acked),
			"-check", fmt.Sprintf("%s/kvcheck -backups %s,%s -acked %s", bin, addr(1), addr(2), acked),
			"-timeout", "30s", "-grace", "2s")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pain-trace run %d: %v\n%s", i, err, out)
		}
		traces = append(traces, trace)
	}
	track := func(gran string) trackSummary {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "pain-track"), append([]string{"-json", "-granularity", gran}, traces...)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("pain-track -granularity %s: %v", gran, err)
		}
		var s trackSummary
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	msg, cls := track("message"), track("class")
	t.Logf("%d runs: %d schedules at message granularity, %d at class granularity", runs, msg.Distinct, cls.Distinct)
	if msg.Distinct < 2 {
		t.Errorf("message granularity: %d schedule(s) in %d runs; the heartbeats should tell the runs apart", msg.Distinct, runs)
	}
	if cls.Distinct != 1 {
		t.Errorf("class granularity: %d schedules in %d runs, want 1", cls.Distinct, runs)
	}
	// Write k's replication to each backup, in the connection class of the
	// primary's connections to it (its heartbeats' connections are in it
	// too, their messages untied): HELLO and the first write are w1 #1 and
	// #2, write k > 1 is w<k> #1.
	support := map[string]int{}
	for _, e := range cls.Edges {
		support[e.Key] = e.Runs
	}
	for b, conn := range []string{"primary>backup1:listen0", "primary>backup2:listen0"} {
		for k := 1; k <= 5; k++ {
			name, ord := fmt.Sprintf("w%d", k), 1
			if k == 1 {
				ord = 2
			}
			msgName := fmt.Sprintf("%s -> %s #%d", conn, name, ord)
			key := fmt.Sprintf("primary/* send %s -> backup%d/* recv %s", msgName, b+1, msgName)
			if support[key] != runs {
				var keys []string
				for _, e := range cls.Edges {
					keys = append(keys, fmt.Sprintf("%d %s", e.Runs, e.Key))
				}
				t.Fatalf("replication of write %d to backup%d (%s): support %d, want %d; edges:\n%s",
					k, b+1, msgName, support[key], runs, strings.Join(keys, "\n"))
			}
		}
	}
	for _, e := range cls.Edges {
		if strings.Contains(e.Key, " - #") {
			t.Errorf("an untied message in a class schedule: %s", e.Key)
		}
	}
}
