package track

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/schedule"
)

// writeDot writes a Graphviz diagram of each of the top schedules and a
// trace-event file of the first one into dir.
// files names the trace files of each run, for the times of the Perfetto
// slices (nil: times from the graph alone); a schedules file's runs name
// theirs too, which may be gone since (warn says so).
func writeDot(dir string, set *schedule.Set, top int, files map[string][]string, warn func(string)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	scheds := set.Ranking()
	for _, s := range scheds[:min(top, len(scheds))] {
		g := set.Graph(s.ID)
		name := filepath.Join(dir, fmt.Sprintf("schedule-%d-%s.dot", s.Rank, s.ID))
		title := fmt.Sprintf("schedule %d %s: %d of %d runs (%.3f), %s granularity, graph of %s",
			s.Rank, s.ID, len(s.Runs), set.Runs(), s.Share, set.Granularity(), g.Run)
		if err := writeFile(name, func(w io.Writer) error { return dot(w, g, title) }); err != nil {
			return err
		}
		if s.Rank == 1 {
			name := filepath.Join(dir, fmt.Sprintf("schedule-1-%s.trace.json", s.ID))
			spans, err := eventSpans(g, present(files[g.Run], g.Run, warn))
			if err != nil {
				return err
			}
			if err := writeFile(name, func(w io.Writer) error { return traceEvents(w, g, title, spans) }); err != nil {
				return err
			}
		}
	}
	return nil
}

var edgeStyle = map[hb.EdgeKind]string{
	hb.KindConnect:  `color="#2a9d4a", fontcolor="#2a9d4a"`,
	hb.KindStream:   `color="#1f5fbf", fontcolor="#1f5fbf"`,
	hb.KindPipe:     `color="#7b3fbf", fontcolor="#7b3fbf"`,
	hb.KindDatagram: `color="#d97a00", fontcolor="#d97a00"`,
	hb.KindClose:    `color="#888888", fontcolor="#888888", style=dashed`,
	hb.KindClone:    `style=dashed`,
	hb.KindExec:     `style=dashed`,
	hb.KindExit:     `style=dashed`,
	hb.KindSignal:   `color="#c02020", fontcolor="#c02020", style=dashed`,
}

