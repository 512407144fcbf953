//go:build linux && amd64

package tracer

import (
	"encoding/binary"
	"slices"
	"syscall"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/ptrace"
	"github.com/boxofpain/pain/internal/sysent"
)

// entry handles a seccomp stop (or, without seccomp, a syscall-entry stop):
// its class's handler starts the row, the Hook decides, apply acts.
func (t *Tracer) entry(th *thread, si *ptrace.SyscallInfo) {
	if th.proc.shim {
		if si.Nr == sysent.NrExecve {
			th.execPath = t.readString(th.tid, si.Args[0])
		}
		t.resume(th, 0)
		return
	}
	ent := sysent.Lookup(si.Nr)
	if ent == nil || !traced(ent, &si.Args) {
		t.resume(th, 0)
		return
	}
	c := &th.call
	*c = call{ent: ent, args: si.Args, entryNS: t.entryNow()}
	c.ev = format.Event{Syscall: ent.Name, FD: -1, Offset: -1}
	if h := handlers[ent.Class].enter; h != nil {
		switch h(t, th, c) {
		case skip:
			t.resume(th, 0)
			return
		case handled:
			return
		}
	}
	t.stamp(th, &c.ev)
	th.inCall = true
	act := Action{}
	if t.cfg.Hook != nil {
		act = t.cfg.Hook.Enter(t.hookCall(th, c))
	}
	t.apply(th, act)
}

// traced reports whether a call with arguments a is traced, for calls
// traced for some argument values only (seccomp filters the others too;
// this is for PTRACE_SYSCALL mode).
func traced(ent *sysent.Entry, a *[6]uint64) bool {
	v := uint32(a[ent.ArgIdx])
	if len(ent.ArgSkip) > 0 && slices.Contains(ent.ArgSkip, v) {
		return false
	}
	return len(ent.ArgVals) == 0 || slices.Contains(ent.ArgVals, v)
}

func setRet(e *format.Event, rval int64) {
	if rval < 0 && rval > -4096 {
		e.Ret, e.Errno = -1, errnoName(rval)
		return
	}
	e.Ret, e.Errno = rval, ""
}

func fillFD(e *format.Event, fd int32, ep *endpoint) {
	e.FD = fd
	e.FDKind = ep.kind
	e.Local = ep.name
	e.Peer = ep.peer
	e.LocalAddr = ep.localAddr
	e.PeerAddr = ep.peerAddr
	e.Conn = ep.conn
}

// exit handles a syscall-exit stop: the call's class handler completes
// its row, which finish writes.
func (t *Tracer) exit(th *thread, si *ptrace.SyscallInfo) {
	if !th.inCall {
		t.resume(th, 0)
		return
	}
	c := &th.call
	th.inCall = false
	rval := si.Rval
	failed := rval < 0 && rval > -4096
	if c.ignore {
		if !failed {
			t.dupExit(th, c, rval)
		}
		t.resume(th, 0)
		return
	}
	if failed && noRow(c, rval) {
		t.resume(th, 0)
		return
	}
	if c.act.Kind == ActShutdown {
		t.shutdownExit(th, rval)
		return
	}
	setRet(&c.ev, rval)
	if h := handlers[c.ent.Class].exit; h != nil {
		h(t, th, c, rval, failed)
	}
	t.finish(th, c)
}

// noRow reports whether call c, failed with rval, gets no row: interrupted
// (the kernel restarts it, a new entry, or it fails with EINTR after a
// handler; nothing was transferred), or a non-blocking call that found
// nothing to do: polling, which moves no byte and makes no connection, and
// whose count depends only on timing (so seq stays the same between runs).
func noRow(c *call, rval int64) bool {
	if sysent.Restart(int(-rval)) {
		return true
	}
	switch c.ent.Class {
	case sysent.Send, sysent.Recv, sysent.Accept:
		return -rval == int64(syscall.EAGAIN) && c.act.Fault == ""
	}
	return false
}

// finish calls the exit hook, writes the row and resumes the thread.
func (t *Tracer) finish(th *thread, c *call) {
	if t.cfg.Hook != nil {
		c.hook.Event, c.hook.TimeNS = &c.ev, t.now()
		t.await(&c.hook)
		t.applyExit(th, t.cfg.Hook.Exit(&c.hook))
	}
	t.emit(th, &c.ev)
	t.resume(th, 0)
}

func (t *Tracer) sockName(th *thread) string {
	return sockOrdName(sockBase(th), th.takeSock())
}

