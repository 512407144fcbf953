//go:build linux && amd64

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/inject"
	"github.com/boxofpain/pain/internal/launch"
	"github.com/boxofpain/pain/internal/repeat"
)

const tool = "pain-inject"

// version is the tool version stored in traces.
const version = "0.1"

func main() { cli.Main(tool, run) }

// Exit statuses by verdict.
var exitCode = map[string]int{format.VerdictBug: 1, format.VerdictSurvived: 0, format.VerdictNotFired: 3}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(tool, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		planFile = fs.String("plan", "", "plans `file` (JSON Lines), - for stdin")
		id       = fs.String("id", "", "plan `id` to apply (default: the first)")
		out      = fs.String("o", "", "trace output `file` (default: <plan id>.arrows)")
		repeats  = fs.Int("repeat", 1, "run the plan `N` times (traces FILE, FILE-2, ...); the result line counts fired runs and bugs")
	)
	// The system, exactly as pain-trace takes it.
	var sf launch.Flags
	sf.Register(fs, "the plan id and the start time")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s -plan FILE|- [-id ID] [-o injected.arrows] -f Procfile [-w CMD] [-check CMD] [-ready CMD] [-timeout D] [-grace D]\n", tool)
		fmt.Fprintf(fs.Output(), "       %s -plan FILE|- [-id ID] [-o injected.arrows] [-check CMD] -- CMD ARGS...\n", tool)
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, stdout); err != nil {
		return err
	}
	usage := func(msg string) error {
		fmt.Fprintf(stderr, "%s: %s\n", tool, msg)
		fs.Usage()
		return cli.ExitStatus(2)
	}
	if *planFile == "" {
		return usage("-plan is required")
	}
	if err := sf.Validate(fs.Args()); err != nil {
		return usage(err.Error())
	}
	plan, err := readPlan(*planFile, *id)
	if err != nil {
		return err
	}
	sys, err := sf.System(fs.Args())
	if err != nil {
		return err
	}
	if err := checkNodes(plan, sys); err != nil {
		return err
	}
	if *out == "" {
		*out = plan.ID + ".arrows"
	}
	if err := cli.NotInput(*out, *planFile, sf.Procfile); err != nil {
		return err
	}
	if *repeats < 1 {
		return usage(fmt.Sprintf("-repeat %d: want at least 1", *repeats))
	}
	if *repeats > 1 {
		once := func(trace string, w io.Writer) error { return inject1(plan, sys, sf, trace, w, stderr) }
		return repeat.Run(*repeats, *out, once, stdout)
	}
	return inject1(plan, sys, sf, *out, stdout, stderr)
}

// inject1 runs sys once with plan applied, tracing it to out, and prints
// the result line; it is printed whenever the run started, also when the
// trace could not be written or the run was interrupted (exit 2 then).
func inject1(plan *format.Plan, sys launch.System, sf launch.Flags, out string, stdout, stderr io.Writer) error {
	say := func(format string, args ...any) { fmt.Fprintf(stderr, tool+": "+format+"\n", args...) }

	// The injector restarts nodes through the running system, which exists
	// once launch has started the tracer (before any node starts).
	var running atomic.Pointer[launch.Running]
	var start time.Time
	in, err := inject.New(plan, inject.Options{
		Restart: func(node string) error {
			if r := running.Load(); r != nil {
				return r.Restart(node)
			}
			return errors.New("the system is not running")
		},
		Log:   func(msg string) { say("%s", msg) },
		Clock: func() int64 { return time.Since(start).Nanoseconds() },
	})
	if err != nil {
		return err
	}
	defer in.Stop()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	say("applying plan %s", plan)
	ctx, again, stop := cli.Interrupts()
	defer stop()
	start = time.Now()
	o := sf.Options()
	if o.Run == "" {
		o.Run = runName(plan.ID, start)
	}
	o.Out, o.Hook, o.Progress, o.Prefix, o.Tool, o.Plan = f, in, stderr, tool+": ", tool+" "+version, plan
	o.Started = func(r *launch.Running) { running.Store(r) }
	o.Killed, o.Abort = in.Killed, again
	// stdout carries the result line alone: the command's own output goes
	// to stderr, with the nodes'.
	o.Stdout = os.Stderr
	res, runErr := launch.Run(ctx, sys, o)
	in.Stop()
	if cerr := f.Close(); runErr == nil && cerr != nil {
		runErr = fmt.Errorf("%w: %w", launch.ErrTrace, cerr)
	}
	wall := time.Since(start)
	say("%d events in %v to %s", res.Rows, wall.Round(time.Millisecond), out)

	result, err := judge(plan, sys, in, res, runErr)
	if err != nil {
		return err
	}
	result.Trace, result.WallMS = out, wall.Milliseconds()
	if werr := format.WriteResult(stdout, result); werr != nil {
		return werr
	}
	say("plan %s: %s", plan.ID, result.Verdict)
	if runErr != nil {
		return runErr // interrupted, or the trace is incomplete: a tool error, said after the result
	}
	if code := exitCode[result.Verdict]; code != 0 {
		return cli.ExitStatus(code)
	}
	return nil
}

