//go:build linux && amd64

package tracer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/ptrace"
	"github.com/boxofpain/pain/internal/sysent"
)

// hookCall fills what the Hook sees of th's call at its entry.
func (t *Tracer) hookCall(th *thread, c *call) *Call {
	h := &c.hook
	*h = Call{Event: &c.ev, Args: c.args, TimeNS: c.entryNS, Recorded: t.rec != nil}
	switch {
	case c.ent.Class == sysent.Send || c.ent.Class == sysent.Transfer && c.dir == dirSend:
		h.Dir = sysent.Out
	case c.ent.Class == sysent.Recv || c.ent.Class == sysent.Transfer:
		h.Dir = sysent.In
	}
	if h.Dir != sysent.NoDir {
		h.Len = t.callLen(th.tid, c)
	}
	switch r := t.rec; {
	case r != nil && r.Hashed && h.Dir == sysent.Out && c.ent.Class == sysent.Send && c.ep != nil && c.ep.stream():
		h.Hash = r.Hash // of the bytes it sent: a record comes at the exit
	case h.Dir == sysent.Out && c.ent.Class == sysent.Send && c.ep != nil && c.ep.stream():
		if spans, ok := t.bufSpans(th.tid, c, h.Len); ok && spans != nil {
			h.Hash, _ = t.hashSpans(th.tid, spans, h.Len, 0, nil)
		}
	}
	h.FileOffset = -1
	if ep := c.ep; ep != nil && ep.kind == format.KindFile {
		h.File = ep.name
		if h.Dir != sysent.NoDir {
			h.FileOffset = t.fileOffset(th, c, ep)
		}
	}
	return h
}

// callLen returns how many bytes the transfer c asks to move (for sendmmsg
// and recvmmsg: how many messages): a dropped datagram reports success with
// it, and a fault pinned at a stream offset finds the send that covers it.
func (t *Tracer) callLen(tid int, c *call) int64 {
	a := c.args
	switch c.ent.Buf {
	case sysent.BufIovec:
		return iovLen(t.iovecs(tid, a[1], a[2]))
	case sysent.BufMsg:
		var h [32]byte // struct msghdr up to msg_iovlen
		if _, err := t.readMem(tid, a[1], h[:]); err != nil {
			return 0
		}
		return iovLen(t.iovecs(tid, binary.LittleEndian.Uint64(h[16:]), binary.LittleEndian.Uint64(h[24:])))
	case sysent.BufMmsg:
		return int64(min(a[2], 1024)) // the kernel's UIO_MAXIOV cap
	}
	if i := c.ent.LenArg(); i >= 0 {
		return int64(a[i])
	}
	return 0
}

func iovLen(spans []ptrace.Span) int64 {
	n := int64(0)
	for _, s := range spans {
		n += int64(s.Len)
	}
	return n
}

// signalNode sends sig to every process of node and of the nodes it spawned
// (every traced process when node is empty), and returns how many it
// reached.
func (t *Tracer) signalNode(node string, sig syscall.Signal) (int, error) {
	n := 0
	var last error
	for _, p := range t.procs {
		if node == "" || p.node.name == node || strings.HasPrefix(p.node.name, node+"/") {
			if err := ptrace.Kill(p.tgid, sig); err != nil {
				last = err
				continue
			}
			n++
		}
	}
	switch {
	case n > 0:
		return n, nil
	case last != nil:
		return 0, fmt.Errorf("%s to node %s: %w", sysent.SignalName(int(sig)), node, last)
	}
	return 0, fmt.Errorf("%s to node %s: no live process", sysent.SignalName(int(sig)), node)
}

// signalAct carries out an ActSignal of th's call, on its node and on
// act.Nodes at once, and arranges its Then for each.
func (t *Tracer) signalAct(th *thread, act Action) (int, error) {
	node := act.Node
	if node == "" {
		node = th.proc.node.name
	}
	nodes := append([]string{node}, act.Nodes...)
	total, err := t.signalNode(node, syscall.Signal(act.Signal))
	if err != nil {
		return 0, err
	}
	for _, nd := range act.Nodes {
		// A node of the set with no process left is signalled by no one,
		// and still gets its Then (a power loss takes its page cache).
		n, _ := t.signalNode(nd, syscall.Signal(act.Signal))
		total += n
	}
	for _, nd := range nodes {
		if act.Signal == SIGKILL && (act.Then == nil || !act.Then.Restart) {
			t.killed[nd] = true
		}
		if act.Signal == SIGKILL || act.Signal == SIGSTOP {
			t.downed[nd] = syscall.Signal(act.Signal)
		}
		if act.Then != nil {
			t.later(nd, act.Fault, *act.Then)
		}
	}
	return total, nil
}

