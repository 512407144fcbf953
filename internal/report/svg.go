package report

import (
	"cmp"
	"fmt"
	"html"
	"maps"
	"slices"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
)

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

// maxDrawn bounds the events of one diagram: past it the page would be
// larger than anyone reads; pain-track -dot draws any size.
const maxDrawn = 1500

// Sizes of a space-time diagram, in px.
const (
	colW, rowH, top, left = 118, 17, 58, 64
)

// spaceTime draws g as a space-time diagram: a column per thread, logical
// time going down, an arrow per message; messages every run shares (shared
// holds their keys) solid, the others dashed; the events a fault acted on
// in red. Events with no edge to another thread are left out, but for the
// first and last of each thread. It returns the SVG, or a note why none.
func spaceTime(g *hb.Graph, shared map[string]bool) (string, string) {
	keep := make([]bool, len(g.Events))
	kept := 0
	for _, l := range g.Lanes {
		for i := l.First; i < l.First+l.N; i++ {
			keep[i] = i == l.First || i == l.First+l.N-1 || g.Events[i].Fault != "" || crosses(g, i)
			if keep[i] {
				kept++
			}
		}
	}
	if kept > maxDrawn {
		return "", fmt.Sprintf("%d events to draw, more than %d: see pain-track -dot", kept, maxDrawn)
	}
	level := levels(g, keep)
	depth := 0
	for i, k := range keep {
		if k {
			depth = max(depth, level[i])
		}
	}
	lane := make([]int, len(g.Events))
	for li, l := range g.Lanes {
		for i := l.First; i < l.First+l.N; i++ {
			lane[i] = li
		}
	}
	x := func(i int) int { return left + lane[i]*colW }
	y := func(i int) int { return top + level[i]*rowH }
	w, h := left+len(g.Lanes)*colW, top+(depth+1)*rowH+20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="st" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`, w, h, w, h)
	b.WriteString(`<defs><marker id="ah" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="context-stroke"/></marker></defs>`)
	for li, l := range g.Lanes {
		cx := left + li*colW
		cls := "lane " + string(hb.RoleOf(l.Node))
		fmt.Fprintf(&b, `<text class="%s" x="%d" y="16" text-anchor="middle"><title>%s</title>%s</text>`, cls, cx, esc(l.Node+"/"+l.Thread), esc(clip(l.Node, 16)))
		fmt.Fprintf(&b, `<text class="thread" x="%d" y="30" text-anchor="middle">%s</text>`, cx, esc(clip(l.Thread, 16)))
		fmt.Fprintf(&b, `<line class="life" x1="%d" y1="%d" x2="%d" y2="%d"/>`, cx, top-12, cx, y(l.First+l.N-1))
	}
	for j, d := range g.Edges {
		if d.Kind == hb.KindProgram || !keep[d.From] || !keep[d.To] {
			continue
		}
		cls := "other"
		if d.Kind.IsMessage() {
			cls = "msg once"
			if shared[g.EdgeKey(j)] {
				cls = "msg shared"
			}
		}
		what := d.Kind.String()
		if e := g.Events[d.From]; d.Kind.IsMessage() && e.Ret > 0 {
			what = fmt.Sprintf("%s, %d bytes", what, e.Ret)
		}
		fmt.Fprintf(&b, `<line class="%s" x1="%d" y1="%d" x2="%d" y2="%d" marker-end="url(#ah)"><title>%s</title></line>`,
			cls, x(d.From), y(d.From), x(d.To), y(d.To), esc(g.EdgeKey(j)+" ("+what+")"))
	}
	for i, e := range g.Events {
		if !keep[i] {
			continue
		}
		label := g.Label(i)
		if e.Fault != "" {
			fmt.Fprintf(&b, `<circle class="fault" cx="%d" cy="%d" r="7"><title>%s</title></circle>`, x(i), y(i), esc(label+"\nfault "+e.Fault))
			fmt.Fprintf(&b, `<text class="faultlabel" x="%d" y="%d">fault: %s</text>`, x(i)+10, y(i)+4, esc(clip(e.Syscall, 12)))
			continue
		}
		fmt.Fprintf(&b, `<circle class="ev" cx="%d" cy="%d" r="3.5"><title>%s</title></circle>`, x(i), y(i), esc(label))
	}
	b.WriteString(`</svg>`)
	return b.String(), ""
}

// crosses says whether event i has an edge to or from another thread.
func crosses(g *hb.Graph, i int) bool {
	for _, j := range g.In(i) {
		if g.Edges[j].Kind != hb.KindProgram {
			return true
		}
	}
	for _, j := range g.Out(i) {
		if g.Edges[j].Kind != hb.KindProgram {
			return true
		}
	}
	return false
}

// levels gives each kept event a row: one below every kept event that
// happens before it (the previous kept event of its thread, the sender of
// what it receives), the longest path in the graph of kept events.
func levels(g *hb.Graph, keep []bool) []int {
	n := len(g.Events)
	preds := make([][]int, n)
	for _, l := range g.Lanes {
		prev := -1
		for i := l.First; i < l.First+l.N; i++ {
			if !keep[i] {
				continue
			}
			if prev >= 0 {
				preds[i] = append(preds[i], prev)
			}
			prev = i
		}
	}
	for _, d := range g.Edges {
		if d.Kind != hb.KindProgram && keep[d.From] && keep[d.To] {
			preds[d.To] = append(preds[d.To], d.From)
		}
	}
	// A thread nothing traced started (the check, started by the launcher
	// once the workload ended) would float to the top: it goes below the
	// last event that came before it in time.
	var byTime []int
	for i := range n {
		if keep[i] {
			byTime = append(byTime, i)
		}
	}
	slices.SortStableFunc(byTime, func(a, b int) int { return cmp.Compare(g.Events[a].TimeNS, g.Events[b].TimeNS) })
	for k, i := range byTime {
		if len(preds[i]) == 0 && k > 0 && g.Events[byTime[k-1]].TimeNS < g.Events[i].TimeNS {
			preds[i] = append(preds[i], byTime[k-1])
		}
	}
	level := make([]int, n)
	state := make([]uint8, n) // 0 new, 1 on the stack, 2 done
	var visit func(i int) int
	visit = func(i int) int {
		switch state[i] {
		case 2:
			return level[i]
		case 1:
			return 0 // a cycle cannot happen in a happens-before graph; stay finite if it does
		}
		state[i] = 1
		for _, p := range preds[i] {
			level[i] = max(level[i], visit(p)+1)
		}
		state[i] = 2
		return level[i]
	}
	for i := range n {
		if keep[i] {
			visit(i)
		}
	}
	return level
}

func esc(s string) string { return html.EscapeString(s) }

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// point is the Good-Turing estimate after the first N fault-free runs.
type point struct {
	N      int
	Unseen float64
}

// coverage is the Good-Turing estimate (singletons / runs) after each
// fault-free run, the runs taken in name order (the order pain-trace
// numbers them).
func coverage(f *format.Schedules) []point {
	if f == nil {
		return nil
	}
	sched := map[string]string{}
	for _, s := range f.Schedules {
		for _, r := range s.Runs {
			if f.Injected[r] == nil {
				sched[r] = s.ID
			}
		}
	}
	runs := slices.Sorted(maps.Keys(sched))
	count := map[string]int{}
	single := 0
	var out []point
	for i, r := range runs {
		c := count[sched[r]] + 1
		count[sched[r]] = c
		switch c {
		case 1:
			single++
		case 2:
			single--
		}
		out = append(out, point{i + 1, float64(single) / float64(i+1)})
	}
	return out
}

// coverageSVG plots the points: runs across, the chance of an unseen
// schedule up, from 0 to 1.
func coverageSVG(ps []point) string {
	if len(ps) == 0 {
		return `<p class="note">No fault-free runs in the schedules file.</p>`
	}
	const w, h, l, r, t, bt = 560, 190, 48, 20, 14, 36
	n := ps[len(ps)-1].N
	px := func(k int) float64 {
		if n == 1 {
			return l
		}
		return l + float64(k-1)*float64(w-l-r)/float64(n-1)
	}
	py := func(u float64) float64 { return t + (1-u)*float64(h-t-bt) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="coverage" class="chart" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`, w, h, w, h)
	for _, u := range []float64{0, 0.5, 1} {
		fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/><text class="tick" x="%d" y="%.1f" text-anchor="end">%.1f</text>`,
			l, py(u), w-r, py(u), l-6, py(u)+4, u)
	}
	fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%d" text-anchor="middle">1</text><text class="tick" x="%.1f" y="%d" text-anchor="middle">%d</text>`,
		px(1), h-bt+16, px(n), h-bt+16, n)
	fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d" text-anchor="middle">fault-free runs traced</text>`, (w+l)/2, h-4)
	var pts []string
	for _, p := range ps {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(p.N), py(p.Unseen)))
	}
	fmt.Fprintf(&b, `<polyline class="curve" points="%s"/>`, strings.Join(pts, " "))
	for _, p := range ps {
		fmt.Fprintf(&b, `<circle class="pt" cx="%.1f" cy="%.1f" r="2.5"><title>after %d runs: %.3f</title></circle>`, px(p.N), py(p.Unseen), p.N, p.Unseen)
	}
	last := ps[len(ps)-1]
	ly := py(last.Unseen) - 8
	if ly < t+4 {
		ly = py(last.Unseen) + 16 // under the point: above it is outside the chart
	}
	fmt.Fprintf(&b, `<text class="val" x="%.1f" y="%.1f" text-anchor="end">%.3f</text>`, px(last.N), ly, last.Unseen)
	b.WriteString(`</svg>`)
	return b.String()
}
