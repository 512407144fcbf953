//go:build linux && amd64

package tracer

import (
	"encoding/binary"
	"strconv"
	"syscall"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/ptrace"
	"github.com/boxofpain/pain/internal/sysent"
)

// verdict is what a class's entry handler decided about a call.
type verdict uint8

const (
	record  verdict = iota // the call gets a row: the Hook sees it, its exit is awaited
	skip                   // no row: the thread is resumed as it is
	handled                // the handler resumed the thread itself
)

// handler turns the calls of one sysent.Class into rows: enter fills the
// row at the call's entry, exit completes it (rval is the call's result,
// already in the row; failed says it is an errno). Either may be nil.
type handler struct {
	enter func(t *Tracer, th *thread, c *call) verdict
	exit  func(t *Tracer, th *thread, c *call, rval int64, failed bool)
}

// handlers is the tracer's model of each class of calls.
var handlers = [...]handler{
	sysent.Send:       {enter: (*Tracer).enterSendRecv, exit: (*Tracer).exitTransfer},
	sysent.Recv:       {enter: (*Tracer).enterSendRecv, exit: (*Tracer).exitTransfer},
	sysent.Transfer:   {enter: (*Tracer).enterTransfer, exit: (*Tracer).exitTransfer},
	sysent.Socket:     {exit: (*Tracer).exitSocket},
	sysent.SocketPair: {exit: (*Tracer).exitPair},
	sysent.Pipe:       {exit: (*Tracer).exitPair},
	sysent.Bind:       {enter: (*Tracer).enterBind, exit: (*Tracer).exitBind},
	sysent.Listen:     {enter: (*Tracer).enterFD, exit: (*Tracer).exitListen},
	sysent.Connect:    {enter: (*Tracer).enterConnect, exit: (*Tracer).exitConnect},
	sysent.Accept:     {enter: (*Tracer).enterFD, exit: (*Tracer).exitAccept},
	sysent.Shutdown:   {enter: (*Tracer).enterShutdown},
	sysent.Close:      {enter: (*Tracer).enterFD, exit: (*Tracer).exitClose},
	sysent.CloseRange: {enter: (*Tracer).enterCloseRange},
	sysent.Dup:        {enter: (*Tracer).enterDup},
	sysent.Clone:      {enter: (*Tracer).enterClone},
	sysent.Exec:       {enter: (*Tracer).enterExec},
	sysent.Exit:       {enter: (*Tracer).enterExit},
	sysent.Kill:       {enter: (*Tracer).enterKill},
	sysent.Wait:       {exit: (*Tracer).exitWait},
	sysent.Open:       {enter: (*Tracer).enterOpen, exit: (*Tracer).exitOpen},
	sysent.Sync:       {enter: (*Tracer).enterSync},
	sysent.Rename:     {enter: (*Tracer).enterRename},
	sysent.PathOp:     {enter: (*Tracer).enterPathOp},
	sysent.Resize:     {enter: (*Tracer).enterResize},
	sysent.Unfollow:   {enter: (*Tracer).enterUnfollow},
}

// enterSendRecv starts the row of a send or receive on a recorded socket
// or pipe.
func (t *Tracer) enterSendRecv(th *thread, c *call) verdict {
	fd := int32(c.args[0])
	ep := th.fds.get(fd)
	if ep == nil || !ep.recorded() {
		return skip
	}
	c.ep = ep
	c.dir = dirSend
	if c.ent.Class == sysent.Recv {
		c.dir = dirRecv
	}
	fillFD(&c.ev, fd, ep)
	if ep.kind == format.KindFile {
		return enterFileIO(c)
	}
	if ep.stream() {
		c.ev.Offset = ep.off[c.dir]
	}
	if c.ent.Class == sysent.Send && !ep.stream() {
		t.enterDatagram(th, c)
	}
	return record
}