// dot writes a space-time diagram: one column per thread, time going down,
// an arrow per message. Events with no edge to another thread (but the
// first and last of each thread) are collapsed into one box per run of them.
func dot(w io.Writer, g *hb.Graph, title string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph schedule {\n\tlabel=%s;\n\tlabelloc=t;\n\tfontname=\"Helvetica\";\n", quote(title))
	b.WriteString("\tnode [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n")
	b.WriteString("\tedge [fontname=\"Helvetica\", fontsize=9];\n")
	box := make([]int, len(g.Events)) // event -> box id (the first event of the box)
	node := ""
	for li, l := range g.Lanes {
		if l.Node != node {
			if node != "" {
				b.WriteString("\t}\n")
			}
			node = l.Node
			fmt.Fprintf(&b, "\tsubgraph %s {\n\t\tlabel=%s;\n\t\tstyle=dashed;\n", quote("cluster_"+l.Node), quote(l.Node+syncsOf(g, l.Node)))
		}
		fmt.Fprintf(&b, "\t\tlane%d [label=%s, shape=plaintext, fontsize=11];\n", li, quote(l.Thread))
		prev := fmt.Sprintf("lane%d", li)
		for i := l.First; i < l.First+l.N; {
			j := i + 1
			if passThrough(g, i, l) {
				for j < l.First+l.N && passThrough(g, j, l) {
					j++
				}
			}
			for k := i; k < j; k++ {
				box[k] = i
			}
			label := eventLabel(g, i)
			if j > i+1 {
				var names []string
				for k := i; k < j && len(names) < 3; k++ {
					names = append(names, g.Events[k].Syscall)
				}
				if j-i > 3 {
					names = append(names, "...")
				}
				label = fmt.Sprintf("%d events: %s", j-i, strings.Join(names, ", "))
				fmt.Fprintf(&b, "\t\te%d [label=%s, style=\"rounded,dashed\", fontcolor=\"#666666\"];\n", i, quote(label))
			} else if f := g.Events[i].Fault; f != "" {
				// Where an injected fault acted: the first thing to look for.
				// What the node had not made durable is what a power loss there takes.
				if u := unsyncedLabel(g.Events[i].Unsynced); u != "" {
					label += "\n" + u
				}
				fmt.Fprintf(&b, "\t\te%d [label=%s, color=\"#c02020\", fontcolor=\"#c02020\", penwidth=2];\n", i, quote(label+"\nfault "+f))
			} else if diskChange(g, i, l) {
				fmt.Fprintf(&b, "\t\te%d [label=%s, color=\"#d97a00\"];\n", i, quote(label+"\n"+unsyncedLabel(g.Events[i].Unsynced)))
			} else {
				fmt.Fprintf(&b, "\t\te%d [label=%s];\n", i, quote(label))
			}
			fmt.Fprintf(&b, "\t\t%s -> e%d [arrowhead=none, color=\"#bbbbbb\"];\n", prev, i)
			prev = fmt.Sprintf("e%d", i)
			i = j
		}
	}
	if node != "" {
		b.WriteString("\t}\n")
	}
	for _, d := range g.Edges {
		if d.Kind == hb.KindProgram {
			continue
		}
		label := d.Kind.String()
		if e := g.Events[d.From]; (d.Kind == hb.KindStream || d.Kind == hb.KindPipe || d.Kind == hb.KindDatagram) && e.Ret > 0 {
			label = fmt.Sprintf("%dB", e.Ret)
		}
		fmt.Fprintf(&b, "\te%d -> e%d [label=%s, %s];\n", box[d.From], box[d.To], quote(label), edgeStyle[d.Kind])
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// passThrough reports whether event i of lane l only passes time: no edge
// to another thread, neither the first nor the last of its thread, no
// fault acted on it, and its node's disk did not change state at it.
func passThrough(g *hb.Graph, i int, l hb.Lane) bool {
	if i == l.First || i == l.First+l.N-1 || g.Events[i].Fault != "" || diskChange(g, i, l) {
		return false
	}
	for _, j := range g.In(i) {
		if g.Edges[j].Kind != hb.KindProgram {
			return false
		}
	}
	for _, j := range g.Out(i) {
		if g.Edges[j].Kind != hb.KindProgram {
			return false
		}
	}
	return true
}

// eventLabel is a short description of one event for a picture.
func eventLabel(g *hb.Graph, i int) string {
	e := g.Events[i]
	s := e.Syscall
	switch {
	case g.IsTransfer(i) && e.Ret >= 0 && e.Errno == "":
		s += fmt.Sprintf(" %dB", e.Ret)
		if e.Count > 1 {
			s += fmt.Sprintf(" (%d calls)", e.Count)
		}
		if e.Conn != "" {
			s += "\n" + e.Conn
		} else if e.Peer != "" {
			s += "\n" + e.Local + " > " + e.Peer
		}
	case e.Syscall == "exited":
		s += " " + strconv.FormatInt(e.Ret, 10)
	case e.Syscall == "start" || e.Syscall == "execve" || e.Syscall == "signaled":
		if e.Arg != "" {
			s += " " + filepath.Base(e.Arg)
		}
	case e.Conn != "":
		s += "\n" + e.Conn
	case e.Peer != "":
		s += " " + e.Peer
	case e.Local != "":
		s += " " + e.Local
	}
	if e.Errno != "" {
		s += " " + e.Errno
	}
	return s
}

// diskChange reports whether event i of lane l is the first of its thread
// after which the node's writes not yet durable are not what they were
// after the event before: where the disk's state moves (writes, syncs),
// marked on the diagram.
func diskChange(g *hb.Graph, i int, l hb.Lane) bool {
	if i == l.First {
		return len(g.Events[i].Unsynced) > 0
	}
	return !slices.Equal(g.Events[i].Unsynced, g.Events[i-1].Unsynced)
}

// unsyncedLabel says what a power loss would take from the node: its
// writes not yet durable, per file.
func unsyncedLabel(us []hb.Unsynced) string {
	if len(us) == 0 {
		return "all writes durable"
	}
	var parts []string
	for _, u := range us {
		parts = append(parts, fmt.Sprintf("%d writes (%dB) to %s", u.Writes, u.Bytes, u.File))
	}
	return "not durable: " + strings.Join(parts, ", ")
}

// syncsOf says how often node synced each file, for its cluster's label.
func syncsOf(g *hb.Graph, node string) string {
	var s string
	for _, fs := range g.Syncs {
		if fs.Node == node {
			s += fmt.Sprintf("\n%s %s x%d", fs.Call, fs.File, fs.Syncs)
		}
	}
	return s
}

func quote(s string) string { return strconv.Quote(s) }

// present returns the trace files of run that are still there, warning of
// the others: the pictures then place those calls at the schedule's times.
func present(files []string, run string, warn func(string)) []string {
	var out []string
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			warn(fmt.Sprintf("%s: trace of run %s is gone (%v); its calls are placed at the schedule's times", f, run, errors.Unwrap(err)))
			continue
		}
		out = append(out, f)
	}
	return out
}
