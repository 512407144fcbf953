//go:build linux && amd64

package main

import (
	"fmt"
	"io"

	"github.com/boxofpain/pain/internal/ebpfrec"
	"github.com/boxofpain/pain/internal/launch"
	"github.com/boxofpain/pain/internal/record"
	"github.com/boxofpain/pain/internal/verdict"
)

// trace runs sys, recording it into the file out (with the eBPF recorder
// when ebpf), and says what the run showed (verdict.Report).
func trace(sys launch.System, o launch.Options, out string, ebpf bool, stderr io.Writer) error {
	if ebpf {
		rec, err := ebpfrec.Open(func(m string) { fmt.Fprintf(stderr, "%s: warning: %s\n", tool, m) })
		if err != nil {
			return err
		}
		defer rec.Close()
		o.Backend = rec
		o.Meta["backend"], o.Meta["ebpf.limits"] = "ebpf", ebpfrec.Limits
	}
	res, _, err := record.Run(sys, o, out, tool, version, stderr)
	if rec, ok := o.Backend.(*ebpfrec.Recorder); ok && err == nil {
		if n := rec.Lost(); n > 0 {
			err = fmt.Errorf("the eBPF recorder lost %d records (ring buffer full): the trace is incomplete", n)
		}
	}
	if err != nil {
		return err
	}
	return verdict.Report(stderr, tool, sys, res)
}
