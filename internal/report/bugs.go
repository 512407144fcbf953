package report

import (
	"encoding/base64"
	"fmt"
	"html/template"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
)

// bugs draws the run of every plan whose verdict is bug: the fault marked,
// the messages every fault-free run had and this one lacks listed.
func (m *Model) bugs(src *Sources, shared map[string]bool) {
	traces := map[string]string{}
	for _, r := range src.Results {
		traces[r.Plan] = r.Trace
	}
	for _, row := range m.Plans {
		if row.Verdict != format.VerdictBug {
			continue
		}
		b := Bug{PlanRow: row}
		in := src.Injected[traces[row.ID]]
		switch {
		case in == nil:
			b.DiagNote = "its trace was not found: no diagram"
		case in.Graph == nil:
			b.DiagNote = "its trace has no rows: no diagram"
		default:
			svg, note := spaceTime(in.Graph, shared)
			b.Diagram, b.DiagNote = template.HTML(svg), note
			b.Lost, b.LostList = lost(in.Graph, shared)
		}
		if in != nil && len(in.Perfetto) > 0 {
			b.Perfetto = template.URL("data:application/json;base64," + base64.StdEncoding.EncodeToString(in.Perfetto))
			b.PerfName = row.ID + ".trace.json"
		}
		m.Bugs = append(m.Bugs, b)
	}
}

// lost counts the message edges every fault-free run showed that g lacks,
// and lists the first of them.
func lost(g *hb.Graph, shared map[string]bool) (int, []string) {
	have := map[string]bool{}
	for _, j := range g.MessageEdges() {
		have[g.EdgeKey(j)] = true
	}
	n := 0
	var list []string
	for _, k := range sortedKeys(shared) {
		if have[k] {
			continue
		}
		n++
		if len(list) < maxListed {
			list = append(list, k)
		}
	}
	if n > len(list) {
		list = append(list, fmt.Sprintf("and %d more", n-len(list)))
	}
	return n, list
}
