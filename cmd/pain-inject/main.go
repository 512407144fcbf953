//go:build linux && amd64

package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/inject"
	"github.com/boxofpain/pain/internal/launch"
	"github.com/boxofpain/pain/internal/ptrace"
	"github.com/boxofpain/pain/internal/repeat"
	"github.com/boxofpain/pain/internal/verdict"
)

const tool = "pain-inject"

// version is the tool version stored in traces.
const version = "0.1"

func main() {
	ptrace.Shim() // in a launcher shim started by the tracer, runs it and never returns
	cli.Main(tool, run)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
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
	plan, err := readPlan(*planFile, *id, stdin)
	if err != nil {
		return err
	}
	sys, err := sf.System(fs.Args())
	if err != nil {
		return err
	}
	if err := verdict.CheckNodes(plan, sys); err != nil {
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
	once := func(trace string) (*format.Result, error) { return inject1(plan, sys, sf, trace, stderr) }
	run1 := once
	if *repeats > 1 {
		run1 = func(trace string) (*format.Result, error) { return repeat.Run(*repeats, trace, once) }
	}
	result, err := run1(*out)
	if result != nil {
		if werr := format.WriteResult(stdout, result); werr != nil {
			return werr
		}
	}
	if err != nil {
		return err // interrupted, or the trace is incomplete: a tool error, said after the result
	}
	return verdict.Status(result.Verdict)
}

// inject1 runs sys once with plan applied, tracing it to out, and returns
// its result whenever the run started, also when the trace could not be
// written or the run was interrupted (with that error then).
func inject1(plan *format.Plan, sys launch.System, sf launch.Flags, out string, stderr io.Writer) (*format.Result, error) {
	say := func(format string, args ...any) { fmt.Fprintf(stderr, tool+": "+format+"\n", args...) }

	in, err := inject.New(plan, inject.Options{Log: func(msg string) { say("%s", msg) }})
	if err != nil {
		return nil, err
	}
	defer in.Stop()
	f, err := os.Create(out)
	if err != nil {
		return nil, err
	}
	say("applying plan %s", plan)
	ctx, again, stop := cli.Interrupts()
	defer stop()
	start := time.Now()
	o := sf.Options()
	if o.Run == "" {
		o.Run = runName(plan.ID, start)
	}
	o.Out, o.Hook, o.Progress, o.Prefix, o.Tool, o.Plan = f, in, stderr, tool+": ", tool+" "+version, plan
	o.Abort = again
	// stdout carries the result line alone: the command's own output goes
	// to stderr, with the nodes' (a traced process writes to a file).
	if f, ok := stderr.(*os.File); ok {
		o.Stdout = f
	}
	res, runErr := launch.Run(ctx, sys, o)
	in.Stop()
	if cerr := f.Close(); runErr == nil && cerr != nil {
		runErr = fmt.Errorf("%w: %w", launch.ErrTrace, cerr)
	}
	wall := time.Since(start)
	say("%d events in %v to %s", res.Rows, wall.Round(time.Millisecond), out)

	result, err := verdict.Judge(verdict.Run{System: sys, Result: res, Err: runErr, Plan: plan, Fired: in.Fired(), Notes: in.Notes()})
	if err != nil {
		return nil, err
	}
	result.Trace, result.WallMS = out, wall.Milliseconds()
	say("plan %s: %s", plan.ID, result.Verdict)
	return result, runErr
}

// runName names an injected run after its plan and its start time, so
// that repeated runs of one plan are different runs to pain-track.
func runName(plan string, start time.Time) string {
	return plan + "@" + start.UTC().Format("20060102T150405.000000000Z")
}

// readPlan reads the plans of path (- for stdin) and returns the one with
// id, or the first.
func readPlan(path, id string, stdin io.Reader) (*format.Plan, error) {
	r, name, err := cli.Open(path, stdin)
	if err != nil {
		return nil, err
	}
	defer r.Close()
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
