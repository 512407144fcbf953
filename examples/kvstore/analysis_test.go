package kvstore_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	"github.com/boxofpain/pain/format"
)

// demoFiles checks the files of a demo run as analysis tools see them: its
// Perfetto files bind every message flow from the send's slice to the
// receive's, none ending before it starts; its traces, exported to Parquet
// one file per run, read back by glob as one table with the run column
// telling the runs apart; and its results and schedules, exported too,
// name by run the runs those traces hold.
func demoFiles(t *testing.T, tools, out string) {
	perfetto, _ := filepath.Glob(filepath.Join(out, "*", "*.trace.json"))
	if len(perfetto) < 2 {
		t.Errorf("the demo wrote %d Perfetto files, want the schedules' and the bug's", len(perfetto))
	}
	for _, p := range perfetto {
		n := checkFlows(t, p)
		t.Logf("%s: %d flows, none ending before it starts", filepath.Base(p), n)
	}
	// The demo exports every trace, and its schedules, plans and results,
	// under parquet/: the run column of each table names runs the traces
	// hold.
	traces, _ := filepath.Glob(filepath.Join(out, "runs", "*.arrows"))
	injected, _ := filepath.Glob(filepath.Join(out, "inject", "*.arrows"))
	pq := filepath.Join(out, "parquet")
	want := map[string]bool{}
	for _, tr := range append(traces, injected...) {
		want[runName(t, tr)] = true
	}
	rows := readParquetRuns(t, filepath.Join(pq, "runs", "*.parquet"))
	if len(rows) != len(want) {
		t.Errorf("%d runs in the run column of %s/runs/*.parquet, want %d", len(rows), pq, len(want))
	}
	for run := range want {
		if rows[run] == 0 {
			t.Errorf("run %s has no rows in the Parquet files", run)
		}
	}
	for _, table := range []string{"results", "schedules"} {
		runs := readParquetRuns(t, filepath.Join(pq, table+".parquet"))
		if len(runs) == 0 {
			t.Errorf("%s.parquet names no run", table)
		}
		for run := range runs {
			if !want[run] {
				t.Errorf("%s.parquet names run %q, which no trace holds", table, run)
			}
		}
	}
	t.Logf("%d traces exported; the glob reads back %d runs; results and schedules join them by run", len(want), len(rows))
}

// runName is the run name a trace's metadata holds.
func runName(t *testing.T, trace string) string {
	f, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := format.NewReader(f, trace)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.Meta().Run
}

// readParquetRuns reads every Parquet file a glob matches with Arrow Go's
// reader and counts the rows of each value of the run column.
func readParquetRuns(t *testing.T, glob string) map[string]int {
	paths, _ := filepath.Glob(glob)
	runs := map[string]int{}
	for _, p := range paths {
		pf, err := file.OpenParquetFile(p, false)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if tbl.Schema().Field(0).Name != "run" {
			t.Fatalf("%s: first column is %s, not run", p, tbl.Schema().Field(0).Name)
		}
		for _, ch := range tbl.Column(0).Data().Chunks() {
			s := ch.(*array.String)
			for i := range s.Len() {
				runs[s.Value(i)]++
			}
		}
		tbl.Release()
		pf.Close()
	}
	return runs
}

// checkFlows checks every message flow of a Chrome/Perfetto trace-event
// file: it starts inside a slice of the sender's thread, ends inside a
// slice of the receiver's, and does not end before it starts.
func checkFlows(t *testing.T, path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type event struct {
		Ph       string
		TS       float64
		Dur      float64
		PID, TID int
		ID       int
		Name     string
	}
	var f struct{ TraceEvents []event }
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	type lane struct{ pid, tid int }
	slices := map[lane][][2]float64{}
	starts := map[int]event{}
	var ends []event
	for _, e := range f.TraceEvents {
		switch e.Ph {
		case "X":
			slices[lane{e.PID, e.TID}] = append(slices[lane{e.PID, e.TID}], [2]float64{e.TS, e.TS + e.Dur})
		case "s":
			starts[e.ID] = e
		case "f":
			ends = append(ends, e)
		}
	}
	const eps = 1e-6
	in := func(e event) bool {
		for _, s := range slices[lane{e.PID, e.TID}] {
			if e.TS >= s[0]-eps && e.TS <= s[1]+eps {
				return true
			}
		}
		return false
	}
	for _, e := range ends {
		s, ok := starts[e.ID]
		switch {
		case !ok:
			t.Errorf("%s: flow %d has no start", path, e.ID)
		case e.TS < s.TS:
			t.Errorf("%s: flow %d (%s) ends at %.3fµs, before it starts at %.3fµs", path, e.ID, e.Name, e.TS, s.TS)
		case !in(s) || !in(e):
			t.Errorf("%s: flow %d (%s) is not inside a slice at both ends", path, e.ID, e.Name)
		}
	}
	if len(ends) == 0 || len(ends) != len(starts) {
		t.Errorf("%s: %d flow starts and %d ends", path, len(starts), len(ends))
	}
	return len(ends)
}
