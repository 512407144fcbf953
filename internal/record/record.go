//go:build linux && amd64

// Package record runs a described system under the tracer into a trace
// file, as pain-trace and pain-inject both do: the file created, the first
// interrupt stopping the run and a second cutting its grace short, the file
// closed whole, and a line on stderr saying how many events it holds; and,
// for pain-inject, a run with a fault plan applied (Inject), judged.
package record

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/ebpfrec"
	"github.com/boxofpain/pain/internal/inject"
	"github.com/boxofpain/pain/internal/launch"
	"github.com/boxofpain/pain/internal/netcut"
	"github.com/boxofpain/pain/internal/verdict"
)

// Run runs sys with o, recording it into the file out; tool names the
// recording tool in the trace and on stderr. It returns the run's result
// and wall time, also with an error when the run started (interrupted, a
// trace write that failed).
func Run(sys launch.System, o launch.Options, out, tool, version string, stderr io.Writer) (launch.Result, time.Duration, error) {
	f, err := os.Create(out)
	if err != nil {
		return launch.Result{}, 0, err
	}
	ctx, again, stop := cli.Interrupts()
	defer stop()
	start := time.Now()
	o.Out, o.Progress, o.Prefix, o.Tool, o.Abort = f, stderr, tool+": ", tool+" "+version, again
	res, err := launch.Run(ctx, sys, o)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("%w: %w", launch.ErrTrace, cerr)
	}
	wall := time.Since(start)
	fmt.Fprintf(stderr, "%s: %d events in %v to %s\n", tool, res.Rows, wall.Round(time.Millisecond), out)
	return res, wall, err
}

// Inject runs sys once with plan applied, recording it into out, and
// returns its result whenever the run started, also when the trace could
// not be written or the run was interrupted (with that error then).
func Inject(plan *format.Plan, sys launch.System, o launch.Options, out, tool, version string, stderr io.Writer) (*format.Result, error) {
	say := func(format string, args ...any) { fmt.Fprintf(stderr, tool+": "+format+"\n", args...) }
	opt := inject.Options{Log: func(msg string) { say("%s", msg) }, Recorded: o.Stops != nil}
	if hasPartition(plan) {
		net, err := netcut.New(nodeNames(sys))
		if err != nil {
			return nil, fmt.Errorf("a partition needs a cgroup per node and an eBPF program (root, cgroup v2): %w", err)
		}
		defer func() {
			if err := net.Close(); err != nil {
				say("%v", err)
			}
		}()
		opt.Net, o.Cgroup = net, net.Dir
	}
	in, err := inject.New(plan, opt)
	if err != nil {
		return nil, err
	}
	defer in.Stop()
	say("applying plan %s", plan)
	if o.Run == "" {
		o.Run = RunName(plan.ID, time.Now())
	}
	o.Hook, o.Plan = in, plan
	res, wall, runErr := Run(sys, o, out, tool, version, stderr)
	in.Stop()
	result, err := verdict.Judge(verdict.Run{System: sys, Result: res, Err: runErr, Plan: plan, Fired: in.Fired(), Notes: in.Notes(),
		RolledBack: in.RolledBack()})
	if err != nil {
		return nil, err
	}
	result.Trace, result.WallMS, result.Run = out, wall.Milliseconds(), o.Run
	result.V = format.ResultVersionFor(result)
	say("plan %s: %s", plan.ID, result.Verdict)
	return result, runErr
}

// EBPF opens the eBPF recorder as the Backend of one run with o, its
// warnings said on stderr as tool's; the trace's metadata names it
// (backend, ebpf.limits) beside a copy of o.Meta, so that runs do not share
// one map. The caller closes it after the run, and passes the run's error
// through Incomplete.
func EBPF(o *launch.Options, tool string, stderr io.Writer) (*ebpfrec.Recorder, error) {
	rec, err := ebpfrec.Open(func(m string) { fmt.Fprintf(stderr, "%s: warning: %s\n", tool, m) })
	if err != nil {
		return nil, err
	}
	meta := map[string]string{"backend": "ebpf", "ebpf.limits": ebpfrec.Limits}
	maps.Copy(meta, o.Meta) // the system's flags (pain.x.system)
	o.Backend, o.Meta = rec, meta
	return rec, nil
}

// Incomplete returns err, the error of a run recorded by rec (nil: under
// ptrace); when the run went well but rec lost records (its ring buffer
// full), the error that says the trace is incomplete: a tool error.
func Incomplete(rec *ebpfrec.Recorder, err error) error {
	if rec == nil || err != nil {
		return err
	}
	if n := rec.Lost(); n > 0 {
		return fmt.Errorf("the eBPF recorder lost %d records (ring buffer full): the trace is incomplete", n)
	}
	return nil
}

func hasPartition(p *format.Plan) bool {
	for _, f := range p.Faults {
		if f.Kind == format.FaultPartition {
			return true
		}
	}
	return false
}

// nodeNames returns the nodes a run of sys starts, each of which gets a
// cgroup of its own for partitions.
func nodeNames(sys launch.System) []string {
	var names []string
	for _, n := range sys.Nodes {
		names = append(names, n.Name)
	}
	if len(sys.Argv) > 0 {
		names = append(names, filepath.Base(sys.Argv[0]))
	}
	if sys.Workload != "" {
		names = append(names, format.NodeWorkload)
	}
	if sys.Check != "" {
		names = append(names, format.NodeCheck)
	}
	return names
}

// RunName names an injected run after its plan and its start time, so
// that repeated runs of one plan are different runs to pain-track.
func RunName(plan string, start time.Time) string {
	return plan + "@" + start.UTC().Format("20060102T150405.000000000Z")
}