// enterDatagram names a datagram's destination and, but for sendmmsg,
// hashes it now and tells the receiver, whose receive may be seen first: a
// datagram is sent whole or not at all.
func (t *Tracer) enterDatagram(th *thread, c *call) {
	a, ep := c.args, c.ep
	dest := ""
	switch c.ent.Buf {
	case sysent.BufPlain:
		dest = t.readSockaddr(th.tid, a[4], a[5])
	case sysent.BufMsg:
		dest = t.msgName(th.tid, a[1])
	}
	var pep *endpoint
	if dest != "" {
		var name string
		name, _, pep = t.peerName(ep.kind, dest)
		c.ev.PeerAddr, c.ev.Peer = dest, name
	} else if ep.peerAddr != "" {
		pep = t.lookup(ep.kind, ep.peerAddr)
	}
	c.ev.Conn = ep.name + ">" + c.ev.Peer
	if !ep.resolved && ep.kind == format.KindUDP {
		t.addUnresolved(ep)
	}
	if c.ent.Buf == sysent.BufMmsg {
		return
	}
	n := int64(1 << 30)
	if c.ent.Buf == sysent.BufPlain {
		n = int64(a[2])
	}
	c.dgramSize = t.payload(th, c, n)
	c.dgramHashed = true
	if pep != nil {
		pep.deliver(dgram{hash: c.ev.PayloadHash, size: c.dgramSize, from: ep.name, ep: ep})
	}
}

// enterTransfer starts the row of sendfile or splice, on the side that is
// followed (the sending side when both are).
func (t *Tracer) enterTransfer(th *thread, c *call) verdict {
	in, out := int32(c.args[1]), int32(c.args[0]) // sendfile(out, in, ...)
	if c.ent.Name == "splice" {
		in, out = int32(c.args[0]), int32(c.args[2])
	}
	epIn, epOut := th.fds.get(in), th.fds.get(out)
	switch {
	case epOut != nil:
		c.ep, c.ep2, c.fd2 = epOut, epIn, in
		fillFD(&c.ev, out, epOut)
		c.dir = dirSend
		c.ev.Arg = "out"
	case epIn != nil:
		c.ep, c.fd2 = epIn, in
		fillFD(&c.ev, in, epIn)
		c.dir = dirRecv
		c.ev.Arg = "in"
	default:
		return skip
	}
	return record
}

// enterFD starts the row of a call on a followed socket (arg 0).
func (t *Tracer) enterFD(th *thread, c *call) verdict {
	fd := int32(c.args[0])
	ep := th.fds.get(fd)
	if ep == nil {
		return skip
	}
	c.ep = ep
	fillFD(&c.ev, fd, ep)
	return record
}

func (t *Tracer) enterBind(th *thread, c *call) verdict {
	if t.enterFD(th, c) == skip {
		return skip
	}
	c.addr = t.readSockaddr(th.tid, c.args[1], c.args[2])
	c.ev.LocalAddr = c.addr
	return record
}

func (t *Tracer) enterShutdown(th *thread, c *call) verdict {
	if t.enterFD(th, c) == skip {
		return skip
	}
	c.ev.Arg = [...]string{"SHUT_RD", "SHUT_WR", "SHUT_RDWR"}[c.args[1]%3]
	return record
}

// enterConnect names the connection now: the accept may be seen before
// this connect returns.
func (t *Tracer) enterConnect(th *thread, c *call) verdict {
	if t.enterFD(th, c) == skip {
		return skip
	}
	fd, ep := int32(c.args[0]), c.ep
	ep.renumber()
	c.addr = t.readSockaddr(th.tid, c.args[1], c.args[2])
	name, _, l := t.peerName(ep.kind, c.addr)
	if l != nil && t.earlyListener(ep, l) {
		name = l.name
	}
	ep.peer, ep.peerAddr, ep.conn = name, c.addr, ep.name+">"+name
	fillFD(&c.ev, fd, ep)
	if !ep.resolved && ep.kind != format.KindUnix {
		t.addUnresolved(ep)
	}
	if l := t.lookup(format.KindUnix, c.addr); ep.kind == format.KindUnix && l != nil && ep.stype != ptrace.SockDgram {
		// Queued now, for the same reason.
		if len(l.backlog) >= 4096 {
			l.backlog = l.backlog[1:]
		}
		q := queued{ep: ep, tgid: th.proc.tgid}
		var info ptrace.FDInfo
		if t.inspect(th.proc, fd, &info) == nil {
			q.ino = info.Ino
		}
		l.backlog = append(l.backlog, q)
	}
	return record
}

