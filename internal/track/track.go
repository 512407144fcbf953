package track

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/schedule"
)

// needed are the trace columns a happens-before graph uses: no pids, fds,
// raw addresses or payloads (the fault mark only for diagrams).
var needed = format.AllColumns &^ (format.ColumnBit("pid") | format.ColumnBit("tid") | format.ColumnBit("fd") |
	format.ColumnBit("local_addr") | format.ColumnBit("peer_addr") | format.ColumnBit("payload"))

// tracker adds input files to a Set, one run at a time.
type tracker struct {
	set *schedule.Set
	b   *hb.Builder
	br  *bufio.Reader // reused for every file
	// hosts names connections between the parts of the run being added
	// (nil for a run in one file).
	hosts *hostNames
	rows  int64             // trace rows read
	runs  int               // runs tracked from traces
	seen  map[string]string // run name -> file it came from
	warn  func(string)
	// parts says where and when each trace file was taken, to tell parts of
	// one run from copies and from other runs under the same name.
	parts map[string]*part
	files map[string][]string // run name -> its trace files
	// progress, when set, hears of each run tracked: done of total.
	progress func(done, total int)
	// outDir is the folder the schedules file goes to: it names the runs'
	// trace files relative to it; temp is a copy of stdin it does not name.
	outDir, temp string
}

// part is one trace file of a run.
type part struct {
	host       string
	start      time.Time
	lastNS     int64 // time of the last row read, from start
	hasRows    bool
	startKnown bool
	plan       *format.Plan // the plan of an injected run
}

func newTracker(g hb.Granularity, warn func(string)) *tracker {
	return &tracker{set: schedule.New(g), b: hb.NewBuilder(g), seen: map[string]string{}, warn: warn,
		br: bufio.NewReaderSize(nil, 1<<16), parts: map[string]*part{}, files: map[string][]string{}}
}

// addFiles adds traces (Arrow or text form) and schedules files. Traces
// with the same run name are parts of one run (the nodes of one run traced
// on several hosts, each into its own file): their rows make one graph,
// matched by names and offsets, never by time. A first pass reads only
// each file's metadata, so memory still holds one run at a time.
func (t *tracker) addFiles(paths []string) error {
	var runs []string
	parts := map[string][]string{}
	for _, path := range paths {
		run, isTrace, err := t.sniff(path)
		if err != nil {
			return err
		}
		if !isTrace {
			continue // a schedules file, added by sniff
		}
		if parts[run] == nil {
			runs = append(runs, run)
		}
		if slices.Contains(parts[run], path) {
			t.warn(fmt.Sprintf("%s: given twice; read once", path))
			continue
		}
		parts[run] = append(parts[run], path)
	}
	for i, run := range runs {
		if err := t.addRun(run, parts[run]); err != nil {
			return err
		}
		if t.progress != nil {
			t.progress(i+1, len(runs))
		}
	}
	return nil
}

// guard turns a panic into an error naming the file: the readers turn bad
// input into errors, so a panic past them is a bug in pain-track, better
// reported against the file that set it off than as a crash.
func guard(path string, err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("%s: internal error (a bug in pain-track; please report it with this file): %v", path, p)
	}
}

// sniff returns the run name of a trace, or adds a schedules file.
func (t *tracker) sniff(path string) (run string, isTrace bool, err error) {
	defer guard(path, &err)
	f, err := os.Open(path)
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	t.br.Reset(f)
	tr, err := format.OpenTrace(t.br, path)
	if err == nil {
		tr.Close()
		m := tr.Meta()
		t.parts[path] = &part{host: m.Host, start: m.Start, startKnown: !m.Start.IsZero(), plan: m.Plan}
		return runName(m, path), true, nil
	}
	if !errors.Is(err, format.ErrWrongKind) {
		return "", false, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", false, err
	}
	t.br.Reset(f)
	s, err := format.ReadSchedulesFrom(t.br, path)
	if err != nil {
		return "", false, err
	}
	t.resolveTraces(path, s)
	for _, sc := range s.Schedules {
		for _, run := range sc.Runs {
			t.note(run, path)
		}
	}
	if err := t.set.AddFile(s); err != nil {
		return "", false, fmt.Errorf("%s: %v", path, err)
	}
	return "", false, nil
}

// resolveTraces reads where the runs of schedules file path had their
// traces (named relative to its folder; to the current one for a copy of
// stdin): for the pictures, and named again for the file written.
func (t *tracker) resolveTraces(path string, s *format.Schedules) {
	base := filepath.Dir(path)
	if path == t.temp {
		base = ""
	}
	for run, files := range s.Traces {
		var resolved []string
		for _, f := range files {
			f = filepath.FromSlash(f)
			if !filepath.IsAbs(f) {
				f = filepath.Join(base, f)
			}
			resolved = append(resolved, f)
		}
		if _, ok := t.files[run]; !ok {
			t.files[run] = resolved
		}
		s.Traces[run] = t.recorded(resolved)
	}
}