// goneWait bounds how long Later.Gone waits for a killed node's processes
// to be reaped.
const goneWait = 10 * time.Second

// later does l to node after l.After, unless the tracer is closing by then,
// and tells the Hook how it went. A restart runs off the ptrace thread
// (Config.Restart waits for it).
func (t *Tracer) later(node, fault string, l Later) {
	report := func(r Report) {
		t.post(func() {
			if !t.closing && t.cfg.Hook != nil {
				t.cfg.Hook.Acted(r)
			}
		})
	}
	if l.Restart {
		t.restarting.Add(1)
	}
	tm := time.AfterFunc(l.After, func() {
		if l.Restart {
			defer t.restarting.Add(-1)
		}
		if l.Signal != 0 {
			t.post(func() {
				if t.closing {
					return
				}
				n, err := t.signalNode(node, syscall.Signal(l.Signal))
				if l.Signal == SIGCONT {
					delete(t.downed, node)
				}
				if t.cfg.Hook != nil {
					t.cfg.Hook.Acted(Report{Fault: fault, Then: true, Err: err, Signaled: n})
				}
			})
		}
		if l.Gone != nil {
			if err := t.whenGone(node, l.Gone); err != nil {
				report(Report{Fault: fault, Then: true, Err: err})
				return
			}
		}
		if !l.Restart {
			return
		}
		closing := true
		t.do(func() { closing = t.closing })
		if closing {
			return
		}
		err := errors.New("the tracer cannot restart nodes")
		if t.cfg.Restart != nil {
			err = t.cfg.Restart(node)
		}
		if err != nil {
			err = fmt.Errorf("restart of %s failed: %w", node, err)
		}
		report(Report{Fault: fault, Then: true, Err: err})
	})
	t.timers = append(t.timers, tm)
}

// Restarting returns how many restarts of killed nodes are scheduled or
// under way: a launcher waits for them before it runs the check, which
// judges the system once its faults' restarts are done.
func (t *Tracer) Restarting() int { return int(t.restarting.Load()) }

// whenGone calls gone once no process of node is left.
func (t *Tracer) whenGone(node string, gone func(string) error) error {
	for deadline := time.Now().Add(goneWait); t.NodeLive(node) > 0; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s still has processes %v after it was killed", node, goneWait)
		}
	}
	return gone(node)
}

// Killed reports whether a Hook's action SIGKILLed node with no restart to
// follow: the system is meant to go on without it.
func (t *Tracer) Killed(node string) bool {
	k := false
	t.do(func() { k = t.killed[node] })
	return k
}

// apply carries out a Hook's entry decision, tells the Hook whether a
// fault took effect, and resumes the thread. A fault that could not act
// leaves the call to run as it is, its row unmarked.
func (t *Tracer) apply(th *thread, act Action) {
	c := &th.call
	err := t.unstopped(act)
	n := 0
	switch {
	case err != nil:
	case act.Kind == ActFail:
		err = ptrace.SkipSyscall(th.tid, -int64(act.Errno))
	case act.Kind == ActReturn:
		err = ptrace.SkipSyscall(th.tid, act.Ret)
	case act.Kind == ActShutdown:
		switch {
		case c.ep == nil:
			err = errors.New("no socket to shut down")
		case c.ep.kind == format.KindPipe:
			err = errors.New("a pipe cannot be shut down")
		default:
			err = ptrace.ReplaceSyscall(th.tid, sysent.NrShutdown, uint64(c.ev.FD), ptrace.ShutRDWR)
		}
	case act.Kind == ActSignal:
		n, err = t.signalAct(th, act)
	case act.Kind == ActShorten:
		err = shorten(th.tid, c, act.Ret)
	}
	fault := act.Fault
	if err != nil {
		act = Action{}
	}
	c.act = act
	c.ev.Fault = act.Fault
	if act.Kind != ActShutdown { // said at its exit, when the shutdown returned
		t.acted(Report{Fault: fault, Err: err, Signaled: n})
	}
	switch {
	case act.Kind == ActFail:
		c.ev.Ret, c.ev.Errno = -1, sysent.ErrnoName(int(act.Errno))
		if c.ent.Class == sysent.Connect && c.ep != nil && !connecting(int64(act.Errno)) {
			// The node sees a refusal like the kernel's, and its next
			// dial is named as it would be then.
			t.connectFailed(c, c.ep)
		}
		t.skipped(th)
	case act.Kind == ActReturn:
		setRet(&c.ev, act.Ret)
		if c.ent.Class == sysent.Send && act.Ret > 0 {
			t.payload(th, c, act.Ret)
			c.ev.Offset = -1
		}
		t.skipped(th)
	case c.ent.Class == sysent.Exit:
		t.skipped(th) // no exit stop comes
	case act.Kind == ActHold:
		t.hold(th, act.Hold)
	case c.ent.Class == sysent.Clone:
		// The clone event follows; its row is written there.
		t.resume(th, 0)
	default:
		t.resumeToExit(th)
	}
}

