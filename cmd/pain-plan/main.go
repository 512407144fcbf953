package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/plan"
	"github.com/boxofpain/pain/internal/planio"
)

func main() { cli.Main("pain-plan", run) }

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
		text    = fs.Bool("text", false, "print the plans ranked, in words, on stdout (beside -o's file, or instead of the JSON Lines)")
		results cli.List
	)
	fs.Var(&results, "results", "pain-inject results `FILE` (repeatable)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: pain-plan [-o plans.jsonl] [-text] [-max N] [-k K] [-pause D] [-restart D] [-delay D] [-results FILE]... schedules.arrows\n       pain-plan -r plans.jsonl [-id ID]\n       pain-plan -shrink plans.jsonl -id ID [-o subsets.jsonl] [-text]\n")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, stdout); err != nil {
		return err
	}
	switch {
	case *read != "":
		return planio.Print(*read, *id, stdin, stdout)
	case *shrink != "":
		return planio.Shrink(*shrink, *id, *out, *text, stdin, stdout, stderr)
	case fs.NArg() != 1:
		return cli.Usage(fs, "pain-plan", fmt.Sprintf("want one schedules file, got %d arguments", fs.NArg()))
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
	opt := plan.Options{Max: *max, K: *k}
	for _, d := range []struct {
		name, v string
		to      *format.Duration
	}{{"delay", *delay, &opt.Delay}, {"pause", *pause, &opt.Pause}, {"restart", *restart, &opt.Restart}} {
		v, err := time.ParseDuration(d.v)
		if (err != nil || v <= 0) && !(d.v == "" && d.name == "delay") {
			return fmt.Errorf("-%s %q: want a duration like 2s", d.name, d.v)
		}
		*d.to = format.Duration(v)
	}
	scheds, err := planio.ReadInputs(fs.Arg(0), results, stdin, &opt)
	if err != nil {
		return err
	}
	return planio.WritePlans(plan.Plans(scheds, opt), *out, *text, stdout, stderr)
}
