package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGolden makes the page of a real round of the embedded store (4
// traced runs, 8 plans, the pause of backup1 at rank 8 a bug;
// testdata/round, written by scripts/demo.sh with RUNS=4 PLANS=8 OUT=out/dev,
// two of its traced runs kept), its results naming
// their traces as the demo wrote them (out/dev/inject/...), from the
// round's folder moved.
func TestGolden(t *testing.T) {
	dir := filepath.Join("testdata", "round")
	runs, _ := filepath.Glob(filepath.Join(dir, "runs", "*.arrows"))
	src, err := Load(Files{
		Schedules: filepath.Join(dir, "schedules.arrows"),
		Plans:     []string{filepath.Join(dir, "plans.jsonl")},
		Results:   []string{filepath.Join(dir, "results.jsonl")},
		Traces:    runs,
		Out:       filepath.Join(dir, "report.html"),
		Top:       3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(src.Missing) > 0 {
		t.Errorf("missing: %v", src.Missing)
	}
	m, err := Build(src)
	if err != nil {
		t.Fatal(err)
	}
	g := m.Glance
	if g.Runs != 4 || g.Tried != 8 || g.Fired != 8 || g.Bugs != 1 || len(m.Bugs) != 1 || m.Bugs[0].Diagram == "" {
		t.Errorf("glance %+v, %d bugs drawn", g, len(m.Bugs))
	}
	if b := m.Bugs[0]; b.Trace != "inject/"+b.ID+".arrows" || b.Lost == 0 || b.Perfetto == "" {
		t.Errorf("bug %s: trace link %q, %d messages lost, perfetto %t", b.ID, b.Trace, b.Lost, b.Perfetto != "")
	}
	var page bytes.Buffer
	if err := Render(&page, m); err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("testdata", "round.html"), page.Bytes())
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it); got %d bytes, want %d", path, len(got), len(want))
	}
}

// TestPlans: rows for plans of a shrink and of -repeat, and results of
// plans no plans file holds.
func TestPlans(t *testing.T) {
	two := 2
	one := 1
	mk := func(id, why string, faults ...format.Fault) format.Plan {
		return format.Plan{V: 1, ID: id, Rank: 1, Faults: faults, Why: why}
	}
	crash := format.Fault{Kind: format.FaultCrash, Target: format.Target{Node: "a", Syscall: "write"}}
	drop := format.Fault{Kind: format.FaultDrop, Target: format.Target{Node: "b", Syscall: "send"}}
	src := &Sources{
		Plans: []format.Plan{
			mk("pboth", "lineage", crash, drop),
			mk("pcrash", "1 of the 2 faults of pboth", crash),
			mk("pdrop", "1 of the 2 faults of pboth", drop),
		},
		PlansFile: "my plans.jsonl",
		Injected: map[string]*Injected{"pcrash.arrows": {Link: "pcrash.arrows",
			Meta: format.Meta{Extra: map[string]string{"backend": "ebpf", "system": "-f P"}}}},
		Results: []format.Result{
			{V: 1, Plan: "pboth", Fired: true, Check: &one, Verdict: "bug", Runs: 5, FiredRuns: 5, Bugs: 3, CheckOutput: "lost k1"},
			{V: 1, Plan: "pcrash", Fired: true, Check: &two, Verdict: "survived", Trace: "pcrash.arrows"},
			{V: 2, Plan: "pdrop", Fired: true, Check: &one, Verdict: "bug", RolledBack: []format.RolledBack{
				{Node: "a", File: "$PAIN_RUN_DIR/a/wal", Writes: 2, Bytes: 10, Torn: true},
				{Node: "a", File: "$PAIN_RUN_DIR/a/new", Gone: true}}},
			{V: 1, Plan: "pother", Verdict: "not-fired", Faults: []string{"pause node c"}},
		},
	}
	m, err := Build(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Plans) != 4 {
		t.Fatalf("%d rows, want 4", len(m.Plans))
	}
	both, other := m.Plans[0], m.Plans[3]
	switch {
	case both.Repro != "3/5":
		t.Errorf("repro %q, want 3/5", both.Repro)
	case !strings.HasPrefix(both.Smallest, "pdrop: drop"):
		t.Errorf("smallest %q, want pdrop's", both.Smallest)
	case !strings.HasPrefix(both.Command, "pain-inject -plan 'my plans.jsonl' -id pboth -repeat 5 -o pboth.arrows "):
		t.Errorf("command %q", both.Command)
	case m.Plans[1].Command != "pain-inject -plan 'my plans.jsonl' -id pcrash -backend ebpf -o pcrash.arrows -f P":
		t.Errorf("command of a run injected under eBPF %q, want its backend", m.Plans[1].Command)
	case both.CheckOut != "lost k1":
		t.Errorf("check output %q", both.CheckOut)
	case other.ID != "pother" || other.Words[0] != "pause node c" || other.Verdict != "not-fired":
		t.Errorf("row of a result with no plan: %+v", other)
	case len(m.Bugs) != 2 || m.Bugs[0].DiagNote == "":
		t.Errorf("bugs %+v", m.Bugs)
	case m.Plans[2].RolledBytes != 10 || m.Plans[2].RolledWrites != 2 ||
		strings.Join(m.Plans[2].Rolled, "|") != "a $PAIN_RUN_DIR/a/wal: 2 writes (10 bytes), the oldest torn|a $PAIN_RUN_DIR/a/new: gone":
		t.Errorf("rolled back: %q, %d writes, %d bytes", m.Plans[2].Rolled, m.Plans[2].RolledWrites, m.Plans[2].RolledBytes)
	case m.Glance.Bugs != 2 || m.Glance.Tried != 4 || m.Glance.Fired != 3 || m.Glance.NotFired != 1:
		t.Errorf("glance %+v", m.Glance)
	}
}
