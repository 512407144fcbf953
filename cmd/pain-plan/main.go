package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/atomicfile"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/plan"
)

func main() { cli.Main("pain-plan", run) }

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pain-plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		out     = fs.String("o", "", "write the plans to `FILE` (default stdout)")
		max     = fs.Int("max", 50, "at most `N` plans (0: all)")
		k       = fs.Int("k", 2, "largest combination of faults in one plan")
		delay   = fs.String("delay", "", "also plan delays of `D` on each message")
		read    = fs.String("r", "", "print the plans of `FILE` in words")
		id      = fs.String("id", "", "with -r: only the plan with this `ID`")
		results listFlag
	)
	fs.Var(&results, "results", "pain-inject results `FILE` (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: pain-plan [-o plans.jsonl] [-max N] [-k K] [-delay D] [-results FILE]... schedules.arrows\n       pain-plan -r plans.jsonl [-id ID]\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *read != "" {
		return printPlans(*read, *id, stdout)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("want one schedules file, got %d arguments", fs.NArg())
	}
	switch {
	case *max < 0:
		return fmt.Errorf("-max must be >= 0 (0: all), got %d", *max)
	case *k < 1:
		return fmt.Errorf("-k must be >= 1, got %d", *k)
	}
	if *out != "" {
		if err := cli.NotInput(*out, append([]string{fs.Arg(0)}, results...)...); err != nil {
			return err
		}
	}
	if *delay != "" {
		if d, err := time.ParseDuration(*delay); err != nil || d <= 0 {
			return fmt.Errorf("-delay %q: want a duration like 2s", *delay)
		}
	}

	opt := plan.Options{Max: *max, K: *k, Delay: *delay, Tried: map[string]bool{}, Parents: map[string]format.Plan{}}
	byRun := map[string]string{} // injected run name -> plan id
	for _, path := range results {
		if err := readResults(path, &opt, byRun); err != nil {
			return err
		}
	}
	scheds, err := readSchedules(fs.Arg(0), byRun)
	if err != nil {
		return err
	}
	plans := plan.Plans(scheds, opt)

	var jsonl bytes.Buffer
	for i := range plans {
		format.WritePlan(&jsonl, &plans[i])
	}
	if *out == "" {
		_, err := stdout.Write(jsonl.Bytes())
		return err
	}
	if err := atomicfile.Write(*out, jsonl.Bytes()); err != nil {
		return err
	}
	for i := range plans {
		fmt.Fprintf(stdout, "%3d  %.2f  %s\n", plans[i].Rank, plans[i].Evidence.Support, plans[i].String())
	}
	fmt.Fprintf(stderr, "pain-plan: %d plans in %s\n", len(plans), *out)
	return nil
}

// readResults notes the plans already tried and, from each injected trace's
// metadata, the plan it ran: the parent of that run's recovery paths.
func readResults(path string, opt *plan.Options, byRun map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rs, err := format.ReadResults(f, path)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.Verdict == format.VerdictInterrupted {
			continue // cut short: it says nothing, so the plan is still to try
		}
		opt.Tried[r.Plan] = true
		if r.Trace == "" || !r.Fired {
			continue
		}
		meta, err := traceMeta(r.Trace)
		if err != nil {
			return fmt.Errorf("%s: plan %s: %v", path, r.Plan, err)
		}
		var p format.Plan
		if err := json.Unmarshal([]byte(meta.Plan), &p); err != nil || p.ID != r.Plan {
			return fmt.Errorf("%s: plan %s: its trace %s does not hold that plan", path, r.Plan, r.Trace)
		}
		opt.Parents[p.ID] = p
		byRun[meta.Run] = p.ID
	}
	return nil
}

func traceMeta(path string) (format.Meta, error) {
	f, err := os.Open(path)
	if err != nil {
		return format.Meta{}, err
	}
	defer f.Close()
	r, err := format.NewReader(f, path)
	if err != nil {
		return format.Meta{}, err
	}
	defer r.Close()
	return r.Meta(), nil
}

func printPlans(path, id string, stdout io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	plans, err := format.ReadPlans(f, path)
	if err != nil {
		return err
	}
	found := false
	for i := range plans {
		if id != "" && plans[i].ID != id {
			continue
		}
		found = true
		fmt.Fprintln(stdout, plans[i].String())
		if id != "" {
			fmt.Fprintf(stdout, "  why: %s\n", plans[i].Why)
		}
	}
	if id != "" && !found {
		return fmt.Errorf("%s: no plan %s", path, id)
	}
	return nil
}
