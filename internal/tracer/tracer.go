//go:build linux && amd64

// Package tracer records what an unmodified multi-process system does on
// sockets, pipes and the files of the run's folder (Config.Files), as
// format.Event rows in stable names (the README's
// "Stable names"): node, thread, seq, endpoint and connection names that
// are the same in two runs that did the same thing, whatever the pids, fds
// and ports.
//
// One goroutine, locked to one OS thread, owns every ptrace call: it starts
// the traced processes (through the ptrace package's shim, which installs a
// seccomp filter so only the recorded calls stop), follows fork, clone and
// exec, keeps a descriptor table per process and turns each recorded call
// (entry and exit) into one row. Each class of calls (sysent.Class) has
// its handler (handlers.go): what its entry and its exit do to the model
// and to the row. Rows go to a channel; encoding and writing happen
// elsewhere. A Hook may change calls (fault injection): it decides, the
// tracer acts (act.go).
//
// With a Backend (Config.Backend: the eBPF recorder of package ebpfrec),
// nothing stops: the same goroutine turns the backend's records (a call's
// exit with its arguments, the memory it pointed to and its payload hash;
// the entry of calls others depend on; forks, execs and ends) into the
// same rows, through the same code. Memory reads are answered from the
// record (readMem), and the socket addresses the kernel gave with it
// (inspect); the rest of the model does not know which recorder runs.
// With a Backend and Stops (an injected run, pain-inject -backend ebpf),
// the calls a Hook can act on stop as under ptrace, and the rest is
// recorded by the Backend (stops.go).
//
// Decisions not fixed by the naming rules:
//   - a pipe() or socketpair() named <node>:<thread>:s<k> gives its two ends
//     the local names <name>.0 and <name>.1 (fds[0], fds[1]); conn is <name>.
//   - datagram rows have conn "<sender>><receiver>" and offset -1.
//   - descriptors the run inherited from outside (stdin, stdout, stderr) and
//     descriptors received with SCM_RIGHTS are not followed.
//   - sendfile and splice rows say in arg which side of the call their fd
//     is: "in" (bytes leave it: a receive) or "out" (bytes enter it: a
//     send). Between two followed descriptors they give two rows (in, then
//     out). Their payload_hash is 0: the bytes never reach user memory.
//   - recvmmsg and sendmmsg give one row; ret counts messages, the offset
//     advances by the bytes of all of them.
//   - a call interrupted by a signal and restarted by the kernel
//     (ERESTART*) gets no row; its restart gets one.
//   - calls still blocked when their thread dies get no row, unless a
//     Hook's fault acted on them (ret -1, errno EINTR).
//   - accept rows name the listener in arg.
//   - send, receive and accept calls failing with EAGAIN (non-blocking
//     polling: no byte moved, no connection made, a count that depends only
//     on timing) get no row, unless a Hook's fault acted on them.
//   - unix stream sockets connected from an unnamed socket are matched to
//     their accept by the kernel's word (sock_diag: the accepted socket's
//     peer inode; for a connector that closed already, the listener's
//     queue in order), else by the connecting process (SO_PEERCRED) and
//     connect order.
//   - a TCP or UDP socket that connects or sends unbound stays pending
//     until the tracer learns its port (its connect or send returns, or
//     the other end's accept or receive misses and pidfd_getfd +
//     getsockname finds it bound); a miss never drops a socket whose call
//     has not run yet.
//   - a datagram received without a source address (recvfrom with a NULL
//     address, unnamed unix senders) is matched to its traced sender by
//     payload hash and size, oldest first; one received with an address,
//     to the oldest traced sender from that address with its hash and
//     size, so a socket that took over a closed sender's port is not named
//     for the datagrams the old one left queued.
//   - tgkill/tkill of SIGURG (the Go runtime preempting its own threads) is
//     neither traced nor recorded.
//
// Limits: one ptrace thread traces every node; the seccomp filter sets
// no_new_privs, so set-user-ID programs run without their privileges; a
// Go program's goroutines move between OS threads, so its thread names
// (not its node and endpoint names) depend on scheduling; io_uring and
// descriptors passed over unix sockets are not followed.
//
// Only linux/amd64 is supported.
package tracer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/ptrace"
	"github.com/boxofpain/pain/internal/sysent"
)

