//go:build linux && amd64

package tracer

import (
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/ptrace"
	"github.com/boxofpain/pain/internal/sysent"
)

type node struct {
	name     string
	procs    map[int]*process
	listens  int // listen<k> counter
	binds    int // bind<k> counter
	listened bool
	execs    map[string]int // new child node names used, for collisions
}

type process struct {
	tgid     int
	node     *node
	pidfd    int
	shim     bool // still the launcher shim: nothing is recorded before its exec
	split    bool // fork children that exec become nodes of their own
	forked   bool // a fork child that has not exec'd yet
	root     *Proc
	rootPath string
	threads  int
	merged   bool // its threads are named as one (Config.ProcessThreads, AutoThreads)
}

type thread struct {
	tid  int
	proc *process
	name string
	*counters
	fds  *fdTable
	held bool
	// stopped: the thread is at, or between, the stops of a call an
	// injected run recorded by a Backend stops at (Config.Stops); spans
	// are when such calls ran (stops.go): the Backend's records of them
	// are not used.
	stopped bool
	spans   []span

	inCall     bool
	call       call
	cloneFlags uint64
	execPath   string
}

// counters number a thread's rows, children and sockets. Threads share
// them when a process's threads are named as one (process.merged).
type counters struct {
	seq   int64
	kids  int // clone ordinal counter
	socks int // s<k> counter
	// Ordinals below socks that sockets whose first connect failed gave
	// back (giveBackSock), lowest first: the next sockets take them.
	freeSocks []int
}

// call is a recorded call between its entry and exit stops.
type call struct {
	ent    *sysent.Entry
	args   [6]uint64
	ev     format.Event
	ep     *endpoint
	ep2    *endpoint // the other side of sendfile/splice
	dir    int
	act    Action
	hook   Call   // what the Hook sees of it
	addr   string // sockaddr argument read at entry; an open's absolute path
	flags  uint64 // an open's flags
	fd2    int32
	ignore bool // bookkeeping only (dup): no row

	dgramHashed bool // a datagram send hashed at entry
	dgramSize   int64
	entryNS     int64 // time of the entry stop, as time_ns counts
}

func (th *thread) id() string { return th.proc.node.name + "/" + th.name }

// emit stamps e with the thread's identity and next seq and queues it.
// The row of the thread's current call gets its duration from the entry.
func (t *Tracer) emit(th *thread, e *format.Event) {
	t.stamp(th, e)
	th.seq++
	e.TimeNS = t.now()
	if e == &th.call.ev {
		e.DurNS = e.TimeNS - th.call.entryNS
	}
	t.queue(e)
}

// stamp fills the identity fields of a row for thread th.
func (t *Tracer) stamp(th *thread, e *format.Event) {
	e.Node = th.proc.node.name
	e.Thread = th.name
	e.Seq = th.seq
	e.PID = int32(th.proc.tgid)
	e.TID = int32(th.tid)
}

// now is the time of the stop or record being handled, in ns since the
// start: to the microsecond under ptrace (Resolution), to the nanosecond
// the kernel stamped a Backend's record with.
func (t *Tracer) now() int64 {
	if t.be != nil {
		return t.mono - t.monoStart
	}
	return time.Since(t.start).Truncate(ptraceResolution).Nanoseconds()
}

// ptraceResolution is the resolution of times under ptrace. The tracer
// reads the clock when it handles a stop, microseconds after the tracee
// stopped (a wake-up, a context switch), so the nanoseconds below the
// microsecond say nothing of the call; dropped, they cost no space in the
// trace: W1 of make bench took 9.6 to 11 bytes a row with them, about 8
// without (zstd finds no pattern in noise).
const ptraceResolution = time.Microsecond

// Resolution returns the resolution of the rows' times: a microsecond
// under ptrace, a nanosecond with a Backend.
func (t *Tracer) Resolution() time.Duration {
	if t.be != nil {
		return time.Nanosecond
	}
	return ptraceResolution
}

func (t *Tracer) queue(e *format.Event) {
	if t.cfg.Hook != nil {
		t.cfg.Hook.Observe(e)
	}
	t.pending = append(t.pending, *e)
	t.rows.Add(1)
	if len(t.pending) >= batchRows {
		t.flush()
	}
}

func procEvent(name string) format.Event {
	return format.Event{Syscall: name, FD: -1, Offset: -1}
}

// cloned handles PTRACE_EVENT_CLONE/FORK/VFORK in the parent thread.
func (t *Tracer) cloned(th *thread, ev int) {
	msg, err := ptrace.EventMsg(th.tid)
	if err != nil {
		t.resume(th, 0)
		return
	}
	t.clonedTid(th, ev, int(msg))
}

