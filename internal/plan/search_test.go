package plan

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
)

const hbConn = "backup2:main.2:s0>backup1:listen1"

// twoBackups: the workload writes to the primary, which copies the write to
// backup1 and then backup2, each answering, and acknowledges; meanwhile
// backup2's heartbeat thread pings backup1 (a timer: no workload data);
// the check reads backup1.
func twoBackups(heartbeat bool) Schedule {
	ev := []string{
		"workload/main#0 write " + cw,  // 0
		"primary/main.1#0 read " + cw,  // 1
		"primary/main.1#1 write " + c1, // 2
		"backup1/main.1#0 read " + c1,  // 3
		"backup1/main.1#1 write " + c1, // 4
		"primary/main.1#2 read " + c1,  // 5
		"primary/main.1#3 write " + c2, // 6
		"backup2/main.1#0 read " + c2,  // 7
		"backup2/main.1#1 write " + c2, // 8
		"primary/main.1#4 read " + c2,  // 9
		"primary/main.1#5 write " + cw, // 10
		"workload/main#1 read " + cw,   // 11
		"check/main#0 write " + k1,     // 12
		"backup1/main.2#0 read " + k1,  // 13
		"backup1/main.2#1 write " + k1, // 14
		"check/main#1 read " + k1,      // 15
	}
	edges := "0~1 1>2 2~3 3>4 4~5 2>5 5>6 6~7 7>8 8~9 6>9 9>10 10~11 0>11 11>12 12~13 13>14 14~15 12>15 3>13"
	if heartbeat {
		ev = append(ev, "backup2/main.2#0 write "+hbConn, "backup1/main.3#0 read "+hbConn) // 16, 17
		edges += " 16~17"
	}
	return sched("s1", 5, ev, edges)
}

func TestDataFlow(t *testing.T) {
	s := twoBackups(true)
	data := dataFlow(&s)
	for label, want := range map[string]bool{"primary/main.1#1": true, "backup1/main.1#1": true, "primary/main.1#3": true,
		"backup2/main.1#1": true, "primary/main.1#5": true, "backup1/main.2#1": false, "backup2/main.2#0": false} {
		if i := byLabel(&s, label); data[i] != want {
			t.Errorf("event %d (%s/%s#%d %s) carries the workload's data: %v, want %v",
				i, s.Events[i].Node, s.Events[i].Thread, s.Events[i].Seq, s.Events[i].Syscall, data[i], want)
		}
	}
	if !hasTimers(&s, isOutcome) {
		t.Error("backup2's heartbeat during the workload is not seen as a timer")
	}
	quiet := twoBackups(false)
	if hasTimers(&quiet, isOutcome) {
		t.Error("a system without heartbeats is seen to run timers")
	}
}

// The top of the list asks different questions: no two of the first ten
// plans share a family, the first ones strike the replication traffic, and
// the first four kinds are the four that take a node down or away.
func TestFamiliesSpread(t *testing.T) {
	plans := Plans([]Schedule{twoBackups(true)}, Options{Max: 10})
	if len(plans) != 10 {
		t.Fatalf("%d plans, want 10", len(plans))
	}
	fams := map[string]bool{}
	var kinds []string
	for _, p := range plans {
		f := family(p.Faults)
		if fams[f] {
			t.Errorf("plan %d %s repeats family %s", p.Rank, p.ID, f)
		}
		fams[f] = true
		kinds = append(kinds, kindOf(&p.Faults[0]))
		if err := p.Validate(); err != nil {
			t.Errorf("plan %d: %v", p.Rank, err)
		}
	}
	for _, p := range plans[:6] {
		if c := p.Faults[0].Target.Conn; c != c1 && c != c2 {
			t.Errorf("plan %d %s: want a fault on the replication traffic", p.Rank, p.String())
		}
	}
	if got := strings.Join(kinds[:4], " "); got != "restart pause partition drop" {
		t.Errorf("first kinds %s, want restart pause partition drop", got)
	}
	// With timers, delays come without a flag, as long as a pause.
	all := Plans([]Schedule{twoBackups(true)}, Options{})
	if !slices.ContainsFunc(all, func(p format.Plan) bool {
		return p.Faults[0].Kind == format.FaultDelay && p.Faults[0].Duration == DefaultPause
	}) {
		t.Error("no delay planned in a system with timers")
	}
	quiet := Plans([]Schedule{twoBackups(false)}, Options{})
	if slices.ContainsFunc(quiet, func(p format.Plan) bool { return p.Faults[0].Kind == format.FaultDelay }) {
		t.Error("a delay planned in a system without timers and without -delay")
	}
}

