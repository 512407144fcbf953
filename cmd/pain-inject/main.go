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
	"github.com/boxofpain/pain/internal/inject"
	"github.com/boxofpain/pain/internal/launch"
)

const tool = "pain-inject"

// version is the tool version stored in traces.
const version = "0.1"

func main() {
	// stdout carries the result line alone: the traced command's own
	// output, which launch sends to os.Stdout, goes to stderr instead.
	stdout := os.Stdout
	os.Stdout = os.Stderr
	err := run(os.Args[1:], stdout, os.Stderr)
	var ex exitError
	switch {
	case err == nil:
	case errors.As(err, &ex):
		os.Exit(int(ex))
	default:
		fmt.Fprintf(os.Stderr, "%s: %v\n", tool, err)
		os.Exit(2)
	}
}

// exitError is an exit status that needs no further message.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// Exit statuses by verdict.
var exitCode = map[string]int{format.VerdictBug: 1, format.VerdictSurvived: 0, format.VerdictNotFired: 3}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(tool, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		planFile = fs.String("plan", "", "plans `file` (JSON Lines), - for stdin")
		id       = fs.String("id", "", "plan `id` to apply (default: the first)")
		out      = fs.String("o", "", "trace output `file` (default: <plan id>.arrows)")
		// The system, exactly as pain-trace takes it.
		procfile = fs.String("f", "", "Procfile")
		workload = fs.String("w", "", "workload `command`")
		check    = fs.String("check", "", "check `command`")
		ready    = fs.String("ready", "", "readiness `command`")
		timeout  = fs.Duration("timeout", launch.DefaultTimeout, "limit of each phase")
		grace    = fs.Duration("grace", launch.DefaultGrace, "time between SIGTERM and SIGKILL")
		runName  = fs.String("run", "", "run `name` (default: the plan id)")
		payload  = fs.Int("payload", 0, "payload prefix `bytes` to keep")
		seccomp  = fs.Bool("seccomp", true, "stop only at recorded calls (seccomp-bpf)")
	)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s -plan FILE|- [-id ID] [-o injected.arrows] -f Procfile [-w CMD] [-check CMD] [-ready CMD] [-timeout D] [-grace D]\n", tool)
		fmt.Fprintf(stderr, "       %s -plan FILE|- [-id ID] [-o injected.arrows] [-check CMD] -- CMD ARGS...\n", tool)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	usage := func(msg string) error {
		fmt.Fprintf(stderr, "%s: %s\n", tool, msg)
		fs.Usage()
		return exitError(2)
	}
	switch {
	case *planFile == "":
		return usage("-plan is required")
	case (*procfile == "") == (fs.NArg() == 0):
		return usage("give either -f Procfile or -- CMD ARGS")
	case *payload < 0:
		return usage("-payload must be >= 0")
	case *procfile == "" && (*workload != "" || *ready != ""):
		return usage("-w and -ready need -f Procfile")
	}
	plan, err := readPlan(*planFile, *id)
	if err != nil {
		return err
	}
	sys := launch.System{Workload: *workload, Check: *check, Ready: *ready, Timeout: *timeout, Grace: *grace, Argv: fs.Args()}
	if *procfile != "" {
		f, err := os.Open(*procfile)
		if err != nil {
			return err
		}
		sys.Nodes, err = launch.ParseProcfile(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *procfile, err)
		}
	}
	if *out == "" {
		*out = plan.ID + ".arrows"
	}
	if *runName == "" {
		*runName = plan.ID
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
	res, runErr := launch.Run(ctx, sys, launch.Options{
		Out: f, Hook: in, Progress: stderr, Prefix: tool + ": ", Tool: tool + " " + version,
		Run: *runName, Plan: string(planJSON), Payload: *payload, NoSeccomp: !*seccomp,
		Started: func(r *launch.Running) { running.Store(r) },
	})
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
		notes = append(notes, fmt.Sprintf("%s did not finish within %v and was killed", phase, *timeout))
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
	case *check != "" && res.CheckStatus >= 0:
		checkStatus = &res.CheckStatus
	case *check == "" && len(sys.Argv) > 0 && res.WorkloadStatus >= 0:
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
		return exitError(code)
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
