package plan

import (
	"fmt"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/schedule"
)

// FromFile gives the planner the schedules of a schedules file (each graph
// checked against its id) and adds to opt what the results of earlier
// rounds say: the plans tried and their verdicts (an interrupted run says
// nothing: its plan is still to try), and the plans that fired, which are
// the parents of the recovery paths their runs showed. A schedule all of
// whose runs were injected with one such plan (the file says which plan
// each injected run applied) belongs to it. Errors name no file.
func FromFile(f *format.Schedules, results []format.Result, opt *Options) ([]Schedule, error) {
	if opt.Tried == nil {
		opt.Tried = map[string]bool{}
	}
	if opt.Verdicts == nil {
		opt.Verdicts = map[string]string{}
	}
	if opt.Parents == nil {
		opt.Parents = map[string]format.Plan{}
	}
	fired := map[string]bool{}
	for _, r := range results {
		if r.Verdict != format.VerdictInterrupted {
			opt.Tried[r.Plan], opt.Verdicts[r.Plan] = true, r.Verdict
			fired[r.Plan] = fired[r.Plan] || r.Fired
		}
	}
	byRun := map[string]string{} // injected run name -> plan id
	for run, p := range f.Injected {
		if fired[p.ID] {
			byRun[run] = p.ID
			opt.Parents[p.ID] = *p
		}
	}
	gran, ok := hb.ParseGranularity(f.Granularity)
	if !ok {
		return nil, fmt.Errorf("unknown granularity %q", f.Granularity)
	}
	set := schedule.New(gran)
	if err := set.AddFile(f); err != nil {
		return nil, err
	}
	var out []Schedule
	for _, sc := range set.Schedules() {
		s := FromGraph(sc.ID, len(sc.Runs), sc.Graph)
		s.Plan = byRun[sc.Runs[0]]
		for _, r := range sc.Runs[1:] {
			if byRun[r] != s.Plan {
				s.Plan = "" // fault-free runs, or several plans, showed it too
			}
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no schedules")
	}
	return out, nil
}
