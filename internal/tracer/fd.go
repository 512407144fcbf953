//go:build linux && amd64

package tracer

import (
	"slices"
	"strconv"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/ptrace"
)

// endpoint is one open file description the tracer follows: a socket, one
// end of a pipe, or a file under a root (Config.Files). Descriptors made by dup, fork or fd passing within a
// process share it, so stream offsets count the bytes of the description,
// whoever moves them.
type endpoint struct {
	kind      string // format.Kind*
	family    int
	stype     int
	name      string // stable local name
	peer      string // stable peer name, or the raw address of an untraced peer
	conn      string
	localAddr string
	peerAddr  string
	off       [2]int64 // bytes sent, received so far (streams)
	refs      int      // descriptors pointing at it
	listening bool
	resolved  bool   // localAddr known (or needs no resolution)
	key       string // key in Tracer.byAddr, if registered
	// Connectors whose connect was seen before this bound stream socket's
	// listen returned (see earlyListener); their names of it change when
	// it is named a listener.
	early []*endpoint
	// The s<k> ordinal of a socket made by socket() that has not yet
	// connected, listened or carried a byte; nil once it has (or for a
	// socket made otherwise). See unconnected.
	ord *sockOrd

	// For files: the path it was opened at and the open's flags.
	path   string
	oflags uint64

	// A process and descriptor through which the tracer can copy this
	// socket (pidfd_getfd) to ask the kernel about it.
	owner   *process
	ownerFD int32

	// For unix stream listeners: connected sockets waiting to be accepted,
	// and the listener's inode, to ask the kernel their order.
	backlog  []queued
	ino      uint64
	nextRank int64
	// Datagrams sent to this endpoint by traced senders and not yet matched
	// to a receive: a bounded FIFO. It names the sender of a receive that
	// has no source address (recvfrom without one, unnamed unix senders),
	// and of one whose address a newer socket took over (fromAddr).
	inbox []dgram

	// For streams whose both ends are traced: the other end, and the
	// bytes sent here it has not received yet (flight.go).
	link   *endpoint
	flight flight
}

// queued is a unix stream connector waiting on a listener. Its process and
// socket inode are taken at connect entry: the connector may close before
// the accept is seen, and threads of one process may run their connects in
// another order than the tracer saw them enter.
type queued struct {
	ep   *endpoint
	tgid int
	ino  uint64 // 0: unknown
	rank int64  // place in the kernel's queue (see orderBacklog); 0: unknown
}

type dgram struct {
	hash uint64
	size int64
	from string
	ep   *endpoint // the sender
}

const inboxMax = 64

func (ep *endpoint) deliver(d dgram) {
	if len(ep.inbox) >= inboxMax {
		ep.inbox = ep.inbox[1:]
	}
	ep.inbox = append(ep.inbox, d)
}

// fromAddr returns the sender of the oldest datagram in ep's inbox with
// this hash and size sent from src, removing it; "" if there is none. A
// sender's port is free again once it closes, and the kernel may bind the
// next unbound socket to it (one thread's sockets sent from one port in
// turn): its datagrams still queued at the receiver are the old socket's,
// which the address alone would give the new one.
func (t *Tracer) fromAddr(ep *endpoint, src string, hash uint64, size int64) string {
	keys := addrKeys(ep.kind, src)
	for i, d := range ep.inbox {
		if d.hash != hash || d.size != size || d.ep == nil {
			continue
		}
		t.resolve(d.ep)
		if d.ep.localAddr != "" && slices.Contains(keys, addrKey(ep.kind, d.ep.localAddr)) {
			ep.inbox = append(ep.inbox[:i:i], ep.inbox[i+1:]...)
			return d.from
		}
	}
	return ""
}

// sender returns the sender of the oldest datagram with this hash and size,
// removing it; "" if there is none.
func (ep *endpoint) sender(hash uint64, size int64) string {
	for i, d := range ep.inbox {
		if d.hash == hash && d.size == size {
			ep.inbox = append(ep.inbox[:i:i], ep.inbox[i+1:]...)
			return d.from
		}
	}
	return ""
}

