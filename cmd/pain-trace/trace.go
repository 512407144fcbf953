//go:build linux && amd64

package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/boxofpain/pain/internal/ebpfrec"
	"github.com/boxofpain/pain/internal/launch"
	"github.com/boxofpain/pain/internal/record"
	"github.com/boxofpain/pain/internal/verdict"
)

// trace runs sys, recording it into the file out (with the eBPF recorder
// when ebpf), and says what the run showed (verdict.Report).
func trace(sys launch.System, o launch.Options, out string, ebpf bool, stderr io.Writer) error {
	stop, err := profile(os.Getenv(envCPUProfile), stderr)
	if err != nil {
		return err
	}
	defer stop()
	var rec *ebpfrec.Recorder
	if ebpf {
		if rec, err = record.EBPF(&o, tool, stderr); err != nil {
			return err
		}
		defer rec.Close()
	}
	res, _, err := record.Run(sys, o, out, tool, version, stderr)
	if err := record.Incomplete(rec, err); err != nil {
		return err
	}
	return verdict.Report(stderr, tool, sys, res)
}

// envCPUProfile names a file for a CPU profile of the recording (go tool
// pprof), for measuring what recording costs; not a flag, as users need
// none. pain-trace then also says the CPU time it used itself (its traced
// processes, which it reaps, are left out).
const envCPUProfile = "PAIN_CPUPROFILE"

// profile starts a CPU profile into the file path (none when empty) and
// returns what stops it and says the CPU time used on stderr.
func profile(path string, stderr io.Writer) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		var ru syscall.Rusage
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			fmt.Fprintf(stderr, "%s: cpu: user %.3fs sys %.3fs\n", tool,
				time.Duration(ru.Utime.Nano()).Seconds(), time.Duration(ru.Stime.Nano()).Seconds())
		}
	}, nil
}