// Partitions cut the struck node off from the other system nodes, not from
// its clients; pauses and restarts carry their durations.
func TestNodeFaults(t *testing.T) {
	plans := Plans([]Schedule{twoBackups(false)}, Options{Pause: format.Duration(3 * time.Second), Restart: format.Duration(500 * time.Millisecond)})
	found := map[string]bool{}
	for _, p := range plans {
		f := p.Faults[0]
		switch kindOf(&f) {
		case format.FaultPartition:
			if f.Groups[0][0] == "primary" && strings.Join(f.Groups[1], ",") == "backup1,backup2" && f.Duration == format.Duration(3*time.Second) {
				found["partition"] = true
			}
		case format.FaultPause:
			found["pause"] = found["pause"] || f.Duration == format.Duration(3*time.Second)
		case "restart":
			found["restart"] = found["restart"] || f.Duration == format.Duration(500*time.Millisecond)
		}
	}
	for _, k := range []string{"partition", "pause", "restart"} {
		if !found[k] {
			t.Errorf("no %s fault planned as asked", k)
		}
	}
}

// Sequences strike different nodes in turn, in the order the data reaches
// them, with a message between two faults.
func TestSequences(t *testing.T) {
	plans := Plans([]Schedule{twoBackups(false)}, Options{K: 3})
	var seq *format.Plan
	for i, p := range plans {
		if len(p.Faults) == 2 && p.Faults[0].Restart && p.Faults[0].Target.Node == "backup1" && p.Faults[1].Target.Node == "backup2" {
			seq = &plans[i]
		}
		if len(p.Faults) > 3 {
			t.Errorf("plan %s has %d faults, more than K", p.ID, len(p.Faults))
		}
	}
	if seq == nil {
		t.Fatal("no plan restarts backup1 and then backup2")
	}
	if !seq.Faults[1].Restart || seq.Faults[1].Kind != format.FaultCrash {
		t.Errorf("sequence %s mixes kinds", seq.String())
	}
	single := Plans([]Schedule{twoBackups(false)}, Options{K: 1})
	for _, p := range single {
		if len(p.Faults) > 1 {
			t.Errorf("K=1 gave %s", p.String())
		}
	}
}

// A plan that survived pushes its family's other plans down the list.
func TestSurvivorsPushSiblingsDown(t *testing.T) {
	s := twoBackups(false)
	first := Plans([]Schedule{s}, Options{})
	done := first[0]
	sibling := -1
	for i, p := range first[1:] {
		if family(p.Faults) == family(done.Faults) {
			sibling = i
			break
		}
	}
	if sibling < 0 {
		t.Fatalf("plan %s has no sibling", done.String())
	}
	opt := Options{Tried: map[string]bool{done.ID: true}, Parents: map[string]format.Plan{done.ID: done},
		Verdicts: map[string]string{done.ID: format.VerdictSurvived}}
	next := Plans([]Schedule{s}, opt)
	fam := family(done.Faults)
	for i, p := range next {
		if family(p.Faults) != fam {
			continue
		}
		// Every family not yet asked comes first.
		for _, q := range next[i:] {
			if family(q.Faults) != fam && firstOf(next, family(q.Faults)) > i {
				t.Errorf("plan %d of family %s comes before the first of a family not yet asked (%s)", i+1, fam, family(q.Faults))
				return
			}
		}
		return
	}
	t.Errorf("the siblings of %s vanished", done.ID)
}

func firstOf(plans []format.Plan, fam string) int {
	return slices.IndexFunc(plans, func(p format.Plan) bool { return family(p.Faults) == fam })
}

func TestSubsets(t *testing.T) {
	p := format.Plan{V: 1, ID: "px", Faults: []format.Fault{
		{Kind: format.FaultDrop, Target: format.Target{Node: "a"}},
		{Kind: format.FaultDrop, Target: format.Target{Node: "b"}},
		{Kind: format.FaultDrop, Target: format.Target{Node: "c"}},
	}}
	subs := Subsets(&p)
	var got []string
	for _, s := range subs {
		var names []string
		for _, f := range s.Faults {
			names = append(names, f.Target.Node)
		}
		got = append(got, strings.Join(names, ""))
		if s.ID != ID(s.Faults) || s.Validate() != nil {
			t.Errorf("subset %s: bad id or invalid", s.ID)
		}
	}
	if strings.Join(got, " ") != "a b c ab ac bc" {
		t.Errorf("subsets %v, want a b c ab ac bc", got)
	}
	if Subsets(&format.Plan{Faults: p.Faults[:1]}) != nil {
		t.Error("a single fault has subsets")
	}
}

// The nodes the workload and the check start are the client side too, as
// hb and msgclass see them (format.NodeRole): the planner puts no fault on
// them, and a message to the check's child is no system message.
func TestRolesOfChildren(t *testing.T) {
	outcome := isOutcome
	for n, want := range map[string]bool{"workload": true, "workload/kvload.1": true, "check/sh.2": true,
		"primary": false, "workloadx": false, "backup/workload": false} {
		if outcome(n) != want || workload(n) != (want && n[0] == 'w') {
			t.Errorf("%s: outcome %v, workload %v; want %v", n, outcome(n), workload(n), want)
		}
	}
}
