package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/boxofpain/pain/internal/prereq"
	"github.com/boxofpain/pain/internal/testenv"
	"github.com/boxofpain/pain/internal/tracee"
	"github.com/boxofpain/pain/internal/track"
)

// buildTools builds pain-trace and the kvstore example into a temporary
// directory, or skips the test where tracing is not possible (fails it in
// CI).
func buildTools(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end tracing skipped in -short mode")
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		prereq.Missing(t, "pain-trace runs on linux/amd64 only")
	}
	tracee.NeedPtrace(t)
	return testenv.Tools(t, "./cmd/pain-trace", "./examples/kvstore/cmd/...")
}

type kvSystem struct {
	bin, dir, procfile, primary, backups string
}

func newKVSystem(t *testing.T, bin string) *kvSystem {
	p := testenv.FreePorts(t, 3)
	s := &kvSystem{bin: bin, dir: t.TempDir()}
	s.primary = fmt.Sprintf("127.0.0.1:%d", p[0])
	s.backups = fmt.Sprintf("127.0.0.1:%d,127.0.0.1:%d", p[1], p[2])
	s.procfile = filepath.Join(s.dir, "Procfile")
	procfile := fmt.Sprintf("primary: %[1]s/kvnode -role primary -listen %[2]s -backups %[3]s\n"+
		"backup1: %[1]s/kvnode -role backup -listen 127.0.0.1:%[4]d\n"+
		"backup2: %[1]s/kvnode -role backup -listen 127.0.0.1:%[5]d\n", bin, s.primary, s.backups, p[1], p[2])
	if err := os.WriteFile(s.procfile, []byte(procfile), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// trace runs the system once under pain-trace and returns the trace file.
func (s *kvSystem) trace(t *testing.T, name, workload, check string) string {
	t.Helper()
	out := filepath.Join(s.dir, name+".arrows")
	args := []string{"-f", s.procfile, "-w", workload, "-o", out, "-run", name, "-timeout", "20s"}
	if check != "" {
		args = append(args, "-check", check)
	}
	cmd := exec.Command(filepath.Join(s.bin, "pain-trace"), args...)
	cmd.Dir = s.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("pain-trace %s: %v\n%s", name, err, stderr.String())
	}
	return out
}

func trackJSON(t *testing.T, files []string) track.Summary {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(append([]string{"-json"}, files...), nil, &stdout, &stderr); err != nil {
		t.Fatalf("pain-track: %v\n%s", err, stderr.String())
	}
	var sum track.Summary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestEndToEndDeterministic traces six runs of the kvstore example, whose
// messages are the same in every run: they must make one schedule. There
// is no check: kvcheck's connection to a backup races with the SIGTERM that
// ends the run (a backup may exit before it reads the end of file and
// closes), which makes a second schedule in about one run in fifty. The
// primary's end of file read and close of the workload's connection race
// with the teardown mark; hb.Teardown leaves them out (before, 2 schedules
// in 6 runs about one time in three at load 6).
func TestEndToEndDeterministic(t *testing.T) {
	s := newKVSystem(t, buildTools(t))
	acked := filepath.Join(s.dir, "acked.txt")
	var files []string
	for i := 1; i <= 6; i++ {
		os.Remove(acked)
		files = append(files, s.trace(t, fmt.Sprintf("run-%d", i),
			fmt.Sprintf("%s/kvload -primary %s -n 3 -acked %s", s.bin, s.primary, acked), ""))
	}
	sum := trackJSON(t, files)
	if sum.Runs != 6 || sum.Distinct != 1 || sum.Schedules[0].Runs != 6 {
		var stdout bytes.Buffer
		run(append([]string{"-text"}, files...), nil, &stdout, &stdout)
		t.Fatalf("six runs of a deterministic exchange: %d runs, %d schedules, want 6 and 1\n%s", sum.Runs, sum.Distinct, stdout.String())
	}
	if sum.Schedules[0].Messages < 20 {
		t.Errorf("the schedule has %d messages; 3 writes through a primary and two backups make more", sum.Schedules[0].Messages)
	}
	if sum.Unseen != 0 {
		t.Errorf("unseen = %v with no singletons", sum.Unseen)
	}
	// The Perfetto file of real runs: calls drawn over their real
	// durations, every message flow from the send's slice to the
	// receive's, none ending before it starts.
	dot := filepath.Join(s.dir, "dot")
	var stdout, stderr bytes.Buffer
	if err := run(append([]string{"-dot", dot}, files...), nil, &stdout, &stderr); err != nil {
		t.Fatalf("pain-track -dot: %v\n%s", err, stderr.String())
	}
	perfetto, _ := filepath.Glob(filepath.Join(dot, "*.trace.json"))
	if len(perfetto) != 1 {
		t.Fatalf("pain-track -dot wrote %d trace-event files", len(perfetto))
	}
	if n := checkFlows(t, perfetto[0]); n < 20 {
		t.Errorf("%d flows in the Perfetto file; the schedule has more messages", n)
	}
}

// TestEndToEndRace traces a workload of two clients writing to the primary
// at once: which one the primary serves first is a race, so runs show
// several schedules, ranked, with shares that add up to one.
func TestEndToEndRace(t *testing.T) {
	s := newKVSystem(t, buildTools(t))
	var files []string
	var sum track.Summary
	for i := 1; i <= 16; i++ {
		a, b := filepath.Join(s.dir, "a.txt"), filepath.Join(s.dir, "b.txt")
		w := fmt.Sprintf("%[1]s/kvload -primary %[2]s -n 2 -acked %[3]s & %[1]s/kvload -primary %[2]s -n 2 -acked %[4]s; wait",
			s.bin, s.primary, a, b)
		files = append(files, s.trace(t, fmt.Sprintf("race-%02d", i), w, ""))
		if i >= 6 {
			if sum = trackJSON(t, files); sum.Distinct >= 2 {
				break
			}
		}
	}
	if sum.Distinct < 2 {
		t.Fatalf("%d runs of two racing clients show %d schedule(s)", sum.Runs, sum.Distinct)
	}
	total, share := 0, 0.0
	for i, sc := range sum.Schedules {
		total += sc.Runs
		share += sc.Share
		if sc.Rank != i+1 || i > 0 && sc.Runs > sum.Schedules[i-1].Runs {
			t.Errorf("schedule %s ranked %d with %d runs after %d", sc.ID, sc.Rank, sc.Runs, sum.Schedules[max(i-1, 0)].Runs)
		}
	}
	if total != sum.Runs || math.Abs(share-1) > 1e-9 {
		t.Errorf("schedules cover %d of %d runs, shares add up to %v", total, sum.Runs, share)
	}
	t.Logf("%d runs, %d schedules: %+v", sum.Runs, sum.Distinct, sum.Schedules)
}
