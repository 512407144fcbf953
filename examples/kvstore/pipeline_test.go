package kvstore_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/prereq"
	"github.com/boxofpain/pain/internal/testenv"
)

// TestPipelineFindsTheBug runs the whole pipeline, as make demo does, on six
// traced fault-free runs of the store: pain-track, pain-plan and pain-inject
// must find a plan that loses an acknowledged write in the default kvnode
// and none in kvnode -fixed, where most plans still fire.
func TestPipelineFindsTheBug(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole pipeline")
	}
	if os.Getuid() != 0 {
		if b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope"); err == nil && strings.TrimSpace(string(b)) > "1" {
			prereq.Missing(t, "ptrace is not allowed here (kernel.yama.ptrace_scope > 1)")
		}
	}
	prereq.Command(t, "jq") // the demo script needs it
	for _, tc := range []struct {
		name  string
		fixed string
	}{{"buggy", ""}, {"fixed", "1"}} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "demo")
			cmd := exec.Command("bash", "../../scripts/demo.sh")
			p := testenv.FreePorts(t, 3) // not the demo's: another run may be using them
			ports := fmt.Sprintf("%d %d %d", p[0], p[1], p[2])
			cmd.Env = append(os.Environ(), "OUT="+out, "BIN="+bin, "RUNS=6", "PLANS=12", "FIXED="+tc.fixed, "PORTS="+ports)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
			}
			f, err := os.Open(filepath.Join(out, "results.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			results, err := format.ReadResults(f, "results.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			bugs, fired := 0, 0
			for _, r := range results {
				if r.Verdict == format.VerdictBug {
					bugs++
				}
				if r.Fired {
					fired++
				}
			}
			t.Logf("%d plans, %d fired, %d bugs\n%s", len(results), fired, bugs, stdout.String())
			switch {
			case len(results) == 0:
				t.Fatalf("no plans were tried\n%s", stderr.String())
			case tc.fixed == "" && bugs == 0:
				t.Errorf("no plan broke the buggy store\n%s", stderr.String())
			case tc.fixed == "" && !strings.Contains(stdout.String(), "Found a bug"):
				t.Errorf("the demo did not report the bug")
			case tc.fixed != "" && bugs > 0:
				t.Errorf("%d plans broke the fixed store", bugs)
			case tc.fixed != "" && 2*fired <= len(results):
				t.Errorf("only %d of %d plans fired on the fixed store", fired, len(results))
			}
			if tc.fixed != "" {
				nextRound(t, bin, out, results)
			} else {
				demoFiles(t, bin, out)
			}
		})
	}
}

// nextRound tracks the injected runs together with the fault-free ones and
// plans again with the results: no plan tried is proposed again, and the
// recovery paths the faults opened get plans of their own (round 1).
func nextRound(t *testing.T, tools, out string, tried []format.Result) {
	injected, _ := filepath.Glob(filepath.Join(out, "inject", "*.arrows"))
	runs, _ := filepath.Glob(filepath.Join(out, "runs", "*.arrows"))
	sched := filepath.Join(out, "round1.arrows")
	track := exec.Command(filepath.Join(tools, "pain-track"), append([]string{"-o", sched}, append(runs, injected...)...)...)
	if b, err := track.CombinedOutput(); err != nil {
		t.Fatalf("pain-track: %v\n%s", err, b)
	}
	plan := exec.Command(filepath.Join(tools, "pain-plan"), "-max", "0", "-results", filepath.Join(out, "results.jsonl"), sched)
	var stdout, stderr bytes.Buffer
	plan.Stdout, plan.Stderr = &stdout, &stderr
	if err := plan.Run(); err != nil {
		t.Fatalf("pain-plan: %v\n%s", err, stderr.String())
	}
	plans, err := format.ReadPlans(&stdout, "round 1")
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	for _, r := range tried {
		done[r.Plan] = true
	}
	round1 := 0
	for _, p := range plans {
		if done[p.ID] {
			t.Errorf("plan %s was tried already", p.ID)
		}
		if p.Evidence.Round == 1 {
			round1++
			if len(p.Faults) < 2 {
				t.Errorf("round-1 plan %s does not keep the fault that opened its path", p.String())
			}
		}
	}
	t.Logf("round 1: %d plans, %d on recovery paths", len(plans), round1)
	if round1 == 0 {
		t.Errorf("no plan on a recovery path opened by the faults")
	}
}
