//go:build linux && amd64

package verdict

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/launch"
)

func TestJudge(t *testing.T) {
	plan := &format.Plan{V: 1, ID: "p1", Faults: []format.Fault{{Kind: format.FaultCrash, Target: format.Target{Node: "kv1"}}}}
	where := []format.Fired{{Node: "kv1", Thread: "main", Seq: 4, Syscall: "read"}}
	procfile := launch.System{Nodes: []launch.Node{{Name: "kv1"}}, Workload: "w", Check: "c", Timeout: time.Second}
	argv := launch.System{Argv: []string{"/bin/prog"}, Timeout: time.Second}
	res := func(wl, check int, timedOut ...string) launch.Result {
		return launch.Result{WorkloadStatus: wl, CheckStatus: check, TimedOut: timedOut}
	}
	for _, tc := range []struct {
		name    string
		run     Run
		verdict string
		check   string // the check status, "nil" for none
		note    string
	}{
		{"not fired", Run{System: procfile, Result: res(0, 1), Plan: plan}, format.VerdictNotFired, "1", ""},
		{"bug", Run{System: procfile, Result: res(0, 1), Plan: plan, Fired: where}, format.VerdictBug, "1", ""},
		{"survived", Run{System: procfile, Result: res(0, 0), Plan: plan, Fired: where}, format.VerdictSurvived, "0", ""},
		{"the check cannot judge", Run{System: procfile, Result: res(0, format.CheckCannotJudge), Plan: plan, Fired: where},
			format.VerdictInconclusive, "125", ""},
		{"cannot judge, not fired", Run{System: procfile, Result: res(0, format.CheckCannotJudge), Plan: plan},
			format.VerdictNotFired, "125", ""},
		{"cannot judge a hung run", Run{System: procfile, Result: launch.Result{CheckStatus: format.CheckCannotJudge, TimedOut: []string{"workload"}},
			Plan: plan, Fired: where}, format.VerdictBug, "125", "workload did not finish within 1s and was killed"},
		{"hung", Run{System: procfile, Result: res(0, -1, "check"), Plan: plan, Fired: where}, format.VerdictBug, "nil",
			"check did not finish within 1s and was killed"},
		{"workload and crash", Run{System: procfile, Plan: plan, Fired: where, Notes: []string{"injector note"},
			Result: launch.Result{WorkloadStatus: 2, CheckStatus: -1, TimedOut: []string{"check"}, Crashed: []launch.Crash{{Node: "kv1", Status: 137}}}},
			format.VerdictBug, "nil",
			"injector note; check did not finish within 1s and was killed; workload exited with status 2; node kv1 ended during the run (status 137)"},
		{"interrupted", Run{System: procfile, Result: launch.Result{Cut: true, CheckStatus: 1}, Plan: plan, Fired: where,
			Err: fmt.Errorf("x: %w", launch.ErrInterrupted)}, format.VerdictInterrupted, "nil", "x: " + launch.ErrInterrupted.Error()},
		{"not ready after a fault", Run{System: procfile, Result: res(-1, -1), Plan: plan, Fired: where,
			Err: fmt.Errorf("%w: kv1", launch.ErrNotReady)}, format.VerdictBug, "nil", "system not ready: kv1"},
		{"command is the check", Run{System: argv, Result: res(3, -1), Plan: plan, Fired: where}, format.VerdictBug, "3", ""},
		{"fault-free pass", Run{System: procfile, Result: res(0, 0)}, format.VerdictSurvived, "0", ""},
		{"fault-free failure", Run{System: procfile, Result: res(0, 4)}, format.VerdictBug, "4", ""},
		{"fault-free, no check", Run{System: launch.System{Nodes: procfile.Nodes, Workload: "w"}, Result: res(0, -1)},
			format.VerdictSurvived, "nil", ""},
	} {
		r, err := Judge(tc.run)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		check := "nil"
		if r.Check != nil {
			check = fmt.Sprint(*r.Check)
		}
		if r.Verdict != tc.verdict || check != tc.check || r.Note != tc.note {
			t.Errorf("%s: verdict %s, check %s, note %q; want %s, %s, %q", tc.name, r.Verdict, check, r.Note, tc.verdict, tc.check, tc.note)
		}
		if r.Fired != (tc.run.Plan != nil && len(tc.run.Fired) > 0) || (tc.run.Plan != nil && (r.Plan != "p1" || len(r.Faults) != 1)) {
			t.Errorf("%s: fired %v, plan %q, faults %q", tc.name, r.Fired, r.Plan, r.Faults)
		}
	}
	notReady := fmt.Errorf("%w: kv1", launch.ErrNotReady)
	if _, err := Judge(Run{System: procfile, Result: res(-1, -1), Plan: plan, Err: notReady}); !errors.Is(err, launch.ErrNotReady) {
		t.Errorf("not ready with no fault fired: err = %v, want the run's error", err)
	}
}

func TestStatus(t *testing.T) {
	for v, want := range map[string]error{format.VerdictBug: cli.ExitStatus(1), format.VerdictNotFired: cli.ExitStatus(3),
		format.VerdictInconclusive: cli.ExitStatus(4), format.VerdictSurvived: nil, format.VerdictInterrupted: nil} {
		if got := Status(v); got != want {
			t.Errorf("Status(%s) = %v, want %v", v, got, want)
		}
	}
}

func TestCheckNodes(t *testing.T) {
	sys := launch.System{Nodes: []launch.Node{{Name: "b"}}, Workload: "w"}
	ok := &format.Plan{ID: "p1", Faults: []format.Fault{{Kind: format.FaultPartition, Groups: [][]string{{"b"}, {"workload"}}}}}
	if err := CheckNodes(ok, sys); err != nil {
		t.Error(err)
	}
	ghost := &format.Plan{ID: "p2", Faults: []format.Fault{{Kind: format.FaultCrash, Target: format.Target{Node: "b"},
		After: &format.EventRef{Node: "check"}}}}
	err := CheckNodes(ghost, sys)
	if err == nil || !strings.Contains(err.Error(), `names node "check", which this system does not have (nodes: b, workload)`) {
		t.Errorf("a plan naming a check the system lacks: %v", err)
	}
	cmd := launch.System{Argv: []string{"/usr/bin/redis-server"}}
	if err := CheckNodes(&format.Plan{ID: "p3", Faults: []format.Fault{{Target: format.Target{Node: "redis-server/1"}}}}, cmd); err != nil {
		t.Error(err)
	}
}
