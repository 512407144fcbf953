package repeat

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
)

func TestSum(t *testing.T) {
	one := 1
	zero := 0
	for _, tc := range []struct {
		name                string
		verdicts            []string
		verdict             string
		fired, bugs, picked int
	}{
		{"all bugs", []string{"bug", "bug"}, "bug", 2, 2, 1},
		{"some bugs", []string{"survived", "not-fired", "bug", "bug"}, "bug", 3, 2, 3},
		{"survived", []string{"not-fired", "survived"}, "survived", 1, 0, 2},
		{"never fired", []string{"not-fired", "not-fired", "not-fired"}, "not-fired", 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rs []format.Result
			for i, v := range tc.verdicts {
				r := format.Result{V: 1, Plan: "p1", Verdict: v, Fired: v != "not-fired", Check: &zero, WallMS: 10, Trace: fmt.Sprintf("t%d", i+1)}
				if v == "bug" {
					r.Check = &one
				}
				rs = append(rs, r)
			}
			s := Sum(rs)
			if s.Verdict != tc.verdict || s.Runs != len(rs) || s.FiredRuns != tc.fired || s.Bugs != tc.bugs {
				t.Errorf("sum %+v, want %s, %d runs, fired in %d, %d bugs", s, tc.verdict, len(rs), tc.fired, tc.bugs)
			}
			if want := fmt.Sprintf("t%d", tc.picked); s.Trace != want {
				t.Errorf("describes %s, want run %s", s.Trace, want)
			}
			if s.WallMS != int64(10*len(rs)) {
				t.Errorf("wall %d ms, want the sum %d", s.WallMS, 10*len(rs))
			}
		})
	}
}

func TestTrace(t *testing.T) {
	for _, tc := range []struct {
		name string
		i    int
		want string
	}{{"p1.arrows", 1, "p1.arrows"}, {"p1.arrows", 2, "p1-2.arrows"}, {"out/x", 3, "out/x-3"}} {
		if got := Trace(tc.name, tc.i); got != tc.want {
			t.Errorf("Trace(%q, %d) = %q, want %q", tc.name, tc.i, got, tc.want)
		}
	}
}

// Run goes on through bugs and misses, stops at a tool error, and sums up
// the runs done.
func TestRun(t *testing.T) {
	result := func(v string) *format.Result {
		return &format.Result{V: 1, Plan: "p1", Verdict: v, Fired: v != "not-fired", WallMS: 1}
	}
	var traces, tallies []string
	sum, err := Run(3, "p1.arrows", func(trace string) (*format.Result, error) {
		traces = append(traces, trace)
		if len(traces) == 2 {
			return result("bug"), nil
		}
		return result("not-fired"), nil
	}, func(done int, so []format.Result) {
		tallies = append(tallies, fmt.Sprintf("%d: %s", done, Tally(so)))
	})
	if err != nil || sum.Verdict != format.VerdictBug || sum.Runs != 3 || sum.FiredRuns != 1 || sum.Bugs != 1 {
		t.Errorf("sum %+v, err %v; want bug, 3 runs, fired in 1, 1 bug", sum, err)
	}
	if strings.Join(traces, " ") != "p1.arrows p1-2.arrows p1-3.arrows" {
		t.Errorf("traces %v", traces)
	}
	if got, want := strings.Join(tallies, "; "), "1: not-fired 1; 2: bug 1, not-fired 1; 3: bug 1, not-fired 2"; got != want {
		t.Errorf("progress %q, want %q", got, want)
	}

	boom := errors.New("trace lost")
	n := 0
	sum, err = Run(5, "p1.arrows", func(trace string) (*format.Result, error) {
		n++
		if n == 2 {
			return result("survived"), boom
		}
		return result("survived"), nil
	}, nil)
	if !errors.Is(err, boom) || n != 2 || sum == nil || sum.Runs != 2 {
		t.Errorf("after a tool error: err %v, %d runs, sum %+v", err, n, sum)
	}
	if sum, err := Run(3, "p1.arrows", func(string) (*format.Result, error) { return nil, boom }, nil); sum != nil || err != boom {
		t.Errorf("nothing ran: sum %+v, err %v", sum, err)
	}
}
