package track

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/atomicfile"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/hb"
)

// GCPercent is the GOGC pain-track runs with: its live heap is small (one
// run's buffers and the compacted aggregate), so a high percentage costs
// tens of megabytes and saves a fifth of the time.
const GCPercent = 400

// Options are what pain-track's flags ask for.
type Options struct {
	Out   string // the schedules file to write ("" for none)
	Dot   string // the folder for pictures of the top schedules ("" for none)
	JSON  bool   // the summary as JSON
	Text  bool   // the text form of the schedules file instead of a summary
	Top   int    // how many schedules get pictures and run lists
	Quiet bool   // no progress line
	Gran  hb.Granularity
	// Version is the tool version written into the schedules file.
	Version string
	// Temp is a temporary copy of stdin among the inputs: read like the
	// others, but no run's trace to remember in the schedules file.
	Temp string
}

// Run tracks the traces and schedules files at paths and writes what o
// asks for: the summary (or its JSON, or the schedules' text form) to
// stdout, warnings and the closing count to stderr.
func Run(o Options, paths []string, stdout, stderr io.Writer) error {
	progress := cli.NewProgress(stderr, "pain-track: ", o.Quiet)
	t := newTracker(o.Gran, func(msg string) {
		progress.Done()
		fmt.Fprintf(stderr, "pain-track: warning: %s\n", msg)
	})
	t.progress = func(done, total int) { progress.Update(done, total, "runs") }
	t.temp, t.outDir = o.Temp, "."
	if o.Out != "" {
		t.outDir = filepath.Dir(o.Out)
	}
	start := time.Now()
	err := t.addFiles(paths)
	progress.Done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "pain-track: %d %s tracked (%d events in %.1fs), %d in all\n", t.runs, plural(t.runs, "run", "runs"),
		t.rows, time.Since(start).Seconds(), t.set.Runs())
	set := t.set
	debug.SetGCPercent(100) // the outputs copy the aggregate: no more slack
	meta := format.Meta{Tool: o.Version, Run: fmt.Sprintf("%d runs", set.Runs())}
	if o.Out != "" {
		if err := writeFile(o.Out, func(w io.Writer) error { return set.WriteFile(w, meta) }); err != nil {
			return err
		}
	}
	if o.Dot != "" {
		if err := writeDot(o.Dot, set, o.Top, t.files, t.warn); err != nil {
			return err
		}
	}
	switch {
	case o.JSON:
		return writeJSON(stdout, set)
	case o.Text:
		return format.WriteSchedulesText(stdout, set.File(meta))
	}
	return writeSummary(stdout, set, o.Top)
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
