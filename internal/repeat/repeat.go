// Package repeat runs one fault plan several times and sums the results up
// in one result line: how often the plan fired and how often it broke the
// check (its reproduction rate). A fault that depends on timing may fire in
// some runs and not others, and a bug it finds may show in only some of
// them; one run says little about either.
package repeat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/cli"
)

// Once runs the plan once, tracing to trace, and writes its result line
// to stdout. It returns nil or a cli.ExitStatus of 1 or 3 for a run that
// went to the end (survived, bug, not fired); any other error ends the
// repetitions.
type Once func(trace string, stdout io.Writer) error

// Run runs once n times, the i-th tracing to Trace(trace, i), and writes
// one result line that sums them up to stdout. Its error is the exit
// status of that summed-up verdict (as once's), or the error that ended
// the repetitions, after a result line for the runs done.
func Run(n int, trace string, once Once, stdout io.Writer) error {
	var results []format.Result
	var stop error
	for i := 1; i <= n && stop == nil; i++ {
		var out bytes.Buffer
		err := once(Trace(trace, i), &out)
		rs, rerr := format.ReadResults(&out, fmt.Sprintf("run %d", i))
		switch {
		case rerr != nil:
			return rerr
		case len(rs) != 1 && err != nil:
			return err // nothing ran
		case len(rs) != 1:
			return fmt.Errorf("run %d: %d result lines, want 1", i, len(rs))
		}
		results = append(results, rs[0])
		var st cli.ExitStatus
		if err != nil && !(errors.As(err, &st) && (st == 1 || st == 3)) {
			stop = err
		}
	}
	sum := Sum(results)
	if err := format.WriteResult(stdout, &sum); err != nil {
		return err
	}
	if stop != nil {
		return stop
	}
	switch sum.Verdict {
	case format.VerdictBug:
		return cli.ExitStatus(1)
	case format.VerdictNotFired:
		return cli.ExitStatus(3)
	}
	return nil
}

// Sum sums up the results of runs of one plan: bug if any run found it,
// survived if a fault fired in any, not-fired otherwise. The line
// describes the first run with that verdict and counts them all.
func Sum(rs []format.Result) format.Result {
	if len(rs) == 0 {
		return format.Result{}
	}
	var fired, bugs int
	for _, r := range rs {
		fired += b2i(r.Fired)
		bugs += b2i(r.Verdict == format.VerdictBug)
	}
	pick := len(rs) - 1
	for _, v := range []string{format.VerdictBug, format.VerdictSurvived, format.VerdictNotFired} {
		if i := index(rs, v); i >= 0 {
			pick = i
			break
		}
	}
	sum := rs[pick]
	sum.Runs, sum.FiredRuns, sum.Bugs = len(rs), fired, bugs
	var wall int64
	for _, r := range rs {
		wall += r.WallMS
	}
	sum.WallMS = wall
	note := fmt.Sprintf("%d runs: fired in %d, bug in %d (run %d described)", len(rs), fired, bugs, pick+1)
	sum.Note = strings.TrimSuffix(note+"; "+sum.Note, "; ")
	return sum
}

func index(rs []format.Result, verdict string) int {
	for i := range rs {
		if rs[i].Verdict == verdict {
			return i
		}
	}
	return -1
}

// Trace names the trace of the i-th run (1-based): run 1 gets the name
// as given, run i>1 "NAME-i.arrows".
func Trace(name string, i int) string {
	if i == 1 {
		return name
	}
	ext := filepath.Ext(name)
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(name, ext), i, ext)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
