//go:build linux && amd64

package launch

import (
	"fmt"

	"github.com/boxofpain/pain/internal/ptrace"
)

// netnsSetup is the tracer's Setup with Options.Netns: the ptrace thread,
// which forks every process of the run, moves into a new network namespace
// with only its loopback up. The namespace has no name; the thread and the
// run's processes hold it, and it goes with them, also when the tool is
// killed.
func netnsSetup(on bool) func() error {
	if !on {
		return nil
	}
	return func() error {
		if err := ptrace.NewNetns(); err != nil {
			return fmt.Errorf("-netns: %w", err)
		}
		return nil
	}
}
