package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/boxofpain/pain/format"
)

// combinations proposes sets of messages that together meet every
// schedule's lineage: each taken away by its first fault.
func (k *kit) combinations(c *collection) []proposal {
	var out []proposal
	for _, set := range hittingSets(c.lineages, k.opt.K, c.ranked) {
		var faults []format.Fault
		ids := []string{}
		worst := tierRecovery
		for _, cand := range set {
			faults = append(faults, k.faultsFor(&cand.message)[0].f)
			ids = append(ids, cand.schedules...)
			worst = max(worst, tier(&cand.message, k.outcome))
		}
		slices.Sort(ids)
		out = append(out, proposal{
			faults: faults, why: fmt.Sprintf("together these %d messages carry the outcome in every observed schedule", len(set)),
			ev:   format.Evidence{Runs: c.total, OfRuns: c.total, Schedules: slices.Compact(ids), Support: 1},
			kind: "combination", tier: worst, size: len(set), runs: c.total, ord: set[0].ord,
		})
	}
	return out
}

// sequences proposes the same fault on different followers, one after the
// other while the workload's data flows (three followers killed and
// restarted in turn): each node is struck at the first data-carrying
// message it takes part in after the previous fault's, with at least one
// message between them, so that the system has a moment to react.
func (k *kit) sequences(c *collection) []proposal {
	var flow []*candidate
	for _, cand := range c.ranked {
		if tier(&cand.message, k.outcome) == tierData && cand.runs == c.total {
			flow = append(flow, cand)
		}
	}
	slices.SortStableFunc(flow, func(a, b *candidate) int { return cmp.Compare(a.ord, b.ord) })
	// The followers: the nodes the data flows through but its hub (the
	// primary, the leader), whose own faults are asked one at a time.
	var nodes []string
	for _, m := range flow {
		for _, n := range []string{m.send.Node, m.recv.Node} {
			if !k.outcome(n) && k.rank[n] > 0 && !slices.Contains(nodes, n) {
				nodes = append(nodes, n)
			}
		}
	}
	var out []proposal
	for _, kind := range []string{"restart", format.FaultPause} {
		for _, set := range subsets(nodes, 2, k.opt.K) {
			if p, ok := k.sequence(kind, set, flow, c); ok {
				out = append(out, p)
			}
		}
	}
	return out
}

// sequence strikes each node of set in turn with a fault of kind.
func (k *kit) sequence(kind string, set []string, flow []*candidate, c *collection) (proposal, bool) {
	var faults []format.Fault
	next := 0
	for _, n := range set {
		found := false
		for ; next < len(flow) && !found; next++ {
			m := &flow[next].message
			if m.send.Node != n && m.recv.Node != n {
				continue
			}
			for _, nf := range k.faultsFor(m) {
				if nf.node == n && kindOf(&nf.f) == kind {
					faults = append(faults, nf.f)
					found = true
					break
				}
			}
		}
		if !found {
			return proposal{}, false
		}
		next++ // leave a message between two faults
	}
	return proposal{
		faults: faults, why: fmt.Sprintf("%s %s in turn while the workload's data flows through them", kind, strings.Join(set, ", then ")),
		ev:   format.Evidence{Runs: c.total, OfRuns: c.total, Support: 1},
		kind: "sequence " + kind, tier: tierData, size: len(faults), runs: c.total, ord: flow[0].ord,
	}, true
}

// subsets returns the subsets of items with lo..hi members, smallest
// first, each size in lexicographic order.
func subsets(items []string, lo, hi int) [][]string {
	var out [][]string
	walkSubsets(len(items), hi, func(pick []int) bool {
		if len(pick) >= lo {
			set := make([]string, len(pick))
			for j, i := range pick {
				set[j] = items[i]
			}
			out = append(out, set)
		}
		return true
	})
	slices.SortStableFunc(out, func(a, b []string) int { return len(a) - len(b) })
	return out
}

// walkSubsets visits the subsets of n items with up to most members, as
// increasing index lists, depth first in lexicographic order: the empty
// set, then each visited set's extensions by later items, unless visit
// returns false for it. visit must not keep pick.
func walkSubsets(n, most int, visit func(pick []int) bool) {
	var pick []int
	var walk func(from int)
	walk = func(from int) {
		if !visit(pick) || len(pick) == most {
			return
		}
		for i := from; i < n; i++ {
			pick = append(pick, i)
			walk(i + 1)
			pick = pick[:len(pick)-1]
		}
	}
	walk(0)
}

// recovery proposes faults on the recovery paths that the plan injected in
// s opened: its messages that no fault-free schedule has, each taken away
// on top of the parent plan's faults, ranked first. A parent that already
// broke the check needs nothing more.
func (k *kit) recovery(s *Schedule, c *collection) []proposal {
	parent, ok := k.opt.Parents[s.Plan]
	if !ok || k.opt.Verdicts[s.Plan] == format.VerdictBug {
		return nil
	}
	var out []proposal
	for _, m := range messages(s, k.outcome) {
		if c.byKey[m.key] != nil || !m.during {
			continue
		}
		t := tierRecovery
		if !m.data {
			t = tier(&m, k.outcome)
		}
		nf := k.faultsFor(&m)[0]
		out = append(out, proposal{
			faults: append(slices.Clone(parent.Faults), nf.f),
			why:    fmt.Sprintf("the recovery path opened by %s depends on this message: %s", s.Plan, describe(&m)),
			ev:     format.Evidence{Runs: s.Runs, OfRuns: s.Runs, Schedules: []string{s.ID}, Support: 1, Round: parent.Evidence.Round + 1},
			kind:   kindOf(&nf.f), node: nf.node, class: classOf(&m), tier: t, size: len(parent.Faults) + 1, runs: s.Runs, ord: m.ord,
		})
	}
	return out
}

// hittingSets returns minimal sets of 2..k candidates, none of which is in
// every lineage, that together meet every lineage. It looks at the most
// supported candidates first and stops after a bounded number of sets.
func hittingSets(lineages []map[string]bool, k int, ranked []*candidate) [][]*candidate {
	var partial []*candidate
	for _, c := range ranked {
		all, any := true, false
		for _, l := range lineages {
			all = all && l[c.key]
			any = any || l[c.key]
		}
		if any && !all {
			partial = append(partial, c)
		}
	}
	const maxSets = 200
	hits := func(set []*candidate) bool {
		for _, l := range lineages {
			hit := false
			for _, c := range set {
				hit = hit || l[c.key]
			}
			if !hit {
				return false
			}
		}
		return true
	}
	var sets [][]*candidate
	walkSubsets(len(partial), k, func(idx []int) bool {
		if len(sets) >= maxSets {
			return false
		}
		pick := make([]*candidate, len(idx))
		for j, i := range idx {
			pick[j] = partial[i]
		}
		if len(pick) < 2 || !hits(pick) {
			return true
		}
		// minimal: no smaller subset (dropping one) still hits
		for i := range pick {
			if len(pick) > 2 && hits(slices.Delete(slices.Clone(pick), i, i+1)) {
				return false
			}
		}
		sets = append(sets, pick)
		return false
	})
	return sets
}
