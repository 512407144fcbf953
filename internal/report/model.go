package report

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/schedule"
)

// Sources are a round's files, read.
type Sources struct {
	Title     string
	Schedules *format.Schedules
	Plans     []format.Plan
	PlansFile string // the plans file as the rerun command names it
	Results   []format.Result
	// Runs holds the metadata of the fault-free traces given (the system's
	// commands, start times); may be empty.
	Runs []format.Meta
	// Injected holds the injected runs read back, by the result's trace.
	Injected map[string]*Injected
	// Missing says which files the report could not read, and why.
	Missing []string
	// Top is how many schedules get a diagram.
	Top int
}

// Injected is an injected run read back from its trace.
type Injected struct {
	Meta     format.Meta
	Graph    *hb.Graph // nil when the run had no rows
	Perfetto []byte    // its trace-event file (Perfetto), JSON
	Link     string    // the trace, relative to the page
}

// Model is what the page shows.
type Model struct {
	Title     string
	Glance    Glance
	System    System
	Coverage  template.HTML // SVG: Good-Turing as the runs accumulate
	Schedules []Sched
	Plans     []PlanRow
	Bugs      []Bug
	Missing   []string
}

// Glance is the round at a glance.
type Glance struct {
	Runs, Schedules, Singletons int
	Unseen                      string // Good-Turing, 3 decimals
	Granularity                 string
	Plans                       int // in the plans files
	Tried, Fired, Bugs          int
	Survived, NotFired, Other   int
	Wall                        string // first traced run's start to the last injection's end
	InjectWall                  string // the injections' own time, summed
}

// System is what was run: nodes, workload, check.
type System struct {
	Nodes           []NodeCmd
	Workload, Check string
	Flags           string // pain.x.system: the flags that give the system again
	Tool            string
}

// NodeCmd is a Procfile line.
type NodeCmd struct{ Name, Command string }

// Sched is one schedule.
type Sched struct {
	Rank                     int
	ID                       string
	Runs                     int
	Share                    string
	Events, Threads, Message int
	RunList                  string
	Diagram                  template.HTML // nil past Top, or too large
	Note                     string
}

// PlanRow is one plan, tried or not.
type PlanRow struct {
	Rank     int
	ID       string
	Words    []string // one per fault
	Kinds    string
	Why      string
	Round    int
	Tried    bool
	Verdict  string
	Where    string
	Check    string // the check's exit status, "-" when none ran
	CheckOut string // the check's own output (result check_output)
	Repro    string // bugs/runs with -repeat
	Note     string
	Command  string // pain-inject command line that reruns it
	Trace    string // link to the trace
	WallMS   int64
	Subset   string // "2 of the 3 faults of pX": a plan made by pain-plan -shrink
	SubsetOf string
	Smallest string // for a bug: the smallest failing subset found
	// What power losses rolled back (result rolled_back): a line per
	// file, and the writes and bytes in all.
	Rolled       []string
	RolledWrites int
	RolledBytes  int64
}

// Bug is a plan whose verdict is bug, with its run drawn.
type Bug struct {
	PlanRow
	Diagram   template.HTML
	Lost      int      // messages every fault-free run has that this run lacks
	LostList  []string // the first of them
	Perfetto  template.URL
	PerfName  string
	DiagNote  string
	Smallests []string
}

// maxListed bounds the lists of a bug (messages taken away).
const maxListed = 12

// Build makes the page's model from the round's files.
func Build(src *Sources) (*Model, error) {
	m := &Model{Title: cmp.Or(src.Title, "Box of Pain round"), Missing: src.Missing}
	set := schedule.New(hb.Message)
	if src.Schedules != nil {
		gran, ok := hb.ParseGranularity(src.Schedules.Granularity)
		if !ok {
			return nil, fmt.Errorf("unknown granularity %q", src.Schedules.Granularity)
		}
		set = schedule.New(gran)
		if err := set.AddFile(src.Schedules); err != nil {
			return nil, err
		}
	}
	m.System = system(src)
	shared := sharedKeys(set)
	m.glance(src, set)
	m.Coverage = template.HTML(coverageSVG(coverage(src.Schedules)))
	m.schedules(set, shared, max(src.Top, 0))
	m.plans(src)
	m.bugs(src, shared)
	return m, nil
}

