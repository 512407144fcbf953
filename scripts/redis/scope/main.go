package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/boxofpain/pain/format"
)

var errUsage = errors.New("usage")

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "scope:", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scope", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the kept plans here (default stdout)")
	max := fs.Int("max", 20, "keep at most this many plans; 0 for all")
	after := fs.String("after", "workload", "keep plans acting at or after this node's first event")
	spread := fs.Bool("spread", true, "take plans round-robin over fault kinds, in the planner's order within each")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() < 2 {
		fmt.Fprintln(stderr, "usage: scope [-o scoped.jsonl] [-max N] [-after NODE] plans.jsonl run.arrows...")
		return errUsage
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	plans, err := format.ReadPlans(f, fs.Arg(0))
	f.Close()
	if err != nil {
		return err
	}
	var runs [][]format.Event
	for _, path := range fs.Args()[1:] {
		_, events, err := format.ReadFile(path)
		if err != nil {
			return err
		}
		runs = append(runs, events)
	}
	var kept []format.Plan
	seen := 0
	for i := range plans {
		in, found := inScope(&plans[i], runs, *after)
		if found {
			seen++
		}
		if in {
			kept = append(kept, plans[i])
		}
	}
	inscope := len(kept)
	if *spread {
		kept = roundRobin(kept)
	}
	if *max > 0 && len(kept) > *max {
		kept = kept[:*max]
	}
	w := stdout
	var file *os.File
	if *out != "" {
		if file, err = os.Create(*out); err != nil {
			return err
		}
		w = file
	}
	for i := range kept {
		if err := format.WritePlan(w, &kept[i]); err != nil {
			return err
		}
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "scope: %d plans, %d with targets seen in %d runs, %d acting after %s started; kept %d\n",
		len(plans), seen, len(runs), inscope, *after, len(kept))
	return nil
}

// roundRobin reorders plans so that each kind of plan (the kinds of its
// faults: drop, crash, delay, errno, ...) gets its turn: the planner ranks
// every drop before the first delay, and a small budget would otherwise
// only ever ask one question.
func roundRobin(plans []format.Plan) []format.Plan {
	var order []string
	groups := map[string][]format.Plan{}
	for _, p := range plans {
		k := ""
		for i, f := range p.Faults {
			if i > 0 {
				k += "+"
			}
			k += f.Kind
		}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], p)
	}
	out := make([]format.Plan, 0, len(plans))
	for len(out) < len(plans) {
		for _, k := range order {
			if g := groups[k]; len(g) > 0 {
				out = append(out, g[0])
				groups[k] = g[1:]
			}
		}
	}
	return out
}

// inScope reports whether some fault of p lands at or after the first event
// of node after in some run, and whether p's targets were found at all.
func inScope(p *format.Plan, runs [][]format.Event, after string) (in, found bool) {
	for _, events := range runs {
		start, ok := firstOf(events, after)
		for i := range p.Faults {
			at, hit := when(&p.Faults[i], events)
			if !hit {
				continue
			}
			found = true
			if ok && at >= start {
				return true, true
			}
		}
	}
	return false, found
}

func firstOf(events []format.Event, node string) (int64, bool) {
	for _, e := range events {
		if e.Node == node {
			return e.TimeNS, true
		}
	}
	return 0, false
}

// when finds the call a fault acts on in one run and returns its time.
// A partition acts from its window's start.
func when(f *format.Fault, events []format.Event) (int64, bool) {
	lo, hi := int64(-1<<63), int64(1<<63-1)
	if f.After != nil {
		t, ok := timeOf(events, f.After)
		if !ok {
			return 0, false
		}
		lo = t
	}
	if f.Before != nil {
		if t, ok := timeOf(events, f.Before); ok {
			hi = t
		}
	}
	if f.Kind == format.FaultPartition {
		return max(lo, 0), true
	}
	nth := max(f.Target.Nth, 1)
	for _, e := range events {
		if (f.After != nil && e.TimeNS <= lo) || e.TimeNS >= hi {
			continue
		}
		if matches(&f.Target, &e) {
			if nth--; nth == 0 {
				return e.TimeNS, true
			}
		}
	}
	return 0, false
}

func timeOf(events []format.Event, r *format.EventRef) (int64, bool) {
	for _, e := range events {
		if e.Node == r.Node && e.Thread == r.Thread && e.Seq == r.Seq {
			return e.TimeNS, true
		}
	}
	return 0, false
}

func matches(t *format.Target, e *format.Event) bool {
	if e.Node != t.Node || t.Thread != "" && e.Thread != t.Thread {
		return false
	}
	if t.Syscall != "" && e.Syscall != t.Syscall && class(e.Syscall) != t.Syscall {
		return false
	}
	if t.Conn != "" && e.Conn != t.Conn || t.Peer != "" && e.Peer != t.Peer {
		return false
	}
	if t.Offset != nil {
		n := max(e.Ret, 1)
		if e.Offset < 0 || *t.Offset < e.Offset || *t.Offset >= e.Offset+n {
			return false
		}
	}
	return true
}

// class is the planner's name for a family of calls.
func class(sys string) string {
	switch sys {
	case "write", "writev", "sendto", "sendmsg", "sendmmsg", "sendfile":
		return "send"
	case "read", "readv", "recvfrom", "recvmsg", "recvmmsg":
		return "recv"
	case "accept", "accept4":
		return "accept"
	}
	return sys
}
