package main

import (
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/boxofpain/pain/examples/kvstore/internal/wire"
)

// clientIdle is how long the primary waits for a client's next request before hanging up.
const clientIdle = 30 * time.Second

type primary struct {
	backups []*replica
	fixed   bool
	timeout time.Duration
	log     *log.Logger
	joined  bool  // the backups were dialled (at the first write)
	broken  error // -fixed: the first replication failure; every later write is refused
}

// replica is the primary's link to one backup; conn is nil once the backup was given up.
type replica struct {
	addr string
	conn *wire.Conn
}

// serve answers clients one at a time: writes are sequential, so every run with the same
// workload sends the same messages in the same order.
func (p *primary) serve(l *wire.Listener) error {
	for {
		c, err := l.Accept(clientIdle)
		if err != nil {
			return err
		}
		p.serveClient(c)
		c.Close()
	}
}

func (p *primary) serveClient(c *wire.Conn) {
	for {
		line, err := c.ReadLine()
		if err != nil {
			if !errors.Is(err, wire.ErrClosed) {
				p.log.Printf("client: %v", err)
			}
			return
		}
		reply := "OK"
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "PUT" {
			reply = "ERR want PUT key value"
		} else if err := p.put(f[1], f[2]); err != nil {
			p.log.Printf("%s: not acknowledged: %v", f[1], err)
			reply = "ERR " + err.Error()
		} else {
			p.log.Printf("%s: acknowledged", f[1])
		}
		if err := c.Write(reply + "\n"); err != nil {
			p.log.Printf("client: %v", err)
			return
		}
	}
}

// put replicates one write to every backup, in order, waiting for each backup's OK.
func (p *primary) put(key, value string) error {
	if p.broken != nil {
		return p.broken
	}
	if !p.joined {
		p.joined = true
		for _, r := range p.backups {
			if err := r.join(p.timeout); err != nil {
				if err := p.lose(r, err); err != nil {
					return err
				}
			}
		}
	}
	for _, r := range p.backups {
		if r.conn == nil {
			continue // given up earlier (only without -fixed)
		}
		if err := r.call("PUT " + key + " " + value); err != nil {
			if err := p.lose(r, err); err != nil {
				return err
			}
		}
	}
	return nil
}

// lose handles a backup that failed to take a message; a non-nil result fails the write.
func (p *primary) lose(r *replica, err error) error {
	if r.conn != nil {
		r.conn.Close()
		r.conn = nil
	}
	if p.fixed {
		// The backup may now lack this write, or an earlier one it never confirmed, and it is
		// still a candidate for promotion. Acknowledging anything from here on could be a lie,
		// so the primary refuses writes until an operator resyncs the backup (a real store
		// would copy its whole state over and take it back).
		p.broken = fmt.Errorf("backup %s failed (%v), writes refused", r.addr, err)
		return p.broken
	}
	// THE BUG. The primary treats the failed backup as gone and carries on with the others,
	// acknowledging writes that this backup does not have. That is the "degrade to the
	// replicas that still answer" logic of many real stores (MySQL semi-sync replication
	// falling back to asynchronous after a timeout, Redis' asynchronous replicas, primaries
	// that shrink their in-sync replica set): fine while the primary lives, but a backup that
	// merely lost its link is still alive and still gets promoted by failover, and then every
	// write acknowledged without it is gone.
	p.log.Printf("backup %s failed (%v), continuing without it", r.addr, err)
	return nil
}

// join connects to the backup and makes it follow this primary.
func (r *replica) join(timeout time.Duration) error {
	c, err := wire.Dial(r.addr, timeout)
	if err != nil {
		return err
	}
	r.conn = c
	return r.call("HELLO")
}

// call sends one request and wants OK back within the connection's timeout.
func (r *replica) call(request string) error {
	reply, err := r.conn.Call(request)
	if err != nil {
		return err
	}
	if reply != "OK" {
		return fmt.Errorf("backup replied %q", reply)
	}
	return nil
}
