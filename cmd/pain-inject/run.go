//go:build linux && amd64

package main

import (
	"io"
	"os"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/launch"
	"github.com/boxofpain/pain/internal/record"
	"github.com/boxofpain/pain/internal/repeat"
	"github.com/boxofpain/pain/internal/verdict"
)

// injectAll runs sys with plan applied, n times, and writes the result line
// on stdout.
func injectAll(plan *format.Plan, sys launch.System, o launch.Options, out string, n int, stdout, stderr io.Writer) error {
	// stdout carries the result line alone: the command's own output goes
	// to stderr, with the nodes' (a traced process writes to a file).
	if f, ok := stderr.(*os.File); ok {
		o.Stdout = f
	}
	result, err := repeat.Run(n, out, func(trace string) (*format.Result, error) {
		return record.Inject(plan, sys, o, trace, tool, version, stderr)
	})
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
