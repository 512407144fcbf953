package kvstore_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/testenv"
)

// TestPipelineFindsTheDiskBug runs the pipeline on the store with a disk
// (Procfile.wal: backups keep a write-ahead log, the primary is -fixed):
// three traced fault-free runs, pain-track, pain-plan (restart after 1ms,
// so that a backup that lost power is back when the check asks), and the
// top plans injected twice each. With -sync after (a backup answers OK and
// then syncs) a power loss of a backup just after its OK, planned from the
// traces' durability lineage, loses the acknowledged write once the check
// promotes the restarted backup; with the backups syncing first, no plan
// gives a bug verdict. Timing decides whether the restarted backup is back
// before the check asks (else the check promotes the other one), hence
// two runs of each plan.
func TestPipelineFindsTheDiskBug(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline")
	}
	for _, tc := range []struct {
		name, sync string
		bug        bool
	}{{"sync-after", "-sync after", true}, {"sync-before", "", false}} {
		t.Run(tc.name, func(t *testing.T) {
			bugs, fired, tried, checks := diskPipeline(t, bin, tc.sync, 4)
			t.Logf("%d plans tried, %d fired, bug verdicts:\n%s", tried, fired, strings.Join(checks, "\n"))
			switch {
			case tc.bug && bugs == 0:
				t.Errorf("no plan lost an acknowledged write of the store that answers before it syncs")
			case !tc.bug && bugs > 0:
				t.Errorf("%d bug verdicts on the store that syncs first", bugs)
			case 2*fired <= tried:
				t.Errorf("only %d of %d plans fired", fired, tried)
			}
		})
	}
}

// diskPipeline traces, tracks, plans and injects the top plans (twice
// each), and returns how many plans found a bug and fired, how many were
// tried, and for each bug the plan and what the check said.
func diskPipeline(t *testing.T, tools, sync string, top int) (bugs, fired, tried int, checks []string) {
	dir := t.TempDir()
	p := testenv.FreePorts(t, 3)
	addr := func(i int) string { return loopback(p[i]) }
	procfile := filepath.Join(dir, "Procfile")
	os.WriteFile(procfile, []byte(fmt.Sprintf("primary: %[1]s/kvnode -role primary -listen %[2]s -backups %[3]s,%[4]s -fixed\n"+
		"backup1: exec %[1]s/kvnode -role backup -listen %[3]s -data \"$PAIN_RUN_DIR/backup1\" %[5]s\n"+
		"backup2: exec %[1]s/kvnode -role backup -listen %[4]s -data \"$PAIN_RUN_DIR/backup2\" %[5]s\n",
		bin, addr(0), addr(1), addr(2), sync)), 0o644)
	system := func(acked string) []string {
		return []string{"-f", procfile, "-timeout", "30s",
			"-w", fmt.Sprintf("%s/kvload -primary %s -n 3 -acked %s", bin, addr(0), acked),
			"-check", fmt.Sprintf("%s/kvcheck -backups %s,%s -acked %s", bin, addr(1), addr(2), acked)}
	}
	tool := func(name string, args ...string) (string, string) {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(filepath.Join(tools, name), args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && ee.ExitCode() != 2 {
			err = nil // 1 and 3 are verdicts
		}
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	var traces []string
	for i := 1; i <= 3; i++ {
		trace := filepath.Join(dir, fmt.Sprintf("run-%d.arrows", i))
		tool("pain-trace", append([]string{"-run", fmt.Sprintf("run-%d", i), "-o", trace}, system(filepath.Join(dir, fmt.Sprintf("acked-%d.txt", i)))...)...)
		traces = append(traces, trace)
	}
	sched := filepath.Join(dir, "schedules.arrows")
	tool("pain-track", append([]string{"-o", sched}, traces...)...)
	plansFile := filepath.Join(dir, "plans.jsonl")
	tool("pain-plan", "-o", plansFile, "-max", fmt.Sprint(top), "-restart", "1ms", sched)
	f, err := os.Open(plansFile)
	if err != nil {
		t.Fatal(err)
	}
	plans, err := format.ReadPlans(f, plansFile)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, pl := range plans {
		acked := filepath.Join(dir, "acked-"+pl.ID+".txt")
		out, stderr := tool("pain-inject", append([]string{"-repeat", "2", "-plan", plansFile, "-id", pl.ID, "-o", filepath.Join(dir, pl.ID+".arrows")}, system(acked)...)...)
		rs, err := format.ReadResults(strings.NewReader(out), "result")
		if err != nil || len(rs) != 1 {
			t.Fatalf("result %q: %v", out, err)
		}
		r := rs[0]
		tried++
		fired += min(r.FiredRuns, 1)
		t.Logf("rank %d: %s: %s, %d bugs in %d runs (%s)", pl.Rank, pl.String(), r.Verdict, r.Bugs, r.Runs, r.Note)
		if r.Bugs > 0 {
			bugs++
			checks = append(checks, pl.String()+"\n  why: "+pl.Why+"\n  note: "+r.Note+"\n  "+grepLines(stderr, "kvcheck:"))
		}
	}
	return bugs, fired, tried, checks
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, prefix) {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return strings.Join(out, "\n  ")
}
