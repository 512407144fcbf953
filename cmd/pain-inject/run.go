//go:build linux && amd64

package main

import (
	"io"
	"os"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/launch"
	"github.com/boxofpain/pain/internal/record"
	"github.com/boxofpain/pain/internal/repeat"
	"github.com/boxofpain/pain/internal/verdict"
)

// injectAll runs sys with plan applied, n times, and writes the result line
// on stdout. Repeated, it says after each run how many are done and what
// they found: on a terminal in one line kept under the other messages,
// otherwise in a line of its own per run.
func injectAll(plan *format.Plan, sys launch.System, o launch.Options, out string, n int, stdout, stderr io.Writer) error {
	// stdout carries the result line alone: the command's own output goes
	// to stderr, with the nodes' (a traced process writes to a file).
	if f, ok := stderr.(*os.File); ok {
		o.Stdout = f
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
		return record.Inject(plan, sys, o, trace, tool, version, msgs)
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
