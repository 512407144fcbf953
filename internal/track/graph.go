package track

import (
	"fmt"
	"io"
	"strings"

	"github.com/boxofpain/pain/internal/hb"
)

// RunGraph builds the happens-before graph of one run from its trace files
// (every part of it), as pain-track builds each run it tracks: hosts
// merged, teardown left out, faults marked. pain-report draws injected runs
// with it.
func RunGraph(gran hb.Granularity, paths []string) (*hb.Graph, error) {
	t := newTracker(gran, func(string) {})
	if err := t.addFiles(paths); err != nil {
		return nil, err
	}
	r := t.set.Ranking()
	if len(r) != 1 || t.runs != 1 {
		return nil, fmt.Errorf("%s: %d runs with rows, want one", strings.Join(paths, ", "), t.runs)
	}
	return t.set.Graph(r[0].ID), nil
}

// WritePerfetto writes g as a trace-event file (Perfetto, chrome://tracing),
// the calls placed at their times in the run's trace files (none: at the
// graph's own times).
func WritePerfetto(w io.Writer, g *hb.Graph, title string, files []string) error {
	spans, err := eventSpans(g, files)
	if err != nil {
		return err
	}
	return traceEvents(w, g, title, spans)
}
