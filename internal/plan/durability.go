package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
)

// tierDurable is the tier of the questions durability lineage asks: they
// come first, for every system that keeps files.
const tierDurable = -2

// durability proposes what the schedules' durability lineage asks (from
// the graphs' Unsynced and Syncs, ordered mode): for every
// acknowledgement the workload receives, and every system node it depends
// on causally, whose writes were not all durable at the last of its events
// it depends on, a power loss of that node just after that event, then a
// restart; a power loss of a majority of the nodes that keep files at once,
// just after the workload's first acknowledgement; EIO on the first sync,
// after that acknowledgement, of the file synced most. Class graphs name no thread to wait for: they get none.
func (k *kit) durability(base []*Schedule, total int) []proposal {
	var out []proposal
	restart := cmp.Or(k.opt.Restart, DefaultRestart)
	for _, s := range base {
		g := s.Graph
		if g.Granularity == hb.Class {
			continue
		}
		acks := k.acks(s)
		ev := format.Evidence{Runs: s.Runs, OfRuns: total, Schedules: []string{s.ID}, Support: ratio(s.Runs, total)}
		seen := map[int]bool{}
		for _, a := range acks {
			for _, j := range k.lastUnsynced(s, a) {
				if seen[j] {
					continue
				}
				seen[j] = true
				e := &s.Events[j]
				f := format.Fault{Kind: format.FaultPowerloss, Restart: true, Duration: restart,
					Target: format.Target{Node: e.Node}, After: ref(e)}
				out = append(out, k.durableProp(f, e.Node, ev, fmt.Sprintf("power loss of %s just after %s, which the acknowledgement %s depends on; %s",
					e.Node, k.what(s, j), k.what(s, a), lossWords(e.Node, g.Events[j].Unsynced)), e.Seq))
			}
		}
		if p, ok := k.majority(s, acks, ev, restart); ok {
			out = append(out, p)
		}
		if p, ok := k.syncEIO(s, acks, ev); ok {
			out = append(out, p)
		}
	}
	return out
}

func (k *kit) durableProp(f format.Fault, node string, ev format.Evidence, why string, ord int64) proposal {
	return proposal{faults: []format.Fault{f}, why: why, ev: ev, kind: kindOf(&f), node: format.TopNode(node),
		tier: tierDurable, size: 1, nodeRank: k.rank[node], runs: ev.Runs, ord: ord}
}

// acks lists the workload's receives of messages a system node sent:
// the acknowledgements, in graph order.
func (k *kit) acks(s *Schedule) []int {
	g := s.Graph
	var out []int
	for i := range s.Events {
		if hb.RoleOf(s.Events[i].Node) != hb.RoleWorkload || !g.IsTransfer(i) || g.IsSend(i) {
			continue
		}
		for _, x := range g.In(i) {
			d := g.Edges[x]
			if d.Kind.IsMessage() && !k.outcome(s.Events[d.From].Node) {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// lastUnsynced returns, for each system node ack a depends on, its last
// event a depends on (the latest by time), when it had writes not yet
// durable then.
func (k *kit) lastUnsynced(s *Schedule, a int) []int {
	anc := s.Graph.Ancestors(a)
	last := map[string]int{}
	for j, in := range anc {
		e := &s.Events[j]
		if !in || k.outcome(e.Node) {
			continue
		}
		n := format.TopNode(e.Node)
		if l, ok := last[n]; !ok || e.TimeNS > s.Events[l].TimeNS {
			last[n] = j
		}
	}
	var out []int
	for _, j := range last {
		if len(s.Graph.Events[j].Unsynced) > 0 && s.Events[j].Thread != "*" {
			out = append(out, j)
		}
	}
	slices.Sort(out)
	return out
}

// majority proposes a power loss of a majority of the nodes that keep
// files, at once, just after the workload's first acknowledgement: the
// workload then runs on while they are down, and they are back for the
// check (after its last one, a check would find them still down).
func (k *kit) majority(s *Schedule, acks []int, ev format.Evidence, restart format.Duration) (proposal, bool) {
	keep := map[string]bool{}
	for j := range s.Graph.Events {
		if len(s.Graph.Events[j].Unsynced) > 0 {
			keep[format.TopNode(s.Events[j].Node)] = true
		}
	}
	for _, f := range s.Graph.Syncs {
		keep[f.Node] = true
	}
	if len(keep) < 2 || len(acks) == 0 {
		return proposal{}, false
	}
	nodes := make([]string, 0, len(keep))
	for n := range keep {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	nodes = nodes[:len(nodes)/2+1]
	a := acks[0]
	f := format.Fault{Kind: format.FaultPowerloss, Nodes: nodes, Restart: true, Duration: restart,
		Target: format.Target{Node: nodes[0]}, After: ref(&s.Events[a])}
	why := fmt.Sprintf("power loss of %s at once just after the acknowledgement %s, a majority of the %d nodes that keep files",
		strings.Join(nodes, " and "), k.what(s, a), len(keep))
	p := k.durableProp(f, nodes[0], ev, why, s.Events[a].Seq)
	p.node = ""
	return p, true
}

// syncEIO proposes EIO on the file synced most, at its first sync after
// the workload's first acknowledgement: while the workload runs, not at
// start-up, where a node that stops on an fsync error (the right thing,
// since the kernel may have dropped the pages) leaves a system that never
// got ready, which says nothing about how it handles the error.
func (k *kit) syncEIO(s *Schedule, acks []int, ev format.Evidence) (proposal, bool) {
	var best *hb.FileSyncs
	for i := range s.Graph.Syncs {
		f := &s.Graph.Syncs[i]
		if best == nil || f.Syncs > best.Syncs {
			best = f
		}
	}
	if best == nil || len(acks) == 0 || k.outcome(best.Node) {
		return proposal{}, false
	}
	a := acks[0]
	f := format.Fault{Kind: format.FaultErrno, Errno: "EIO", Target: format.Target{Node: best.Node, Syscall: best.Call, File: best.File},
		After: ref(&s.Events[a])}
	why := fmt.Sprintf("EIO on %s's first %s of %s after the acknowledgement %s, the file synced most (%d times in a run)",
		best.Node, best.Call, best.File, k.what(s, a), best.Syncs)
	return k.durableProp(f, best.Node, ev, why, 0), true
}

// what names event i for people: node/thread#seq, its call and connection.
func (k *kit) what(s *Schedule, i int) string {
	e := &s.Events[i]
	w := fmt.Sprintf("%s/%s#%d (%s", e.Node, e.Thread, e.Seq, e.Syscall)
	if e.Conn != "" {
		w += " on " + e.Conn
	}
	if e.Class != "" && e.Ordinal > 0 {
		w += fmt.Sprintf(", message %q #%d", e.Class, e.Ordinal)
	}
	return w + ")"
}

// lossWords says what a power loss takes: "backup1 loses 1 write (10
// bytes) to F not yet synced".
func lossWords(node string, us []hb.Unsynced) string {
	parts := make([]string, len(us))
	for i, u := range us {
		w := "writes"
		if u.Writes == 1 {
			w = "write"
		}
		parts[i] = fmt.Sprintf("%d %s (%d bytes) to %s", u.Writes, w, u.Bytes, u.File)
	}
	return fmt.Sprintf("%s loses %s not yet synced (ordered mode, so posix too)", format.TopNode(node), strings.Join(parts, " and "))
}
