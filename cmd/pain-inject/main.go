package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/inject"
	"github.com/boxofpain/pain/internal/launch"
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
	)
	// The system, exactly as pain-trace takes it.
	var sf launch.Flags
	sf.Register(fs, "the plan id")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s -plan FILE|- [-id ID] [-o injected.arrows] -f Procfile [-w CMD] [-check CMD] [-ready CMD] [-timeout D] [-grace D]\n", tool)
		fmt.Fprintf(stderr, "       %s -plan FILE|- [-id ID] [-o injected.arrows] [-check CMD] -- CMD ARGS...\n", tool)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cli.ExitStatus(2)
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
	if *out == "" {
		*out = plan.ID + ".arrows"
	}
	if sf.Run == "" {
		sf.Run = plan.ID
	}
	planJSON, err := json.Marshal(plan)
	if err != nil {
		return err
	}
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
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	say("applying plan %s", plan)
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	start = time.Now()
	o := sf.Options()
	o.Out, o.Hook, o.Progress, o.Prefix, o.Tool, o.Plan = f, in, stderr, tool+": ", tool+" "+version, string(planJSON)
	o.Started = func(r *launch.Running) { running.Store(r) }
	o.Killed = in.Killed
	// stdout carries the result line alone: the command's own output goes
	// to stderr, with the nodes'.
	o.Stdout = os.Stderr
	res, runErr := launch.Run(ctx, sys, o)
	in.Stop()
	if cerr := f.Close(); runErr == nil && cerr != nil {
		runErr = cerr
	}
	wall := time.Since(start)
	say("%d events in %v to %s", res.Rows, wall.Round(time.Millisecond), *out)

	where := in.Fired()
	fired := len(where) > 0
	notes := in.Notes()
	hung := len(res.TimedOut) > 0
	for _, phase := range res.TimedOut {
		notes = append(notes, fmt.Sprintf("%s did not finish within %v and was killed", phase, sys.Timeout))
	}
	if runErr != nil {
		// A system that never got ready because of a fault is a finding;
		// anything else is the tool's or the system's own problem.
		if !fired || !errors.Is(runErr, launch.ErrNotReady) || ctx.Err() != nil {
			return runErr
		}
		notes = append(notes, runErr.Error())
		hung = true
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
	result := format.Result{
		V: format.PlanVersion, Plan: plan.ID, Fired: fired, Where: where, Check: checkStatus,
		Verdict: inject.Verdict(fired, checkStatus, hung), Trace: *out, WallMS: wall.Milliseconds(),
		Note: strings.Join(notes, "; "),
	}
	for i := range plan.Faults {
		result.Faults = append(result.Faults, plan.Faults[i].String())
	}
	if err := format.WriteResult(stdout, &result); err != nil {
		return err
	}
	say("plan %s: %s", plan.ID, result.Verdict)
	if code := exitCode[result.Verdict]; code != 0 {
		return cli.ExitStatus(code)
	}
	return nil
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
