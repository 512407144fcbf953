package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/ptrace"
	"github.com/boxofpain/pain/internal/tracee"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	ptrace.Shim()
	testscript.Main(m, map[string]func(){"pain-inject": main})
}

// TestScript runs the command-line scenarios in testdata/script against
// tn, the C test node of package inject, on a free port $PORT.
func TestScript(t *testing.T) {
	bin := t.TempDir()
	tracee.New(bin, filepath.Join("..", "..", "internal", "inject", "testdata", "tn.c")).Need(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err
			}
			defer l.Close()
			env.Setenv("PORT", strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"result": result, "trace": trace,
			"waitfile": waitfile, "distinctruns": distinctRuns},
	})
}

// result FILE KEY=VALUE...: FILE holds exactly one result line, read back
// with format.ReadResults, whose fields have these values (plan, fired,
// verdict, check, trace, where: node/thread#seq of the first fault fired;
// note~REGEXP: the note matches), and whose run is its trace's.
func result(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: result FILE KEY=VALUE...")
	}
	rs, err := format.ReadResults(strings.NewReader(ts.ReadFile(args[0])), args[0])
	ts.Check(err)
	if len(rs) != 1 {
		ts.Fatalf("%d result lines, want 1", len(rs))
	}
	r := rs[0]
	check, where := "null", ""
	if r.Check != nil {
		check = strconv.Itoa(*r.Check)
	}
	if len(r.Where) > 0 {
		where = fmt.Sprintf("%s/%s#%d", r.Where[0].Node, r.Where[0].Thread, r.Where[0].Seq)
	}
	got := map[string]string{"plan": r.Plan, "fired": strconv.FormatBool(r.Fired), "verdict": r.Verdict,
		"check": check, "trace": r.Trace, "where": where,
		"runs": strconv.Itoa(r.Runs), "fired_runs": strconv.Itoa(r.FiredRuns), "bugs": strconv.Itoa(r.Bugs)}
	for _, kv := range args[1:] {
		if re, ok := strings.CutPrefix(kv, "note~"); ok {
			if !regexp.MustCompile(re).MatchString(r.Note) {
				ts.Fatalf("note %q does not match %q", r.Note, re)
			}
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := got[k]; !ok {
			ts.Fatalf("result: unknown key in %q", kv)
		}
		if got[k] != v {
			ts.Fatalf("result %s = %q, want %q (%+v)", k, got[k], v, r)
		}
	}
	if r.WallMS <= 0 || len(r.Faults) == 0 {
		ts.Fatalf("result without wall time or faults: %+v", r)
	}
	// The run joins the trace's rows: it is the trace's run name.
	if r.Verdict != format.VerdictInterrupted {
		m, _, err := format.ReadFile(ts.MkAbs(r.Trace))
		ts.Check(err)
		if r.Run == "" || r.Run != m.Run {
			ts.Fatalf("result run %q, its trace's %q", r.Run, m.Run)
		}
	}
}

// trace FILE PLAN [MARK]: FILE is a trace of run PLAN with the plan in its
// metadata and, with MARK, exactly one row marked MARK.
func trace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: trace FILE PLAN [MARK]")
	}
	m, rows, err := format.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	if !strings.HasPrefix(m.Run, args[1]+"@") || m.Plan == nil || m.Plan.ID != args[1] {
		ts.Fatalf("trace of run %q with plan %v, want plan %s", m.Run, m.Plan, args[1])
	}
	if len(args) == 3 {
		n := 0
		for _, e := range rows {
			if e.Fault == args[2] {
				n++
			}
		}
		if n != 1 {
			ts.Fatalf("%d rows marked %s, want 1", n, args[2])
		}
	}
}

// waitfile FILE: wait until FILE exists (a background command got that
// far), failing after a minute.
func waitfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
			return
		}
	}
	ts.Fatalf("%s did not appear within a minute", args[0])
}

// distinctruns FILE...: the traces have different run names.
func distinctRuns(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: distinctruns FILE...")
	}
	seen := map[string]string{}
	for _, a := range args {
		m, _, err := format.ReadFile(ts.MkAbs(a))
		ts.Check(err)
		if prev, ok := seen[m.Run]; ok {
			ts.Fatalf("%s and %s are both run %q", prev, a, m.Run)
		}
		seen[m.Run] = a
	}
}