// shorten makes the write c is entering ask for n bytes (its count is
// argument 2 of write and pwrite64; a vectored write has no one count).
func shorten(tid int, c *call, n int64) error {
	if c.ent.Name != "write" && c.ent.Name != "pwrite64" {
		return fmt.Errorf("a short %s is not supported (write and pwrite64 only)", c.ent.Name)
	}
	if n <= 0 || uint64(n) >= c.args[2] {
		return fmt.Errorf("a short write of %d bytes of %d", n, c.args[2])
	}
	a := c.args
	a[2] = uint64(n)
	return ptrace.ReplaceSyscall(tid, uint64(c.ent.Nr), a[:]...)
}

// skipped writes the row of a call that is done at its entry.
func (t *Tracer) skipped(th *thread) {
	th.inCall = false
	t.emit(th, &th.call.ev)
	t.resume(th, 0)
}

// shutdownExit completes a call an ActShutdown replaced by shutdown(2),
// whose result is rval: the caller sees the Action's Ret. A shutdown that
// failed (the socket was not connected) did not act: the caller sees its
// error, and the row is unmarked.
func (t *Tracer) shutdownExit(th *thread, rval int64) {
	c := &th.call
	err := error(nil)
	if rval < 0 && rval > -4096 {
		err = fmt.Errorf("shutdown: %s", errnoName(rval))
	} else {
		err = ptrace.SetReturn(th.tid, c.act.Ret)
		rval = c.act.Ret
	}
	setRet(&c.ev, rval)
	if err != nil {
		c.ev.Fault = ""
	}
	t.acted(Report{Fault: c.act.Fault, Err: err})
	t.emit(th, &c.ev)
	t.resume(th, 0)
}

// applyExit carries out a Hook's exit decision on th's call.
func (t *Tracer) applyExit(th *thread, act Action) {
	c := &th.call
	err := t.unstopped(act)
	n := 0
	switch {
	case err != nil:
	case act.Kind == ActReturn:
		if err = ptrace.SetReturn(th.tid, act.Ret); err == nil {
			setRet(&c.ev, act.Ret)
		}
	case act.Kind == ActSignal:
		n, err = t.signalAct(th, act)
	}
	if act.Fault == "" {
		return
	}
	if err == nil {
		c.ev.Fault = act.Fault
	}
	t.acted(Report{Fault: act.Fault, Err: err, Signaled: n})
}

// errUnstopped is why an action on a call that did not stop (a Backend's
// record, with Stops) is not carried out.
var errUnstopped = errors.New("the call ran without a stop (not among the run's stops)")

// unstopped says why act cannot act on the call being handled: it is a
// Backend's record, the call done already.
func (t *Tracer) unstopped(act Action) error {
	if t.rec != nil && act.Kind != ActNone {
		return errUnstopped
	}
	return nil
}

// acted tells the Hook what became of a fault.
func (t *Tracer) acted(r Report) {
	if t.cfg.Hook != nil && r.Fault != "" {
		t.cfg.Hook.Acted(r)
	}
}

// downedBy returns the signal a Hook stopped or killed node (or a node it
// belongs to) with, or 0: a process born to it since, from a fork that was
// under way as the signal went out, gets the same (the kernel did not send
// it: the signal was for the processes there were).
func (t *Tracer) downedBy(node string) syscall.Signal {
	for n, sig := range t.downed {
		if node == n || strings.HasPrefix(node, n+"/") {
			return sig
		}
	}
	return 0
}