// recorded names trace files as the schedules file keeps them: relative to
// its folder where they can be, with slashes; the copy of stdin not at all.
func (t *tracker) recorded(paths []string) []string {
	var out []string
	dir, derr := filepath.Abs(t.outDir)
	for _, p := range paths {
		if p == t.temp {
			continue
		}
		if abs, err := filepath.Abs(p); err == nil && derr == nil {
			if rel, err := filepath.Rel(dir, abs); err == nil {
				p = rel
			}
		}
		out = append(out, filepath.ToSlash(p))
	}
	return out
}

// addRun builds the graph of one run from the files that hold its parts.
func (t *tracker) addRun(run string, paths []string) error {
	t.b.Reset()
	t.files[run] = paths
	t.hosts = nil
	if len(paths) > 1 {
		var err error
		if t.hosts, err = t.learnHosts(paths); err != nil {
			return err
		}
	}
	for _, path := range paths {
		if err := t.addRows(path); err != nil {
			return err
		}
	}
	if err := t.distinct(run, paths); err != nil {
		return err
	}
	if !slices.ContainsFunc(paths, func(p string) bool { return t.parts[p].hasRows }) {
		// Nothing ran (a tool that failed before the first row): no schedule.
		t.warn(fmt.Sprintf("%s: run %s has no rows; not counted as a run", strings.Join(paths, ", "), run))
		return nil
	}
	t.note(run, paths[0])
	t.set.Traced(run, t.recorded(paths))
	t.runs++
	for _, p := range paths {
		t.set.Injected(run, t.parts[p].plan)
	}
	if err := t.set.Add(t.b.Scratch(run)); err != nil {
		return fmt.Errorf("%s: %v", paths[0], err)
	}
	return nil
}

// addRows adds the rows of one trace file to the Builder but for its
// teardown (hb.Teardown): what the nodes do once the check has ended is
// no part of a schedule. Each part of a run has its own mark, taken by its
// own launcher, so no clock is compared.
func (t *tracker) addRows(path string) error {
	var td hb.Teardown
	err := t.eachRows(path, needed, func(evs []format.Event) {
		for i := range evs {
			// Named across hosts first: the teardown knows a client's
			// end only by its name.
			if t.hosts != nil {
				t.hosts.rename(&evs[i])
			}
			if td.Keep(&evs[i]) {
				t.b.Add(&evs[i])
			}
		}
		t.rows += int64(len(evs))
		if len(evs) > 0 {
			t.parts[path].saw(evs[len(evs)-1].TimeNS)
		}
	})
	if errors.Is(err, format.ErrTruncated) {
		t.warn(err.Error() + "; tracking those rows")
		return nil
	}
	return err
}

// eachRows calls fn with the rows of one trace file, Arrow or text form
// (format.Trace.Each), only the columns cols, a few rows at a time so they
// stay in the cache. A trace cut short gives its rows, then its
// ErrTruncated error.
func (t *tracker) eachRows(path string, cols format.Columns, fn func([]format.Event)) (err error) {
	defer guard(path, &err)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	t.br.Reset(f)
	return eachRows(t.br, path, cols, 256, fn)
}

// eachRows opens a trace (Arrow or text form) read from r and calls fn
// with its rows, limit at a time.
func eachRows(r io.Reader, path string, cols format.Columns, limit int, fn func([]format.Event)) error {
	tr, err := format.OpenTrace(r, path)
	if err != nil {
		return err
	}
	defer tr.Close()
	return tr.Each(cols, limit, fn)
}

// note warns when a run name comes twice from schedules files, or from a
// schedules file and a trace: that run is counted twice.
func (t *tracker) note(run, path string) {
	if prev, ok := t.seen[run]; ok {
		t.warn(fmt.Sprintf("%s: run %s was already read from %s", path, run, prev))
		return
	}
	t.seen[run] = path
}

func (p *part) saw(ns int64) {
	p.hasRows = true
	p.lastNS = max(p.lastNS, ns)
}

// distinct refuses parts of one run that cannot be parts of one run: two
// files taken on one host at the same start (a trace given twice under two
// names, or copied), or at times that do not overlap (two runs under one
// name). Parts from different hosts are merged whatever their clocks say.
func (t *tracker) distinct(run string, paths []string) error {
	for i, a := range paths {
		pa := t.parts[a]
		for _, b := range paths[:i] {
			pb := t.parts[b]
			if pa.host != pb.host {
				continue
			}
			if pa.start.Equal(pb.start) {
				return fmt.Errorf("%s: a copy of %s (run %s, host %q, same start %s): give each run its own name", a, b, run, pa.host, startText(pa))
			}
			if pa.startKnown && pb.startKnown && pa.hasRows && pb.hasRows && !overlap(pa, pb) {
				return fmt.Errorf("%s and %s: two runs named %s on host %q (they ran at different times): give each run its own name", b, a, run, pa.host)
			}
		}
	}
	return nil
}

func startText(p *part) string {
	if !p.startKnown {
		return "unknown"
	}
	return p.start.UTC().Format(time.RFC3339Nano)
}

// overlap says whether two parts ran at the same time at some point.
func overlap(a, b *part) bool {
	aEnd, bEnd := a.start.Add(time.Duration(a.lastNS)), b.start.Add(time.Duration(b.lastNS))
	return !a.start.After(bEnd) && !b.start.After(aEnd)
}

// runName is the run's name from its metadata, or else its file name.
func runName(m format.Meta, path string) string {
	if m.Run != "" {
		return m.Run
	}
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}
