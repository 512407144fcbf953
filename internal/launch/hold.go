//go:build linux && amd64

package launch

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/boxofpain/pain/internal/tracer"
)

// hold runs System.Hold, when set, and waits until it exits: the nodes of
// this host serve the rest of a run whose workload and check run on
// another host, traced there by a pain-trace of their own under the same
// run name. The command is not traced, so this host's part of the trace
// holds only its nodes' rows. Timeout bounds it like any phase.
func (r *runner) hold(ctx context.Context) error {
	if r.s.Hold == "" {
		return nil
	}
	r.say("holding the nodes until the hold command exits")
	p, err := r.tr.Start(tracer.Spec{Node: "hold", Argv: shell(r.s.Hold), Dir: r.s.Dir, Env: r.env(), Untraced: true})
	if err != nil {
		return fmt.Errorf("hold command: %w", err)
	}
	t := time.NewTimer(r.s.Timeout)
	defer t.Stop()
	select {
	case <-p.Done():
		if c := p.ExitCode(); c != 0 {
			r.say("hold command exited with status %d", c)
		}
		return nil
	case <-t.C:
		r.say("hold command did not finish within %v; killing it", r.s.Timeout)
		r.res.TimedOut = append(r.res.TimedOut, "hold")
	case <-ctx.Done():
	}
	// An untraced process has a process group of its own.
	syscall.Kill(-p.Pid, syscall.SIGKILL)
	<-p.Done()
	if ctx.Err() != nil {
		return ErrInterrupted
	}
	return nil
}
