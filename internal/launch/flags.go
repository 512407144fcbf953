//go:build linux && amd64

package launch

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/boxofpain/pain/internal/cli"
)

// Flags are the command-line flags that describe a system and how to trace
// it. pain-trace and pain-inject both register them, so the two take a
// system in exactly the same words.
type Flags struct {
	Procfile, Workload, Check, Ready string
	Hold                             string
	Timeout, Grace                   time.Duration
	Run                              string // empty: the tool's default
	Payload                          int
	Seccomp                          bool
	Threads                          string // "os" or "process"
	Netns                            bool
	RunDir                           string
	Backend                          string // BackendPtrace or BackendEBPF
}

// The recorders -backend names.
const (
	BackendPtrace = "ptrace"
	BackendEBPF   = "ebpf"
)

// Register defines the flags on fs. runDefault says in the help what -run
// defaults to ("output file name"), ebpf what -backend ebpf does in this
// tool.
func (f *Flags) Register(fs *flag.FlagSet, runDefault, ebpf string) {
	fs.StringVar(&f.Procfile, "f", "", "Procfile")
	fs.StringVar(&f.Workload, "w", "", "workload `command`")
	fs.StringVar(&f.Check, "check", "", "check `command`")
	fs.StringVar(&f.Ready, "ready", "", "readiness `command`")
	fs.StringVar(&f.Hold, "hold", "", "untraced `command` that holds the ready nodes until it exits, for a host without the workload")
	fs.DurationVar(&f.Timeout, "timeout", DefaultTimeout, "limit of each phase")
	fs.DurationVar(&f.Grace, "grace", DefaultGrace, "time between SIGTERM and SIGKILL")
	fs.StringVar(&f.Run, "run", "", "run `name` (default: "+runDefault+")")
	fs.IntVar(&f.Payload, "payload", 0, "payload prefix `bytes` to keep")
	fs.BoolVar(&f.Seccomp, "seccomp", true, "stop only at recorded calls (seccomp-bpf)")
	fs.StringVar(&f.Threads, "threads", ThreadsAuto, "thread naming: `auto` (a Go program's threads as one, others' each), os (each OS thread) or process (all threads of a process as one)")
	fs.BoolVar(&f.Netns, "netns", false, "run the system in a network namespace of its own (loopback only; needs root)")
	fs.StringVar(&f.RunDir, "rundir", "", "the run's scratch `folder`, $PAIN_RUN_DIR, kept (default: a temporary one, removed)")
	fs.StringVar(&f.Backend, "backend", BackendPtrace, "recorder: `ptrace` or ebpf ("+ebpf+")")
}

// UsageError is a command line that does not describe a system; tools
// print it with their usage.
type UsageError string

func (e UsageError) Error() string { return string(e) }

// Validate returns a UsageError when the flags and args, the `-- CMD ARGS`
// remainder of the command line, do not describe one system.
func (f *Flags) Validate(args []string) error {
	switch {
	case (f.Procfile == "") == (len(args) == 0):
		return UsageError("give either -f Procfile or -- CMD ARGS")
	case f.Timeout <= 0:
		return UsageError(fmt.Sprintf("-timeout must be > 0, got %v", f.Timeout))
	case f.Grace <= 0:
		return UsageError(fmt.Sprintf("-grace must be > 0, got %v", f.Grace))
	case f.Payload < 0:
		return UsageError("-payload must be >= 0")
	case f.Threads != ThreadsOS && f.Threads != ThreadsProcess && f.Threads != ThreadsAuto:
		return UsageError("-threads must be auto, os or process")
	case f.Backend != BackendPtrace && f.Backend != BackendEBPF:
		return UsageError("-backend must be ptrace or ebpf")
	case f.Backend == BackendEBPF && f.Payload > 0:
		return UsageError("-payload needs -backend ptrace") // the eBPF recorder keeps no payload
	case f.Procfile == "" && (f.Workload != "" || f.Ready != ""):
		return UsageError("-w and -ready need -f Procfile")
	case f.Hold != "" && (f.Procfile == "" || f.Workload != "" || f.Check != ""):
		return UsageError("-hold needs -f Procfile, and no -w or -check (they run on the host without -hold)")
	}
	return nil
}

// System checks the command line (see Validate), reads the Procfile and
// returns the system it describes.
func (f *Flags) System(args []string) (System, error) {
	if err := f.Validate(args); err != nil {
		return System{}, err
	}
	s := System{Workload: f.Workload, Check: f.Check, Ready: f.Ready, Hold: f.Hold, Timeout: f.Timeout, Grace: f.Grace}
	if f.Procfile == "" {
		s.Argv = args
		return s, nil
	}
	r, err := os.Open(f.Procfile)
	if err != nil {
		return System{}, err
	}
	defer r.Close()
	if s.Nodes, err = ParseProcfile(r); err != nil {
		return System{}, fmt.Errorf("%s: %w", f.Procfile, err)
	}
	return s, nil
}

// Options returns the options the flags set (Run, Payload, NoSeccomp,
// Threads, Netns, RunDir, and the trace's pain.x.system: Line(args)); the
// tool fills in the rest.
func (f *Flags) Options(args []string) Options {
	return Options{Run: f.Run, Payload: f.Payload, NoSeccomp: !f.Seccomp, Threads: f.Threads,
		Netns: f.Netns, RunDir: f.RunDir, Meta: map[string]string{"system": f.Line(args)}}
}

// Line returns the flags that describe the system, and args, the `-- CMD
// ARGS` remainder, as one shell command line: what pain-trace or
// pain-inject takes to run the same system again (a round's page shows it
// in the command that reruns a plan). -run is left out (each run has its
// own), and flags at their defaults.
func (f *Flags) Line(args []string) string {
	var w []string
	add := func(flag, v string) {
		if v != "" {
			w = append(w, flag, cli.ShellQuote(v))
		}
	}
	add("-f", f.Procfile)
	add("-w", f.Workload)
	add("-check", f.Check)
	add("-ready", f.Ready)
	add("-hold", f.Hold)
	if f.Timeout != DefaultTimeout {
		add("-timeout", f.Timeout.String())
	}
	if f.Grace != DefaultGrace {
		add("-grace", f.Grace.String())
	}
	if f.Payload != 0 {
		add("-payload", strconv.Itoa(f.Payload))
	}
	if !f.Seccomp {
		w = append(w, "-seccomp=false")
	}
	if f.Threads != ThreadsAuto {
		add("-threads", f.Threads)
	}
	if f.Netns {
		w = append(w, "-netns")
	}
	add("-rundir", f.RunDir)
	if len(args) > 0 {
		w = append(w, "--")
		for _, a := range args {
			w = append(w, cli.ShellQuote(a))
		}
	}
	return strings.Join(w, " ")
}