// Config configures a Tracer.
type Config struct {
	Hook Hook
	// Restart starts a node again from its command line, for a Hook's
	// action that restarts a node it killed (Later.Restart). It is called
	// off the ptrace thread, so it may start processes through the tracer.
	Restart func(node string) error
	// Payload is how many bytes of each transfer to keep in the payload
	// column (0: none; the hash is always computed).
	Payload int
	// OnListen is called (on the ptrace thread; it must not block) the
	// first time a node calls listen() successfully.
	OnListen func(node string)
	// Warn receives warnings (no seccomp, ...). Nil discards them.
	Warn func(msg string)
	// NoSeccomp forces PTRACE_SYSCALL mode (every call stops).
	NoSeccomp bool
	// Setup, when set, runs on the ptrace thread before it starts any
	// process, so every process the tracer starts inherits what it changes
	// in that thread (its network namespace, for launch's -netns). New
	// returns its error.
	Setup func() error
	// Files are the folders whose files get rows (opens, reads and writes
	// with their offsets, syncs, renames, ...), each named in them by its
	// root's Name; none: no file gets a row. Files are followed under
	// ptrace only.
	Files []FileRoot
	// Backend, when set, records without stopping the processes (eBPF)
	// instead of ptrace. It cannot be used with a Payload prefix, nor with
	// a Hook unless Stops says where the processes stop for it.
	Backend Backend
	// Stops, with a Backend and a Hook, are the only calls that stop
	// (stops.go): an injected run recorded by the Backend.
	Stops *Stops
	// ProcessThreads names all threads of a process as its first thread,
	// with one row sequence, and writes no clone, start or exited rows for
	// threads (processes still get them). For runtimes whose work moves
	// between OS threads (Go, the JVM), where per-thread names depend on
	// scheduling: the rows of a process are then in the order the tracer
	// saw them, each thread's own order kept.
	ProcessThreads bool
	// AutoThreads does the same for the processes of Go programs and
	// JVMs alone (detected at their exec: goRuntime), whose schedulers
	// move work between OS threads at will.
	AutoThreads bool
}

// Spec is a process to start.
type Spec struct {
	Node string   // node name
	Argv []string // command and arguments; Argv[0] is looked up in PATH
	Dir  string
	Env  []string // nil: the tracer's environment
	// Stdin, Stdout, Stderr default to /dev/null, os.Stderr, os.Stderr.
	Stdin, Stdout, Stderr *os.File
	// SplitExec names a forked child that execs as a new node
	// "<parent node>/<basename>.<k>" (the `-- CMD` convention); otherwise
	// every descendant stays in Node.
	SplitExec bool
	// Untraced starts a plain process the tracer only reaps.
	Untraced bool
	// Thread names the root thread (default "main"); a node restarted
	// while its earlier rows exist needs a fresh one to keep (node,
	// thread, seq) unique.
	Thread string
	// Cgroup, when set, is the folder of the cgroup v2 the process starts
	// in (a node's own, for a silent partition: package netcut). Not for
	// Untraced.
	Cgroup *os.File
}

// Proc is a started process.
type Proc struct {
	Node   string
	Pid    int
	done   chan struct{}
	status syscall.WaitStatus
}

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Status is the process's wait status, valid once Done is closed.
func (p *Proc) Status() syscall.WaitStatus { return p.status }

// ExitCode is the exit status, or 128+signal for a killed process.
func (p *Proc) ExitCode() int {
	if p.status.Signaled() {
		return 128 + int(p.status.Signal())
	}
	return p.status.ExitStatus()
}

