package schedule

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
)

// File returns the Set as the content of a schedules file with metadata m.
// It holds every schedule's graph at once; WriteFile streams them.
func (s *Set) File(m format.Meta) *format.Schedules {
	f := s.head(m)
	f.Meta.Kind = format.KindSchedules
	for _, sc := range s.Schedules() {
		f.Schedules = append(f.Schedules, toFormat(sc, sc.Graph))
	}
	f.Support = s.formatSupport()
	return f
}

// WriteFile writes the Set as a schedules file with metadata m, one
// schedule's graph in memory at a time.
func (s *Set) WriteFile(w io.Writer, m format.Meta) error {
	sw := format.NewSchedulesWriter(w, s.head(m))
	for _, sc := range s.Ranking() {
		fs := toFormat(sc, s.Graph(sc.ID))
		if err := sw.Schedule(&fs); err != nil {
			sw.Close(nil)
			return err
		}
	}
	return sw.Close(s.formatSupport())
}

// head is a schedules file's content but its schedules and support.
func (s *Set) head(m format.Meta) *format.Schedules {
	f := &format.Schedules{Meta: withCanon(m), Granularity: s.gran.String(), Injected: maps.Clone(s.injected),
		Traces: maps.Clone(s.traces)}
	for id, e := range s.byID {
		if len(e.untied) > 0 {
			if f.Untied == nil {
				f.Untied = map[string][]format.UntiedCount{}
			}
			f.Untied[id] = slices.Clone(e.untied)
		}
	}
	return f
}

// canonKey is the metadata key (pain.x.canon) of the canonical form the
// schedule ids of a file were made with.
const canonKey = "canon"

func withCanon(m format.Meta) format.Meta {
	extra := map[string]string{canonKey: strconv.Itoa(hb.CanonVersion)}
	for k, v := range m.Extra {
		extra[k] = v
	}
	m.Extra = extra
	return m
}

func (s *Set) formatSupport() []format.Support {
	var out []format.Support
	for _, sp := range s.Support() {
		out = append(out, format.Support{Key: sp.Key, Kind: sp.Kind.String(), Runs: sp.Runs})
	}
	return out
}

func toFormat(sc Schedule, g *hb.Graph) format.Schedule {
	fs := format.Schedule{ID: sc.ID, Rank: sc.Rank, Runs: slices.Clone(sc.Runs)}
	fs.Events = make([]format.GraphEvent, len(g.Events))
	for i, e := range g.Events {
		fs.Events[i] = format.GraphEvent{
			Node: e.Node, Thread: e.Thread, Seq: e.Seq, Count: e.Count, Syscall: e.Syscall, FDKind: e.FDKind,
			Local: e.Local, Peer: e.Peer, Conn: e.Conn, Offset: e.Offset, Ret: e.Ret, Errno: e.Errno,
			PayloadHash: e.PayloadHash, Arg: e.Arg, Role: string(e.Role), TimeNS: e.TimeNS, DurNS: e.DurNS,
		}
		fs.Events[i].Unsynced = slices.Clone(e.Unsynced)
	}
	fs.Syncs = slices.Clone(g.Syncs)
	fs.Edges = make([]format.GraphEdge, len(g.Edges))
	for i, d := range g.Edges {
		fs.Edges[i] = format.GraphEdge{From: d.From, To: d.To, Kind: d.Kind.String()}
	}
	if len(fs.Events) == 0 {
		fs.Events = nil
	}
	if len(fs.Edges) == 0 {
		fs.Edges = nil
	}
	return fs
}

// AddFile adds every run of a schedules file read back, checking that each
// graph is whole and hashes to its schedule's id.
func (s *Set) AddFile(f *format.Schedules) error {
	gran, ok := hb.ParseGranularity(f.Granularity)
	if !ok || gran != s.gran {
		return fmt.Errorf("tracked at %s granularity, not %s", f.Granularity, s.gran)
	}
	if v, ok := f.Meta.Extra[canonKey]; ok && v != strconv.Itoa(hb.CanonVersion) {
		return fmt.Errorf("schedule ids made with canonical form %s, and this pain-track makes form %d: track its traces again", v, hb.CanonVersion)
	}
	o := New(gran)
	for run, p := range f.Injected {
		o.Injected(run, p)
	}
	for run, files := range f.Traces {
		o.Traced(run, files)
	}
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
				PayloadHash: e.PayloadHash, Arg: e.Arg, Role: hb.Role(e.Role), TimeNS: e.TimeNS, DurNS: e.DurNS,
			}
			evs[i].Unsynced = slices.Clone(e.Unsynced)
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
			return fmt.Errorf("schedule %s: its graph hashes to %s (corrupt, or made by an earlier pain-track: track its traces again)", fs.ID, g.ID())
		}
		g.Syncs = slices.Clone(fs.Syncs)
		g.Untied = f.Untied[fs.ID]
		o.byID[fs.ID] = newEntry(slices.Clone(fs.Runs), g)
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
