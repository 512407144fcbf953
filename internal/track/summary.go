package track

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/schedule"
)

// maxEdges bounds the edge table of the text summary; -json and -o have all.
const maxEdges = 40

// maxRuns bounds each schedule's list of run names in the text summary.
const maxRuns = 10

// writeSummary prints the ranked text summary.
func writeSummary(w io.Writer, set *schedule.Set, top int) error {
	var b strings.Builder
	c := set.Coverage()
	fmt.Fprintf(&b, "%d %s, %d %s (%s granularity), %d seen once\n", c.Runs, plural(c.Runs, "run", "runs"),
		c.Schedules, plural(c.Schedules, "schedule", "schedules"), set.Granularity(), c.Singletons)
	fmt.Fprintf(&b, "chance that the next run shows a schedule not seen yet (Good-Turing, singletons/runs): %.3f\n", c.Unseen)
	scheds := set.Ranking()
	if len(scheds) > 0 {
		fmt.Fprintf(&b, "\n%4s  %-12s  %6s  %6s  %7s  %8s  %7s  %7s\n", "rank", "schedule", "runs", "share", "threads", "messages", "classes", "events")
	}
	for _, s := range scheds {
		fmt.Fprintf(&b, "%4d  %-12s  %6d  %6.3f  %7d  %8d  %7d  %7d\n", s.Rank, s.ID, len(s.Runs), s.Share,
			s.Threads, s.Messages, s.Classes, s.Events)
	}
	for _, s := range scheds[:min(top, len(scheds))] {
		fmt.Fprintf(&b, "\nschedule %d %s: %d %s:", s.Rank, s.ID, len(s.Runs), plural(len(s.Runs), "run", "runs"))
		for _, r := range s.Runs[:min(maxRuns, len(s.Runs))] {
			fmt.Fprintf(&b, " %s", r)
		}
		if n := len(s.Runs) - maxRuns; n > 0 {
			fmt.Fprintf(&b, " and %d more", n)
		}
		b.WriteString("\n")
		if out := outcome(set.Graph(s.ID)); out != "" {
			fmt.Fprintf(&b, "  outcome: %s\n", out)
		}
		if len(s.Untied) > 0 {
			b.WriteString("  untied messages per class, fewest-most of its runs:\n")
			for _, u := range s.Untied {
				fmt.Fprintf(&b, "    %s  %d", u.Class, u.Min)
				if u.Max > u.Min {
					fmt.Fprintf(&b, "-%d", u.Max)
				}
				b.WriteString("\n")
			}
		}
	}
	sup := set.Support()
	every := 0
	for _, e := range sup {
		if e.Runs == c.Runs {
			every++
		}
	}
	fmt.Fprintf(&b, "\nmessage edges: %d seen, %d in every run", len(sup), every)
	if every == len(sup) {
		b.WriteString("\n")
	} else {
		b.WriteString("; the others, most frequent first:\n")
		fmt.Fprintf(&b, "%6s  %5s  %-8s  %s\n", "share", "runs", "kind", "edge")
		shown := 0
		for _, e := range sup {
			if e.Runs == c.Runs {
				continue
			}
			if shown == maxEdges {
				fmt.Fprintf(&b, "... and %d more (see -json or -o)\n", len(sup)-every-shown)
				break
			}
			fmt.Fprintf(&b, "%6.3f  %5d  %-8s  %s\n", e.Share, e.Runs, e.Kind.String(), e.Key)
			shown++
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// outcome describes how the workload and check threads ended.
func outcome(g *hb.Graph) string {
	var parts []string
	for _, r := range []hb.Role{hb.RoleWorkload, hb.RoleCheck} {
		for _, i := range g.Last(r) {
			e := g.Events[i]
			s := fmt.Sprintf("%s/%s %s", e.Node, e.Thread, e.Syscall)
			switch {
			case e.Syscall == "exited":
				s += fmt.Sprintf(" %d", e.Ret)
			case e.Syscall == "signaled":
				s += " " + e.Arg
			case e.Errno != "":
				s += " " + e.Errno
			}
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// SummarySchedule is one schedule of the JSON summary.
type SummarySchedule struct {
	ID       string   `json:"id"`
	Rank     int      `json:"rank"`
	Runs     int      `json:"runs"`
	Share    float64  `json:"share"`
	RunNames []string `json:"run_names"`
	Threads  int      `json:"threads"`
	Messages int      `json:"messages"`
	Classes  int      `json:"classes"`
	Events   int      `json:"events"`
	// Untied: per message class, the fewest and the most messages tied to
	// no workload request one of its runs sent (class granularity).
	Untied []format.UntiedCount `json:"untied,omitempty"`
}

// SummaryEdge is one message edge of the JSON summary with its support.
type SummaryEdge struct {
	Key   string  `json:"key"`
	Kind  string  `json:"kind"`
	Runs  int     `json:"runs"`
	Share float64 `json:"share"`
}

// Summary is what pain-track -json prints.
type Summary struct {
	Granularity string            `json:"granularity"`
	Runs        int               `json:"runs"`
	Distinct    int               `json:"distinct"`
	Singletons  int               `json:"singletons"`
	Unseen      float64           `json:"unseen"`
	Schedules   []SummarySchedule `json:"schedules"`
	Edges       []SummaryEdge     `json:"edges"`
}

// writeJSON prints the summary as one JSON object.
func writeJSON(w io.Writer, set *schedule.Set) error {
	c := set.Coverage()
	out := Summary{Granularity: set.Granularity().String(), Runs: c.Runs, Distinct: c.Schedules,
		Singletons: c.Singletons, Unseen: c.Unseen, Schedules: []SummarySchedule{}, Edges: []SummaryEdge{}}
	for _, s := range set.Ranking() {
		out.Schedules = append(out.Schedules, SummarySchedule{ID: s.ID, Rank: s.Rank, Runs: len(s.Runs), Share: s.Share,
			RunNames: s.Runs, Threads: s.Threads, Messages: s.Messages, Classes: s.Classes, Events: s.Events, Untied: s.Untied})
	}
	for _, e := range set.Support() {
		out.Edges = append(out.Edges, SummaryEdge{Key: e.Key, Kind: e.Kind.String(), Runs: e.Runs, Share: e.Share})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
