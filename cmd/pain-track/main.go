package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/atomicfile"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/hb"
)

// gcPercent is pain-track's GOGC: its live heap is small (one run's
// buffers and the compacted aggregate), so a high percentage costs tens of
// megabytes and saves a fifth of the time.
const gcPercent = 400

// version is the tool version written into the files it makes.
const version = "pain-track 0.1"

func main() {
	// Tracking allocates fast and keeps little: one run and the aggregate.
	// Collecting less often trades some memory for a lot of time.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(Main())
}

// Main runs the command and returns its exit status: 0, or 2 for usage and
// tool errors.
func Main() int {
	return cli.Status("pain-track", run(os.Args[1:], os.Stdout, os.Stderr), os.Stderr)
}

type options struct {
	out, dot   string
	json, text bool
	top        int
	gran       hb.Granularity
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pain-track", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: pain-track [-o schedules.arrows] [-json] [-text] [-dot DIR] [-top N] [-granularity message|syscall|class] FILE...\n")
		fs.PrintDefaults()
	}
	var o options
	fs.StringVar(&o.out, "o", "", "write the schedules file to `FILE`")
	quiet := fs.Bool("q", false, "no progress line (there is none either when stderr is not a terminal)")
	fs.BoolVar(&o.json, "json", false, "print the summary as JSON")
	fs.BoolVar(&o.text, "text", false, "print the text form of the schedules file")
	fs.StringVar(&o.dot, "dot", "", "write Graphviz and Perfetto pictures of the top schedules into `DIR`")
	fs.IntVar(&o.top, "top", 3, "how many schedules get pictures and run lists")
	gran := fs.String("granularity", "message", "`message`, syscall or class: what one event of a schedule is")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE`")
	if err := cli.Parse(fs, args, stdout); err != nil {
		return err
	}
	var ok bool
	if o.gran, ok = hb.ParseGranularity(*gran); !ok {
		fs.Usage()
		return fmt.Errorf("-granularity must be message, syscall or class, not %q", *gran)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("no input files")
	}
	if o.json && o.text {
		return fmt.Errorf("-json and -text both print to stdout; choose one")
	}
	if o.top < 0 {
		return fmt.Errorf("-top must not be negative")
	}
	if o.out != "" {
		if err := cli.NotInput(o.out, append([]string{*cpuprofile}, fs.Args()...)...); err != nil {
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
	progress := cli.NewProgress(stderr, "pain-track: ", *quiet)
	t := newTracker(o.gran, func(msg string) {
		progress.Done()
		fmt.Fprintf(stderr, "pain-track: warning: %s\n", msg)
	})
	t.progress = func(done, total int) { progress.Update(done, total, "runs") }
	start := time.Now()
	err := t.addFiles(fs.Args())
	progress.Done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "pain-track: %d %s tracked (%d events in %.1fs), %d in all\n", t.runs, plural(t.runs, "run", "runs"),
		t.rows, time.Since(start).Seconds(), t.set.Runs())
	set := t.set
	debug.SetGCPercent(100) // the outputs copy the aggregate: no more slack
	meta := format.Meta{Tool: version, Run: fmt.Sprintf("%d runs", set.Runs())}
	if o.out != "" {
		if err := writeFile(o.out, func(w io.Writer) error { return set.WriteFile(w, meta) }); err != nil {
			return err
		}
	}
	if o.dot != "" {
		if err := writeDot(o.dot, set, o.top, t.files); err != nil {
			return err
		}
	}
	switch {
	case o.json:
		return writeJSON(stdout, set)
	case o.text:
		return format.WriteSchedulesText(stdout, set.File(meta))
	}
	return writeSummary(stdout, set, o.top)
}

// writeFile writes path whole or not at all (atomicfile), so a failed run
// leaves no half-written file behind.
func writeFile(path string, write func(io.Writer) error) error {
	return atomicfile.WriteFrom(path, func(w io.Writer) error {
		if err := write(w); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		return nil
	})
}
