package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// flowEvent is what checkFlows reads of a trace-event entry.
type flowEvent struct {
	Name string
	Ph   string
	TS   float64
	Dur  *float64
	PID  int
	TID  int
	ID   int
}

// checkFlows reads a trace-event file and checks every message flow: it
// starts inside a slice of its sender's thread, ends inside a slice of its
// receiver's thread, and does not end before it starts (Perfetto drops
// those). It returns how many flows there are.
func checkFlows(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct{ TraceEvents []flowEvent }
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	type lane struct{ pid, tid int }
	slices := map[lane][][2]float64{}
	starts := map[int]flowEvent{}
	var ends []flowEvent
	for _, e := range file.TraceEvents {
		switch e.Ph {
		case "X":
			slices[lane{e.PID, e.TID}] = append(slices[lane{e.PID, e.TID}], [2]float64{e.TS, e.TS + *e.Dur})
		case "s":
			starts[e.ID] = e
		case "f":
			ends = append(ends, e)
		}
	}
	const eps = 1e-6 // µs: ts and ts+dur are sums of floats
	inSlice := func(e flowEvent) bool {
		for _, s := range slices[lane{e.PID, e.TID}] {
			if e.TS >= s[0]-eps && e.TS <= s[1]+eps {
				return true
			}
		}
		return false
	}
	for _, f := range ends {
		s, ok := starts[f.ID]
		switch {
		case !ok:
			t.Errorf("%s: flow %d has no start", path, f.ID)
		case f.TS < s.TS:
			t.Errorf("%s: flow %d (%s) ends at %.3fµs, before it starts at %.3fµs", path, f.ID, f.Name, f.TS, s.TS)
		case !inSlice(s) || !inSlice(f):
			t.Errorf("%s: flow %d (%s) is not bound to a slice at both ends (%.3f, %.3f)", path, f.ID, f.Name, s.TS, f.TS)
		}
	}
	if len(ends) != len(starts) {
		t.Errorf("%s: %d flow starts, %d ends", path, len(starts), len(ends))
	}
	return len(ends)
}

func TestGoldenFlows(t *testing.T) {
	paths, _ := filepath.Glob("testdata/golden/dot/*.trace.json")
	if len(paths) == 0 {
		t.Fatal("no golden trace-event file")
	}
	for _, p := range paths {
		if n := checkFlows(t, p); n == 0 {
			t.Errorf("%s: no flows", p)
		}
	}
}
