// Package synth generates traces of a made-up system for benchmarks and
// tests of the tracker at scale: clients that send requests to one server
// over TCP, with the splitting of writes and reads, EAGAIN retries, helper
// threads and raw pids, fds, ports and times that differ in every run,
// and a race between the clients that gives a few schedules, ranked, and
// now and then a rare one.
package synth

import (
	"fmt"
	"math/rand/v2"

	"github.com/boxofpain/pain/format"
)

// Clients is the number of client threads of the workload.
const Clients = 4

// Run returns the rows of run number i with about n rows, in time order.
// The same (seed, i, n) give the same rows.
func Run(seed uint64, i, n int) []format.Event {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	g := &gen{r: r, pid: int32(1000 + r.IntN(30000)), evs: make([]format.Event, 0, n+64)}
	g.system(n)
	return g.evs
}

type gen struct {
	r       *rand.Rand
	pid     int32
	srv, wl int32 // the server's and the workload's pids
	helpers int   // the server's helper threads so far
	t       int64
	seq     map[string]int64
	evs     []format.Event
}

func (g *gen) add(node, thread string, pid, tid int32, e format.Event) {
	if g.seq == nil {
		g.seq = map[string]int64{}
	}
	k := node + "/" + thread
	g.t += 200 + g.r.Int64N(3000)
	e.TimeNS, e.Node, e.Thread, e.PID, e.TID, e.Seq = g.t, node, thread, pid, tid, g.seq[k]
	if e.FD == 0 {
		e.FD = -1
	}
	if e.Syscall != "read" && e.Syscall != "write" {
		e.Offset = -1
	}
	g.seq[k]++
	g.evs = append(g.evs, e)
}

// order returns the order in which the server serves the clients in each
// round: the same for the whole run, so that a run has one of a few schedules.
func (g *gen) order() []int {
	o := []int{0, 1, 2, 3}
	switch x := g.r.IntN(100); {
	case x < 60:
	case x < 85:
		o[0], o[1] = o[1], o[0]
	case x < 95:
		o[2], o[3] = o[3], o[2]
	default: // rare: any order
		g.r.Shuffle(len(o), func(i, j int) { o[i], o[j] = o[j], o[i] })
	}
	return o
}

// client is one of the workload's connections to the server.
type client struct {
	thread, conn, local, srvLocal string
	tid                           int32
	fd                            int32
	off, back                     int64
}

func (g *gen) system(n int) {
	g.srv, g.wl = g.pid, g.pid+50
	srv, wl := g.srv, g.wl
	g.add("srv", "main", srv, srv, format.Event{Syscall: format.EventStart, Arg: "/bin/srv"})
	g.add("srv", "main", srv, srv, format.Event{Syscall: "socket", FD: 3, FDKind: format.KindTCP, Local: "srv:listen0", Ret: 3})
	g.add("srv", "main", srv, srv, format.Event{Syscall: "listen", FD: 3, FDKind: format.KindTCP, Local: "srv:listen0", LocalAddr: "127.0.0.1:7000"})
	g.helper()
	g.add("workload", "main", wl, wl, format.Event{Syscall: format.EventStart, Arg: "/bin/client"})
	cs := make([]*client, Clients)
	for k := range cs {
		cs[k] = g.connect(k)
	}
	order := g.order()
	rounds := max(1, (n-len(g.evs)-2*Clients-1)*10/(Clients*51)) // a request makes 5.1 rows on average
	for round := 0; round < rounds; round++ {
		for _, k := range order {
			g.request(cs[k], k, int64(16+8*((round+k)%4)))
		}
	}
	for _, c := range cs {
		g.add("workload", c.thread, wl, c.tid, format.Event{Syscall: "close", FD: c.fd, FDKind: format.KindTCP, Local: c.local, Peer: "srv:listen0", Conn: c.conn})
		g.add("workload", c.thread, wl, c.tid, format.Event{Syscall: format.EventExited})
	}
	g.add("workload", "main", wl, wl, format.Event{Syscall: format.EventExited})
}