const (
	dirSend = 0
	dirRecv = 1
)

func (ep *endpoint) stream() bool {
	return ep.kind == format.KindPipe || ep.kind == format.KindTCP ||
		(ep.kind == format.KindUnix && ep.stype != ptrace.SockDgram)
}

// recorded reports whether transfers on ep get rows.
func (ep *endpoint) recorded() bool { return ep.kind != format.KindOther }

type fdEntry struct {
	ep      *endpoint
	cloexec bool
}

// fdTable is a process's descriptor table, shared by CLONE_FILES threads.
// It only holds descriptors the tracer follows; any other descriptor (files,
// epoll, inherited stdio) is simply absent and never recorded.
type fdTable struct {
	fds   map[int32]fdEntry
	users int
}

func newFDTable() *fdTable { return &fdTable{fds: map[int32]fdEntry{}, users: 1} }

func (t *fdTable) get(fd int32) *endpoint {
	if e, ok := t.fds[fd]; ok {
		return e.ep
	}
	return nil
}

func (tr *Tracer) fdSet(p *process, t *fdTable, fd int32, ep *endpoint, cloexec bool) {
	tr.fdClose(t, fd)
	ep.refs++
	if ep.owner == nil {
		ep.owner, ep.ownerFD = p, fd
	}
	t.fds[fd] = fdEntry{ep: ep, cloexec: cloexec}
}

func (tr *Tracer) fdClose(t *fdTable, fd int32) {
	e, ok := t.fds[fd]
	if !ok {
		return
	}
	delete(t.fds, fd)
	ep := e.ep
	if ep.ownerFD == fd {
		ep.owner = nil
	}
	ep.refs--
	if ep.refs <= 0 {
		tr.forget(ep)
	}
}

// copy returns a fork child's table: the same descriptions, new references.
func (tr *Tracer) fdCopy(p *process, t *fdTable) *fdTable {
	n := newFDTable()
	for fd, e := range t.fds {
		e.ep.refs++
		if e.ep.owner == nil {
			e.ep.owner, e.ep.ownerFD = p, fd
		}
		n.fds[fd] = e
	}
	return n
}

func (tr *Tracer) fdRelease(t *fdTable) {
	t.users--
	if t.users > 0 {
		return
	}
	for fd := range t.fds {
		tr.fdClose(t, fd)
	}
}

// sockKind maps a socket's family and type to its fd_kind.
func sockKind(family, stype int) string {
	stype &= 0xf
	switch family {
	case ptrace.AFInet, ptrace.AFInet6:
		switch stype {
		case ptrace.SockStream:
			return format.KindTCP
		case ptrace.SockDgram:
			return format.KindUDP
		}
	case ptrace.AFUnix:
		return format.KindUnix
	}
	return format.KindOther
}

// addrKey is the registry key of an address: the same port is a different
// endpoint for TCP and UDP.
func addrKey(kind, addr string) string { return kind + "|" + addr }

// register makes ep findable by its local address.
func (tr *Tracer) register(ep *endpoint) {
	if ep.localAddr == "" || ep.key != "" {
		return
	}
	ep.key = addrKey(ep.kind, ep.localAddr)
	tr.byAddr[ep.key] = ep
}

// forget drops a closed endpoint from the registry, keeping its name for a
// while: an accept or recvfrom may still name it after the other end closed.
func (tr *Tracer) forget(ep *endpoint) {
	if ep.key == "" {
		return
	}
	if tr.byAddr[ep.key] == ep {
		delete(tr.byAddr, ep.key)
		tr.recent.put(ep.key, ep.name, ep.conn)
	}
	ep.key = ""
}

