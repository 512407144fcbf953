//go:build linux && amd64

package launch

import (
	"os"
	"sync"
	"time"

	"github.com/boxofpain/pain/format"
)

// checkOutput keeps the end of what the check writes on its stdout and
// stderr (a result's check_output), passing every byte on to the run's
// output as before.
type checkOutput struct {
	mu   sync.Mutex
	tail []byte
	done chan struct{}
}

// start returns the write end of a pipe for the check's stdout and stderr;
// what comes out of it goes to out and into the tail.
func (c *checkOutput) start(out *os.File) (*os.File, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		defer pr.Close()
		buf := make([]byte, 32<<10)
		for {
			n, err := pr.Read(buf)
			if n > 0 {
				out.Write(buf[:n])
				c.mu.Lock()
				c.tail = append(c.tail, buf[:n]...)
				if len(c.tail) > 2*format.CheckOutputMax {
					c.tail = append(c.tail[:0], c.tail[len(c.tail)-format.CheckOutputMax:]...)
				}
				c.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	return pw, nil
}

// text returns the last format.CheckOutputMax bytes the check wrote. The
// run is over, so every writer is gone and the pipe ends; wait bounds the
// wait for that all the same (a process that escaped the run).
func (c *checkOutput) text(wait time.Duration) string {
	if c.done == nil {
		return ""
	}
	select {
	case <-c.done:
	case <-time.After(wait):
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tail
	if len(t) > format.CheckOutputMax {
		t = t[len(t)-format.CheckOutputMax:]
	}
	return string(t)
}