// helper starts a runtime helper thread of the server, which never
// communicates, at a random moment.
func (g *gen) helper() {
	g.helpers++
	th := fmt.Sprintf("main.%d", g.helpers)
	tid := g.srv + int32(g.helpers)
	g.add("srv", "main", g.srv, g.srv, format.Event{Syscall: "clone", Peer: "srv/" + th, Ret: int64(tid)})
	g.add("srv", th, g.srv, tid, format.Event{Syscall: format.EventStart, Peer: "srv/main"})
}

// connect starts the workload's k-th client thread and its connection.
func (g *gen) connect(k int) *client {
	srv, wl := g.srv, g.wl
	c := &client{thread: fmt.Sprintf("main.%d", k+1), tid: wl + 1 + int32(k), fd: int32(3 + k)}
	c.local = "workload:" + c.thread + ":s0"
	c.conn = c.local + ">srv:listen0"
	c.srvLocal = fmt.Sprintf("srv:main:s%d", k+1)
	port := 32768 + g.r.IntN(28000)
	g.add("workload", "main", wl, wl, format.Event{Syscall: "clone", Peer: "workload/" + c.thread, Ret: int64(c.tid)})
	g.add("workload", c.thread, wl, c.tid, format.Event{Syscall: format.EventStart, Peer: "workload/main"})
	g.add("workload", c.thread, wl, c.tid, format.Event{Syscall: "socket", FD: c.fd, FDKind: format.KindTCP, Local: c.local, Ret: int64(c.fd)})
	g.add("workload", c.thread, wl, c.tid, format.Event{Syscall: "connect", FD: c.fd, FDKind: format.KindTCP, Local: c.local, Peer: "srv:listen0",
		LocalAddr: fmt.Sprintf("127.0.0.1:%d", port), PeerAddr: "127.0.0.1:7000", Conn: c.conn})
	g.add("srv", "main", srv, srv, format.Event{Syscall: "accept4", FD: 3, FDKind: format.KindTCP, Local: c.srvLocal, Peer: c.local,
		PeerAddr: fmt.Sprintf("127.0.0.1:%d", port), Conn: c.conn, Ret: int64(10 + k)})
	return c
}

// request is one round trip of client c (the k-th): a request of size
// bytes, written in one or two calls and read in one to three with EAGAINs,
// and an 8-byte answer.
func (g *gen) request(c *client, k int, size int64) {
	srv, wl := g.srv, g.wl
	for done := int64(0); done < size; {
		m := size - done
		if g.r.IntN(4) == 0 && m > 1 {
			m = 1 + g.r.Int64N(m-1)
		}
		g.add("workload", c.thread, wl, c.tid, format.Event{Syscall: "write", FD: c.fd, FDKind: format.KindTCP, Local: c.local, Peer: "srv:listen0",
			Conn: c.conn, Offset: c.off + done, Ret: m, PayloadHash: g.r.Uint64()})
		done += m
	}
	for done := int64(0); done < size; {
		if g.r.IntN(5) == 0 {
			g.add("srv", "main", srv, srv, format.Event{Syscall: "read", FD: int32(10 + k), FDKind: format.KindTCP, Local: c.srvLocal, Peer: c.local,
				Conn: c.conn, Offset: c.off + done, Ret: -1, Errno: "EAGAIN"})
		}
		m := size - done
		if g.r.IntN(3) == 0 && m > 1 {
			m = 1 + g.r.Int64N(m-1)
		}
		g.add("srv", "main", srv, srv, format.Event{Syscall: "read", FD: int32(10 + k), FDKind: format.KindTCP, Local: c.srvLocal, Peer: c.local,
			Conn: c.conn, Offset: c.off + done, Ret: m, PayloadHash: g.r.Uint64()})
		done += m
	}
	c.off += size
	if g.r.IntN(200) == 0 {
		g.helper()
	}
	g.add("srv", "main", srv, srv, format.Event{Syscall: "write", FD: int32(10 + k), FDKind: format.KindTCP, Local: c.srvLocal, Peer: c.local,
		Conn: c.conn, Offset: c.back, Ret: 8, PayloadHash: g.r.Uint64()})
	g.add("workload", c.thread, wl, c.tid, format.Event{Syscall: "read", FD: c.fd, FDKind: format.KindTCP, Local: c.local, Peer: "srv:listen0",
		Conn: c.conn, Offset: c.back, Ret: 8, PayloadHash: g.r.Uint64()})
	c.back += 8
}
