package plan

import (
	"testing"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/schedule"
)

// FromFile: a schedule whose runs applied a plan that fired belongs to
// that plan, which becomes a parent; an interrupted result says nothing.
func TestFromFile(t *testing.T) {
	s := replicated()
	set := schedule.New(hb.Message)
	for _, run := range []string{"p1@1", "p1@2"} {
		g := s.Graph.Clone()
		g.Run = run
		if err := set.Add(g); err != nil {
			t.Fatal(err)
		}
		set.Injected(run, &format.Plan{V: 1, ID: "p1", Faults: []format.Fault{{Kind: format.FaultCrash, Target: format.Target{Node: "backup1"}}}})
	}
	f := set.File(format.Meta{})
	for _, tc := range []struct {
		results []format.Result
		plan    string
		tried   bool
	}{
		{[]format.Result{{Plan: "p1", Fired: true, Verdict: format.VerdictSurvived}}, "p1", true},
		{[]format.Result{{Plan: "p1", Verdict: format.VerdictNotFired}}, "", true},
		{[]format.Result{{Plan: "p1", Fired: true, Verdict: format.VerdictInterrupted}}, "", false},
		{nil, "", false},
	} {
		var opt Options
		scheds, err := FromFile(f, tc.results, &opt)
		if err != nil {
			t.Fatal(err)
		}
		_, parent := opt.Parents["p1"]
		if len(scheds) != 1 || scheds[0].Plan != tc.plan || opt.Tried["p1"] != tc.tried || parent != (tc.plan != "") {
			t.Errorf("%+v: schedules %d, plan %q, tried %v, parent %v; want 1, %q, %v, %v",
				tc.results, len(scheds), scheds[0].Plan, opt.Tried["p1"], parent, tc.plan, tc.tried, tc.plan != "")
		}
	}
}
