package schedule

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
)

func readText(t testing.TB, path string) []format.Event {
	t.Helper()
	_, evs, err := format.ReadTextFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// runs makes n runs from the hand-written traces of package hb: mostly the
// exchange, some where the check was refused, a few of the other system.
func runs(t testing.TB, n int) map[string][]format.Event {
	exchange := readText(t, "../hb/testdata/exchange.txt")
	procs := readText(t, "../hb/testdata/procs.txt")
	var refused []format.Event
	for _, e := range exchange {
		if e.Conn == "check:main:s0>kv1:listen0" || e.Node == "check" && e.Seq > 2 {
			if e.Syscall != "connect" {
				continue
			}
			e.Ret, e.Errno = -1, "ECONNREFUSED"
		}
		refused = append(refused, e)
	}
	out := map[string][]format.Event{}
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < n; i++ {
		evs := exchange
		switch {
		case i%7 == 3:
			evs = refused
		case i%11 == 5:
			evs = procs
		}
		evs = append([]format.Event(nil), evs...)
		shift := r.Int64N(1e9)
		for k := range evs {
			evs[k].TimeNS += shift
			evs[k].PID += int32(i)
		}
		r.Shuffle(len(evs), func(a, b int) { evs[a], evs[b] = evs[b], evs[a] })
		out[fmt.Sprintf("run-%04d", i)] = evs
	}
	return out
}

// injectedPlan is the plan track says runs whose name ends in 7 applied.
var injectedPlan = &format.Plan{V: 1, ID: "p1", Why: "x", Faults: []format.Fault{{Kind: format.FaultCrash, Target: format.Target{Node: "n"}}}}

func track(t testing.TB, gran hb.Granularity, rs map[string][]format.Event, names []string) *Set {
	s := New(gran)
	b := hb.NewBuilder(gran)
	for _, name := range names {
		b.Reset()
		for i := range rs[name] {
			b.Add(&rs[name][i])
		}
		if err := s.Add(b.Graph(name)); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, "7") {
			s.Injected(name, injectedPlan)
		}
	}
	return s
}

func names(rs map[string][]format.Event) []string {
	var out []string
	for n := range rs {
		out = append(out, n)
	}
	return out
}

func TestRankAndCoverage(t *testing.T) {
	rs := runs(t, 22) // 3 refused (3, 10, 17), 2 procs (5, 16), 17 exchanges
	s := track(t, hb.Message, rs, names(rs))
	scheds := s.Schedules()
	if len(scheds) != 3 {
		t.Fatalf("%d schedules, want 3", len(scheds))
	}
	var got []int
	sum := 0.0
	for _, sc := range scheds {
		got = append(got, len(sc.Runs))
		sum += sc.Share
	}
	if !reflect.DeepEqual(got, []int{17, 3, 2}) {
		t.Errorf("runs per schedule %v, want [17 3 2]", got)
	}
	if sum < 0.999999 || sum > 1.000001 {
		t.Errorf("shares add up to %v", sum)
	}
	if r := scheds[1].Runs; !reflect.DeepEqual(r, []string{"run-0003", "run-0010", "run-0017"}) {
		t.Errorf("refused runs %v", r)
	}
	if scheds[0].Graph.Run != "run-0000" {
		t.Errorf("representative of the top schedule is %s, want the first run by name", scheds[0].Graph.Run)
	}
	c := s.Coverage()
	if c != (Coverage{Runs: 22, Schedules: 3, Singletons: 0, Unseen: 0}) {
		t.Errorf("coverage %+v", c)
	}
	// A new singleton shows in the estimate.
	single := track(t, hb.Syscall, rs, []string{"run-0000", "run-0001", "run-0003"})
	if c := single.Coverage(); c.Schedules != 2 || c.Singletons != 1 || c.Unseen != 1.0/3 {
		t.Errorf("coverage %+v, want 2 schedules, 1 singleton, unseen 1/3", c)
	}
	// The stream edge of the request is in every exchange run; the check's
	// in all but the refused ones.
	sup := map[string]int{}
	for _, e := range s.Support() {
		sup[e.Key] = e.Runs
	}
	if n := sup["workload/main write workload:main:s0>kv1:listen0@0+12 -> kv1/main read workload:main:s0>kv1:listen0@0+12"]; n != 20 {
		t.Errorf("request edge in %d runs, want 20", n)
	}
	if n := sup["check/main write check:main:s0>kv1:listen0@0+4 -> kv1/main read check:main:s0>kv1:listen0@0+4"]; n != 17 {
		t.Errorf("check's request edge in %d runs, want 17", n)
	}
}