// Tracer traces the processes it starts and all their descendants.
type Tracer struct {
	cfg     Config
	events  chan []format.Event
	free    chan []format.Event // batches the consumer is done with (Recycle)
	cmds    chan func()
	waker   atomic.Int32 // pid of the wake-up child
	start   time.Time
	done    chan struct{}
	seccomp bool

	rows atomic.Int64
	// restarting counts the restarts a Hook's actions scheduled that have
	// not returned yet (Restarting).
	restarting atomic.Int32
	flushed    atomic.Int64 // rows handed to the consumer

	wakerGone atomic.Bool

	// Everything below is owned by the ptrace thread.
	threads    map[int]*thread
	procs      map[int]*process
	nodes      map[string]*node
	early      map[int]bool    // new tracees stopped before their parent's event
	ghosts     map[int]bool    // new tracees that died before their parent's event
	goPaths    map[string]bool // executables known to be Go programs, or not (goRuntime)
	untraced   map[int]*Proc
	deadNames  map[int]string // exited tgid -> <node>/<thread>, until reaped
	byAddr     map[string]*endpoint
	recent     recentNames
	unresolved []*endpoint
	closing    bool
	killed     map[string]bool           // nodes a Hook killed for good
	downed     map[string]syscall.Signal // nodes a Hook stopped (until SIGCONT) or killed (until started again)
	timers     []*time.Timer             // a Hook's pending Later actions
	unfollow   map[string]bool           // writes seen that the trace cannot show
	pending    []format.Event
	buf        []byte
	unseen     bool  // a traced process may write where the tracer cannot see (flight.go)
	flightHits int64 // receives hashed from their sender's bytes
	si         ptrace.SyscallInfo

	// With a Backend: the record being handled, its time, the monotonic
	// clock at start, and a signal to the reaper that a child was started.
	be        Backend
	rec       *Record
	ended     map[int]ending // threads the reaper saw end, their records awaited
	mono      int64
	monoStart int64
	children  chan struct{}
}

