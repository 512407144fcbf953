//go:build linux && amd64

package kvstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/ebpfrec"
	"github.com/boxofpain/pain/internal/inject"
	"github.com/boxofpain/pain/internal/prereq"
)

// TestInjectBackends is the differential test of pain-inject -backend
// ebpf: a round of the demo (scripts/demo.sh: real traces of the store,
// tracked and planned as there) whose top plans are injected under full
// ptrace and under -backend ebpf, which records with eBPF and stops only
// where the plan can act. Each plan must fire at the same events (node,
// thread, seq, call) and get the same verdict both ways, and no demo plan
// may fall back to full ptrace. A plan whose fault lasts a while (a pause,
// a timed partition, a restart after a crash) must fire at the same events,
// but its verdict can depend on timing, so it is not compared: partitioning
// the primary from both backups for 3s, against the primary's 2s timeout
// per backup and TCP's retransmissions after the partition heals, was a
// bug under ptrace and survived under eBPF in one loaded run (load about
// 4.5), and survived both ways in the other runs. It runs the demo's numbers, the top 20
// plans of 20 traced runs (about a minute on 2 cores);
// PAIN_DIFF_QUICK=1 the top 8 of 6.
func TestInjectBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("traces and injects a round both ways")
	}
	needRoot(t)
	if err := ebpfrec.Available(); err != nil {
		prereq.Missing(t, "%v", err)
	}
	runs, top := 20, 20
	if os.Getenv("PAIN_DIFF_QUICK") != "" {
		runs, top = 6, 8
	}
	dir := t.TempDir()
	procfile, addr := freeStore(t, dir, "")
	system := func(acked string) []string {
		os.Remove(acked)
		return []string{"-f", procfile, "-w", fmt.Sprintf("%s/kvload -primary %s -n 5 -acked %s", bin, addr(0), acked),
			"-check", fmt.Sprintf("%s/kvcheck -backups %s,%s -acked %s", bin, addr(1), addr(2), acked),
			"-timeout", "30s", "-grace", "2s", "-netns"}
	}
	tool := func(name string, args ...string) (stdout, stderr []byte) {
		var o, e bytes.Buffer
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() != 2 {
			err = nil // 1, 3 and 4 are verdicts
		}
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, e.String())
		}
		return o.Bytes(), e.Bytes()
	}
	var traces []string
	for i := 1; i <= runs; i++ {
		trace := filepath.Join(dir, fmt.Sprintf("run-%04d.arrows", i))
		tool("pain-trace", append([]string{"-run", fmt.Sprintf("run-%04d", i), "-o", trace}, system(filepath.Join(dir, "acked.txt"))...)...)
		traces = append(traces, trace)
	}
	sched := filepath.Join(dir, "schedules.arrows")
	tool("pain-track", append([]string{"-o", sched}, traces...)...)
	plansFile := filepath.Join(dir, "plans.jsonl")
	tool("pain-plan", "-o", plansFile, "-max", fmt.Sprint(top), "-pause", "3s", sched)
	plans := readPlans(t, plansFile)
	if len(plans) < top {
		t.Errorf("%d plans, want %d", len(plans), top)
	}
	for _, p := range plans {
		res := map[string]format.Result{}
		for _, backend := range []string{"ptrace", "ebpf"} {
			out, stderr := tool("pain-inject", append([]string{"-backend", backend, "-plan", plansFile, "-id", p.ID,
				"-o", filepath.Join(dir, p.ID+"-"+backend+".arrows")}, system(filepath.Join(dir, "acked.txt"))...)...)
			if _, err := inject.Stops(&p); err == nil && bytes.Contains(stderr, []byte("full ptrace")) {
				t.Errorf("plan %s fell back to full ptrace under -backend ebpf:\n%s", p.ID, stderr)
			}
			rs, err := format.ReadResults(bytes.NewReader(out), "result")
			if err != nil || len(rs) != 1 {
				t.Fatalf("plan %s -backend %s: result %q: %v\n%s", p.ID, backend, out, err, stderr)
			}
			res[backend] = rs[0]
		}
		a, b := res["ptrace"], res["ebpf"]
		t.Logf("rank %d %s: %s at %s; ebpf: %s at %s", p.Rank, p.String(), a.Verdict, where(a), b.Verdict, where(b))
		if (a.Verdict != b.Verdict && !timed(p.Faults)) || where(a) != where(b) {
			t.Errorf("plan %s (%s): ptrace %s at %s, ebpf %s at %s", p.ID, p.String(), a.Verdict, where(a), b.Verdict, where(b))
		}
	}
}

// timed reports whether a fault of fs lasts a while, so that its verdict
// depends on timing.
func timed(fs []format.Fault) bool {
	return slices.ContainsFunc(fs, func(f format.Fault) bool { return f.Duration != 0 })
}

// where names the events a run's faults fired at: node/thread#seq (call).
func where(r format.Result) string {
	var s []string
	for _, w := range r.Where {
		s = append(s, fmt.Sprintf("%d:%s/%s#%d(%s)", w.Fault, w.Node, w.Thread, w.Seq, w.Syscall))
	}
	return strings.Join(s, " ")
}

// readPlans reads a plans file.
func readPlans(t *testing.T, path string) []format.Plan {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	plans, err := format.ReadPlans(f, path)
	if err != nil {
		t.Fatal(err)
	}
	return plans
}
