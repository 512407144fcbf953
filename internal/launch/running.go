//go:build linux && amd64

package launch

import (
	"fmt"
	"sync"
	"time"
)

// Running is a system while Run runs it: what a fault injector needs to act
// on it later than at a system call.
type Running struct {
	r        *runner
	mu       sync.Mutex
	restarts map[string]int
}

// Restart starts Procfile node name again from its command line, as a new
// process of the same node (a crash fault with restart). It first waits
// until every process of the earlier incarnation is gone (the caller has
// killed them), so the new one names its listeners and sockets as a first
// start does, however quickly it comes. The k-th restart's root thread is
// named "main@k", so its rows never share (node, thread, seq) with an
// earlier incarnation's. It is safe to call from any goroutine while Run
// runs (not from a Hook method: it waits for the ptrace thread), and fails
// once the run is stopping, or when the earlier incarnation is still
// running after the run's timeout.
func (s *Running) Restart(name string) error {
	for _, n := range s.r.s.Nodes {
		if n.Name == name {
			for deadline := time.Now().Add(s.r.s.Timeout); s.r.tr.NodeLive(name) > 0; time.Sleep(2 * time.Millisecond) {
				if time.Now().After(deadline) {
					return fmt.Errorf("restart %s: still running %v after it was to be killed", name, s.r.s.Timeout)
				}
			}
			s.mu.Lock()
			if s.restarts == nil {
				s.restarts = map[string]int{}
			}
			s.restarts[name]++
			k := s.restarts[name]
			s.mu.Unlock()
			_, err := s.r.startThread(n.Name, shell(n.Command), false, fmt.Sprintf("main@%d", k))
			return err
		}
	}
	return fmt.Errorf("restart %s: not a Procfile node", name)
}
