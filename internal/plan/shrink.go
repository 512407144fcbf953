package plan

import (
	"fmt"
	"slices"

	"github.com/boxofpain/pain/format"
)

// Subsets returns the plans made of the proper, non-empty subsets of p's
// faults (kept in p's order), smallest first: injected in this order, the
// first that still breaks the check is a smallest failing plan.
func Subsets(p *format.Plan) []format.Plan {
	n := len(p.Faults)
	if n < 2 || n > 12 {
		return nil
	}
	var masks []int
	for m := 1; m < 1<<n-1; m++ {
		masks = append(masks, m)
	}
	slices.SortStableFunc(masks, func(a, b int) int { return popcount(a) - popcount(b) })
	out := make([]format.Plan, 0, len(masks))
	for _, m := range masks {
		var faults []format.Fault
		for i := range n {
			if m&(1<<i) != 0 {
				faults = append(faults, p.Faults[i])
			}
		}
		out = append(out, format.Plan{
			V: format.VersionFor(faults), ID: ID(faults), Rank: len(out) + 1, Faults: faults,
			Why:      fmt.Sprintf("%d of the %d faults of %s", len(faults), n, p.ID),
			Evidence: p.Evidence,
		})
	}
	return out
}

func popcount(m int) int {
	n := 0
	for ; m != 0; m &= m - 1 {
		n++
	}
	return n
}
