//go:build linux && amd64

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/cli"
	"github.com/boxofpain/pain/internal/export"
	"github.com/boxofpain/pain/internal/launch"
	"github.com/boxofpain/pain/internal/ptrace"
)

const tool = "pain-trace"

const version = "0.1" // the tool version stored in traces

func main() {
	ptrace.Shim() // in a launcher shim started by the tracer, runs it and never returns
	cli.Main(tool, run)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(tool, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf launch.Flags
	sf.Register(fs, "output file name", "no stops; see the README for what it cannot fill")
	var (
		out      = fs.String("o", "", "trace output `file`")
		read     = fs.String("r", "", "print trace `file` as text (- for stdin), or export it with -as")
		rf       export.Flags
		compress = fs.String("compress", "zstd", "trace batch compression: zstd, or none for readers without zstd")
	)
	rf.Register(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s -o run.arrows -f Procfile [-w CMD] [-check CMD] [-ready CMD] [-timeout D] [-grace D]\n", tool)
		fmt.Fprintf(fs.Output(), "       %s -o run.arrows -- CMD ARGS...\n       %s -r run.arrows\n", tool, tool)
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, stdout); err != nil {
		return err
	}
	usage := func(msg string) error { return cli.Usage(fs, tool, msg) }
	switch {
	case *read != "" && (sf.Procfile != "" || fs.NArg() > 0):
		return usage("-r takes no Procfile or command")
	case *read != "":
		return rf.Read(tool, *read, *out, stdin, stdout, stderr)
	case *out == "":
		return usage("-o is required")
	}
	sys, err := sf.System(fs.Args())
	if uerr := launch.UsageError(""); errors.As(err, &uerr) {
		return usage(uerr.Error())
	} else if err != nil {
		return err
	}
	if sf.Run == "" {
		sf.Run = filepath.Base(*out)
	}
	if err := cli.NotInput(*out, sf.Procfile); err != nil {
		return err
	}
	o := sf.Options(fs.Args())
	if o.Compression, err = format.ParseCompression(*compress); err != nil {
		return usage(err.Error())
	}
	return trace(sys, o, *out, sf.Backend == launch.BackendEBPF, stderr)
}
