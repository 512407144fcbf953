//go:build linux && amd64

package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/inject"
	"github.com/boxofpain/pain/internal/launch"
	"github.com/boxofpain/pain/internal/record"
	"github.com/boxofpain/pain/internal/repeat"
	"github.com/boxofpain/pain/internal/sysent"
	"github.com/boxofpain/pain/internal/tracer"
	"github.com/boxofpain/pain/internal/verdict"
)

// injectAll runs sys with plan applied, n times, and writes the result line
// on stdout. Repeated, it says after each run how many are done and what
// they found: on a terminal in one line kept under the other messages,
// otherwise in a line of its own per run. With ebpf, each run is recorded
// by the eBPF recorder and stops only where the plan can act
// (inject.Stops), or under full ptrace where it cannot (said on stderr).
func injectAll(plan *format.Plan, sys launch.System, o launch.Options, out string, n int, ebpf bool, stdout, stderr io.Writer) error {
	// stdout carries the result line alone: the command's own output goes
	// to stderr, with the nodes' (a traced process writes to a file).
	if f, ok := stderr.(*os.File); ok {
		o.Stdout = f
	}
	if ebpf {
		stops, err := inject.Stops(plan)
		if err != nil {
			fmt.Fprintf(stderr, "%s: -backend ebpf: plan %s %v: the run is recorded under full ptrace\n", tool, plan.ID, err)
			ebpf = false
		}
		o.Stops = stops
	}
	var after func(int, []format.Result)
	msgs := stderr
	if n > 1 {
		progress := cli.NewProgressLines(stderr, tool+": ")
		defer progress.Done()
		msgs = progress.Above(stderr)
		after = func(done int, so []format.Result) { progress.Update(done, n, "runs: "+repeat.Tally(so)) }
	}
	result, err := repeat.Run(n, out, func(trace string) (*format.Result, error) {
		if !ebpf {
			return record.Inject(plan, sys, o, trace, tool, version, msgs)
		}
		return injectEBPF(plan, sys, o, trace, msgs)
	}, after)
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

// injectEBPF is one run of injectAll recorded by the eBPF recorder, with
// o.Stops. A record lost (ring buffer full) makes the trace incomplete: a
// tool error after the result.
func injectEBPF(plan *format.Plan, sys launch.System, o launch.Options, trace string, stderr io.Writer) (*format.Result, error) {
	rec, err := record.EBPF(&o, tool, stderr)
	if err != nil {
		return nil, err
	}
	defer rec.Close()
	o.Meta["ebpf.stops"] = stopsText(o.Stops)
	res, err := record.Inject(plan, sys, o, trace, tool, version, stderr)
	return res, record.Incomplete(rec, err)
}

// stopsText says where a run stops, for the trace's metadata: "kv1,kv2:
// read,write" (or "all nodes: ...").
func stopsText(s *tracer.Stops) string {
	nodes := strings.Join(s.Nodes, ",")
	if s.Nodes == nil {
		nodes = "all nodes"
	}
	calls := make([]string, len(s.Calls))
	for i, nr := range s.Calls {
		calls[i] = sysent.Name(nr)
	}
	return nodes + ": " + strings.Join(calls, ",")
}