// runName names an injected run after its plan and its start time, so
// that repeated runs of one plan are different runs to pain-track.
func runName(plan string, start time.Time) string {
	return plan + "@" + start.UTC().Format("20060102T150405.000000000Z")
}

// judge turns what happened into a result line (without trace and wall
// time), or returns the error that leaves nothing to say: a system that
// never became ready with no fault to blame.
func judge(plan *format.Plan, sys launch.System, in *inject.Injector, res launch.Result, runErr error) (*format.Result, error) {
	where := in.Fired()
	fired := len(where) > 0
	notes := in.Notes()
	hung := len(res.TimedOut) > 0
	for _, phase := range res.TimedOut {
		notes = append(notes, fmt.Sprintf("%s did not finish within %v and was killed", phase, sys.Timeout))
	}
	switch {
	case runErr == nil:
	case errors.Is(runErr, launch.ErrInterrupted), errors.Is(runErr, launch.ErrTrace):
		notes = append(notes, runErr.Error())
	case fired && errors.Is(runErr, launch.ErrNotReady):
		// A system that never got ready because of a fault is a finding.
		notes = append(notes, runErr.Error())
		hung = true
	default:
		return nil, runErr
	}
	if res.WorkloadStatus > 0 && len(sys.Nodes) > 0 {
		notes = append(notes, fmt.Sprintf("workload exited with status %d", res.WorkloadStatus))
	}
	for _, c := range res.Crashed {
		node, status, _ := strings.Cut(c, ": ")
		notes = append(notes, fmt.Sprintf("node %s ended during the run (status %s)", node, status))
	}
	var checkStatus *int
	switch {
	case sys.Check != "" && res.CheckStatus >= 0:
		checkStatus = &res.CheckStatus
	case sys.Check == "" && len(sys.Argv) > 0 && res.WorkloadStatus >= 0:
		checkStatus = &res.WorkloadStatus // the command is the check
	}
	verdict := inject.Verdict(fired, checkStatus, hung)
	if res.Cut {
		verdict, checkStatus = format.VerdictInterrupted, nil
	}
	result := &format.Result{V: format.PlanVersion, Plan: plan.ID, Fired: fired, Where: where, Check: checkStatus,
		Verdict: verdict, Note: strings.Join(notes, "; ")}
	for i := range plan.Faults {
		result.Faults = append(result.Faults, plan.Faults[i].String())
	}
	return result, nil
}

// checkNodes refuses a plan that names a node the system cannot have: it
// would run the whole system only to end not-fired.
func checkNodes(plan *format.Plan, sys launch.System) error {
	known := func(n string) bool {
		switch {
		case n == "check":
			return sys.Check != ""
		case n == "workload":
			return sys.Workload != ""
		case len(sys.Argv) > 0:
			root := filepath.Base(sys.Argv[0])
			return n == root || strings.HasPrefix(n, root+"/")
		}
		return slices.ContainsFunc(sys.Nodes, func(nd launch.Node) bool { return nd.Name == n })
	}
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
			if n != "" && !known(n) {
				return fmt.Errorf("plan %s fault %d names node %q, which this system does not have (%s)", plan.ID, i+1, n, nodeList(sys))
			}
		}
	}
	return nil
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
		names = append(names, "workload")
	}
	if sys.Check != "" {
		names = append(names, "check")
	}
	return "nodes: " + strings.Join(names, ", ")
}

// readPlan reads the plans of path (- for stdin) and returns the one with
// id, or the first.
func readPlan(path, id string) (*format.Plan, error) {
	var r io.Reader = os.Stdin
	name := "stdin"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, name = f, path
	}
	plans, err := format.ReadPlans(r, name)
	if err != nil {
		return nil, err
	}
	if len(plans) == 0 {
		return nil, fmt.Errorf("%s: no plans", name)
	}
	if id == "" {
		return &plans[0], nil
	}
	for i := range plans {
		if plans[i].ID == id {
			return &plans[i], nil
		}
	}
	return nil, fmt.Errorf("%s: no plan with id %q", name, id)
}