// enterCloseRange updates the descriptor table; close_range gets no row.
func (t *Tracer) enterCloseRange(th *thread, c *call) verdict {
	a := c.args
	lo, hi := int64(uint32(a[0])), int64(uint32(a[1]))
	for fd, e := range th.fds.fds {
		if int64(fd) >= lo && int64(fd) <= hi {
			if a[2]&ptrace.CloseRangeCloexec != 0 {
				e.cloexec = true
				th.fds.fds[fd] = e
			} else {
				t.fdClose(th.fds, fd)
			}
		}
	}
	return skip
}

// enterDup follows a dup of a followed descriptor to its exit (no row).
func (t *Tracer) enterDup(th *thread, c *call) verdict {
	track := th.fds.get(int32(c.args[0])) != nil
	if c.ent.Name == "dup2" || c.ent.Name == "dup3" {
		track = track || th.fds.get(int32(c.args[1])) != nil
	}
	if !track {
		return skip
	}
	c.ignore = true
	th.inCall = true
	t.resumeToExit(th)
	return handled
}

// enterClone notes the flags the clone event will need.
func (t *Tracer) enterClone(th *thread, c *call) verdict {
	switch c.ent.Name {
	case "clone":
		th.cloneFlags = c.args[0]
	case "clone3":
		var b [8]byte
		t.readMem(th.tid, c.args[0], b[:])
		th.cloneFlags = binary.LittleEndian.Uint64(b[:])
	case "vfork":
		th.cloneFlags = ptrace.CloneVM | ptrace.CloneVfork
	default:
		th.cloneFlags = 0
	}
	return record
}

func (t *Tracer) enterExec(th *thread, c *call) verdict {
	p := c.args[0]
	if c.ent.Name == "execveat" {
		p = c.args[1]
	}
	th.execPath = t.readString(th.tid, p)
	c.ev.Arg = th.execPath
	return record
}

func (t *Tracer) enterExit(th *thread, c *call) verdict {
	c.ev.Arg = strconv.Itoa(int(int32(c.args[0])))
	return record
}

func (t *Tracer) enterKill(th *thread, c *call) verdict {
	target, sig := int(int32(c.args[0])), c.args[1]
	if c.ent.Name == "tgkill" {
		target, sig = int(int32(c.args[1])), c.args[2]
	}
	c.ev.Arg = sysent.SignalName(int(sig))
	if target > 0 {
		c.ev.Peer = t.nameOf(target)
	}
	return record
}

// exitTransfer completes the row of a send, receive, sendfile or splice
// that moved bytes.
func (t *Tracer) exitTransfer(th *thread, c *call, rval int64, failed bool) {
	if !failed {
		c.ep.ord = nil // it carried bytes: its name is in use
		t.transferExit(th, c, rval)
	}
}

func (t *Tracer) exitSocket(th *thread, c *call, rval int64, failed bool) {
	if failed {
		return
	}
	family, stype := int(c.args[0]), int(c.args[1])
	o := &sockOrd{c: th.counters, base: sockBase(th), k: th.takeSock()}
	ep := &endpoint{kind: sockKind(family, stype), family: family, stype: stype & 0xf,
		name: sockOrdName(o.base, o.k), ord: o}
	ep.resolved = ep.kind == format.KindUnix || ep.kind == format.KindOther
	t.fdSet(th.proc, th.fds, int32(rval), ep, stype&ptrace.SockCloexec != 0)
	fillFD(&c.ev, int32(rval), ep)
}

// exitPair names the two ends of a socketpair or pipe.
func (t *Tracer) exitPair(th *thread, c *call, rval int64, failed bool) {
	if failed {
		return
	}
	a := c.args
	ptr, kind, cloexec, stype := a[3], format.KindUnix, a[1]&ptrace.SockCloexec != 0, int(a[1])&0xf
	if c.ent.Class == sysent.Pipe {
		ptr, kind, cloexec, stype = a[0], format.KindPipe, a[1]&ptrace.OCloexec != 0, ptrace.SockStream
		if c.ent.Name == "pipe" {
			cloexec = false
		}
	} else if int(a[0]) != ptrace.AFUnix {
		kind = format.KindOther
	}
	var b [8]byte
	t.readMem(th.tid, ptr, b[:])
	base := t.sockName(th)
	var eps [2]*endpoint
	for i := range eps {
		eps[i] = &endpoint{kind: kind, family: ptrace.AFUnix, stype: stype, name: base + "." + strconv.Itoa(i), conn: base, resolved: true}
	}
	eps[0].peer, eps[1].peer = eps[1].name, eps[0].name
	if stype == ptrace.SockStream {
		linkEnds(eps[0], eps[1])
	}
	for i, ep := range eps {
		t.fdSet(th.proc, th.fds, int32(binary.LittleEndian.Uint32(b[4*i:])), ep, cloexec)
	}
	fillFD(&c.ev, int32(binary.LittleEndian.Uint32(b[:])), eps[0])
	c.ev.Arg = strconv.Itoa(int(int32(binary.LittleEndian.Uint32(b[4:]))))
}

