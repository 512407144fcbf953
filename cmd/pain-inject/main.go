//go:build linux && amd64

package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/launch"
	"github.com/boxofpain/pain/internal/planio"
	"github.com/boxofpain/pain/internal/ptrace"
	"github.com/boxofpain/pain/internal/verdict"
)

const tool = "pain-inject"

// version is the tool version stored in traces.
const version = "0.1"

func main() {
	ptrace.Shim() // in a launcher shim started by the tracer, runs it and never returns
	cli.Main(tool, run)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(tool, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		planFile = fs.String("plan", "", "plans `file` (JSON Lines), - for stdin")
		id       = fs.String("id", "", "plan `id` to apply (default: the first)")
		out      = fs.String("o", "", "trace output `file` (default: <plan id>.arrows)")
		repeats  = fs.Int("repeat", 1, "run the plan `N` times (traces FILE, FILE-2, ...); the result line counts fired runs and bugs")
	)
	// The system, exactly as pain-trace takes it.
	var sf launch.Flags
	sf.Register(fs, "the plan id and the start time", "stops only where the plan acts; see the README")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s -plan FILE|- [-id ID] [-o injected.arrows] -f Procfile [-w CMD] [-check CMD] [-ready CMD] [-timeout D] [-grace D]\n", tool)
		fmt.Fprintf(fs.Output(), "       %s -plan FILE|- [-id ID] [-o injected.arrows] [-check CMD] -- CMD ARGS...\n", tool)
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, stdout); err != nil {
		return err
	}
	usage := func(msg string) error { return cli.Usage(fs, tool, msg) }
	switch {
	case *planFile == "":
		return usage("-plan is required")
	case *repeats < 1:
		return usage(fmt.Sprintf("-repeat %d: want at least 1", *repeats))
	case sf.Backend == launch.BackendEBPF && !sf.Seccomp:
		return usage("-backend ebpf needs -seccomp (it stops only where the plan acts)")
	}
	if err := sf.Validate(fs.Args()); err != nil {
		return usage(err.Error())
	}
	plan, err := planio.ReadPlan(*planFile, *id, stdin)
	if err != nil {
		return err
	}
	sys, err := sf.System(fs.Args())
	if err != nil {
		return err
	}
	if err := verdict.CheckNodes(plan, sys); err != nil {
		return err
	}
	if *out == "" {
		*out = plan.ID + ".arrows"
	}
	if err := cli.NotInput(*out, *planFile, sf.Procfile); err != nil {
		return err
	}
	return injectAll(plan, sys, sf.Options(fs.Args()), *out, *repeats, sf.Backend == launch.BackendEBPF, stdout, stderr)
}
