// Package planio is pain-plan's files: it reads a planning round's inputs
// (pain-track's schedules file and pain-inject's results, through
// plan.FromFile) and writes plans as JSON Lines and in words, whole or
// not at all; it prints and shrinks the plans of a plans file. The
// planner itself (package plan) does no I/O.
package planio

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/atomicfile"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/plan"
)

// ReadInputs reads the results files and the schedules file (- for stdin)
// and gives the planner its schedules (plan.FromFile).
func ReadInputs(path string, results []string, stdin io.Reader, opt *plan.Options) ([]plan.Schedule, error) {
	var rs []format.Result
	for _, p := range results {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		r, err := format.ReadResults(f, p)
		f.Close()
		if err != nil {
			return nil, err
		}
		rs = append(rs, r...)
	}
	in, name, err := cli.Open(path, stdin)
	if err != nil {
		return nil, err
	}
	f, err := format.ReadSchedulesFrom(in, name)
	in.Close()
	if err != nil {
		return nil, err
	}
	scheds, err := plan.FromFile(f, rs, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return scheds, nil
}

// WritePlans writes plans as JSON Lines to out (whole or not at all), or to
// stdout when out is empty. With text, stdout gets the ranked table (rank,
// support, the plan in words) instead of the JSON Lines, or beside the
// file; with out and no text it stays empty, so a script can keep it for
// its own output.
func WritePlans(plans []format.Plan, out string, text bool, stdout, stderr io.Writer) error {
	var jsonl bytes.Buffer
	for i := range plans {
		format.WritePlan(&jsonl, &plans[i])
	}
	if out != "" {
		if err := atomicfile.Write(out, jsonl.Bytes()); err != nil {
			return err
		}
	} else if !text {
		_, err := stdout.Write(jsonl.Bytes())
		return err
	}
	if text {
		var b bytes.Buffer
		for i := range plans {
			fmt.Fprintf(&b, "%3d  %.2f  %s\n", plans[i].Rank, plans[i].Evidence.Support, plans[i].String())
		}
		if _, err := stdout.Write(b.Bytes()); err != nil {
			return err
		}
	}
	if out != "" {
		fmt.Fprintf(stderr, "pain-plan: %d plans in %s\n", len(plans), out)
	}
	return nil
}

// Shrink writes the plans made of the proper subsets of plan id's
// faults, smallest first: injected in turn, the first whose check fails is
// a smallest failing plan.
func Shrink(path, id, out string, text bool, stdin io.Reader, stdout, stderr io.Writer) error {
	if id == "" {
		return fmt.Errorf("-shrink needs -id, the plan to shrink")
	}
	plans, err := readPlans(path, id, stdin)
	if err != nil {
		return err
	}
	if len(plans[0].Faults) < 2 {
		return fmt.Errorf("%s: plan %s has one fault: nothing to shrink", path, id)
	}
	return WritePlans(plan.Subsets(&plans[0]), out, text, stdout, stderr)
}

// Print prints the plans of path in words, or plan id and why; a plan on
// the disk (plan version 3) says why too: what a power loss takes.
func Print(path, id string, stdin io.Reader, stdout io.Writer) error {
	plans, err := readPlans(path, id, stdin)
	for i := range plans {
		fmt.Fprintln(stdout, plans[i].String())
		if id != "" || format.VersionFor(plans[i].Faults) >= format.PlanVersionDisk {
			fmt.Fprintf(stdout, "  why: %s\n", plans[i].Why)
		}
	}
	return err
}

// readPlans reads the plans of path (- for stdin): all, or the one with id.
func readPlans(path, id string, stdin io.Reader) ([]format.Plan, error) {
	f, name, err := cli.Open(path, stdin)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	plans, err := format.ReadPlans(f, name)
	if err != nil || id == "" {
		return plans, err
	}
	for i := range plans {
		if plans[i].ID == id {
			return plans[i : i+1], nil
		}
	}
	return nil, fmt.Errorf("%s: no plan with id %q", name, id)
}

// ReadPlan reads the plan with id from path (- for stdin), or its first
// plan when id is empty: the plan pain-inject applies.
func ReadPlan(path, id string, stdin io.Reader) (*format.Plan, error) {
	plans, err := readPlans(path, id, stdin)
	if err != nil {
		return nil, err
	}
	if len(plans) == 0 {
		return nil, fmt.Errorf("%s: no plans", path)
	}
	return &plans[0], nil
}