// peerName returns the stable name of the endpoint at addr (of the given
// kind), its conn if it has one, and whether it is traced; for an untraced
// address the name is the address itself.
func (tr *Tracer) peerName(kind, addr string) (name, conn string, ep *endpoint) {
	if addr == "" {
		return "", "", nil
	}
	if ep := tr.lookup(kind, addr); ep != nil {
		return ep.name, ep.conn, ep
	}
	tr.resolvePending()
	if ep := tr.lookup(kind, addr); ep != nil {
		return ep.name, ep.conn, ep
	}
	// Closed since: the wildcard forms too, as for open ones (an unbound
	// UDP sender that closed right after its first datagram was registered
	// as 0.0.0.0:port, and its receiver sees 127.0.0.1:port).
	for _, k := range addrKeys(kind, addr) {
		if n, c, ok := tr.recent.get(k); ok {
			return n, c, nil
		}
	}
	return addr, "", nil
}

func (tr *Tracer) lookup(kind, addr string) *endpoint {
	for _, k := range addrKeys(kind, addr) {
		if ep := tr.byAddr[k]; ep != nil {
			return ep
		}
	}
	return nil
}

// addrKeys are the registry keys under which the endpoint at addr may be
// found, best first: a socket bound to the wildcard address (a listener; a
// UDP socket bound implicitly by its first send) has every local address.
func addrKeys(kind, addr string) []string {
	if kind == format.KindUnix {
		return []string{addrKey(kind, addr)}
	}
	port := addr[lastColon(addr):]
	return []string{addrKey(kind, addr), addrKey(kind, "0.0.0.0"+port), addrKey(kind, "[::]"+port)}
}

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return i
		}
	}
	return len(s)
}

// resolvePending asks the kernel for the local address of every socket that
// connected or sent without binding, so the other end can name it. An accept
// may be seen before the connect that it completes returns.
//
// A socket that has no port yet stays pending: its connect entry has been
// seen, but its thread, resumed, has not yet run the call (the kernel binds
// the port then). A miss on another connection (another process's or
// thread's) must not drop it, or its own accept, seen before its connect
// returns (EINPROGRESS included), finds nothing and names it by its raw
// address.
func (tr *Tracer) resolvePending() {
	keep := tr.unresolved[:0]
	for _, ep := range tr.unresolved {
		tr.resolve(ep)
		if !ep.resolved && ep.refs > 0 && ep.owner != nil {
			keep = append(keep, ep)
		}
	}
	clear(tr.unresolved[len(keep):])
	tr.unresolved = keep
}

// addUnresolved notes a socket whose local address may be needed before
// the tracer learns it. The list stays short: resolved and closed sockets
// are dropped from it as it grows.
func (tr *Tracer) addUnresolved(ep *endpoint) {
	if len(tr.unresolved) >= 64 {
		keep := tr.unresolved[:0]
		for _, u := range tr.unresolved {
			if !u.resolved && u.refs > 0 {
				keep = append(keep, u)
			}
		}
		clear(tr.unresolved[len(keep):])
		tr.unresolved = keep
		if len(tr.unresolved) >= 1024 {
			tr.unresolved = tr.unresolved[1:]
		}
	}
	tr.unresolved = append(tr.unresolved, ep)
}

func (tr *Tracer) resolve(ep *endpoint) {
	if ep.resolved || ep.owner == nil {
		return
	}
	var info ptrace.FDInfo
	if tr.inspect(ep.owner, ep.ownerFD, &info) != nil {
		return
	}
	if info.Local != "" && !zeroPort(info.Local) {
		ep.localAddr = info.Local
		ep.resolved = true
		tr.register(ep)
	}
}

func zeroPort(addr string) bool {
	return len(addr) > 2 && addr[len(addr)-2:] == ":0"
}

func (tr *Tracer) inspect(p *process, fd int32, info *ptrace.FDInfo) error {
	if r := tr.rec; r != nil && r.SockFD == fd && r.TGID == p.tgid && r.Local != "" {
		// Read in the kernel as the call returned.
		info.Local, info.Peer = r.Local, r.Peer
		return nil
	}
	pidfd, err := tr.pidfd(p)
	if err != nil {
		return err
	}
	return ptrace.Inspect(pidfd, int(fd), info)
}

