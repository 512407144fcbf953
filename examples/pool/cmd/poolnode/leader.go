package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// leader replicates every write to its followers over pools of
// connections.
type leader struct {
	followers []*peer
	timeout   time.Duration
	fixed     bool
	broken    atomic.Bool // fixed: a follower failed, every write is refused
	log       *log.Logger
}

// peer is one follower: a pool of connections, dialled at start.
type peer struct {
	addr   string
	pool   chan *link
	failed atomic.Bool // the bug: forgotten for good after one failure
}

type link struct {
	c net.Conn
	r *bufio.Reader
}

func newLeader(addrs []string, size int, timeout time.Duration, fixed bool, logger *log.Logger) *leader {
	ld := &leader{timeout: timeout, fixed: fixed, log: logger}
	for _, a := range addrs {
		p := &peer{addr: a, pool: make(chan *link, size)}
		ld.followers = append(ld.followers, p)
		for range size {
			go p.dial() // concurrently: the pool's order differs from run to run
		}
	}
	return ld
}

// dial opens one member of the pool, waiting for the follower to listen.
func (p *peer) dial() {
	for {
		c, err := net.Dial("tcp", p.addr)
		if err == nil {
			p.pool <- &link{c: c, r: bufio.NewReader(c)}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ask sends one request on a member of the pool and reads the reply: the
// first member free within the timeout, or with now the one free now (none
// is no failure: a ping is skipped while every member is busy).
func (ld *leader) ask(p *peer, req, want string, now bool) error {
	wait := ld.timeout
	if now {
		wait = 0
	}
	l, err := p.take(wait)
	if l == nil {
		return err
	}
	return ld.exchange(p, l, req, want)
}

// take returns a free member of the pool, waiting up to wait for one.
func (p *peer) take(wait time.Duration) (*link, error) {
	select {
	case l := <-p.pool:
		return l, nil
	default:
	}
	if wait == 0 {
		return nil, nil
	}
	select {
	case l := <-p.pool:
		return l, nil
	case <-time.After(wait):
		return nil, fmt.Errorf("no free connection")
	}
}

// exchange sends req on l and reads the reply; l goes back to the pool
// unless it failed.
func (ld *leader) exchange(p *peer, l *link, req, want string) error {
	l.c.SetDeadline(time.Now().Add(ld.timeout))
	if _, err := io.WriteString(l.c, req); err != nil {
		l.c.Close()
		return err
	}
	got, err := l.r.ReadString('\n')
	if err != nil {
		l.c.Close()
		return err
	}
	p.pool <- l
	if strings.TrimSpace(got) != want {
		return fmt.Errorf("answered %q", strings.TrimSpace(got))
	}
	return nil
}

// fail notes that a follower failed. The bug: it is forgotten, and later
// writes are acknowledged without it.
func (ld *leader) fail(p *peer, what string, err error) {
	if !p.failed.Swap(true) {
		ld.log.Printf("follower %s failed (%s: %v): going on without it", p.addr, what, err)
	}
	if ld.fixed {
		ld.broken.Store(true)
	}
}

// handle answers a client's PUT once every follower not forgotten has it.
func (ld *leader) handle(line string, w io.Writer) error {
	cmd := strings.Fields(line)
	if len(cmd) != 3 || cmd[0] != "PUT" {
		_, err := io.WriteString(w, "ERR bad request\n")
		return err
	}
	var wg sync.WaitGroup
	for _, p := range ld.followers {
		if p.failed.Load() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ld.ask(p, line+"\n", "OK", false); err != nil {
				ld.fail(p, "write", err)
			}
		}()
	}
	wg.Wait()
	reply := "OK\n"
	if ld.broken.Load() {
		reply = "ERR a follower failed\n"
	}
	_, err := io.WriteString(w, reply)
	return err
}

// heartbeat pings every follower on a free member of its pool.
func (ld *leader) heartbeat(every time.Duration) {
	for range time.Tick(every) {
		for _, p := range ld.followers {
			if p.failed.Load() {
				continue
			}
			go func() {
				if err := ld.ask(p, "PING\n", "PONG", true); err != nil {
					ld.fail(p, "ping", err)
				}
			}()
		}
	}
}
