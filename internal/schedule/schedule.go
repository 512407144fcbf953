// Package schedule groups runs by schedule: it aggregates the happens-before
// graphs of many runs (package hb) into the distinct schedules seen, ranked
// by how many runs showed each, counts in how many runs each message edge
// occurs, and estimates how likely the next run is to show a schedule not
// seen yet (Good-Turing: singletons / runs).
//
// A Set keeps, per schedule, its run names and the graph of one run (the
// one whose name sorts first), compacted (about a tenth of a Graph), and
// per message edge a count: its memory grows with the schedules and edges
// seen, not with the runs. Ranking, Graph and WriteFile use one graph at a
// time; Schedules and File hold them all. Sets merge:
// tracking shards separately and merging the results gives exactly what
// tracking all runs at once gives, whatever the order.
package schedule

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
)

// Set is an aggregate of runs. The zero Set is not ready; use New.
type Set struct {
	gran    hb.Granularity
	runs    int
	byID    map[string]*entry
	support map[string]*edgeStat
	gen     int    // counts Add calls: an edge counts once per run
	buf     []byte // scratch for edge keys
	// injected holds the plan applied in each injected run, by run name.
	injected map[string]*format.Plan
	// traces holds each run's trace files, by run name, as given.
	traces map[string][]string
}

type entry struct {
	runs   []string
	sorted bool
	// The graph of one run represents the schedule: its run name, the graph
	// compacted (hb.Graph.Compact: an aggregate of many distinct schedules
	// stays small), and the counts a summary shows.
	rep                       string
	graph                     []byte
	events, threads, messages int
	classes                   int // message classes tied to workload requests
	// untied is, per message class, the fewest and the most messages tied
	// to no request that a run of the schedule sent on it (hb.Graph.Untied);
	// a class a run did not use counts 0 there.
	untied []format.UntiedCount
	// The support entries of the schedule's message edges, found once: every
	// run of a schedule has the same message edges, with the same keys.
	edges []*edgeStat
}

func newEntry(runs []string, g *hb.Graph) *entry {
	e := &entry{runs: runs, sorted: len(runs) < 2, untied: slices.Clone(g.Untied)}
	e.represent(g)
	return e
}

// mergeUntied returns the ranges of a and b, each over some runs, as the
// ranges over all their runs: a class missing from one side was not used
// in its runs, so its fewest is 0.
func mergeUntied(a, b []format.UntiedCount) []format.UntiedCount {
	byClass := func(us []format.UntiedCount) map[string]format.UntiedCount {
		m := make(map[string]format.UntiedCount, len(us))
		for _, u := range us {
			m[u.Class] = u
		}
		return m
	}
	ma, mb := byClass(a), byClass(b)
	classes := slices.Collect(maps.Keys(ma))
	classes = append(classes, slices.Collect(maps.Keys(mb))...)
	slices.Sort(classes)
	var out []format.UntiedCount
	for _, c := range slices.Compact(classes) {
		x, y := ma[c], mb[c] // zero if the class is missing: 0 messages
		out = append(out, format.UntiedCount{Class: c, Min: min(x.Min, y.Min), Max: max(x.Max, y.Max)})
	}
	return out
}

func (e *entry) represent(g *hb.Graph) {
	e.rep, e.graph = g.Run, g.Compact()
	e.events, e.threads, e.messages = len(g.Events), len(g.Lanes), len(g.MessageEdges())
	e.classes = g.TiedClasses()
}

// Graph returns the representative graph of the schedule.
func (e *entry) Graph() *hb.Graph {
	g, err := hb.Uncompact(e.rep, e.graph)
	if err != nil {
		panic(fmt.Sprintf("schedule: a graph this package compacted does not read back: %v", err))
	}
	return g
}

type edgeStat struct {
	kind hb.EdgeKind
	runs int
	gen  int
}

// New returns an empty Set of graphs of granularity g.
func New(g hb.Granularity) *Set {
	return &Set{gran: g, byID: map[string]*entry{}, support: map[string]*edgeStat{}}
}

// Granularity returns the granularity of the Set's graphs.
func (s *Set) Granularity() hb.Granularity { return s.gran }

// Runs returns the number of runs added.
func (s *Set) Runs() int { return s.runs }

