package main

import (
	"bytes"
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

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pain-plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		out     = fs.String("o", "", "write the plans to `FILE` (default stdout)")
		max     = fs.Int("max", 50, "at most `N` plans (0: all)")
		k       = fs.Int("k", 2, "largest combination of faults in one plan")
		delay   = fs.String("delay", "", "plan delays of `D` on every message (default: -pause, where the system runs timers)")
		pause   = fs.String("pause", plan.DefaultPause.String(), "pauses stop a node, and partitions last, for `D`")
		restart = fs.String("restart", plan.DefaultRestart.String(), "a crashed node is restarted after `D`")
		read    = fs.String("r", "", "print the plans of `FILE` in words (- for stdin)")
		shrink  = fs.String("shrink", "", "print the plans made of subsets of a plan's faults in `FILE` (-id), smallest first")
		id      = fs.String("id", "", "with -r: only the plan with this `ID`; with -shrink: the plan to shrink")
		results listFlag
	)
	fs.Var(&results, "results", "pain-inject results `FILE` (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: pain-plan [-o plans.jsonl] [-max N] [-k K] [-pause D] [-restart D] [-delay D] [-results FILE]... schedules.arrows\n       pain-plan -r plans.jsonl [-id ID]\n       pain-plan -shrink plans.jsonl -id ID [-o subsets.jsonl]\n")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, stdout); err != nil {
		return err
	}
	if *read != "" {
		return printPlans(*read, *id, stdin, stdout)
	}
	if *shrink != "" {
		return shrinkPlan(*shrink, *id, *out, stdin, stdout, stderr)
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
	opt := plan.Options{Max: *max, K: *k, Tried: map[string]bool{}, Parents: map[string]format.Plan{}, Verdicts: map[string]string{}}
	for _, d := range []struct {
		name, v string
		to      *format.Duration
	}{{"delay", *delay, &opt.Delay}, {"pause", *pause, &opt.Pause}, {"restart", *restart, &opt.Restart}} {
		if d.v == "" && d.name == "delay" {
			continue
		}
		v, err := time.ParseDuration(d.v)
		if err != nil || v <= 0 {
			return fmt.Errorf("-%s %q: want a duration like 2s", d.name, d.v)
		}
		*d.to = format.Duration(v)
	}
	fired := map[string]bool{} // plan ids that fired in a result
	for _, path := range results {
		if err := readResults(path, &opt, fired); err != nil {
			return err
		}
	}
	scheds, err := readSchedules(fs.Arg(0), stdin, &opt, fired)
	if err != nil {
		return err
	}
	return writePlans(plan.Plans(scheds, opt), *out, stdout, stderr)
}

// writePlans writes plans as JSON Lines to out (whole or not at all) and
// in words to stdout, or as JSON Lines to stdout without out.
func writePlans(plans []format.Plan, out string, stdout, stderr io.Writer) error {
	var jsonl bytes.Buffer
	for i := range plans {
		format.WritePlan(&jsonl, &plans[i])
	}
	if out == "" {
		_, err := stdout.Write(jsonl.Bytes())
		return err
	}
	if err := atomicfile.Write(out, jsonl.Bytes()); err != nil {
		return err
	}
	for i := range plans {
		fmt.Fprintf(stdout, "%3d  %.2f  %s\n", plans[i].Rank, plans[i].Evidence.Support, plans[i].String())
	}
	fmt.Fprintf(stderr, "pain-plan: %d plans in %s\n", len(plans), out)
	return nil
}

// shrinkPlan writes the plans made of the proper subsets of plan id's
// faults, smallest first: injected in turn, the first whose check fails is
// a smallest failing plan.
func shrinkPlan(path, id, out string, stdin io.Reader, stdout, stderr io.Writer) error {
	if id == "" {
		return fmt.Errorf("-shrink needs -id, the plan to shrink")
	}
	plans, err := readPlansFile(path, stdin)
	if err != nil {
		return err
	}
	for i := range plans {
		if plans[i].ID != id {
			continue
		}
		if len(plans[i].Faults) < 2 {
			return fmt.Errorf("%s: plan %s has one fault: nothing to shrink", path, id)
		}
		return writePlans(plan.Subsets(&plans[i]), out, stdout, stderr)
	}
	return fmt.Errorf("%s: no plan %s", path, id)
}

func readPlansFile(path string, stdin io.Reader) ([]format.Plan, error) {
	f, name, err := cli.Open(path, stdin)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return format.ReadPlans(f, name)
}

// readResults notes the plans already tried, their verdicts, and those
// that fired: the parents of the recovery paths their runs showed.
func readResults(path string, opt *plan.Options, fired map[string]bool) error {
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
		opt.Verdicts[r.Plan] = r.Verdict
		fired[r.Plan] = fired[r.Plan] || r.Fired
	}
	return nil
}

func printPlans(path, id string, stdin io.Reader, stdout io.Writer) error {
	plans, err := readPlansFile(path, stdin)
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