// pidfd returns a pidfd of p, opened the first time it is asked for.
func (tr *Tracer) pidfd(p *process) (int, error) {
	if p.pidfd < 0 {
		fdn, err := ptrace.PidfdOpen(p.tgid)
		if err != nil {
			return -1, err
		}
		p.pidfd = fdn
	}
	return p.pidfd, nil
}

// recentNames remembers the names of recently closed endpoints by address,
// bounded.
type recentNames struct {
	m    map[string][2]string
	ring []string
	next int
}

const recentMax = 4096

func (r *recentNames) put(key, name, conn string) {
	if r.m == nil {
		r.m = map[string][2]string{}
		r.ring = make([]string, recentMax)
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.m, old)
	}
	r.ring[r.next] = key
	r.next = (r.next + 1) % recentMax
	r.m[key] = [2]string{name, conn}
}

func (r *recentNames) get(key string) (string, string, bool) {
	v, ok := r.m[key]
	return v[0], v[1], ok
}

// orderBacklog puts the connectors queued on unix listener l in the order
// the kernel queued them: they were appended as their connects entered,
// and threads may run theirs in another order. The kernel's queue names
// only open connectors, so each is ranked the first time the queue shows
// it; it does at the connect's exit at the latest, before the connector
// can close. The queue is first in, first out, so first seen is first
// queued. Connectors not yet seen (their connect has not run) go last.
func (tr *Tracer) orderBacklog(l *endpoint) {
	q := ptrace.UnixQueue(l.ino)
	if len(q) == 0 {
		return
	}
	at := make(map[uint64]int, len(l.backlog))
	for i, b := range l.backlog {
		if b.ino != 0 && b.rank == 0 {
			at[b.ino] = i
		}
	}
	for _, ino := range q {
		if i, ok := at[ino]; ok && ino != 0 {
			l.nextRank++
			l.backlog[i].rank = l.nextRank
		}
	}
	slices.SortStableFunc(l.backlog, func(a, b queued) int {
		switch {
		case a.rank == b.rank:
			return 0
		case a.rank == 0:
			return 1
		case b.rank == 0:
			return -1
		case a.rank < b.rank:
			return -1
		}
		return 1
	})
}

// sockOrd is the ordinal a fresh socket holds in the counters of the
// thread that made it.
type sockOrd struct {
	c    *counters
	base string // node:thread of the thread that made it
	k    int    // -1: given back
}

// sockBase is the node:thread part of the names of th's sockets.
func sockBase(th *thread) string { return th.proc.node.name + ":" + th.name }

// sockOrdName is the name of the socket or pipe with ordinal k among those
// of the thread named base: node:thread:s<k>.
func sockOrdName(base string, k int) string { return base + ":s" + strconv.Itoa(k) }

// takeSock returns the next socket ordinal: the lowest one given back, or
// a new one.
func (c *counters) takeSock() int {
	if len(c.freeSocks) > 0 {
		k := c.freeSocks[0]
		c.freeSocks = c.freeSocks[1:]
		return k
	}
	k := c.socks
	c.socks++
	return k
}

// giveBackSock returns ordinal k for the next socket to take.
func (c *counters) giveBackSock(k int) {
	i, _ := slices.BinarySearch(c.freeSocks, k)
	c.freeSocks = slices.Insert(c.freeSocks, i, k)
	// Trailing ordinals shrink the counter, so a thread whose last
	// socket was refused numbers on as if it had never made it.
	for n := len(c.freeSocks); n > 0 && c.freeSocks[n-1] == c.socks-1; n-- {
		c.freeSocks = c.freeSocks[:n-1]
		c.socks--
	}
}

// unconnectedName is the name of a socket whose connect failed before it
// ever connected: it has no ordinal.
const unconnectedName = "unconnected"

