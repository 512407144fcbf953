//go:build linux && amd64

package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/ebpfrec"
	"github.com/boxofpain/pain/internal/launch"
	"github.com/boxofpain/pain/internal/verdict"
)

// trace runs sys, recording it into the file out (with the eBPF recorder
// when ebpf), and says what the run showed (verdict.Report).
func trace(sys launch.System, o launch.Options, out string, ebpf bool, stderr io.Writer) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	ctx, again, stop := cli.Interrupts()
	defer stop()
	start := time.Now()
	o.Out, o.Progress, o.Prefix, o.Tool, o.Abort = f, stderr, tool+": ", tool+" "+version, again
	var rec *ebpfrec.Recorder
	if ebpf {
		rec, err = ebpfrec.Open(func(m string) { fmt.Fprintf(stderr, "%s: warning: %s\n", tool, m) })
		if err != nil {
			f.Close()
			os.Remove(out)
			return err
		}
		defer rec.Close()
		o.Backend = rec
		o.Meta = map[string]string{"backend": "ebpf", "ebpf.limits": ebpfrec.Limits}
	}
	res, err := launch.Run(ctx, sys, o)
	if rec != nil && err == nil {
		if n := rec.Lost(); n > 0 {
			err = fmt.Errorf("the eBPF recorder lost %d records (ring buffer full): the trace is incomplete", n)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	fmt.Fprintf(stderr, "%s: %d events in %v to %s\n", tool, res.Rows, time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		return err
	}
	return verdict.Report(stderr, tool, sys, res)
}
