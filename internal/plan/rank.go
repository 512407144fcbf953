package plan

import (
	"cmp"
	"slices"

	"github.com/boxofpain/pain/format"
)

// proposal is a plan before ranking, with what the ranking weighs.
type proposal struct {
	faults   []format.Fault
	why      string
	ev       format.Evidence
	family   string // set by order
	kindNode string // kind and node, set by order
	kind     string // kindOf the faults; "combination" for hitting sets
	node     string // the node the fault acts on; empty for several
	class    string // the message class; empty for several
	tier     int
	size     int // faults in the plan
	nodeRank int
	runs     int
	ord      int64
}

// spread is how many plans the greedy spreading picks; the rest follow in
// their static order (a longer list is read by scripts, not people).
const spread = 400

// order turns proposals into plans: duplicates and plans already tried
// dropped, the top of the list spread over families. At each step it takes,
// among the proposals of the families asked least so far, those of the
// best tier, single faults before several, the best supported, then of the
// kind on that node, the kind, and the message class asked least (a pause
// of the primary at its first write to one replica or to the other is one
// question), then by kind, node, size, support and time.
// Plans already tried count as asked, so a second round goes on where the
// first left off; families of plans that survived count once more.
func order(props []proposal, opt *Options, total int) []format.Plan {
	asked := learned(opt)
	kinds, kindNodes, classes := map[string]int{}, map[string]int{}, map[string]int{}
	count := func(p *proposal) {
		asked[p.family]++
		kinds[p.kind]++
		kindNodes[p.kindNode]++
		if p.class != "" {
			classes[p.class]++
		}
	}
	seen := map[string]bool{}
	var live []*proposal
	for i := range props {
		p := &props[i]
		id := ID(p.faults)
		if seen[id] {
			continue
		}
		seen[id] = true
		p.family, p.kindNode = family(p.faults), p.kind+"|"+p.node
		if opt.Tried[id] {
			// Asked already: the list goes on where the last round's
			// left off.
			count(p)
			continue
		}
		live = append(live, p)
	}
	slices.SortStableFunc(live, staticOrder)
	// Support in three steps: every run, at least half of them, fewer.
	support := func(p *proposal) int {
		return b2i(p.runs < total) + b2i(2*p.runs < total)
	}
	key := func(p *proposal) [7]int {
		return [7]int{asked[p.family], p.tier, b2i(p.size > 1), support(p), kindNodes[p.kindNode], kinds[p.kind], classes[p.class]}
	}
	picks := spread
	if opt.Max > 0 {
		picks = min(picks, opt.Max) // the rest is cut off anyway
	}
	var out []format.Plan
	for len(live) > 0 && len(out) < picks {
		best, bk := 0, key(live[0])
		for i := 1; i < len(live); i++ {
			if k := key(live[i]); slices.Compare(k[:], bk[:]) < 0 {
				best, bk = i, k
			}
		}
		p := live[best]
		live = slices.Delete(live, best, best+1)
		count(p)
		out = append(out, p.plan())
	}
	for _, p := range live {
		out = append(out, p.plan())
	}
	return out
}

// staticOrder is the order within one step of the spreading, and of the
// list beyond it.
// A restart asks whether what the node acknowledged survives it, so it
// strikes late, when there is most to lose; every other kind strikes early,
// so that the workload runs on into what the fault left.
func staticOrder(a, b *proposal) int {
	when := cmp.Compare(a.ord, b.ord)
	if a.kind == "restart" {
		when = -when
	}
	return cmp.Or(cmp.Compare(a.tier, b.tier), cmp.Compare(kindRank[a.kind], kindRank[b.kind]),
		cmp.Compare(a.nodeRank, b.nodeRank), cmp.Compare(a.size, b.size), cmp.Compare(b.runs, a.runs), when)
}

// learned counts, per family, the plans of earlier rounds that fired and
// survived: their siblings ask a question already answered "handled".
func learned(opt *Options) map[string]int {
	asked := map[string]int{}
	for id, v := range opt.Verdicts {
		if p, ok := opt.Parents[id]; ok && v == format.VerdictSurvived {
			asked[family(p.Faults)]++
		}
	}
	return asked
}

func (p *proposal) plan() format.Plan {
	return format.Plan{V: format.VersionFor(p.faults), ID: ID(p.faults), Faults: p.faults, Why: p.why, Evidence: p.ev}
}
