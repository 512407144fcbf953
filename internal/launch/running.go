package launch

import "fmt"

// Running is a system while Run runs it: what a fault injector needs to act
// on it later than at a system call.
type Running struct{ r *runner }

// Restart starts Procfile node name again from its command line, as a new
// process of the same node (a crash fault with restart). It is safe to call
// from any goroutine while Run runs, and fails once the run is stopping.
func (s *Running) Restart(name string) error {
	for _, n := range s.r.s.Nodes {
		if n.Name == name {
			_, err := s.r.start(n.Name, shell(n.Command), false)
			return err
		}
	}
	return fmt.Errorf("restart %s: not a Procfile node", name)
}