// New starts a tracer: its ptrace thread and its wake-up child.
func New(cfg Config) (*Tracer, error) {
	t := &Tracer{
		cfg:       cfg,
		events:    make(chan []format.Event, 16),
		free:      make(chan []format.Event, 4),
		pending:   make([]format.Event, 0, batchRows),
		cmds:      make(chan func(), 64),
		start:     time.Now(),
		done:      make(chan struct{}),
		threads:   map[int]*thread{},
		procs:     map[int]*process{},
		nodes:     map[string]*node{},
		early:     map[int]bool{},
		ghosts:    map[int]bool{},
		goPaths:   map[string]bool{},
		untraced:  map[int]*Proc{},
		deadNames: map[int]string{},
		byAddr:    map[string]*endpoint{},
		killed:    map[string]bool{},
		unfollow:  map[string]bool{},
		downed:    map[string]syscall.Signal{},
		buf:       make([]byte, 64<<10),
		seccomp:   !cfg.NoSeccomp && ptrace.SeccompAvailable(),
	}
	if cfg.Backend != nil {
		return t.newBackend(cfg)
	}
	if h, ok := cfg.Hook.(FileRootsHook); ok {
		h.FileRoots(cfg.Files)
	}
	if !t.seccomp {
		t.warn("seccomp-bpf unavailable: every system call stops (slow)")
	}
	// Orphaned tracees become our children, so we reap them.
	if err := ptrace.SetChildSubreaper(); err != nil {
		t.warn(fmt.Sprintf("cannot become child subreaper: %v", err))
	}
	if err := ptrace.QuietStops(); err != nil {
		t.warn(fmt.Sprintf("cannot quiet SIGCHLD: %v", err))
	}
	errc := make(chan error, 1)
	go t.loop(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	return t, nil
}

func (t *Tracer) warn(msg string) {
	if t.cfg.Warn != nil {
		t.cfg.Warn(msg)
	}
}

// StartTime returns the time the tracer started; time_ns counts from it.
func (t *Tracer) StartTime() time.Time { return t.start }

// Events returns the rows in batches, in the order the tracer saw them.
// A batch goes out when it is full or at least every flushEvery, so the
// ptrace thread never wakes the consumer for each row. The caller must
// drain the channel until it is closed (after Close); while it does not,
// the tracer (and so the traced system) waits: memory stays bounded.
func (t *Tracer) Events() <-chan []format.Event { return t.events }

// Recycle gives back a batch received from Events that the caller is done
// with (it keeps no reference into it): the tracer fills it again instead
// of allocating a new one, which spares the garbage collector a batch
// (about 300 KB) every 1,024 rows.
func (t *Tracer) Recycle(batch []format.Event) {
	select {
	case t.free <- batch[:0]:
	default:
	}
}

// Rows returns how many rows have been emitted so far.
func (t *Tracer) Rows() int64 { return t.rows.Load() }

const (
	batchRows  = 1024
	flushEvery = 100 * time.Millisecond
)

// flush hands the pending rows to the consumer.
func (t *Tracer) flush() {
	if len(t.pending) == 0 {
		return
	}
	t.events <- t.pending
	t.flushed.Store(t.rows.Load())
	select {
	case t.pending = <-t.free:
	default:
		t.pending = make([]format.Event, 0, batchRows)
	}
}

// do runs f on the ptrace thread and waits for it.
func (t *Tracer) do(f func()) error {
	done := make(chan struct{})
	select {
	case t.cmds <- func() { f(); close(done) }:
	case <-t.done:
		return errors.New("tracer closed")
	}
	t.wake()
	select {
	case <-done:
		return nil
	case <-t.done:
		return errors.New("tracer closed")
	}
}

// post queues f for the ptrace thread without waiting.
func (t *Tracer) post(f func()) {
	select {
	case t.cmds <- f:
		t.wake()
	case <-t.done:
	}
}

func (t *Tracer) wake() {
	if t.be == nil && !t.wakerGone.Load() {
		ptrace.Wake(int(t.waker.Load()))
	}
}

// Start starts a process described by s.
func (t *Tracer) Start(s Spec) (*Proc, error) {
	if len(s.Argv) == 0 {
		return nil, errors.New("no command")
	}
	env := s.Env
	if env == nil {
		env = os.Environ()
	}
	path, err := lookPath(s.Argv[0], env)
	if err != nil {
		return nil, err
	}
	files := []*os.File{s.Stdin, s.Stdout, s.Stderr}
	if files[0] == nil {
		f, err := os.Open(os.DevNull)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		files[0] = f
	}
	for i := 1; i < 3; i++ {
		if files[i] == nil {
			files[i] = os.Stderr
		}
	}
	attr := ptrace.Attr{Path: path, Argv: s.Argv, Env: env, Dir: s.Dir,
		Files: []uintptr{files[0].Fd(), files[1].Fd(), files[2].Fd()}, Cgroup: s.Cgroup}
	p := &Proc{Node: s.Node, done: make(chan struct{})}
	var serr error
	err = t.do(func() {
		if t.closing {
			serr = errors.New("tracer closing")
			return
		}
		if s.Untraced {
			p.Pid, serr = ptrace.StartPlain(attr)
			if serr == nil {
				t.untraced[p.Pid] = p
				if t.be != nil {
					select {
					case t.children <- struct{}{}:
					default:
					}
				}
			}
			return
		}
		switch {
		case t.be != nil && t.cfg.Stops.has(s.Node):
			p.Pid, serr = ptrace.StartStopping(attr, t.be.Admit, t.cfg.Stops.Calls)
		case t.be != nil:
			p.Pid, serr = ptrace.StartGated(attr, t.be.Admit)
		}
		if t.be != nil {
			select {
			case t.children <- struct{}{}:
			default:
			}
		} else {
			p.Pid, serr = ptrace.StartTraced(attr, t.seccomp)
		}
		if serr == nil {
			t.started(p, s, path)
		}
	})
	runtime.KeepAlive(files)
	if err == nil {
		err = serr
	}
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", s.Argv[0], err)
	}
	return p, nil
}

