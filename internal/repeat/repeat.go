// Package repeat runs one fault plan several times and sums the results up
// in one result line: how often the plan fired and how often it broke the
// check (its reproduction rate). A fault that depends on timing may fire in
// some runs and not others, and a bug it finds may show in only some of
// them; one run says little about either.
package repeat

import (
	"cmp"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/boxofpain/pain/format"
)

// Once runs the plan once, tracing to trace, and returns its result: nil
// when nothing ran. Its error is a tool error (the trace could not be
// written, the run was interrupted), which ends the repetitions.
type Once func(trace string) (*format.Result, error)

// Run runs once n times, the i-th tracing to Trace(trace, i), and returns
// the result that sums them up (nil when no run started), with the error
// that ended the repetitions, if any. With n 1 it is once itself: its
// result line has no counts. after, when not nil, hears of each run's end
// with the results so far (for a progress line: Tally).
func Run(n int, trace string, once Once, after func(done int, so []format.Result)) (*format.Result, error) {
	if n == 1 {
		return once(trace)
	}
	var results []format.Result
	for i := 1; i <= n; i++ {
		r, err := once(Trace(trace, i))
		if r != nil {
			results = append(results, *r)
		}
		if after != nil {
			after(i, results)
		}
		if err != nil || r == nil {
			if len(results) == 0 {
				return nil, cmp.Or(err, fmt.Errorf("run %d: no result", i))
			}
			sum := Sum(results)
			return &sum, err
		}
	}
	sum := Sum(results)
	return &sum, nil
}

// Sum sums up the results of runs of one plan: bug if any run found it,
// else survived if one passed the check after its fault fired, else
// inconclusive if a check could not judge one, not-fired otherwise. The line
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
	for _, v := range []string{format.VerdictBug, format.VerdictSurvived, format.VerdictInconclusive, format.VerdictNotFired} {
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

// Tally says what the runs so far found, verdicts in the order Sum weighs
// them, those no run had left out: "bug 2, survived 1".
func Tally(rs []format.Result) string {
	var parts []string
	for _, v := range []string{format.VerdictBug, format.VerdictSurvived, format.VerdictInconclusive, format.VerdictNotFired, format.VerdictInterrupted} {
		n := 0
		for i := range rs {
			n += b2i(rs[i].Verdict == v)
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", v, n))
		}
	}
	return strings.Join(parts, ", ")
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
