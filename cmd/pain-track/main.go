package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"

	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/track"
)

func main() {
	// Tracking allocates fast and keeps little: one run and the aggregate.
	// Collecting less often trades some memory for a lot of time.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(track.GCPercent)
	}
	cli.Main("pain-track", run)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pain-track", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: pain-track [-o schedules.arrows] [-json] [-text] [-dot DIR] [-top N] [-granularity message|syscall|class] FILE...|-\n")
		fs.PrintDefaults()
	}
	o := track.Options{Version: "pain-track 0.1"}
	fs.StringVar(&o.Out, "o", "", "write the schedules file to `FILE`")
	fs.BoolVar(&o.Quiet, "q", false, "no progress line (there is none either when stderr is not a terminal)")
	fs.BoolVar(&o.JSON, "json", false, "print the summary as JSON")
	fs.BoolVar(&o.Text, "text", false, "print the text form of the schedules file")
	fs.StringVar(&o.Dot, "dot", "", "write Graphviz and Perfetto pictures of the top schedules into `DIR`")
	fs.IntVar(&o.Top, "top", 3, "how many schedules get pictures and run lists")
	gran := fs.String("granularity", "message", "`message`, syscall or class: what one event of a schedule is")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE`")
	if err := cli.Parse(fs, args, stdout); err != nil {
		return err
	}
	var ok bool
	if o.Gran, ok = hb.ParseGranularity(*gran); !ok {
		return cli.Usage(fs, "pain-track", fmt.Sprintf("-granularity must be message, syscall or class, not %q", *gran))
	}
	switch {
	case fs.NArg() == 0:
		return cli.Usage(fs, "pain-track", "no input files")
	case o.JSON && o.Text:
		return fmt.Errorf("-json and -text both print to stdout; choose one")
	case o.Top < 0:
		return fmt.Errorf("-top must not be negative")
	}
	paths, spooled, cleanup, err := track.Inputs(fs.Args(), stdin)
	if err != nil {
		return err
	}
	defer cleanup()
	o.Temp = spooled
	if o.Out != "" {
		if err := cli.NotInput(o.Out, append([]string{*cpuprofile}, paths...)...); err != nil {
			return err
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return track.Run(o, paths, stdout, stderr)
}
