// Package cli is what every pain command does around its run function:
// turn the error it returns into a "tool: message" line on stderr and an
// exit status (0 ok, 1 the system's check failed, 2 usage or tool error,
// 3 a plan that never fired).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
)

// ExitStatus is an error that is only an exit status: the tool has already
// said what there was to say.
type ExitStatus int

func (e ExitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// Status returns the exit status for run's error, printing it first as
// "tool: message" unless it is an ExitStatus or a request for help (the
// flag package has printed the usage then).
func Status(tool string, err error, stderr io.Writer) int {
	var ex ExitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ex):
		return int(ex)
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	fmt.Fprintf(stderr, "%s: %v\n", tool, err)
	return 2
}

// Parse parses args with fs the way every pain command does. -h or -help
// prints the usage to stdout and returns ExitStatus(0), so that
// `pain-trace -h | less` shows it; a bad flag is reported once, by the flag
// package followed by the usage on fs's output (stderr), and returns
// ExitStatus(2). fs.Usage must write to fs.Output().
func Parse(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	usage, stderr := fs.Usage, fs.Output()
	if usage == nil {
		usage = fs.PrintDefaults
	}
	fs.Usage = func() {} // printed below, where it belongs
	err := fs.Parse(args)
	fs.Usage = usage
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		fs.SetOutput(stderr)
		return ExitStatus(0)
	case err != nil:
		fs.Usage()
		return ExitStatus(2)
	}
	return nil
}

// Usage reports a command line the tool cannot run: "tool: msg" and fs's
// usage on fs's output (stderr), and ExitStatus(2).
func Usage(fs *flag.FlagSet, tool, msg string) error {
	fmt.Fprintf(fs.Output(), "%s: %s\n", tool, msg)
	fs.Usage()
	return ExitStatus(2)
}

// List is a repeatable flag (-results FILE, given once per file): each use
// appends its value.
type List []string

func (l *List) String() string     { return strings.Join(*l, ",") }
func (l *List) Set(s string) error { *l = append(*l, s); return nil }

// ShellQuote quotes s for sh when it needs it: the command lines the tools
// print or store (a trace's system flags, a round page's rerun command)
// paste into a shell as they are.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Open opens a file the tool reads; "-" is stdin. name is what errors call
// it ("stdin" for "-").
func Open(path string, stdin io.Reader) (r io.ReadCloser, name string, err error) {
	if path == "-" {
		return io.NopCloser(stdin), "stdin", nil
	}
	f, err := os.Open(path)
	return f, path, err
}

// Main runs run with the process's arguments, stdin, stdout and stderr,
// and exits with its status.
func Main(tool string, run func(args []string, stdin io.Reader, stdout, stderr io.Writer) error) {
	os.Exit(Status(tool, run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr), os.Stderr))
}

// Interrupts turns SIGINT and SIGTERM into a context cancelled by the first
// of them and a channel closed by the second (the user insists: stop at
// once). After the second, the signals have their default effect again, so
// a third ends the tool itself. stop releases the signals.
func Interrupts() (ctx context.Context, again <-chan struct{}, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	twice := make(chan struct{})
	done := make(chan struct{})
	go func() {
		for n := 0; n < 2; n++ {
			select {
			case <-sigs:
			case <-done:
				return
			}
			if n == 0 {
				cancel()
			} else {
				signal.Reset(syscall.SIGINT, syscall.SIGTERM)
				close(twice)
			}
		}
	}()
	var once sync.Once
	return ctx, twice, func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
			cancel()
		})
	}
}

// NotInput refuses out as an output file when it is one of inputs, by any
// name (a symbolic or hard link included): writing it would destroy the
// input. Empty names and "-" (stdin) are not files.
func NotInput(out string, inputs ...string) error {
	ost, err := os.Stat(out)
	if err != nil {
		return nil // not there yet, so no input
	}
	for _, in := range inputs {
		if in == "" || in == "-" {
			continue
		}
		if ist, err := os.Stat(in); err == nil && os.SameFile(ost, ist) {
			if in == out {
				return fmt.Errorf("%s: is an input too; refusing to write over it", out)
			}
			return fmt.Errorf("%s: is input %s too; refusing to write over it", out, in)
		}
	}
	return nil
}
