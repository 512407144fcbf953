package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/schedule"
)

// needed are the trace columns a happens-before graph uses: no pids, fds,
// raw addresses or payloads.
var needed = format.AllColumns &^ (format.ColumnBit("pid") | format.ColumnBit("tid") | format.ColumnBit("fd") |
	format.ColumnBit("local_addr") | format.ColumnBit("peer_addr") | format.ColumnBit("payload") | format.ColumnBit("fault"))

// tracker adds input files to a Set, one run at a time.
type tracker struct {
	set  *schedule.Set
	b    *hb.Builder
	evs  []format.Event    // one record batch
	seen map[string]string // run name -> file it came from
	warn func(string)
}

func newTracker(g hb.Granularity, warn func(string)) *tracker {
	return &tracker{set: schedule.New(g), b: hb.NewBuilder(g), seen: map[string]string{}, warn: warn}
}

// addFile adds a trace (Arrow or text form) or a schedules file. The
// readers turn bad input into errors; a panic past them would be a bug in
// pain-track, reported against the file that set it off rather than as a
// crash.
func (t *tracker) addFile(path string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: internal error (a bug in pain-track; please report it with this file): %v", path, p)
		}
	}()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	head, _ := br.Peek(16)
	if len(head) > 0 && (head[0] == '#' || head[0] >= '0' && head[0] <= '9' || head[0] == '\n') {
		return t.addText(br, path)
	}
	r, err := format.NewReader(br, path)
	if errors.Is(err, format.ErrWrongKind) {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		s, err := format.ReadSchedulesFrom(bufio.NewReaderSize(f, 1<<16), path)
		if err != nil {
			return err
		}
		for _, sc := range s.Schedules {
			for _, run := range sc.Runs {
				t.note(run, path)
			}
		}
		if err := t.set.AddFile(s); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	defer r.Close()
	t.b.Reset()
	for {
		t.evs, err = r.NextBatchOf(t.evs, needed)
		if err == io.EOF {
			break
		}
		if errors.Is(err, format.ErrTruncated) {
			t.warn(err.Error() + "; tracking those rows")
			break
		}
		if err != nil {
			return err
		}
		for i := range t.evs {
			t.b.Add(&t.evs[i])
		}
	}
	return t.addRun(runName(r.Meta(), path), path)
}

// addText adds a trace in text form (tests and hand-written traces).
func (t *tracker) addText(br *bufio.Reader, path string) error {
	line, _ := br.Peek(64)
	if h, ok := bytes.CutPrefix(line, []byte("# pain ")); ok && !bytes.HasPrefix(h, []byte("trace ")) {
		kind, _, _ := strings.Cut(string(h), " ")
		return fmt.Errorf("%s: holds %s in text form; pain-track reads traces, in Arrow or text form, and schedules files in Arrow form", path, kind)
	}
	m, evs, err := format.ReadText(br, path)
	if err != nil {
		return err
	}
	t.b.Reset()
	for i := range evs {
		t.b.Add(&evs[i])
	}
	return t.addRun(runName(m, path), path)
}

func (t *tracker) addRun(run, path string) error {
	t.note(run, path)
	if err := t.set.Add(t.b.Scratch(run)); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// note warns when two inputs claim the same run name: their runs are
// counted twice under one name.
func (t *tracker) note(run, path string) {
	if prev, ok := t.seen[run]; ok {
		t.warn(fmt.Sprintf("%s: run %s was already read from %s", path, run, prev))
		return
	}
	t.seen[run] = path
}

// runName is the run's name from its metadata, or else its file name.
func runName(m format.Meta, path string) string {
	if m.Run != "" {
		return m.Run
	}
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}