// sharedKeys are the message edges every run showed.
func sharedKeys(set *schedule.Set) map[string]bool {
	out := map[string]bool{}
	for _, s := range set.Support() {
		if s.Runs == set.Runs() {
			out[s.Key] = true
		}
	}
	return out
}

// system is the system's description from the traces' metadata: the first
// fault-free run's, else the first injected run's.
func system(src *Sources) System {
	var metas []format.Meta
	metas = append(metas, src.Runs...)
	for _, k := range slices.Sorted(mapsKeys(src.Injected)) {
		metas = append(metas, src.Injected[k].Meta)
	}
	if len(metas) == 0 {
		return System{}
	}
	mt := metas[0]
	s := System{Workload: mt.Commands[format.NodeWorkload], Check: mt.Commands[format.NodeCheck],
		Flags: mt.Extra["system"], Tool: mt.Tool}
	for _, n := range slices.Sorted(mapsKeys(mt.Commands)) {
		if n != format.NodeWorkload && n != format.NodeCheck {
			s.Nodes = append(s.Nodes, NodeCmd{n, mt.Commands[n]})
		}
	}
	return s
}

func (m *Model) glance(src *Sources, set *schedule.Set) {
	cov := set.Coverage()
	g := &m.Glance
	g.Runs, g.Schedules, g.Singletons = cov.Runs, cov.Schedules, cov.Singletons
	g.Unseen = fmt.Sprintf("%.3f", cov.Unseen)
	g.Granularity = set.Granularity().String()
	g.Plans = len(src.Plans)
	g.Tried = len(src.Results)
	var injectMS int64
	for _, r := range src.Results {
		injectMS += r.WallMS
		if r.Fired {
			g.Fired++
		}
		switch r.Verdict {
		case format.VerdictBug:
			g.Bugs++
		case format.VerdictSurvived:
			g.Survived++
		case format.VerdictNotFired:
			g.NotFired++
		default:
			g.Other++
		}
	}
	g.InjectWall = seconds(time.Duration(injectMS) * time.Millisecond)
	g.Wall = wall(src)
}

// wall is the round's wall time: from the first traced run's start to the
// end of the last injection (its trace's start plus its wall_ms), "-" when
// the traces do not say.
func wall(src *Sources) string {
	var first, last time.Time
	see := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	for _, r := range src.Runs {
		see(r.Start)
	}
	for _, r := range src.Results {
		if in := src.Injected[r.Trace]; in != nil && !in.Meta.Start.IsZero() {
			see(in.Meta.Start.Add(time.Duration(r.WallMS) * time.Millisecond))
		}
	}
	if first.IsZero() || !last.After(first) {
		return "-"
	}
	return seconds(last.Sub(first))
}

func seconds(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f s", d.Seconds())
}

func (m *Model) schedules(set *schedule.Set, shared map[string]bool, top int) {
	for _, s := range set.Ranking() {
		sc := Sched{Rank: s.Rank, ID: s.ID, Runs: len(s.Runs), Share: fmt.Sprintf("%.3f", s.Share),
			Events: s.Events, Threads: s.Threads, Message: s.Messages, RunList: runList(s.Runs)}
		if s.Rank <= top {
			g := set.Graph(s.ID)
			svg, note := spaceTime(g, shared)
			sc.Diagram, sc.Note = template.HTML(svg), note
		}
		m.Schedules = append(m.Schedules, sc)
	}
}

func runList(runs []string) string {
	const shown = 8
	if len(runs) <= shown {
		return strings.Join(runs, " ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(runs[:shown], " "), len(runs)-shown)
}
