package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/launch"
)

const tool = "pain-trace"

// version is the tool version stored in traces.
const version = "0.1"

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	var ex exitError
	switch {
	case err == nil:
	case errors.As(err, &ex):
		os.Exit(int(ex))
	default:
		fmt.Fprintf(os.Stderr, "%s: %v\n", tool, err)
		os.Exit(2)
	}
}

// exitError is an exit status that needs no further message.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(tool, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		out      = fs.String("o", "", "trace output `file`")
		procfile = fs.String("f", "", "Procfile")
		workload = fs.String("w", "", "workload `command`")
		check    = fs.String("check", "", "check `command`")
		ready    = fs.String("ready", "", "readiness `command`")
		timeout  = fs.Duration("timeout", launch.DefaultTimeout, "limit of each phase")
		grace    = fs.Duration("grace", launch.DefaultGrace, "time between SIGTERM and SIGKILL")
		runName  = fs.String("run", "", "run `name` (default: output file name)")
		payload  = fs.Int("payload", 0, "payload prefix `bytes` to keep")
		seccomp  = fs.Bool("seccomp", true, "stop only at recorded calls (seccomp-bpf)")
		threads  = fs.String("threads", "os", "thread naming: `os` (each OS thread) or process (all threads of a process as one)")
		read     = fs.String("r", "", "print trace `file` as text")
	)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s -o run.arrows -f Procfile [-w CMD] [-check CMD] [-ready CMD] [-timeout D] [-grace D]\n", tool)
		fmt.Fprintf(stderr, "       %s -o run.arrows -- CMD ARGS...\n       %s -r run.arrows\n", tool, tool)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	usage := func(msg string) error {
		fmt.Fprintf(stderr, "%s: %s\n", tool, msg)
		fs.Usage()
		return exitError(2)
	}
	if *read != "" {
		if *out != "" || *procfile != "" || fs.NArg() > 0 {
			return usage("-r takes no other flags or arguments")
		}
		return printTrace(*read, stdout, stderr)
	}
	if *out == "" {
		return usage("-o is required")
	}
	if (*procfile == "") == (fs.NArg() == 0) {
		return usage("give either -f Procfile or -- CMD ARGS")
	}
	if *payload < 0 {
		return usage("-payload must be >= 0")
	}
	if *threads != "os" && *threads != "process" {
		return usage("-threads must be os or process")
	}
	sys := launch.System{Workload: *workload, Check: *check, Ready: *ready, Timeout: *timeout, Grace: *grace}
	if *procfile != "" {
		f, err := os.Open(*procfile)
		if err != nil {
			return err
		}
		sys.Nodes, err = launch.ParseProcfile(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *procfile, err)
		}
	} else {
		if *workload != "" || *ready != "" {
			return usage("-w and -ready need -f Procfile")
		}
		sys.Argv = fs.Args()
	}
	if *runName == "" {
		*runName = filepath.Base(*out)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	start := time.Now()
	res, err := launch.Run(ctx, sys, launch.Options{
		Out: f, Progress: stderr, Prefix: tool + ": ", Tool: tool + " " + version,
		Run: *runName, Payload: *payload, NoSeccomp: !*seccomp, ProcessThreads: *threads == "process",
	})
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	fmt.Fprintf(stderr, "%s: %d events in %v to %s\n", tool, res.Rows, time.Since(start).Round(time.Millisecond), *out)
	if ctx.Err() != nil {
		return errors.New("interrupted; the trace is complete up to the interruption")
	}
	if err != nil {
		return err
	}
	status := res.CheckStatus
	what := "check"
	if *check == "" && len(sys.Argv) > 0 {
		status, what = res.WorkloadStatus, "command"
	}
	switch {
	case *check == "" && len(sys.Argv) == 0:
		return nil
	case status == 0:
		fmt.Fprintf(stderr, "%s: %s passed\n", tool, what)
		return nil
	default:
		fmt.Fprintf(stderr, "%s: %s failed (status %d)\n", tool, what, status)
		return exitError(1)
	}
}

func printTrace(path string, stdout, stderr io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := format.NewReader(f, path)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := format.WriteTextHeader(stdout, r.Meta()); err != nil {
		return err
	}
	var e format.Event
	for {
		err := r.Next(&e)
		if err == io.EOF {
			return nil
		}
		if errors.Is(err, format.ErrTruncated) {
			fmt.Fprintf(stderr, "%s: warning: %v\n", tool, err)
			return nil
		}
		if err != nil {
			return err
		}
		if err := format.WriteText(stdout, &e); err != nil {
			return err
		}
	}
}
