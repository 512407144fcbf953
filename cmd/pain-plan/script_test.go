package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/testenv"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"pain-plan": main})
}

// TestScript runs the command-line scenarios in testdata/script. Their
// schedules come from the real pain-track, built here, reading a real trace
// of examples/kvstore in text form (testdata/kvstore-run.txt).
func TestScript(t *testing.T) {
	bin := testenv.Tools(t, "./cmd/pain-track")
	run, err := filepath.Abs("testdata/kvstore-run.txt")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("RUN", run)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){"plans": plans, "tried": tried, "skipped": skipped},
	})
}

// plans FILE N: FILE holds N valid plans, ranked 1..N, no two alike.
func plans(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: plans FILE N")
	}
	ps, err := format.ReadPlans(strings.NewReader(ts.ReadFile(args[0])), args[0])
	ts.Check(err)
	want, _ := strconv.Atoi(args[1])
	if len(ps) != want {
		ts.Fatalf("%d plans, want %d", len(ps), want)
	}
	seen := map[string]bool{}
	for i, p := range ps {
		if p.Rank != i+1 || seen[p.ID] || p.Why == "" || p.Evidence.OfRuns == 0 {
			ts.Fatalf("plan %d: rank %d, id %s (seen before: %v), why %q, evidence %+v", i, p.Rank, p.ID, seen[p.ID], p.Why, p.Evidence)
		}
		seen[p.ID] = true
	}
}

// tried PLANS K RESULTS [VERDICT]: write a pain-inject result for the
// first K plans of PLANS (not fired, so no trace; verdict not-fired unless
// given), as a user's earlier round would have.
func tried(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 || len(args) > 4 {
		ts.Fatalf("usage: tried PLANS K RESULTS [VERDICT]")
	}
	verdict := format.VerdictNotFired
	if len(args) == 4 {
		verdict = args[3]
	}
	ps, err := format.ReadPlans(strings.NewReader(ts.ReadFile(args[0])), args[0])
	ts.Check(err)
	k, _ := strconv.Atoi(args[1])
	var b strings.Builder
	for _, p := range ps[:k] {
		ts.Check(format.WriteResult(&b, &format.Result{V: 1, Plan: p.ID, Verdict: verdict}))
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), []byte(b.String()), 0o644))
}

// skipped PLANS K NEXT: NEXT holds none of the first K plans of PLANS and
// goes on with the rest of them in their order.
func skipped(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: skipped PLANS K NEXT")
	}
	ps, err := format.ReadPlans(strings.NewReader(ts.ReadFile(args[0])), args[0])
	ts.Check(err)
	next, err := format.ReadPlans(strings.NewReader(ts.ReadFile(args[2])), args[2])
	ts.Check(err)
	k, _ := strconv.Atoi(args[1])
	for i, p := range next {
		if k+i < len(ps) && p.ID != ps[k+i].ID {
			ts.Fatalf("plan %d of %s is %s, want %s", i+1, args[2], p.ID, ps[k+i].ID)
		}
	}
}