// Add adds the graph of one run; g.Run names the run. It keeps a copy of g
// if g is to represent its schedule, never g itself, so g may be a
// Builder's scratch graph.
func (s *Set) Add(g *hb.Graph) error {
	if g.Granularity != s.gran {
		return fmt.Errorf("run %s is at %s granularity, not %s", g.Run, g.Granularity, s.gran)
	}
	s.runs++
	s.gen++
	e := s.byID[g.ID()]
	switch {
	case e == nil:
		e = newEntry([]string{g.Run}, g)
		s.byID[g.ID()] = e
	case better(g.Run, e.rep, func() [32]byte { return details(g) }, func() [32]byte { return details(e.Graph()) }):
		e.represent(g)
		fallthrough
	default:
		e.runs = append(e.runs, g.Run)
		e.sorted = false
		e.untied = mergeUntied(e.untied, g.Untied)
	}
	edges := e.edges
	switch {
	case g.Granularity == hb.Class:
		// Runs of one class schedule may name the messages between
		// system nodes differently (hb's classCanon): each its own.
		edges = s.edgeStats(g)
	case e.edges == nil:
		e.edges = s.edgeStats(g) // any run of the schedule has the same edge keys
		edges = e.edges
	}
	for _, st := range edges {
		if st.gen != s.gen {
			st.gen = s.gen
			st.runs++
		}
	}
	return nil
}

// edgeStats returns the support entries of g's message edges, made if new.
func (s *Set) edgeStats(g *hb.Graph) []*edgeStat {
	out := []*edgeStat{}
	for j, d := range g.Edges {
		if !d.Kind.IsMessage() {
			continue
		}
		s.buf = g.AppendEdgeKey(s.buf[:0], j)
		st := s.support[string(s.buf)]
		if st == nil {
			st = &edgeStat{kind: d.Kind}
			s.support[string(s.buf)] = st
		}
		out = append(out, st)
	}
	return out
}

// addEntry adds the runs of an entry of another Set (or of a file).
func (s *Set) addEntry(id string, o *entry) {
	e := s.byID[id]
	if e == nil {
		c := *o
		c.runs, c.edges = slices.Clone(o.runs), nil // edges are found when needed
		c.untied = slices.Clone(o.untied)
		s.byID[id] = &c
		return
	}
	e.runs = append(e.runs, o.runs...)
	e.untied = mergeUntied(e.untied, o.untied)
	e.sorted = false
	if better(o.rep, e.rep, func() [32]byte { return details(o.Graph()) }, func() [32]byte { return details(e.Graph()) }) {
		e.rep, e.graph = o.rep, o.graph
	}
}

// better reports whether run a should represent its schedule rather than
// run b: the run whose name sorts first, and among runs of the same name
// the one whose run-specific details (seq, hashes, times) sort first, so
// the choice does not depend on the order runs were added or merged in.
func better(a, b string, da, db func() [32]byte) bool {
	if c := strings.Compare(a, b); c != 0 {
		return c < 0
	}
	x, y := da(), db()
	return bytes.Compare(x[:], y[:]) < 0
}

func details(g *hb.Graph) [sha256.Size]byte {
	var b []byte
	for _, e := range g.Events {
		b = binary.AppendVarint(b, e.Seq)
		b = binary.AppendVarint(b, e.Count)
		b = binary.AppendUvarint(b, e.PayloadHash)
		b = binary.AppendVarint(b, e.TimeNS)
		b = binary.AppendVarint(b, e.DurNS)
	}
	return sha256.Sum256(b)
}

// Merge adds every run of o to s.
func (s *Set) Merge(o *Set) error {
	if o.gran != s.gran {
		return fmt.Errorf("cannot merge %s granularity into %s", o.gran, s.gran)
	}
	s.runs += o.runs
	for run, p := range o.injected {
		s.Injected(run, p)
	}
	for run, files := range o.traces {
		s.Traced(run, files)
	}
	for id, e := range o.byID {
		s.addEntry(id, e)
	}
	for k, st := range o.support {
		if t := s.support[k]; t != nil {
			t.runs += st.runs
		} else {
			s.support[k] = &edgeStat{kind: st.kind, runs: st.runs}
		}
	}
	return nil
}

// Injected notes that run applied plan p (nil: none, a fault-free run).
// The schedules file keeps it, so the planner learns which plan opened a
// schedule's recovery paths without the injected traces.
func (s *Set) Injected(run string, p *format.Plan) {
	if p == nil {
		return
	}
	if s.injected == nil {
		s.injected = map[string]*format.Plan{}
	}
	s.injected[run] = p
}

