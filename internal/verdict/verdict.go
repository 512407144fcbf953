//go:build linux && amd64

// Package verdict judges a finished run: what launch and the injector saw
// become one format.Result (where the faults fired, the check's status,
// survived, bug, not fired or interrupted, and notes), the same way for
// pain-trace's fault-free runs, pain-inject's runs and their repetitions.
// It also refuses, before a run, a plan that could only end not fired.
package verdict

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/launch"
)

// Run is what a finished run left to judge.
type Run struct {
	System launch.System
	Result launch.Result
	Err    error        // launch.Run's error
	Plan   *format.Plan // the plan applied; nil for a fault-free run
	Fired  []format.Fired
	Notes  []string // the injector's notes
	// RolledBack is what the plan's power losses took (the injector's).
	RolledBack []format.RolledBack
}

// Judge returns the result of a run (without its trace and wall time), or
// the error that leaves nothing to say: a run that failed with no fault to
// blame. A fault-free run is judged as if its faults had fired: bug when
// its check failed or a phase hung, survived otherwise.
func Judge(r Run) (*format.Result, error) {
	res, sys := r.Result, r.System
	fired := r.Plan == nil || len(r.Fired) > 0
	notes := slices.Clone(r.Notes)
	hung := len(res.TimedOut) > 0
	for _, phase := range res.TimedOut {
		notes = append(notes, HungNote(phase, sys.Timeout))
	}
	switch {
	case r.Err == nil:
	case errors.Is(r.Err, launch.ErrInterrupted), errors.Is(r.Err, launch.ErrTrace):
		notes = append(notes, r.Err.Error())
	case r.Plan != nil && fired && errors.Is(r.Err, launch.ErrNotReady):
		// A system that never got ready because of a fault is a finding.
		notes = append(notes, r.Err.Error())
		hung = true
	default:
		return nil, r.Err
	}
	if res.WorkloadStatus > 0 && len(sys.Nodes) > 0 {
		notes = append(notes, fmt.Sprintf("workload exited with status %d", res.WorkloadStatus))
	}
	for _, c := range res.Crashed {
		notes = append(notes, fmt.Sprintf("node %s ended during the run (status %d)", c.Node, c.Status))
	}
	result := &format.Result{V: format.PlanVersion, Fired: fired && r.Plan != nil, Where: r.Fired,
		Check: checkStatus(sys, res), Note: strings.Join(notes, "; "), CheckOutput: res.CheckOutput, RolledBack: r.RolledBack}
	result.V = format.ResultVersionFor(result)
	result.Verdict = verdict(fired, result.Check, hung)
	if res.Cut {
		result.Verdict, result.Check = format.VerdictInterrupted, nil
	}
	if r.Plan != nil {
		result.Plan = r.Plan.ID
		for i := range r.Plan.Faults {
			result.Faults = append(result.Faults, r.Plan.Faults[i].String())
		}
	}
	return result, nil
}

// checkStatus is the exit status of the check, or of the `-- CMD` command
// when there is no check; nil when neither ran to its end.
func checkStatus(sys launch.System, res launch.Result) *int {
	switch {
	case sys.Check != "" && res.CheckStatus >= 0:
		return &res.CheckStatus
	case sys.Check == "" && len(sys.Argv) > 0 && res.WorkloadStatus >= 0:
		return &res.WorkloadStatus // the command is the check
	}
	return nil
}

// verdict is not-fired when no fault acted, otherwise bug when the run had
// to be stopped at its timeout (the fault left the system hung) or the
// check failed (non-zero status), inconclusive when the check said it
// could not judge (format.CheckCannotJudge), survived when the check
// passed or there was none.
func verdict(fired bool, check *int, hung bool) string {
	switch {
	case !fired:
		return format.VerdictNotFired
	case hung:
		return format.VerdictBug
	case check != nil && *check == format.CheckCannotJudge:
		return format.VerdictInconclusive
	case check != nil && *check != 0:
		return format.VerdictBug
	}
	return format.VerdictSurvived
}

// HungNote says that a phase of the run hit the timeout.
func HungNote(phase string, timeout time.Duration) string {
	return fmt.Sprintf("%s did not finish within %v and was killed", phase, timeout)
}

// Status is the exit status of a verdict: nil for survived (and
// interrupted, whose tool error is said otherwise), 1 for bug, 3 for not
// fired, 4 for inconclusive.
func Status(verdict string) error {
	switch verdict {
	case format.VerdictBug:
		return cli.ExitStatus(1)
	case format.VerdictNotFired:
		return cli.ExitStatus(3)
	case format.VerdictInconclusive:
		return cli.ExitStatus(4)
	}
	return nil
}

// CheckNodes refuses a plan that names a node the system cannot have: it
// would run the whole system only to end not fired.
func CheckNodes(plan *format.Plan, sys launch.System) error {
	for i, f := range plan.Faults {
		names := []string{f.Target.Node}
		for _, ref := range []*format.EventRef{f.After, f.Before} {
			if ref != nil {
				names = append(names, ref.Node)
			}
		}
		for _, g := range f.Groups {
			names = append(names, g...)
		}
		for _, n := range names {
			if n != "" && !has(sys, n) {
				return fmt.Errorf("plan %s fault %d names node %q, which this system does not have (%s)", plan.ID, i+1, n, nodeList(sys))
			}
		}
	}
	return nil
}

// has says whether node n can occur in a run of sys.
func has(sys launch.System, n string) bool {
	switch {
	case format.NodeRole(n) == format.NodeCheck:
		return sys.Check != ""
	case format.NodeRole(n) == format.NodeWorkload:
		return sys.Workload != ""
	case len(sys.Argv) > 0:
		root := filepath.Base(sys.Argv[0])
		return n == root || strings.HasPrefix(n, root+"/")
	}
	return slices.ContainsFunc(sys.Nodes, func(nd launch.Node) bool { return nd.Name == n })
}

// nodeList says which nodes a system has, for error messages.
func nodeList(sys launch.System) string {
	var names []string
	for _, n := range sys.Nodes {
		names = append(names, n.Name)
	}
	if len(sys.Argv) > 0 {
		names = append(names, filepath.Base(sys.Argv[0])+" and its children")
	}
	if sys.Workload != "" {
		names = append(names, format.NodeWorkload)
	}
	if sys.Check != "" {
		names = append(names, format.NodeCheck)
	}
	return "nodes: " + strings.Join(names, ", ")
}

// Report says on w what a fault-free run showed (pain-trace): the phases
// that hung, the check's (or the `-- CMD` command's) status, and a hang,
// which is never a pass; it returns the verdict's exit status.
func Report(w io.Writer, tool string, sys launch.System, res launch.Result) error {
	r, err := Judge(Run{System: sys, Result: res})
	if err != nil {
		return err
	}
	for _, phase := range res.TimedOut {
		fmt.Fprintf(w, "%s: %s\n", tool, HungNote(phase, sys.Timeout))
	}
	what := "check"
	if sys.Check == "" {
		what = "command"
	}
	switch {
	case r.Check == nil:
	case r.Verdict == format.VerdictInconclusive:
		fmt.Fprintf(w, "%s: %s could not judge the run (status %d)\n", tool, what, *r.Check)
	case *r.Check != 0:
		fmt.Fprintf(w, "%s: %s failed (status %d)\n", tool, what, *r.Check)
	case r.Verdict == format.VerdictBug:
		fmt.Fprintf(w, "%s: %s passed, but the run hung\n", tool, what)
	default:
		fmt.Fprintf(w, "%s: %s passed\n", tool, what)
	}
	return Status(r.Verdict)
}