// clonedTid handles the birth of thread or process ctid, made by th.
func (t *Tracer) clonedTid(th *thread, ev int, ctid int) {
	flags := th.cloneFlags
	th.cloneFlags = 0
	name := th.call.ev.Syscall
	if !th.inCall || th.call.ent == nil || th.call.ent.Class != sysent.Clone {
		name = map[int]string{ptrace.EventClone: "clone", ptrace.EventFork: "fork", ptrace.EventVfork: "vfork"}[ev]
	}
	th.inCall = false
	if ev == ptrace.EventVfork {
		flags |= ptrace.CloneVM | ptrace.CloneVfork
	}
	th.kids++
	child := &thread{tid: ctid, name: th.name + "." + strconv.Itoa(th.kids), counters: &counters{}}
	p := th.proc
	merged := p.merged && flags&ptrace.CloneThread != 0
	if merged {
		// One name, one row sequence for all threads of the process.
		child.name, child.counters = th.name, th.counters
	}
	if flags&ptrace.CloneThread != 0 {
		child.proc = p // a new thread joins its process's group stop, or death
	} else {
		child.proc = &process{tgid: ctid, node: p.node, pidfd: -1, split: p.split, forked: true, merged: p.merged}
		p.node.procs[ctid] = child.proc
		t.procs[ctid] = child.proc
		if sig := t.downedBy(p.node.name); sig != 0 {
			ptrace.Kill(ctid, sig)
		}
	}
	child.proc.threads++
	if flags&ptrace.CloneFiles != 0 {
		child.fds = th.fds
		th.fds.users++
	} else {
		child.fds = t.fdCopy(child.proc, th.fds)
	}
	if !merged {
		row := procEvent(name)
		row.Ret = int64(ctid)
		row.Peer = child.id()
		t.emit(th, &row)
		start := procEvent(format.EventStart)
		start.Peer = th.id()
		t.emit(child, &start)
	}
	if t.ghosts[ctid] && ptrace.Tgkill(child.proc.tgid, ctid, 0) != nil {
		// Died before we heard of it.
		delete(t.ghosts, ctid)
		t.threadGone(child, 0, false)
	} else {
		delete(t.ghosts, ctid)
		t.threads[ctid] = child
		if t.early[ctid] {
			delete(t.early, ctid)
			t.resume(child, 0)
		}
	}
	t.resume(th, 0)
}

// execed handles PTRACE_EVENT_EXEC.
func (t *Tracer) execed(th *thread) {
	former := th.tid
	if msg, err := ptrace.EventMsg(th.tid); err == nil {
		former = int(msg)
	}
	t.execedFrom(th, former)
}

// execedFrom handles a completed exec by th, which had tid msg before it.
func (t *Tracer) execedFrom(th *thread, msg int) {
	p := th.proc
	if msg != th.tid {
		// A non-leader thread exec'd: it takes over the leader's tid.
		former := int(msg)
		if old := t.threads[th.tid]; old != nil && old != th {
			t.dropThread(old)
		}
		delete(t.threads, former)
		th.tid = int(msg)
		t.threads[th.tid] = th
	}
	xpath := th.execPath
	th.execPath = ""
	if p.shim {
		t.shimExeced(th, xpath)
		return
	}
	// The execve row, in the identity the thread had before.
	if th.inCall && th.call.ent != nil && th.call.ent.Class == sysent.Exec {
		e := &th.call.ev
		e.Ret = 0
		e.Arg = xpath
		t.emit(th, e)
		th.inCall = false
	}
	t.closeOnExec(th)
	t.execedProgram(p, xpath)
	if p.split && p.forked {
		t.splitNode(th, xpath)
	}
	p.forked = false
	t.resume(th, 0)
}

// shimExeced starts recording a process the tracer started, now that its
// launcher shim has exec'd the real program.
func (t *Tracer) shimExeced(th *thread, xpath string) {
	p := th.proc
	p.shim = false
	if t.be == nil {
		ptrace.SetOptions(th.tid, ptrace.Options)
	}
	if xpath == "" {
		xpath = p.rootPath
	}
	t.execedProgram(p, xpath)
	th.inCall = false
	start := procEvent(format.EventStart)
	start.Arg = xpath
	t.emit(th, &start)
	t.resume(th, 0)
}

// closeOnExec forgets the descriptors an exec closed: the thread gets a
// table of its own, and keeps only what is still open.
func (t *Tracer) closeOnExec(th *thread) {
	if th.fds.users > 1 {
		th.fds.users--
		th.fds = t.fdCopy(th.proc, th.fds)
	}
	if t.be != nil {
		// The process runs on: /proc would show descriptors it opened
		// since. Close-on-exec ones are gone.
		for fd, e := range th.fds.fds {
			if e.cloexec {
				t.fdClose(th.fds, fd)
			}
		}
		return
	}
	ents, err := os.ReadDir("/proc/" + strconv.Itoa(th.tid) + "/fd")
	if err != nil {
		return
	}
	open := map[int32]bool{}
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			open[int32(n)] = true
		}
	}
	for fd := range th.fds.fds {
		if !open[fd] {
			t.fdClose(th.fds, fd)
		}
	}
}

