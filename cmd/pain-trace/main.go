//go:build linux && amd64

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/ebpfrec"
	"github.com/boxofpain/pain/internal/launch"
	"github.com/boxofpain/pain/internal/ptrace"
	"github.com/boxofpain/pain/internal/verdict"
)

const tool = "pain-trace"

// version is the tool version stored in traces.
const version = "0.1"

func main() {
	ptrace.Shim() // in a launcher shim started by the tracer, runs it and never returns
	cli.Main(tool, run)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(tool, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf launch.Flags
	sf.Register(fs, "output file name")
	var (
		out     = fs.String("o", "", "trace output `file`")
		read    = fs.String("r", "", "print trace `file` as text (- for stdin), or export it with -as")
		backend = fs.String("backend", "ptrace", "recorder: `ptrace` or ebpf (no stops; see the README for what it cannot fill)")
	)
	var rf readFlags
	rf.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s -o run.arrows -f Procfile [-w CMD] [-check CMD] [-ready CMD] [-timeout D] [-grace D]\n", tool)
		fmt.Fprintf(fs.Output(), "       %s -o run.arrows -- CMD ARGS...\n       %s -r run.arrows\n", tool, tool)
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, stdout); err != nil {
		return err
	}
	usage := func(msg string) error {
		fmt.Fprintf(stderr, "%s: %s\n", tool, msg)
		fs.Usage()
		return cli.ExitStatus(2)
	}
	if *read != "" {
		if sf.Procfile != "" || fs.NArg() > 0 {
			return usage("-r takes no Procfile or command")
		}
		return rf.read(*read, *out, stdin, stdout, stderr)
	}
	if *out == "" {
		return usage("-o is required")
	}
	if *backend != "ptrace" && *backend != "ebpf" {
		return usage("-backend must be ptrace or ebpf")
	}
	if *backend == "ebpf" && sf.Payload > 0 {
		return usage("-payload needs -backend ptrace")
	}
	sys, err := sf.System(fs.Args())
	var uerr launch.UsageError
	if errors.As(err, &uerr) {
		return usage(uerr.Error())
	}
	if err != nil {
		return err
	}
	if sf.Run == "" {
		sf.Run = filepath.Base(*out)
	}
	if err := cli.NotInput(*out, sf.Procfile); err != nil {
		return err
	}
	compression, err := rf.compression()
	if err != nil {
		return usage(err.Error())
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	ctx, again, stop := cli.Interrupts()
	defer stop()
	start := time.Now()
	o := sf.Options()
	o.Out, o.Progress, o.Prefix, o.Tool, o.Abort = f, stderr, tool+": ", tool+" "+version, again
	var rec *ebpfrec.Recorder
	if *backend == "ebpf" {
		rec, err = ebpfrec.Open(func(m string) { fmt.Fprintf(stderr, "%s: warning: %s\n", tool, m) })
		if err != nil {
			f.Close()
			os.Remove(*out)
			return err
		}
		defer rec.Close()
		o.Backend = rec
		o.Meta = map[string]string{"backend": "ebpf", "ebpf.limits": ebpfrec.Limits}
	}
	o.Compression = compression
	res, err := launch.Run(ctx, sys, o)
	if rec != nil && err == nil {
		if n := rec.Lost(); n > 0 {
			err = fmt.Errorf("the eBPF recorder lost %d records (ring buffer full): the trace is incomplete", n)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	fmt.Fprintf(stderr, "%s: %d events in %v to %s\n", tool, res.Rows, time.Since(start).Round(time.Millisecond), *out)
	if err != nil {
		return err
	}
	return outcome(sys, res, stderr)
}

// outcome says what the run showed: the check's (or the `-- CMD`
// command's) status, and a phase that hung, which is never a pass
// (verdict.Judge, as pain-inject judges a run with no plan).
func outcome(sys launch.System, res launch.Result, stderr io.Writer) error {
	r, err := verdict.Judge(verdict.Run{System: sys, Result: res})
	if err != nil {
		return err
	}
	for _, phase := range res.TimedOut {
		fmt.Fprintf(stderr, "%s: %s\n", tool, verdict.HungNote(phase, sys.Timeout))
	}
	what := "check"
	if sys.Check == "" {
		what = "command"
	}
	switch {
	case r.Check == nil:
	case *r.Check != 0:
		fmt.Fprintf(stderr, "%s: %s failed (status %d)\n", tool, what, *r.Check)
	case r.Verdict == format.VerdictBug:
		fmt.Fprintf(stderr, "%s: %s passed, but the run hung\n", tool, what)
	default:
		fmt.Fprintf(stderr, "%s: %s passed\n", tool, what)
	}
	return verdict.Status(r.Verdict)
}