// unconnected handles the outright failure of ep's connect (refused, no
// such listener, unreachable). A socket that has never connected,
// listened or carried a byte gives its ordinal back, and its rows from
// this connect on name it node:thread:unconnected: whether a dial finds
// its peer up depends on timing (a heartbeat that dials a backup not yet
// listening is refused a different number of times in each run), so a
// refused socket taking a number would shift the names of every socket
// its thread opens after it, and a plan naming one of those would not
// fire in a run with another count of refusals. Its socket row keeps the
// number it was made with (rows are written as calls return); only its
// later rows know it was refused.
func (ep *endpoint) unconnected() {
	o := ep.ord
	if o == nil || o.k < 0 {
		return
	}
	o.c.giveBackSock(o.k)
	o.k = -1
	ep.name = o.base + ":" + unconnectedName
	ep.conn = ep.name + ">" + ep.peer
}

// renumber gives a socket that gave its ordinal back a new one as it
// connects again.
func (ep *endpoint) renumber() {
	if o := ep.ord; o != nil && o.k < 0 {
		o.k = o.c.takeSock()
		ep.name = sockOrdName(o.base, o.k)
	}
}

// streamSock reports whether ep is a stream socket: a listener's kind.
func (ep *endpoint) streamSock() bool { return ep.stream() && ep.kind != format.KindPipe }

// mayListen reports whether l, a socket ep connects to, is a stream socket
// not yet seen listening that the tracer can ask about (it knows a
// process and descriptor that hold it): see earlyListener.
func (l *endpoint) mayListen(ep *endpoint) bool {
	return !l.listening && l.streamSock() && ep.streamSock() && l.owner != nil
}

// earlyMax bounds endpoint.early: connects to a bound socket that never
// listens are refused, and their sockets need no new name of it.
const earlyMax = 64

// earlyListener handles a connect from ep to l, a stream socket the
// tracer has seen bound and not yet listening, and reports whether l is
// named a listener now. Its listen may have returned in the kernel, its
// exit stop not yet handled: a node's heartbeat that dialled a backup as
// it started then named the connection by the backup's socket before it
// listened (primary:main:s1>backup1:main:s0) in 5 of 72 traces of
// kvstore, both ends, so its messages were in another class than in the
// other runs. So the kernel is asked; a listen that runs after the
// question renames ep's connection when the tracer sees it (listens), as
// does a connect that succeeds (exitConnect). Only under ptrace: its
// stops keep a node's listens in their order (a thread's next listen
// waits for its last one's exit stop), while a Backend's records come
// after the fact, when the kernel says how things are now.
func (t *Tracer) earlyListener(ep, l *endpoint) bool {
	if !l.mayListen(ep) {
		return false
	}
	if t.be == nil {
		if pidfd, err := t.pidfd(l.owner); err == nil && ptrace.Listening(pidfd, int(l.ownerFD)) {
			t.listens(l.owner, l.ownerFD, l)
			return true
		}
	}
	if len(l.early) >= earlyMax {
		l.early = l.early[1:]
	}
	l.early = append(l.early, ep)
	return false
}

// listens names ep, which listens in the kernel, node:listen<k> (p and fd:
// a process and descriptor that hold it), renames the connections of the
// connectors that named it before, and tells Config.OnListen of a node's
// first.
func (t *Tracer) listens(p *process, fd int32, ep *endpoint) {
	old := ep.name
	ep.listening = true
	ep.ord = nil
	if ep.kind != format.KindUnix && !ep.resolved {
		t.resolve(ep)
	}
	if ep.kind == format.KindUnix {
		var info ptrace.FDInfo
		if t.inspect(p, fd, &info) == nil {
			ep.ino = info.Ino
		}
	}
	n := p.node
	ep.name = n.name + ":listen" + strconv.Itoa(n.listens)
	n.listens++
	t.register(ep)
	for _, c := range ep.early {
		if c.peer == old {
			c.peer, c.conn = ep.name, c.name+">"+ep.name
		}
	}
	ep.early = nil
	if !n.listened {
		n.listened = true
		if t.cfg.OnListen != nil {
			t.cfg.OnListen(n.name)
		}
	}
}