func (t *Tracer) dupExit(th *thread, c *call, rval int64) {
	a := c.args
	old := int32(a[0])
	ep := th.fds.get(old)
	switch c.ent.Name {
	case "dup":
		if ep != nil {
			t.fdSet(th.proc, th.fds, int32(rval), ep, false)
		}
	case "dup2", "dup3":
		nfd := int32(a[1])
		if nfd == old {
			return
		}
		t.fdClose(th.fds, nfd)
		if ep != nil {
			t.fdSet(th.proc, th.fds, nfd, ep, c.ent.Name == "dup3" && a[2]&ptrace.OCloexec != 0)
		}
	case "fcntl":
		if ep != nil {
			t.fdSet(th.proc, th.fds, int32(rval), ep, uint32(a[1]) == sysent.FDupFDCloexec)
		}
	}
}

func (t *Tracer) acceptExit(th *thread, c *call, nfd int32) {
	a := c.args
	l := c.ep
	ep := &endpoint{kind: l.kind, family: l.family, stype: l.stype, name: t.sockName(th),
		localAddr: l.localAddr, resolved: true}
	cloexec := c.ent.Name == "accept4" && a[3]&ptrace.SockCloexec != 0
	t.fdSet(th.proc, th.fds, nfd, ep, cloexec)
	addr := ""
	if a[1] != 0 && a[2] != 0 {
		var b [4]byte
		if _, err := t.readMem(th.tid, a[2], b[:]); err == nil {
			addr = t.readSockaddr(th.tid, a[1], uint64(binary.LittleEndian.Uint32(b[:])))
		}
	}
	var info ptrace.FDInfo
	if l.kind == format.KindUnix || addr == "" {
		if t.inspect(th.proc, nfd, &info) == nil {
			if addr == "" {
				addr = info.Peer
			}
			if ep.localAddr == "" {
				ep.localAddr = info.Local
			}
		}
	}
	ep.peerAddr = addr
	if l.kind == format.KindUnix && addr == "" {
		// Unnamed connector: the one whose socket is this socket's peer
		// (sock_diag). The kernel no longer names it once the connector
		// closed: then the first one queued by the connecting process
		// (SO_PEERCRED) that the listener's queue no longer holds open
		// (the backlog is in the kernel's order, see orderBacklog).
		// Without unix_diag: the first one queued by that process.
		i := -1
		if info.Ino != 0 {
			if peer := ptrace.UnixPeer(info.Ino); peer != 0 {
				i = slices.IndexFunc(l.backlog, func(q queued) bool { return q.ino == peer })
			}
		}
		from := func(q queued) bool { return info.PeerPID == 0 || q.tgid == info.PeerPID }
		if i < 0 {
			open := map[uint64]bool{}
			for _, ino := range ptrace.UnixQueue(l.ino) {
				open[ino] = ino != 0
			}
			i = slices.IndexFunc(l.backlog, func(q queued) bool { return from(q) && !open[q.ino] })
		}
		if i < 0 {
			i = slices.IndexFunc(l.backlog, from)
		}
		if i >= 0 {
			pep := l.backlog[i].ep
			l.backlog = append(l.backlog[:i:i], l.backlog[i+1:]...)
			ep.peer, ep.conn = pep.name, pep.conn
		}
	} else {
		var pep *endpoint
		ep.peer, ep.conn, pep = t.peerName(l.kind, addr)
		if pep != nil && l.kind == format.KindTCP && pep.localAddr == addr && pep.link == nil {
			linkEnds(ep, pep)
		}
	}
	if ep.conn == "" {
		ep.conn = ep.peer + ">" + l.name
	}
	fillFD(&c.ev, nfd, ep)
	c.ev.Arg = l.name
}

// transferExit completes a send, receive, sendfile or splice row.
func (t *Tracer) transferExit(th *thread, c *call, rval int64) {
	ep := c.ep
	if ep.kind == format.KindFile {
		t.fileIOExit(th, c, rval)
		return
	}
	bytes := rval
	if c.ent.Class == sysent.Transfer {
		if ep.stream() {
			c.ev.Offset = ep.off[c.dir]
			ep.off[c.dir] += bytes
		}
		if ep2 := c.ep2; ep2 != nil {
			// splice/sendfile between two followed descriptors: the
			// receiving side's row first.
			in := c.ev
			fillFD(&in, c.fd2, ep2)
			in.Arg = "in"
			in.Offset = -1
			if ep2.stream() {
				in.Offset = ep2.off[dirRecv]
				ep2.off[dirRecv] += bytes
			}
			t.emit(th, &in)
			c.ev.Seq = th.seq
		}
		return
	}
	if c.dgramHashed {
		bytes = rval
	} else {
		bytes = t.payload(th, c, rval)
	}
	if ep.stream() {
		c.ev.Offset = ep.off[c.dir]
		if c.dir == dirSend || !peeking(c) {
			ep.off[c.dir] += bytes
		}
		return
	}
	// Datagrams.
	if c.dir == dirRecv {
		t.datagramSender(th, c, ep, bytes)
	} else if !ep.resolved && ep.kind == format.KindUDP {
		t.resolve(ep)
		c.ev.LocalAddr = ep.localAddr
	}
}

