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
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/launch"
)

const tool = "pain-trace"

// version is the tool version stored in traces.
const version = "0.1"

func main() { cli.Main(tool, run) }

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(tool, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf launch.Flags
	sf.Register(fs, "output file name")
	var (
		out  = fs.String("o", "", "trace output `file`")
		read = fs.String("r", "", "print trace `file` as text")
	)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s -o run.arrows -f Procfile [-w CMD] [-check CMD] [-ready CMD] [-timeout D] [-grace D]\n", tool)
		fmt.Fprintf(stderr, "       %s -o run.arrows -- CMD ARGS...\n       %s -r run.arrows\n", tool, tool)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cli.ExitStatus(2)
	}
	usage := func(msg string) error {
		fmt.Fprintf(stderr, "%s: %s\n", tool, msg)
		fs.Usage()
		return cli.ExitStatus(2)
	}
	if *read != "" {
		if *out != "" || sf.Procfile != "" || fs.NArg() > 0 {
			return usage("-r takes no other flags or arguments")
		}
		return printTrace(*read, stdout, stderr)
	}
	if *out == "" {
		return usage("-o is required")
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
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	start := time.Now()
	o := sf.Options()
	o.Out, o.Progress, o.Prefix, o.Tool = f, stderr, tool+": ", tool+" "+version
	res, err := launch.Run(ctx, sys, o)
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
	if sys.Check == "" && len(sys.Argv) > 0 {
		status, what = res.WorkloadStatus, "command"
	}
	switch {
	case sys.Check == "" && len(sys.Argv) == 0:
		return nil
	case status == 0:
		fmt.Fprintf(stderr, "%s: %s passed\n", tool, what)
		return nil
	default:
		fmt.Fprintf(stderr, "%s: %s failed (status %d)\n", tool, what, status)
		return cli.ExitStatus(1)
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
