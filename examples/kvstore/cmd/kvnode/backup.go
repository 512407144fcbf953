package main

import (
	"errors"
	"fmt"
	"log"
	"slices"
	"strings"
	"time"

	"github.com/boxofpain/pain/examples/kvstore/internal/wire"
)

// replyTimeout bounds a backup's write of a reply to a peer that stopped reading.
const replyTimeout = 2 * time.Second

// store is a backup's copy of the data, in memory and, with -data, in a
// write-ahead log.
type store struct {
	keys   []string // in order of first write, so DUMP replies are the same in every run
	values map[string]string
	joined bool // a primary said HELLO (a restarted backup without a log starts unjoined)
	wal    *wal // nil without -data
}

// serveBackup is a single-threaded event loop: the primary's connection stays open while
// the checker connects, so it waits on all sockets at once with select(). A socket is read
// only when select says it is readable, so no read blocks.
func serveBackup(l *wire.Listener, s *store, logger *log.Logger) error {
	var conns []*wire.Conn // in accept order
	for {
		var set wire.FdSet
		set.Add(l.Fd())
		for _, c := range conns {
			set.Add(c.Fd())
		}
		if err := wire.Select(&set); err != nil {
			return err
		}
		conns = slices.DeleteFunc(conns, func(c *wire.Conn) bool {
			if !set.Has(c.Fd()) {
				return false
			}
			if err := s.serve(c); err != nil {
				if !errors.Is(err, wire.ErrClosed) {
					logger.Printf("connection: %v", err)
				}
				c.Close()
				return true
			}
			return false
		})
		if set.Has(l.Fd()) {
			c, err := l.Accept(replyTimeout)
			if err != nil {
				return err
			}
			conns = append(conns, c)
		}
	}
}

// serve reads what arrived on c and answers every complete request in it.
func (s *store) serve(c *wire.Conn) error {
	if err := c.Fill(); err != nil {
		return err
	}
	for {
		line, ok := c.Line()
		if !ok {
			return nil
		}
		reply, err := s.handle(line)
		if err != nil {
			return err
		}
		if err := c.Write(reply); err != nil {
			return err
		}
		if s.wal != nil {
			// -sync after: what was just acknowledged becomes durable only now.
			if err := s.wal.sync(); err != nil {
				return err
			}
		}
	}
}

// handle answers a request. A change is logged (with -data) before it is
// applied, so a failed log write is never acknowledged.
func (s *store) handle(line string) (string, error) {
	f := strings.Fields(line)
	switch {
	case len(f) == 1 && f[0] == "PING":
		return "PONG\n", nil
	case s.apply(f):
		if s.wal != nil {
			if err := s.wal.append(line); err != nil {
				return "", fmt.Errorf("wal: %w", err)
			}
		}
		return "OK\n", nil
	case len(f) == 1 && f[0] == "DUMP":
		var b strings.Builder
		if s.joined {
			b.WriteString("JOINED yes\n")
		} else {
			b.WriteString("JOINED no\n")
		}
		for _, k := range s.keys {
			b.WriteString(k + " " + s.values[k] + "\n")
		}
		b.WriteString("END\n")
		return b.String(), nil
	}
	return "ERR unknown request\n", nil
}

// apply makes a change (HELLO, PUT k v) to the store; false for any other
// request.
func (s *store) apply(f []string) bool {
	switch {
	case len(f) == 1 && f[0] == "HELLO":
		s.joined = true
	case len(f) == 3 && f[0] == "PUT":
		if _, ok := s.values[f[1]]; !ok {
			s.keys = append(s.keys, f[1])
		}
		s.values[f[1]] = f[2]
	default:
		return false
	}
	return true
}
