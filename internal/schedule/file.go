package schedule

import (
	"fmt"
	"slices"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
)

// File returns the Set as the content of a schedules file with metadata m.
func (s *Set) File(m format.Meta) *format.Schedules {
	f := &format.Schedules{Meta: m, Granularity: s.gran.String()}
	f.Meta.Kind = format.KindSchedules
	for _, sc := range s.Schedules() {
		fs := format.Schedule{ID: sc.ID, Rank: sc.Rank, Runs: slices.Clone(sc.Runs)}
		for _, e := range sc.Graph.Events {
			fs.Events = append(fs.Events, format.GraphEvent{
				Node: e.Node, Thread: e.Thread, Seq: e.Seq, Count: e.Count, Syscall: e.Syscall, FDKind: e.FDKind,
				Local: e.Local, Peer: e.Peer, Conn: e.Conn, Offset: e.Offset, Ret: e.Ret, Errno: e.Errno,
				PayloadHash: e.PayloadHash, Arg: e.Arg, Role: string(e.Role), TimeNS: e.TimeNS,
			})
		}
		for _, d := range sc.Graph.Edges {
			fs.Edges = append(fs.Edges, format.GraphEdge{From: d.From, To: d.To, Kind: d.Kind.String()})
		}
		f.Schedules = append(f.Schedules, fs)
	}
	for _, sp := range s.Support() {
		f.Support = append(f.Support, format.Support{Key: sp.Key, Kind: sp.Kind.String(), Runs: sp.Runs})
	}
	return f
}

// AddFile adds every run of a schedules file read back, checking that each
// graph is whole and hashes to its schedule's id.
func (s *Set) AddFile(f *format.Schedules) error {
	gran, ok := hb.ParseGranularity(f.Granularity)
	if !ok || gran != s.gran {
		return fmt.Errorf("tracked at %s granularity, not %s", f.Granularity, s.gran)
	}
	o := New(gran)
	for _, fs := range f.Schedules {
		if len(fs.Runs) == 0 {
			return fmt.Errorf("schedule %s has no runs", fs.ID)
		}
		if _, dup := o.byID[fs.ID]; dup {
			return fmt.Errorf("schedule %s appears twice", fs.ID)
		}
		evs := make([]hb.Event, len(fs.Events))
		for i, e := range fs.Events {
			evs[i] = hb.Event{
				Node: e.Node, Thread: e.Thread, Seq: e.Seq, Count: e.Count, Syscall: e.Syscall, FDKind: e.FDKind,
				Local: e.Local, Peer: e.Peer, Conn: e.Conn, Offset: e.Offset, Ret: e.Ret, Errno: e.Errno,
				PayloadHash: e.PayloadHash, Arg: e.Arg, Role: hb.Role(e.Role), TimeNS: e.TimeNS,
			}
		}
		edges := make([]hb.Edge, len(fs.Edges))
		for i, d := range fs.Edges {
			k, ok := hb.ParseEdgeKind(d.Kind)
			if !ok {
				return fmt.Errorf("schedule %s: edge of unknown kind %q", fs.ID, d.Kind)
			}
			edges[i] = hb.Edge{From: d.From, To: d.To, Kind: k}
		}
		g, err := hb.NewGraph(slices.Min(fs.Runs), gran, evs, edges)
		if err != nil {
			return fmt.Errorf("schedule %s: %v", fs.ID, err)
		}
		if g.ID() != fs.ID {
			return fmt.Errorf("schedule %s: its graph hashes to %s", fs.ID, g.ID())
		}
		o.addSchedule(fs.ID, slices.Clone(fs.Runs), g)
		o.runs += len(fs.Runs)
	}
	for _, sp := range f.Support {
		k, ok := hb.ParseEdgeKind(sp.Kind)
		if !ok || !k.IsMessage() {
			return fmt.Errorf("support row of kind %q", sp.Kind)
		}
		if sp.Runs > o.runs {
			return fmt.Errorf("edge seen in %d of %d runs", sp.Runs, o.runs)
		}
		if _, dup := o.support[sp.Key]; dup {
			return fmt.Errorf("edge %q appears twice", sp.Key)
		}
		o.support[sp.Key] = &edgeStat{kind: k, runs: sp.Runs}
	}
	return s.Merge(o)
}
