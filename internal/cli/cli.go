// Package cli is what every pain command does around its run function:
// turn the error it returns into a "tool: message" line on stderr and an
// exit status (0 ok, 1 the system's check failed, 2 usage or tool error,
// 3 a plan that never fired).
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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
		return 2
	}
	fmt.Fprintf(stderr, "%s: %v\n", tool, err)
	return 2
}

// Main runs run with the process's arguments and exits with its status.
func Main(tool string, run func(args []string, stdout, stderr io.Writer) error) {
	os.Exit(Status(tool, run(os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
}
