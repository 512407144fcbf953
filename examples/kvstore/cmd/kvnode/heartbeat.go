package main

import (
	"log"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/boxofpain/pain/examples/kvstore/internal/wire"
)

// heartbeat pings every backup on a connection of its own, every interval
// give or take half of it, from a thread of its own, for as long as the
// node lives: the timer traffic of a real replicated store (leases,
// failure detectors), whose count differs from run to run. It never
// touches the data and a backup that fails to answer is dialled again at
// the next beat.
func heartbeat(addrs []string, interval time.Duration, logger *log.Logger) {
	runtime.LockOSThread()
	conns := make([]*wire.Conn, len(addrs))
	for {
		for i, a := range addrs {
			if conns[i] == nil {
				c, err := wire.Dial(a, interval)
				if err != nil {
					continue // not up yet, or gone: try at the next beat
				}
				conns[i] = c
			}
			if reply, err := conns[i].Call("PING"); err != nil || reply != "PONG" {
				logger.Printf("heartbeat %s: no answer (%v)", a, err)
				conns[i].Close()
				conns[i] = nil
			}
		}
		time.Sleep(interval/2 + rand.N(interval))
	}
}
