package track

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
	"github.com/boxofpain/pain/internal/hb/synth"
)

// writeSynth writes runs synthetic traces of about n rows each into dir.
func writeSynth(tb testing.TB, dir string, runs, n int) (paths []string, rows int) {
	for i := 0; i < runs; i++ {
		evs := synth.Run(1, i, n)
		path := filepath.Join(dir, fmt.Sprintf("run-%04d.arrows", i))
		f, err := os.Create(path)
		if err != nil {
			tb.Fatal(err)
		}
		w, err := format.NewWriter(f, format.Meta{Run: fmt.Sprintf("run-%04d", i), Start: time.Unix(0, 0)})
		if err != nil {
			tb.Fatal(err)
		}
		for k := range evs {
			if err := w.Write(&evs[k]); err != nil {
				tb.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			tb.Fatal(err)
		}
		f.Close()
		paths = append(paths, path)
		rows += len(evs)
	}
	return paths, rows
}

// cpuTime returns the CPU time (user and system) the process has used. On a
// machine shared with other work, events per CPU second is the honest "per
// core" figure; events per wall second also counts time spent waiting.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perCPU reports events per CPU second over the benchmark loop.
func perCPU(b *testing.B, start time.Duration, rows int) {
	b.ReportMetric(float64(rows)*float64(b.N)/(cpuTime()-start).Seconds(), "events/cpu-s")
}

// BenchmarkTrack measures the whole tracking path (read, graph, schedule,
// aggregate) on synthetic traces of 10,000 rows: events/s is per core, as
// tracking is single-threaded.
func BenchmarkTrack(b *testing.B) {
	paths, rows := writeSynth(b, b.TempDir(), 20, 10000)
	defer debug.SetGCPercent(debug.SetGCPercent(GCPercent)) // as pain-track runs
	for _, gran := range []hb.Granularity{hb.Message, hb.Syscall} {
		b.Run(gran.String(), func(b *testing.B) {
			b.ReportAllocs()
			var t *tracker
			start := cpuTime()
			for b.Loop() {
				t = newTracker(gran, func(string) {})
				if err := t.addFiles(paths); err != nil {
					b.Fatal(err)
				}
			}
			perCPU(b, start, rows)
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(t.set.Coverage().Schedules), "schedules")
		})
	}
}

// BenchmarkRead measures the trace reader alone, for comparison: row by
// row (Next) and a batch at a time (NextBatch, what pain-track uses).
func BenchmarkRead(b *testing.B) {
	paths, rows := writeSynth(b, b.TempDir(), 20, 10000)
	b.Run("Next", func(b *testing.B) { benchRead(b, paths, rows, false) })
	b.Run("NextBatch", func(b *testing.B) { benchRead(b, paths, rows, true) })
}

func benchRead(b *testing.B, paths []string, rows int, batch bool) {
	var e format.Event
	var evs []format.Event
	start := cpuTime()
	for b.Loop() {
		for _, p := range paths {
			f, err := os.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			r, err := format.NewReader(f, p)
			if err != nil {
				b.Fatal(err)
			}
			if batch {
				for err == nil {
					evs, err = r.NextBatch(evs)
				}
			} else {
				for r.Next(&e) == nil {
				}
			}
			r.Close()
			f.Close()
		}
	}
	perCPU(b, start, rows)
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkGraph measures building graphs from rows in memory.
func BenchmarkGraph(b *testing.B) {
	var runs [][]format.Event
	rows := 0
	for i := 0; i < 20; i++ {
		runs = append(runs, synth.Run(1, i, 10000))
		rows += len(runs[i])
	}
	bd := hb.NewBuilder(hb.Message)
	start := cpuTime()
	for b.Loop() {
		for _, evs := range runs {
			bd.Reset()
			for k := range evs {
				bd.Add(&evs[k])
			}
			bd.Scratch("r")
		}
	}
	perCPU(b, start, rows)
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