// datagramSender names the sender of a datagram received on ep: by its
// source address, checked against the datagrams traced senders sent
// (fromAddr), else by payload hash and size alone.
func (t *Tracer) datagramSender(th *thread, c *call, ep *endpoint, bytes int64) {
	src := ""
	switch c.ent.Name {
	case "recvfrom":
		if c.args[4] != 0 && c.args[5] != 0 {
			var b [4]byte
			if _, err := t.readMem(th.tid, c.args[5], b[:]); err == nil {
				src = t.readSockaddr(th.tid, c.args[4], uint64(binary.LittleEndian.Uint32(b[:])))
			}
		}
	case "recvmsg":
		src = t.msgName(th.tid, c.args[1])
	}
	if src == "" {
		src = ep.peerAddr
	}
	if src != "" {
		name := t.fromAddr(ep, src, c.ev.PayloadHash, bytes)
		if name == "" {
			name, _, _ = t.peerName(ep.kind, src)
			ep.sender(c.ev.PayloadHash, bytes)
		}
		c.ev.PeerAddr, c.ev.Peer = src, name
	} else if from := ep.sender(c.ev.PayloadHash, bytes); from != "" {
		c.ev.Peer = from
	}
	c.ev.Conn = c.ev.Peer + ">" + ep.name
}

// payload hashes the bytes a send or receive moved (and keeps a prefix) and
// returns their number.
func (t *Tracer) payload(th *thread, c *call, n int64) int64 {
	if r := t.rec; r != nil {
		// Hashed in the kernel.
		if r.Hashed {
			c.ev.PayloadHash = r.Hash
			return r.Bytes
		}
		return n
	}
	a := c.args
	sink, hashed := t.flightHash(c, n)
	if hashed {
		return n
	}
	spans, ok := t.bufSpans(th.tid, c, n)
	if !ok {
		return n
	}
	if c.ent.Buf == sysent.BufMmsg {
		total := int64(0)
		for i := int64(0); i < n && i < 1024; i++ {
			var h [64]byte
			if _, err := t.readMem(th.tid, a[1]+uint64(64*i), h[:]); err != nil {
				break
			}
			l := int64(binary.LittleEndian.Uint32(h[56:]))
			rem := uint64(l)
			for _, s := range t.iovecs(th.tid, binary.LittleEndian.Uint64(h[16:]), binary.LittleEndian.Uint64(h[24:])) {
				if rem == 0 {
					break
				}
				s.Len = min(s.Len, rem)
				spans = append(spans, s)
				rem -= s.Len
			}
			total += l
		}
		n = total
	}
	kept := 0
	if sink != nil {
		kept = len(*sink)
	}
	h, prefix := t.hashSpans(th.tid, spans, n, t.cfg.Payload, sink)
	if sink != nil && int64(len(*sink)-kept) != n {
		c.ep.flight.cut(c.ep.off[dirSend])
	}
	c.ev.PayloadHash = h
	c.ev.Payload = prefix
	return n
}

// peeking reports whether the receive c leaves its bytes queued (MSG_PEEK).
func peeking(c *call) bool {
	switch c.ent.Name {
	case "recvfrom":
		return c.args[3]&ptrace.MsgPeek != 0
	case "recvmsg":
		return c.args[2]&ptrace.MsgPeek != 0
	}
	return false
}