// started adds the root process p of s, just started, to the model.
func (t *Tracer) started(p *Proc, s Spec, path string) {
	delete(t.downed, s.Node) // started again after a crash
	n := t.node(s.Node)
	pr := &process{tgid: p.Pid, node: n, pidfd: -1, shim: true, split: s.SplitExec, root: p, rootPath: path}
	n.procs[p.Pid] = pr
	t.procs[p.Pid] = pr
	name := s.Thread
	if name == "" {
		name = "main"
	}
	t.threads[p.Pid] = &thread{tid: p.Pid, proc: pr, name: name, counters: &counters{}, fds: newFDTable()}
	pr.threads = 1
}

// Signal sends sig to every process of node (every traced process when node
// is empty).
func (t *Tracer) Signal(node string, sig syscall.Signal) {
	t.do(func() { t.signalNode(node, sig) })
}

// Teardown writes the teardown mark (format.EventTeardown): every row
// after it in the trace happened after it, on the one ptrace thread, and
// is no part of the run's schedule. The launcher calls it as it begins to
// stop the nodes.
func (t *Tracer) Teardown() {
	t.do(func() {
		e := procEvent(format.EventTeardown)
		e.Node, e.Thread, e.TimeNS = format.NoNode, format.NoNode, t.now()
		t.queue(&e)
	})
}

// Live returns the number of traced processes still running.
func (t *Tracer) Live() int {
	n := 0
	t.do(func() { n = len(t.procs) })
	return n
}

// NodeLive returns the number of traced processes of node still running
// (0 once its last one is reaped: a node started again after that names
// its listeners and sockets afresh).
func (t *Tracer) NodeLive(node string) int {
	n := 0
	t.do(func() {
		if nd := t.nodes[node]; nd != nil {
			n = len(nd.procs)
		}
	})
	return n
}

// Close kills every process still running, waits until all are gone and
// reaped, stops the ptrace thread and closes Events.
func (t *Tracer) Close() error {
	t.do(func() {
		t.closing = true
		for _, tm := range t.timers {
			tm.Stop()
		}
		t.killAll()
	})
	<-t.done
	return nil
}

func (t *Tracer) killAll() {
	for _, p := range t.procs {
		ptrace.Kill(p.tgid, syscall.SIGKILL)
		ptrace.Kill(-p.tgid, syscall.SIGKILL)
	}
	for pid := range t.untraced {
		ptrace.Kill(-pid, syscall.SIGKILL)
		ptrace.Kill(pid, syscall.SIGKILL)
	}
	if w := int(t.waker.Load()); w > 0 {
		ptrace.Kill(w, syscall.SIGKILL)
	}
}

func (t *Tracer) node(name string) *node {
	n := t.nodes[name]
	if n == nil {
		n = &node{name: name, procs: map[int]*process{}}
		t.nodes[name] = n
	}
	return n
}

// loop is the ptrace thread.
func (t *Tracer) loop(errc chan<- error) {
	// Never unlocked: the thread dies with this goroutine, and with it the
	// Pdeathsig of every process it started.
	runtime.LockOSThread()
	defer close(t.done)
	defer close(t.events)
	if t.cfg.Setup != nil {
		if err := t.cfg.Setup(); err != nil {
			errc <- err
			return
		}
	}
	w, err := ptrace.StartWaker()
	if err != nil {
		errc <- fmt.Errorf("start wake-up child: %w", err)
		return
	}
	t.waker.Store(int32(w))
	errc <- nil
	defer t.flush()
	stopTick := make(chan struct{})
	defer close(stopTick)
	go func() {
		tick := time.NewTicker(flushEvery)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if t.rows.Load() != t.flushed.Load() {
					t.post(t.flush)
				}
			case <-stopTick:
				return
			}
		}
	}()
	var ws ptrace.WaitStatus
	for {
		t.drain()
		tid, err := ptrace.Wait(&ws)
		if err != nil {
			if err == syscall.ECHILD && t.closing {
				return
			}
			if err == syscall.ECHILD {
				// Nothing to wait for (the waker died?): wait for commands.
				f := <-t.cmds
				f()
				continue
			}
			t.warn(fmt.Sprintf("wait: %v", err))
			continue
		}
		t.handle(tid, ws)
	}
}

