// Package schedule groups runs by schedule: it aggregates the happens-before
// graphs of many runs (package hb) into the distinct schedules seen, ranked
// by how many runs showed each, counts in how many runs each message edge
// occurs, and estimates how likely the next run is to show a schedule not
// seen yet (Good-Turing: singletons / runs).
//
// A Set keeps, per schedule, its run names and the graph of one run (the
// one whose name sorts first), and per message edge a count: its memory
// grows with the schedules and edges seen, not with the runs. Sets merge:
// tracking shards separately and merging the results gives exactly what
// tracking all runs at once gives, whatever the order.
package schedule

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

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
}

type entry struct {
	runs   []string
	sorted bool
	g      *hb.Graph
	// The support entries of the schedule's message edges, found once: every
	// run of a schedule has the same message edges, with the same keys.
	edges []*edgeStat
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
		e = &entry{runs: []string{g.Run}, sorted: true, g: g.Clone()}
		s.byID[g.ID()] = e
	case better(g, e.g):
		e.g = g.Clone()
		fallthrough
	default:
		e.runs = append(e.runs, g.Run)
		e.sorted = false
	}
	if e.edges == nil {
		e.edges = s.edgeStats(e.g)
	}
	for _, st := range e.edges {
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

// addSchedule adds runs of schedule id whose representative graph is g.
func (s *Set) addSchedule(id string, runs []string, g *hb.Graph) {
	e := s.byID[id]
	if e == nil {
		s.byID[id] = &entry{runs: runs, sorted: len(runs) < 2, g: g} // edges found when needed
		return
	}
	e.runs = append(e.runs, runs...)
	e.sorted = false
	if g != e.g && better(g, e.g) {
		e.g = g
	}
}

// better reports whether a should represent its schedule rather than b: the
// run whose name sorts first, and among runs of the same name the one whose
// run-specific details (seq, hashes, times) sort first, so the choice does
// not depend on the order runs were added or merged in.
func better(a, b *hb.Graph) bool {
	if c := strings.Compare(a.Run, b.Run); c != 0 {
		return c < 0
	}
	da, db := details(a), details(b)
	return bytes.Compare(da[:], db[:]) < 0
}

func details(g *hb.Graph) [sha256.Size]byte {
	var b []byte
	for _, e := range g.Events {
		b = binary.AppendVarint(b, e.Seq)
		b = binary.AppendVarint(b, e.Count)
		b = binary.AppendUvarint(b, e.PayloadHash)
		b = binary.AppendVarint(b, e.TimeNS)
	}
	return sha256.Sum256(b)
}

// Merge adds every run of o to s.
func (s *Set) Merge(o *Set) error {
	if o.gran != s.gran {
		return fmt.Errorf("cannot merge %s granularity into %s", o.gran, s.gran)
	}
	s.runs += o.runs
	for id, e := range o.byID {
		s.addSchedule(id, slices.Clone(e.runs), e.g)
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

// Schedule is one schedule of a Set, as Schedules returns it.
type Schedule struct {
	ID    string
	Rank  int      // 1 for the schedule with the most runs
	Runs  []string // names of the runs that showed it, sorted
	Share float64  // len(Runs) / all runs
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

// Schedules returns the schedules ranked: most runs first, then by id.
func (s *Set) Schedules() []Schedule {
	s.sortRuns()
	out := make([]Schedule, 0, len(s.byID))
	for id, e := range s.byID {
		out = append(out, Schedule{ID: id, Runs: e.runs, Graph: e.g, Share: float64(len(e.runs)) / float64(s.runs)})
	}
	slices.SortFunc(out, func(a, b Schedule) int {
		return cmp.Or(cmp.Compare(len(b.Runs), len(a.Runs)), strings.Compare(a.ID, b.ID))
	})
	for i := range out {
		out[i].Rank = i + 1
	}
	return out
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
