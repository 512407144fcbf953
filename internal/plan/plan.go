// Package plan chooses fault plans from observed schedules: lineage-driven
// fault injection over happens-before graphs recovered from system calls.
//
// The question it answers for each schedule is "which messages does the
// client-visible outcome depend on?": the events of the workload and the
// check, and every message edge from which they can be reached. To those it
// adds the messages between system nodes that carry the workload's data
// (replication, consensus), whether or not a fault-free check read them.
// Each message gets the faults that take it away or stall it: drop it,
// crash its sender or receiver (and restart it after a while), pause the
// node past the failure detector, partition the node from the rest of the
// system, and, where the system runs timers, delay it.
//
// Plans are ranked by what they ask: faults on messages between system
// nodes that carry the workload's data first, then on the workload's own
// connections, then on start-up; within that, the top of the list is spread
// over families (fault kind × node × message class) so that the first plans
// ask different questions. Sets of up to K messages that meet every
// schedule's lineage (hitting sets, as in LDFI) and sequences of the same
// fault on different nodes come next in their families. Results of earlier
// rounds push down the families of plans that survived; schedules of
// injected runs show the recovery paths a fault opened, and their messages
// get faults on top of that fault, ranked first.
//
// The package is pure: it takes schedules and returns plans.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/msgclass"
)

// Schedule is what the planner needs of one observed schedule: its
// happens-before graph in stable names (hb.Graph: the one graph model, with
// its lanes, edges and ancestry), and the planner's view of each of its
// events (FromGraph makes both).
type Schedule struct {
	ID     string
	Runs   int    // runs that showed this schedule
	Plan   string // id of the plan injected in those runs; empty for fault-free runs
	Graph  *hb.Graph
	Events []Event // Events[i] is Graph.Events[i] as the planner names it
}

// Event is one node of a happens-before graph: a system call, or a message
// coalesced from consecutive calls of one thread on one connection.
type Event struct {
	Node, Thread string
	Seq          int64 // seq of the (first) system call
	Calls        int   // how many system calls were coalesced; 0 means 1
	Syscall      string
	Side         string // "in" or "out": which side of a sendfile or splice the row's fd is
	FDKind       string
	Conn         string
	Peer         string
	Offset       int64 // stream offset of the first byte; -1 for none
	TimeNS       int64 // when it happened in one run of the schedule: orders connects only
	// Class and Ordinal name the message a send sends, or a receive's
	// first byte belongs to (package msgclass; empty and 0 for others).
	Class   string
	Ordinal int
}

// tied reports whether e's message is tied to a workload request: its
// class and ordinal name it in every run, however timers moved its bytes.
func (e *Event) tied() bool { return e.Ordinal > 0 && !strings.HasSuffix(e.Class, " "+msgclass.Untied) }

// Default durations of the faults that hold or take down a node.
const (
	DefaultPause   = format.Duration(6 * time.Second) // longer than most failure detectors: a stale leader wakes up replaced
	DefaultRestart = format.Duration(time.Second)     // shorter than most: the node is back, empty, before anyone notices
)

// Options bound the search.
type Options struct {
	Max   int             // most plans to return; 0 means no bound
	K     int             // largest fault combination or sequence; 0 or 1 means single faults only
	Tried map[string]bool // plan ids already tried: skipped
	// Delay is how long delay faults hold a message. Zero means delays of
	// Pause, only where the system runs timers (a delay sets off a failure
	// detector; without timers it only slows a run).
	Delay format.Duration
	// Pause is how long pause faults stop a node (and partitions last);
	// zero means DefaultPause.
	Pause format.Duration
	// Restart is how long a crashed node stays down before it is started
	// again; zero means DefaultRestart.
	Restart format.Duration
	// Parents holds the plans injected in earlier runs, by id: schedules
	// with a Plan show their recovery paths, which get faults added to the
	// parent's, and Verdicts says how they ended.
	Parents map[string]format.Plan
	// Verdicts holds the verdicts of plans tried (format.Verdict*): the
	// families of plans that survived go down the list.
	Verdicts map[string]string
}

// isOutcome reports whether a node's events are the client-visible
// outcome: the workload's and the check's (and their children's).
func isOutcome(node string) bool { return hb.RoleOf(node) != hb.RoleSystem }

