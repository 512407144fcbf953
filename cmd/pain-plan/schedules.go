package main

import (
	"fmt"
	"io"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/plan"
	"github.com/boxofpain/pain/internal/schedule"
)

// readSchedules reads a schedules file written by pain-track, checks every
// graph, and gives the planner its schedules. A schedule all of whose runs
// were injected with one plan that fired (the file says which plan each
// injected run applied) belongs to that plan: its recovery paths are the
// next round's targets, and the plan goes into opt.Parents.
func readSchedules(path string, stdin io.Reader, opt *plan.Options, fired map[string]bool) ([]plan.Schedule, error) {
	in, name, err := cli.Open(path, stdin)
	if err != nil {
		return nil, err
	}
	f, err := format.ReadSchedulesFrom(in, name)
	in.Close()
	if err != nil {
		return nil, err
	}
	gran, ok := hb.ParseGranularity(f.Granularity)
	if !ok {
		return nil, fmt.Errorf("%s: unknown granularity %q", path, f.Granularity)
	}
	byRun := map[string]string{} // injected run name -> plan id
	for run, p := range f.Injected {
		if fired[p.ID] {
			byRun[run] = p.ID
			opt.Parents[p.ID] = *p
		}
	}
	set := schedule.New(gran)
	if err := set.AddFile(f); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	var out []plan.Schedule
	for _, sc := range set.Schedules() {
		s := plan.FromGraph(sc.ID, len(sc.Runs), sc.Graph)
		s.Plan = byRun[sc.Runs[0]]
		for _, r := range sc.Runs[1:] {
			if byRun[r] != s.Plan {
				s.Plan = "" // fault-free runs, or several plans, showed it too
			}
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no schedules", path)
	}
	return out, nil
}