func (t *Tracer) exitBind(th *thread, c *call, rval int64, failed bool) {
	if failed {
		return
	}
	ep := c.ep
	ep.localAddr = c.addr
	if ep.kind != format.KindUnix {
		ep.resolved = false
		if zeroPort(c.addr) || c.addr == "" {
			t.resolve(ep)
		} else {
			ep.resolved = true
		}
	}
	if ep.kind == format.KindUDP {
		n := th.proc.node
		ep.name = n.name + ":bind" + strconv.Itoa(n.binds)
		n.binds++
		ep.ord = nil
	}
	if ep.kind != format.KindUnix || ep.localAddr != "" {
		t.register(ep)
	}
	fillFD(&c.ev, c.ev.FD, ep)
}

// exitListen names a listener <node>:listen<k> (see listens), unless a
// peer's connect found it listening first.
func (t *Tracer) exitListen(th *thread, c *call, rval int64, failed bool) {
	if failed {
		return
	}
	if !c.ep.listening {
		t.listens(th.proc, c.ev.FD, c.ep)
	}
	fillFD(&c.ev, c.ev.FD, c.ep)
}

func (t *Tracer) exitConnect(th *thread, c *call, rval int64, failed bool) {
	ep := c.ep
	if failed && !connecting(-rval) {
		t.connectFailed(c, ep)
		return
	}
	ep.ord = nil
	l := t.lookup(ep.kind, c.addr)
	if rval == 0 && t.be == nil && l != nil && l.mayListen(ep) {
		// Connected: it listens, its exit stop not yet handled (see
		// earlyListener).
		t.listens(l.owner, l.ownerFD, l)
	}
	if ep.kind != format.KindUnix {
		t.resolve(ep)
	} else if l != nil && ep.stype != ptrace.SockDgram {
		t.orderBacklog(l)
	}
	fillFD(&c.ev, c.ev.FD, ep)
}

// connecting reports whether a connect that failed with errno goes on in
// the background: in progress, or interrupted. Any other failure
// connected nothing.
func connecting(errno int64) bool {
	return errno == int64(syscall.EINPROGRESS) || errno == int64(syscall.EINTR)
}

// connectFailed handles a connect that failed outright, in the kernel or
// by a Hook's ActFail: the socket is no connection end (see
// endpoint.unconnected), and a unix connector was never queued at the
// listener after all.
func (t *Tracer) connectFailed(c *call, ep *endpoint) {
	ep.unconnected()
	fillFD(&c.ev, c.ev.FD, ep)
	if ep.kind != format.KindUnix {
		return
	}
	if l := t.lookup(format.KindUnix, c.addr); l != nil {
		for i, q := range l.backlog {
			if q.ep == ep {
				l.backlog = append(l.backlog[:i:i], l.backlog[i+1:]...)
				break
			}
		}
	}
}

func (t *Tracer) exitAccept(th *thread, c *call, rval int64, failed bool) {
	if !failed {
		t.acceptExit(th, c, int32(rval))
	}
}

// exitClose forgets the descriptor. The kernel frees the number before
// this exit is seen: another thread sharing the table may already have got
// it for a new socket (its socket exit seen first, which dropped c.ep).
// Only close what this call closed.
func (t *Tracer) exitClose(th *thread, c *call, rval int64, failed bool) {
	if (!failed || rval != -int64(syscall.EBADF)) && th.fds.get(c.ev.FD) == c.ep {
		t.fdClose(th.fds, c.ev.FD)
	}
}

// exitWait names the reaped child.
func (t *Tracer) exitWait(th *thread, c *call, rval int64, failed bool) {
	if !failed && rval > 0 {
		c.ev.Peer = t.deadNames[int(rval)]
		delete(t.deadNames, int(rval))
	}
}
