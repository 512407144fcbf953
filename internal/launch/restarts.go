//go:build linux && amd64

package launch

import (
	"fmt"
	"sync"
	"time"

	"github.com/boxofpain/pain/internal/tracer"
)

// restarts starts crashed nodes again for the tracer (tracer.Config.Restart),
// when a Hook's crash fault asks for it.
type restarts struct {
	r  *runner
	mu sync.Mutex
	n  map[string]int
}

// relisten waits, within the run's timeout, until a restarted node that
// listened before listens again (or its process ends).
func (s *restarts) relisten(name string, p *tracer.Proc) {
	for deadline := time.Now().Add(s.r.s.Timeout); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		s.r.mu.Lock()
		ok := s.r.listened[name]
		s.r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-p.Done():
			return
		default:
		}
	}
}

// restart starts Procfile node name again from its command line, as a new
// process of the same node. It first waits until every process of the
// earlier incarnation is gone (the tracer has killed them), so the new one
// names its listeners and sockets as a first start does, however quickly it
// comes. The k-th restart's root thread is named "main@k", so its rows never
// share (node, thread, seq) with an earlier incarnation's. The tracer calls
// it off its ptrace thread; it fails once the run is stopping, or when the
// earlier incarnation is still running after the run's timeout.
func (s *restarts) restart(name string) error {
	for _, n := range s.r.s.Nodes {
		if n.Name == name {
			for deadline := time.Now().Add(s.r.s.Timeout); s.r.tr.NodeLive(name) > 0; time.Sleep(2 * time.Millisecond) {
				if time.Now().After(deadline) {
					return fmt.Errorf("restart %s: still running %v after it was to be killed", name, s.r.s.Timeout)
				}
			}
			s.mu.Lock()
			if s.n == nil {
				s.n = map[string]int{}
			}
			s.n[name]++
			k := s.n[name]
			s.mu.Unlock()
			s.r.mu.Lock()
			listened := s.r.listened[name]
			s.r.listened[name] = false
			s.r.mu.Unlock()
			p, err := s.r.startThread(n.Name, shell(n.Command), false, fmt.Sprintf("main@%d", k))
			if err != nil {
				return err
			}
			s.r.incarnation(name, p)
			if listened {
				s.relisten(name, p)
			}
			return nil
		}
	}
	return fmt.Errorf("restart %s: not a Procfile node", name)
}