// TestMerge tracks shards separately, in random order, some through a
// schedules file, and checks that merging them gives what tracking all runs
// at once gives.
func TestMerge(t *testing.T) {
	rs := runs(t, 40)
	all := names(rs)
	meta := format.Meta{Tool: "test"}
	for _, gran := range []hb.Granularity{hb.Message, hb.Syscall} {
		want := track(t, gran, rs, all).File(meta)
		r := rand.New(rand.NewPCG(9, 10))
		for trial := 0; trial < 20; trial++ {
			r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
			cuts := []int{0, r.IntN(len(all)), r.IntN(len(all)), len(all)}
			if cuts[1] > cuts[2] {
				cuts[1], cuts[2] = cuts[2], cuts[1]
			}
			merged := New(gran)
			for k := 0; k < 3; k++ {
				shard := track(t, gran, rs, all[cuts[k]:cuts[k+1]])
				if k == 1 { // through a file
					var buf bytes.Buffer
					if err := format.WriteSchedules(&buf, shard.File(meta)); err != nil {
						t.Fatal(err)
					}
					f, err := format.ReadSchedulesFrom(&buf, "shard.arrows")
					if err != nil {
						t.Fatal(err)
					}
					if err := merged.AddFile(f); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := merged.Merge(shard); err != nil {
					t.Fatal(err)
				}
			}
			if got := merged.File(meta); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: merged shards %v differ from tracking all at once", gran, cuts)
			}
			if len(want.Injected) != 4 { // run-0007, -0017, -0027, -0037
				t.Fatalf("%d injected runs in the file, want 4", len(want.Injected))
			}
			if !reflect.DeepEqual(merged.Schedules(), track(t, gran, rs, all).Schedules()) {
				t.Fatalf("%s: merged Schedules() differ", gran)
			}
		}
	}
}

func TestAddFileRejects(t *testing.T) {
	rs := runs(t, 5)
	s := track(t, hb.Message, rs, names(rs))
	for name, spoil := range map[string]func(f *format.Schedules){
		"changed event": func(f *format.Schedules) { f.Schedules[0].Events[3].Syscall = "sendto" },
		"edge out of range": func(f *format.Schedules) {
			f.Schedules[0].Edges = append(f.Schedules[0].Edges, format.GraphEdge{From: 1, To: 999, Kind: "stream"})
		},
		"support of more runs than there are": func(f *format.Schedules) { f.Support[0].Runs = 99 },
		"other granularity":                   func(f *format.Schedules) { f.Granularity = "syscall" },
		"other canonical form":                func(f *format.Schedules) { f.Meta.Extra["canon"] = "0" },
	} {
		f := s.File(format.Meta{})
		spoil(f)
		err := New(hb.Message).AddFile(f)
		if err == nil {
			t.Errorf("%s: AddFile accepted it", name)
		} else if strings.Contains(err.Error(), "panic") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestGranularityMismatch(t *testing.T) {
	if err := New(hb.Message).Merge(New(hb.Syscall)); err == nil {
		t.Errorf("merged syscall granularity into message")
	}
	if c := New(hb.Message).Coverage(); c.Unseen != 1 {
		t.Errorf("no runs: unseen %v, want 1", c.Unseen)
	}
}

// TestWriteFile checks that streaming a Set to a file writes the same bytes
// as writing its File.
func TestWriteFile(t *testing.T) {
	rs := runs(t, 30)
	s := track(t, hb.Message, rs, names(rs))
	m := format.Meta{Tool: "test"}
	var a, b bytes.Buffer
	if err := s.WriteFile(&a, m); err != nil {
		t.Fatal(err)
	}
	if err := format.WriteSchedules(&b, s.File(m)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("WriteFile and WriteSchedules(File) differ")
	}
	if got := s.Graph(s.Ranking()[0].ID); got == nil || got.ID() != s.Ranking()[0].ID {
		t.Errorf("Graph(top id) = %v", got)
	}
	if s.Graph("nope") != nil {
		t.Errorf("Graph of an unknown id is not nil")
	}
}

// A class schedule carries, per class, the fewest and the most untied
// messages of its runs (a class a run did not use counts 0), through
// merges and files alike.
func TestUntiedRanges(t *testing.T) {
	exchange := readText(t, "../hb/testdata/exchange.txt")
	counts := [][]format.UntiedCount{
		{{Class: "a -> -", Min: 2, Max: 2}},
		{{Class: "a -> -", Min: 5, Max: 5}, {Class: "b <- -", Min: 1, Max: 1}},
		nil,
	}
	add := func(s *Set, i int) {
		b := hb.NewBuilder(hb.Class)
		for k := range exchange {
			b.Add(&exchange[k])
		}
		g := b.Graph(fmt.Sprintf("run-%d", i))
		g.Untied = counts[i]
		if err := s.Add(g); err != nil {
			t.Fatal(err)
		}
	}
	all := New(hb.Class)
	for i := range counts {
		add(all, i)
	}
	want := []format.UntiedCount{{Class: "a -> -", Min: 0, Max: 5}, {Class: "b <- -", Min: 0, Max: 1}}
	if r := all.Ranking(); len(r) != 1 || !reflect.DeepEqual(r[0].Untied, want) {
		t.Fatalf("ranking %+v, want one schedule with untied %+v", r, want)
	}
	first, second := New(hb.Class), New(hb.Class)
	add(first, 0)
	add(second, 1)
	add(second, 2)
	var buf bytes.Buffer
	if err := format.WriteSchedules(&buf, second.File(format.Meta{})); err != nil {
		t.Fatal(err)
	}
	f, err := format.ReadSchedulesFrom(&buf, "second.arrows")
	if err != nil {
		t.Fatal(err)
	}
	if err := first.AddFile(f); err != nil {
		t.Fatal(err)
	}
	if got, want := first.File(format.Meta{}), all.File(format.Meta{}); !reflect.DeepEqual(got.Untied, want.Untied) || len(got.Untied) != 1 {
		t.Errorf("merged through a file: untied %+v, want %+v", got.Untied, want.Untied)
	}
}
