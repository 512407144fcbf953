package report

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/cli"
)

func mapsKeys[V any](m map[string]V) func(func(string) bool) { return maps.Keys(m) }

// subsetWhy is the why of a plan pain-plan -shrink made (plan.Subsets).
var subsetWhy = regexp.MustCompile(`^(\d+) of the (\d+) faults of (\S+)$`)

// plans makes a row per plan of the plans files, in their order, then one
// per result whose plan is in none of them.
func (m *Model) plans(src *Sources) {
	results := map[string]*format.Result{}
	for i := range src.Results {
		results[src.Results[i].Plan] = &src.Results[i] // the last result of a plan tried twice
	}
	seen := map[string]bool{}
	for i := range src.Plans {
		p := &src.Plans[i]
		if seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		row := PlanRow{Rank: p.Rank, ID: p.ID, Why: p.Why, Round: p.Evidence.Round}
		for j := range p.Faults {
			row.Words = append(row.Words, p.Faults[j].String())
		}
		row.Kinds = kinds(p.Faults)
		if sm := subsetWhy.FindStringSubmatch(p.Why); sm != nil {
			row.Subset, row.SubsetOf = p.Why, sm[3]
		}
		m.fill(&row, results[p.ID], src)
		m.Plans = append(m.Plans, row)
	}
	for i := range src.Results {
		r := &src.Results[i]
		if seen[r.Plan] {
			continue
		}
		seen[r.Plan] = true
		row := PlanRow{ID: r.Plan, Words: r.Faults, Why: "(not in the plans files given)"}
		m.fill(&row, r, src)
		m.Plans = append(m.Plans, row)
	}
	m.smallest()
}

func kinds(fs []format.Fault) string {
	var ks []string
	for _, f := range fs {
		if !slices.Contains(ks, f.Kind) {
			ks = append(ks, f.Kind)
		}
	}
	return strings.Join(ks, "+")
}

// fill adds what pain-inject said about the plan (r; nil: not tried).
func (m *Model) fill(row *PlanRow, r *format.Result, src *Sources) {
	row.Verdict = "not tried"
	row.Check = "-"
	plansFile := src.PlansFile
	if plansFile == "" {
		plansFile = "plans.jsonl"
	}
	flags, backend := m.System.Flags, ""
	if r == nil {
		row.Command = rerun(plansFile, row.ID, 1, backend, flags)
		return
	}
	row.Tried, row.Verdict, row.Note, row.WallMS = true, r.Verdict, r.Note, r.WallMS
	if r.Check != nil {
		row.Check = strconv.Itoa(*r.Check)
	}
	row.CheckOut = r.CheckOutput
	for _, rb := range r.RolledBack {
		row.Rolled = append(row.Rolled, rolledLine(rb))
		row.RolledWrites += rb.Writes
		row.RolledBytes += rb.Bytes
	}
	var where []string
	for _, w := range r.Where {
		where = append(where, fmt.Sprintf("%s/%s#%d (%s) at %.1f ms", w.Node, w.Thread, w.Seq, w.Syscall, float64(w.TimeNS)/1e6))
	}
	row.Where = strings.Join(where, "; ")
	if r.Runs > 0 {
		row.Repro = fmt.Sprintf("%d/%d", r.Bugs, r.Runs)
	}
	if in := src.Injected[r.Trace]; in != nil {
		row.Trace = in.Link
		if f := in.Meta.Extra["system"]; f != "" {
			flags = f
		}
		backend = in.Meta.Extra["backend"]
	}
	row.Command = rerun(plansFile, row.ID, max(r.Runs, 1), backend, flags)
}

// rolledLine says what a power loss took from one file.
func rolledLine(rb format.RolledBack) string {
	var what []string
	if rb.Writes > 0 {
		what = append(what, fmt.Sprintf("%d writes (%d bytes)", rb.Writes, rb.Bytes))
	}
	if rb.Torn {
		what = append(what, "the oldest torn")
	}
	if rb.Sizes > 0 {
		what = append(what, fmt.Sprintf("%d size changes", rb.Sizes))
	}
	what = append(what, rb.Names...)
	if rb.Gone {
		what = append(what, "gone")
	}
	return fmt.Sprintf("%s %s: %s", rb.Node, rb.File, strings.Join(what, ", "))
}

// rerun is the pain-inject command line that runs a plan again, with the
// recorder of the run it reruns (backend, empty for ptrace): a run injected
// under eBPF ran at the speed it needs to show a timing bug, which full
// ptrace may hide.
func rerun(plans, id string, repeat int, backend, flags string) string {
	c := "pain-inject -plan " + cli.ShellQuote(plans) + " -id " + id
	if repeat > 1 {
		c += fmt.Sprintf(" -repeat %d", repeat)
	}
	if backend != "" && backend != "ptrace" {
		c += " -backend " + cli.ShellQuote(backend)
	}
	c += " -o " + id + ".arrows"
	if flags == "" {
		flags = "SYSTEM-FLAGS (as pain-trace took them)"
	}
	return c + " " + flags
}

// smallest gives each bug its smallest failing subset, where -shrink ran
// and its plans were tried.
func (m *Model) smallest() {
	best := map[string]*PlanRow{}
	faults := func(r *PlanRow) int { return len(r.Words) }
	for i := range m.Plans {
		r := &m.Plans[i]
		if r.SubsetOf == "" || r.Verdict != format.VerdictBug {
			continue
		}
		if b := best[r.SubsetOf]; b == nil || faults(r) < faults(b) {
			best[r.SubsetOf] = r
		}
	}
	for i := range m.Plans {
		if b := best[m.Plans[i].ID]; b != nil {
			m.Plans[i].Smallest = b.ID + ": " + strings.Join(b.Words, "; and ")
		}
	}
}