func (t *Tracer) drain() {
	for {
		select {
		case f := <-t.cmds:
			f()
		default:
			return
		}
	}
}

func (t *Tracer) handle(tid int, ws ptrace.WaitStatus) {
	if tid == int(t.waker.Load()) {
		if ws.Stopped() {
			ptrace.Cont(tid, 0)
			return
		}
		// Reaped: its pid may be reused, so never signal it again.
		t.wakerGone.Store(true)
		if !t.closing {
			// Someone killed it: commands need a new one.
			if w, err := ptrace.StartWaker(); err == nil {
				t.waker.Store(int32(w))
				t.wakerGone.Store(false)
			} else {
				t.warn(fmt.Sprintf("cannot restart the wake-up child: %v", err))
			}
		}
		return
	}
	if ws.Exited() || ws.Signaled() {
		t.gone(tid, ws)
		return
	}
	if !ws.Stopped() {
		return
	}
	th := t.threads[tid]
	if th == nil {
		// A new thread or process reporting before its parent's clone event.
		t.early[tid] = true
		return
	}
	sig := ws.StopSignal()
	switch ev := ptrace.Event(ws); {
	case sig == ptrace.SyscallTrap:
		t.syscallStop(th)
	case ev == ptrace.EventSeccomp:
		t.syscallStop(th)
	case ev == ptrace.EventClone || ev == ptrace.EventFork || ev == ptrace.EventVfork:
		t.cloned(th, ev)
	case ev == ptrace.EventExec:
		t.execed(th)
	case ev == ptrace.EventStop:
		switch sig {
		case syscall.SIGSTOP, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
			// Group-stop: stay stopped, but keep reporting (SIGCONT).
			ptrace.Listen(tid)
		default:
			t.resume(th, 0)
		}
	case ev != 0:
		t.resume(th, 0)
	default:
		// Signal-delivery-stop: deliver it.
		t.resume(th, int(sig))
	}
}

// resume restarts a stopped thread until its next interesting stop.
func (t *Tracer) resume(th *thread, sig int) {
	if th.held || t.be != nil && !th.stopped {
		return
	}
	if th.stopped {
		th.stopped = false
		th.spans[len(th.spans)-1].to = ptrace.Monotonic()
	}
	if t.seccomp || th.proc.shim {
		ptrace.Cont(th.tid, sig)
	} else {
		ptrace.Syscall(th.tid, sig)
	}
}

// resumeToExit restarts a thread so that it stops again at the exit of the
// call it is entering.
func (t *Tracer) resumeToExit(th *thread) {
	if th.held || t.be != nil && !th.stopped {
		return
	}
	ptrace.Syscall(th.tid, 0)
}

func (t *Tracer) syscallStop(th *thread) {
	if err := ptrace.GetSyscallInfo(th.tid, &t.si); err != nil {
		t.resume(th, 0)
		return
	}
	switch t.si.Op {
	case ptrace.OpSeccomp, ptrace.OpEntry:
		t.entry(th, &t.si)
	case ptrace.OpExit:
		t.exit(th, &t.si)
	default:
		t.resume(th, 0)
	}
}

// lookPath finds file in the PATH of env.
func lookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		if _, err := os.Stat(file); err != nil {
			return "", err
		}
		return file, nil
	}
	path := ""
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			path = kv[5:]
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: command not found", file)
}

// errnoName returns the errno name of a failed return value.
func errnoName(rval int64) string { return sysent.ErrnoName(int(-rval)) }
