package repeat

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/cli"
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

// Run goes on through bugs and misses, stops at a tool error after printing
// the runs done, and returns the summed-up verdict's exit status.
func TestRun(t *testing.T) {
	line := func(w io.Writer, v string) {
		format.WriteResult(w, &format.Result{V: 1, Plan: "p1", Verdict: v, Fired: v != "not-fired", WallMS: 1})
	}
	var traces []string
	var out strings.Builder
	err := Run(3, "p1.arrows", func(trace string, w io.Writer) error {
		traces = append(traces, trace)
		if len(traces) == 2 {
			line(w, "bug")
			return cli.ExitStatus(1)
		}
		line(w, "not-fired")
		return cli.ExitStatus(3)
	}, &out)
	var st cli.ExitStatus
	if !errors.As(err, &st) || st != 1 {
		t.Errorf("error %v, want exit status 1", err)
	}
	if strings.Join(traces, " ") != "p1.arrows p1-2.arrows p1-3.arrows" {
		t.Errorf("traces %v", traces)
	}
	if !strings.Contains(out.String(), `"runs":3,"fired_runs":1,"bugs":1`) {
		t.Errorf("result line %s", out.String())
	}

	out.Reset()
	boom := errors.New("trace lost")
	n := 0
	err = Run(5, "p1.arrows", func(trace string, w io.Writer) error {
		n++
		line(w, "survived")
		if n == 2 {
			return boom
		}
		return nil
	}, &out)
	if !errors.Is(err, boom) || n != 2 || !strings.Contains(out.String(), `"runs":2`) {
		t.Errorf("after a tool error: err %v, %d runs, line %s", err, n, out.String())
	}
}