// bufSpans returns the buffer of a send or receive c that moves n bytes
// (nil for sendmmsg and recvmmsg, whose lengths are known at exit only);
// ok false if it cannot be read.
func (t *Tracer) bufSpans(tid int, c *call, n int64) (spans []ptrace.Span, ok bool) {
	a := c.args
	switch c.ent.Buf {
	case sysent.BufPlain:
		spans = []ptrace.Span{{Addr: a[1], Len: uint64(n)}}
	case sysent.BufIovec:
		spans = t.iovecs(tid, a[1], a[2])
	case sysent.BufMsg:
		var h [56]byte
		if _, err := t.readMem(tid, a[1], h[:]); err != nil {
			return nil, false
		}
		spans = t.iovecs(tid, binary.LittleEndian.Uint64(h[16:]), binary.LittleEndian.Uint64(h[24:]))
		if c.dir == dirSend && c.ep.kind == format.KindUnix && binary.LittleEndian.Uint64(h[40:]) > 0 {
			t.unseen = true // control data, maybe descriptors (flight.go)
		}
	case sysent.BufMmsg:
		if c.dir == dirSend && c.ep.kind == format.KindUnix {
			t.unseen = true // not read: maybe descriptors (flight.go)
		}
	}
	return spans, true
}

func (t *Tracer) iovecs(tid int, addr, cnt uint64) []ptrace.Span {
	if cnt > 1024 {
		cnt = 1024
	}
	b := make([]byte, 16*cnt)
	if _, err := t.readMem(tid, addr, b); err != nil {
		return nil
	}
	spans := make([]ptrace.Span, cnt)
	for i := range spans {
		spans[i] = ptrace.Span{Addr: binary.LittleEndian.Uint64(b[16*i:]), Len: binary.LittleEndian.Uint64(b[16*i+8:])}
	}
	return spans
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
	maxHash   = 64 << 20 // bytes hashed per call at most
)

// hashSpans returns the FNV-1a hash of the first n bytes of spans, and a
// copy of the first keep of them; sink, when set, gets every byte read
// appended.
func (t *Tracer) hashSpans(tid int, spans []ptrace.Span, n int64, keep int, sink *[]byte) (uint64, []byte) {
	if n <= 0 {
		return 0, nil
	}
	if n > maxHash {
		n = maxHash
	}
	h := uint64(fnvOffset)
	var prefix []byte
	for n > 0 && len(spans) > 0 {
		chunk := t.buf
		if int64(len(chunk)) > n {
			chunk = chunk[:n]
		}
		got, _ := ptrace.ReadSpans(tid, spans, chunk)
		if got <= 0 {
			break
		}
		if prefix == nil && keep > 0 {
			prefix = append([]byte(nil), chunk[:min(got, keep)]...)
		}
		h = fnv(h, chunk[:got])
		if sink != nil {
			*sink = append(*sink, chunk[:got]...)
		}
		n -= int64(got)
		spans = advance(spans, uint64(got))
	}
	return h, prefix
}

func advance(spans []ptrace.Span, k uint64) []ptrace.Span {
	for len(spans) > 0 && k > 0 {
		if spans[0].Len <= k {
			k -= spans[0].Len
			spans = spans[1:]
			continue
		}
		spans[0].Addr += k
		spans[0].Len -= k
		k = 0
	}
	return spans
}

func (t *Tracer) readSockaddr(tid int, ptr, l uint64) string {
	if ptr == 0 || l == 0 {
		return ""
	}
	var b [128]byte
	if l > uint64(len(b)) {
		l = uint64(len(b))
	}
	n, err := t.readMem(tid, ptr, b[:l])
	if err != nil {
		return ""
	}
	return ptrace.FormatSockaddr(b[:n])
}

// msgName reads the msg_name of a struct msghdr.
func (t *Tracer) msgName(tid int, msg uint64) string {
	var h [16]byte
	if _, err := t.readMem(tid, msg, h[:]); err != nil {
		return ""
	}
	return t.readSockaddr(tid, binary.LittleEndian.Uint64(h[:]), uint64(binary.LittleEndian.Uint32(h[8:])))
}

// readString reads a NUL-terminated string (a path) from tracee memory.
func (t *Tracer) readString(tid int, ptr uint64) string {
	if t.rec != nil {
		return t.rec.Path
	}
	var out []byte
	var b [256]byte
	for len(out) < 4096 {
		// Stay within the page: the next one may be unmapped.
		l := 4096 - ptr%4096
		if l > uint64(len(b)) {
			l = uint64(len(b))
		}
		n, err := t.readMem(tid, ptr, b[:l])
		if err != nil || n == 0 {
			break
		}
		for i := 0; i < n; i++ {
			if b[i] == 0 {
				return string(append(out, b[:i]...))
			}
		}
		out = append(out, b[:n]...)
		ptr += uint64(n)
	}
	return string(out)
}
