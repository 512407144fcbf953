// Command trackgen writes synthetic traces for benchmarking pain-track:
// clients racing to one server (package synth), a few schedules and rare
// ones, with the splitting, retries and helper threads real traces have.
//
// Usage:
//
//	trackgen [-runs 1000] [-events 10000] [-seed 1] -o DIR
//
// It writes DIR/run-0000.arrows ... and prints the number of rows.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb/synth"
)

func main() {
	runs := flag.Int("runs", 1000, "number of traces")
	events := flag.Int("events", 10000, "rows per trace, about")
	seed := flag.Uint64("seed", 1, "random seed")
	dir := flag.String("o", "", "output directory")
	flag.Parse()
	if *dir == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: trackgen [-runs N] [-events N] [-seed N] -o DIR")
		os.Exit(2)
	}
	if err := run(*dir, *runs, *events, *seed); err != nil {
		fmt.Fprintf(os.Stderr, "trackgen: %v\n", err)
		os.Exit(2)
	}
}

func run(dir string, runs, events int, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rows := 0
	for i := 0; i < runs; i++ {
		evs := synth.Run(seed, i, events)
		name := fmt.Sprintf("run-%04d", i)
		f, err := os.Create(filepath.Join(dir, name+".arrows"))
		if err != nil {
			return err
		}
		w, err := format.NewWriter(f, format.Meta{Tool: "trackgen", Run: name, Start: time.Unix(0, 0)})
		if err != nil {
			return err
		}
		for k := range evs {
			if err := w.Write(&evs[k]); err != nil {
				return err
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		rows += len(evs)
	}
	fmt.Println(rows)
	return nil
}