// Traced notes where run's trace files are; the schedules file keeps them
// (pain.x.traces), so that pictures drawn from it later can place calls
// at their real times while the traces are still there.
func (s *Set) Traced(run string, files []string) {
	if len(files) == 0 {
		return
	}
	if s.traces == nil {
		s.traces = map[string][]string{}
	}
	s.traces[run] = slices.Clone(files)
}

// Schedule is one schedule of a Set, as Schedules and Ranking return it.
type Schedule struct {
	ID    string
	Rank  int      // 1 for the schedule with the most runs
	Runs  []string // names of the runs that showed it, sorted
	Share float64  // len(Runs) / all runs
	// The size of its graph: events, threads, message edges, and the
	// message classes tied to workload requests (package msgclass) it saw.
	Events, Threads, Messages, Classes int
	// Untied is, per message class, the fewest and the most messages tied
	// to no workload request that one of its runs sent (class granularity).
	Untied []format.UntiedCount
	// Graph is the graph of one of its runs (the one whose name sorts
	// first); nil from Ranking.
	Graph *hb.Graph
}

func (s *Set) sortRuns() {
	for _, e := range s.byID {
		if !e.sorted {
			slices.Sort(e.runs)
			e.sorted = true
		}
	}
}

// Ranking returns the schedules ranked, most runs first, then by id,
// without their graphs (Graph gets one).
func (s *Set) Ranking() []Schedule {
	s.sortRuns()
	out := make([]Schedule, 0, len(s.byID))
	for id, e := range s.byID {
		out = append(out, Schedule{ID: id, Runs: e.runs, Share: float64(len(e.runs)) / float64(s.runs),
			Events: e.events, Threads: e.threads, Messages: e.messages, Classes: e.classes,
			Untied: slices.Clone(e.untied)})
	}
	slices.SortFunc(out, func(a, b Schedule) int {
		return cmp.Or(cmp.Compare(len(b.Runs), len(a.Runs)), strings.Compare(a.ID, b.ID))
	})
	for i := range out {
		out[i].Rank = i + 1
	}
	return out
}

// Schedules returns the schedules ranked, with their graphs.
func (s *Set) Schedules() []Schedule {
	out := s.Ranking()
	for i := range out {
		out[i].Graph = s.byID[out[i].ID].Graph()
	}
	return out
}

// Graph returns the graph of schedule id, or nil if there is none.
func (s *Set) Graph(id string) *hb.Graph {
	if e := s.byID[id]; e != nil {
		return e.Graph()
	}
	return nil
}

// EdgeSupport is how often one message edge occurs.
type EdgeSupport struct {
	Key   string // hb.Graph.EdgeKey: the same edge has the same key in every run
	Kind  hb.EdgeKind
	Runs  int     // runs it occurs in
	Share float64 // Runs / all runs
}

// Support returns every message edge seen, most frequent first, then by key.
func (s *Set) Support() []EdgeSupport {
	out := make([]EdgeSupport, 0, len(s.support))
	for k, st := range s.support {
		out = append(out, EdgeSupport{Key: k, Kind: st.kind, Runs: st.runs, Share: float64(st.runs) / float64(max(s.runs, 1))})
	}
	slices.SortFunc(out, func(a, b EdgeSupport) int {
		return cmp.Or(cmp.Compare(b.Runs, a.Runs), strings.Compare(a.Key, b.Key))
	})
	return out
}

// Coverage says how much of the schedule space the runs have seen.
type Coverage struct {
	Runs       int
	Schedules  int     // distinct schedules
	Singletons int     // schedules seen in exactly one run
	Unseen     float64 // Good-Turing estimate that the next run shows a new schedule
}

// Coverage returns the Set's coverage figures.
func (s *Set) Coverage() Coverage {
	c := Coverage{Runs: s.runs, Schedules: len(s.byID)}
	for _, e := range s.byID {
		if len(e.runs) == 1 {
			c.Singletons++
		}
	}
	c.Unseen = 1 // with no runs, every schedule is still unseen
	if s.runs > 0 {
		c.Unseen = float64(c.Singletons) / float64(s.runs)
	}
	return c
}