// Plans returns ranked plans for the schedules.
func Plans(scheds []Schedule, opt Options) []format.Plan {
	outcome := isOutcome
	var base, faulty []*Schedule
	for i := range scheds {
		if scheds[i].Plan == "" {
			base = append(base, &scheds[i])
		} else {
			faulty = append(faulty, &scheds[i])
		}
	}
	c := collect(base, outcome)
	k := kit{opt: opt, outcome: outcome, nodes: c.nodes, timers: c.timers, rank: c.nodeRank()}
	props := k.durability(base, c.total)
	for _, cand := range c.ranked {
		props = append(props, k.singles(cand, c.total)...)
	}
	if opt.K >= 2 {
		if len(base) > 1 {
			props = append(props, k.combinations(c)...)
		}
		props = append(props, k.sequences(c)...)
	}
	for _, s := range faulty {
		props = append(props, k.recovery(s, c)...)
	}
	plans := order(props, &opt, c.total)
	if opt.Max > 0 && len(plans) > opt.Max {
		plans = plans[:opt.Max]
	}
	for i := range plans {
		plans[i].Rank = i + 1
	}
	return plans
}

// candidate is a message with its support across schedules.
type candidate struct {
	message
	runs      int
	dataRuns  int // runs in which it carried the workload's data
	schedules []string
}

// collection is what the fault-free schedules say: their candidate
// messages ranked, the lineage of each schedule, the system's nodes.
type collection struct {
	ranked   []*candidate
	byKey    map[string]*candidate
	lineages []map[string]bool
	total    int
	nodes    []string // the system's nodes (not the outcome's), sorted
	timers   bool
}

func collect(base []*Schedule, outcome func(string) bool) *collection {
	c := &collection{byKey: map[string]*candidate{}}
	nodes := map[string]bool{}
	msgs := make([][]message, len(base))
	for i, s := range base {
		msgs[i] = messages(s, outcome)
	}
	chooseKeys(base, msgs)
	for si, s := range base {
		c.total += s.Runs
		c.timers = c.timers || hasTimers(s, outcome)
		for _, e := range s.Events {
			if n := format.TopNode(e.Node); !outcome(n) {
				nodes[n] = true
			}
		}
		lin := map[string]bool{}
		seen := map[string]bool{}
		for _, m := range msgs[si] {
			if seen[m.key] {
				continue // one message read by several receives
			}
			seen[m.key] = true
			if m.lineage {
				lin[m.key] = true
			}
			cand := c.byKey[m.key]
			if cand == nil {
				cand = &candidate{message: m}
				c.byKey[m.key] = cand
				c.ranked = append(c.ranked, cand)
			}
			cand.runs += s.Runs
			if m.data {
				cand.dataRuns += s.Runs
			}
			cand.schedules = append(cand.schedules, s.ID)
		}
		c.lineages = append(c.lineages, lin)
	}
	for n := range nodes {
		c.nodes = append(c.nodes, n)
	}
	slices.Sort(c.nodes)
	for _, cand := range c.ranked {
		// A message carries the workload's data if it did in most runs:
		// a timer that fired while a server handled a request does not
		// make its heartbeat part of the data flow.
		cand.data = 2*cand.dataRuns > c.total
	}
	slices.SortStableFunc(c.ranked, func(a, b *candidate) int { return compareCandidates(a, b, outcome) })
	return c
}

// chooseKeys names each message tied to a class by its class or by its
// ordinal on its connection since the workload started, whichever more
// runs agree on: where a workload's requests are numbered differently in
// some runs (a retried query), the ordinal holds.
func chooseKeys(base []*Schedule, msgs [][]message) {
	support := map[string]int{}
	for i, s := range base {
		seen := map[string]bool{}
		for _, m := range msgs[i] {
			for _, k := range []string{m.key, m.ordKey} {
				if k != "" && !seen[k] {
					seen[k] = true
					support[k] += s.Runs
				}
			}
		}
	}
	for i := range msgs {
		for j := range msgs[i] {
			m := &msgs[i][j]
			if m.ordKey != "" && !m.byOrdinal && support[m.ordKey] > support[m.key] {
				m.key, m.byOrdinal = m.ordKey, true
			}
		}
	}
}

// ID names a plan by what it does: two plans with the same faults have the
// same id in every run of the planner, so results can be matched to plans.
func ID(faults []format.Fault) string {
	b, _ := json.Marshal(faults)
	sum := sha256.Sum256(b)
	return "p" + hex.EncodeToString(sum[:5])
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