// splitNode makes a forked child that exec'd a node of its own,
// "<parent node>/<basename>.<k>" (Spec.SplitExec).
func (t *Tracer) splitNode(th *thread, xpath string) {
	p := th.proc
	prev := th.id()
	k := th.name[strings.LastIndexByte(th.name, '.')+1:]
	name := p.node.name + "/" + path.Base(pathOr(xpath, "exec")) + "." + k
	if p.node.execs == nil {
		p.node.execs = map[string]int{}
	}
	p.node.execs[name]++
	if c := p.node.execs[name]; c > 1 {
		name += "~" + strconv.Itoa(c)
	}
	delete(p.node.procs, p.tgid)
	p.node = t.node(name)
	p.node.procs[p.tgid] = p
	th.name = "main"
	th.counters = &counters{}
	start := procEvent(format.EventStart)
	start.Peer = prev
	start.Arg = xpath
	t.emit(th, &start)
}

func pathOr(p, def string) string {
	if p == "" {
		return def
	}
	return p
}

// gone handles the death of a tracee thread (or of an untraced child).
func (t *Tracer) gone(tid int, ws ptrace.WaitStatus) {
	if p := t.untraced[tid]; p != nil {
		// What it left in its process group goes with it (where it had no
		// PID namespace to take them along).
		ptrace.Kill(-tid, syscall.SIGKILL)
		delete(t.untraced, tid)
		p.status = ws
		close(p.done)
		return
	}
	th := t.threads[tid]
	if th == nil {
		if t.early[tid] {
			delete(t.early, tid)
		}
		if _, ok := t.procs[tid]; !ok && !t.closing {
			// Possibly a new tracee whose parent's event is still to come.
			t.ghosts[tid] = true
			if len(t.ghosts) > 1024 {
				clear(t.ghosts)
			}
		}
		return
	}
	t.threadGone(th, ws, true)
}

func (t *Tracer) threadGone(th *thread, ws ptrace.WaitStatus, report bool) {
	delete(t.threads, th.tid)
	if th.proc.shim {
		// The shim failed before exec: no rows.
		report = false
	}
	if report && th.inCall && th.call.ev.Fault != "" && !th.call.ignore {
		// A call a fault acted on (say, a SIGKILL of its own node) that
		// never completed still gets its row, so the fault shows.
		e := &th.call.ev
		e.Ret, e.Errno = -1, "EINTR"
		th.inCall = false
		t.emit(th, e)
	}
	if report && th.proc.merged && th.tid != th.proc.tgid {
		// Merged threads: only the process's end gets a row.
		report = false
	}
	if report {
		var row format.Event
		if ws.Signaled() {
			row = procEvent(format.EventSignaled)
			row.Arg = sysent.SignalName(int(ws.Signal()))
		} else {
			row = procEvent(format.EventExited)
			row.Ret = int64(ws.ExitStatus())
		}
		t.emit(th, &row)
	}
	p := th.proc
	t.fdRelease(th.fds)
	if th.tid == p.tgid && p.root != nil {
		p.root.status = ws
	}
	p.threads--
	if p.threads <= 0 {
		t.procGone(p, th)
		if p.root != nil {
			close(p.root.done)
			p.root = nil
		}
	}
}

func (t *Tracer) procGone(p *process, th *thread) {
	delete(t.procs, p.tgid)
	delete(p.node.procs, p.tgid)
	if len(p.node.procs) == 0 && t.nodes[p.node.name] == p.node {
		// Nothing can join an empty node: forget it, so memory stays
		// bounded when a shell runs a million commands.
		delete(t.nodes, p.node.name)
	}
	if p.pidfd >= 0 {
		ptrace.Close(p.pidfd)
		p.pidfd = -1
	}
	if len(t.deadNames) > 4096 {
		clear(t.deadNames)
	}
	t.deadNames[p.tgid] = th.id()
}

// dropThread forgets a thread that vanished without a report (a leader
// replaced by an exec'ing thread).
func (t *Tracer) dropThread(th *thread) {
	delete(t.threads, th.tid)
	t.fdRelease(th.fds)
	th.proc.threads--
}

// hold keeps th stopped for d, then resumes it towards its call's exit.
func (t *Tracer) hold(th *thread, d time.Duration) {
	th.held = true
	tid := th.tid
	time.AfterFunc(d, func() {
		t.post(func() {
			if cur := t.threads[tid]; cur == th && th.held {
				th.held = false
				t.resumeToExit(th)
			}
		})
	})
}

// nameOf returns <node>/<thread> of a traced tid or tgid, or "".
func (t *Tracer) nameOf(pid int) string {
	if th := t.threads[pid]; th != nil {
		return th.id()
	}
	return ""
}
