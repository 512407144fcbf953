//go:build linux && amd64

package tracer

import (
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"time"

	"github.com/boxofpain/pain/internal/ptrace"
	"github.com/boxofpain/pain/internal/sysent"
)

// A Backend records the calls of the processes the tracer starts without
// stopping them (the eBPF recorder, package ebpfrec). The tracer turns its
// records into the same rows, with the same stable names, as under ptrace;
// a Backend cannot change calls, so a Config with a Hook uses one only
// with Stops, where the calls a fault can act on stop (stops.go).
type Backend interface {
	// Admit makes the process pid, started but not yet exec'd, and all
	// its descendants recorded.
	Admit(pid int) error
	// Read returns the next records, in the order the kernel made them,
	// blocking until there are some; an error ends the records (after
	// Close).
	Read() ([]Record, error)
	// Close stops recording; Read then returns an error.
	Close() error
}

// RecordKind says what a Record reports.
type RecordKind uint8

const (
	RecEnter RecordKind = iota + 1 // a call's entry (calls EnterFirst says)
	RecExit                        // a call's exit, with its arguments
	RecFork                        // a new thread or process (Aux: tid, Aux2: tgid)
	RecExec                        // an exec completed (Aux: the former tid)
	RecGone                        // a thread ended (Aux: its wait status)
)

// Record is one event of a Backend.
type Record struct {
	Kind      RecordKind
	Mono      int64 // CLOCK_MONOTONIC ns
	EnterMono int64 // of the call's entry, for exit records; 0 unknown
	TGID      int
	TID       int
	Nr        uint64
	Args      [6]uint64
	Ret       int64
	Hashed    bool   // Hash and Bytes hold the payload hash and the bytes moved
	Inexact   bool   // not every byte was hashed (too many iovecs or messages)
	Hash      uint64 // FNV-1a 64 of the bytes moved
	Bytes     int64
	SockFD    int32  // the descriptor Local and Peer describe, -1 for none
	Local     string // its socket's local address, "" when unknown
	Peer      string // its socket's peer address
	Aux       int
	Aux2      int
	Blobs     []Blob // user memory the call pointed to, copied in the kernel
	Path      string // execve's path
	HavePath  bool
}

// Blob is a copy of the tracee's memory at Addr.
type Blob struct {
	Addr uint64
	Data []byte
}

// EnterFirst reports whether a backend reports the entry of call nr as a
// record of its own, before its exit: calls whose entry other threads'
// rows depend on (connect, clone, exec, exit, signals, close). Other calls
// come as one exit record. A close frees its descriptor before its exit
// record is made, so another thread of the process may get the number
// from socket or accept, and its record come first: the close, seen only
// at its exit, took the new socket away (its writes got no rows;
// TestExactness lost one write in about 1 run of 5).
func EnterFirst(e *sysent.Entry) bool {
	switch e.Class {
	case sysent.Connect, sysent.Clone, sysent.Exec, sysent.Exit, sysent.Kill, sysent.Close:
		return true
	}
	return false
}

// ErrMemory is returned for tracee memory a Record did not copy.
var ErrMemory = errors.New("tracee memory not recorded")

// readMem reads tracee memory: live under ptrace, from the record being
// handled under a Backend.
func (t *Tracer) readMem(tid int, addr uint64, buf []byte) (int, error) {
	if t.rec == nil {
		return ptrace.ReadMem(tid, addr, buf)
	}
	for _, b := range t.rec.Blobs {
		if addr >= b.Addr && addr+uint64(len(buf)) <= b.Addr+uint64(len(b.Data)) {
			return copy(buf, b.Data[addr-b.Addr:]), nil
		}
	}
	return 0, ErrMemory
}

// loopBackend is the tracer's thread with a Backend: it turns records into
// rows, runs commands and reaps children. It stays locked to its OS thread
// because it starts the processes (Pdeathsig follows the thread).
func (t *Tracer) loopBackend(errc chan<- error) {
	runtime.LockOSThread()
	defer close(t.done)
	defer close(t.events)
	defer t.flush()
	if t.cfg.Setup != nil {
		if err := t.cfg.Setup(); err != nil {
			errc <- err
			return
		}
	}
	errc <- nil
	// With Stops, this thread alone reads the records (drainRecords): at
	// each stop, and every pollEvery.
	recs, poll := t.readRecords(), (<-chan time.Time)(nil)
	if t.cfg.Stops != nil {
		p := time.NewTicker(pollEvery)
		defer p.Stop()
		poll = p.C
	}
	reaped := make(chan reap, 64)
	quit, reaperDone := make(chan struct{}), make(chan struct{})
	go t.reaper(reaped, quit, reaperDone)
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	for {
		if t.closing && len(t.procs) == 0 && len(t.untraced) == 0 {
			t.be.Close()
			if recs != nil {
				for range recs {
				}
			}
			// Not done before the reaper is: the records may end a
			// process before its wait status came, and a reaper still
			// in wait(-1) after Close would take the next tracer's.
			close(quit)
			<-reaperDone
			return
		}
		select {
		case f := <-t.cmds:
			f()
		case b, ok := <-recs:
			if !ok {
				t.warn("eBPF recorder: records ended early")
				recs = nil
				continue
			}
			for i := range b {
				t.record(&b[i])
			}
		case <-poll:
			t.drainRecords()
		case r := <-reaped:
			t.reaped(r)
		case <-tick.C:
			t.endReaped()
			t.flush()
		}
	}
}

// pollEvery is how often a tracer with Stops reads the Backend's records
// when no stop made it.
const pollEvery = 5 * time.Millisecond

// readRecords reads the Backend's records on a goroutine of their own, in
// a run without Stops; nil otherwise.
func (t *Tracer) readRecords() chan []Record {
	if t.cfg.Stops != nil {
		return nil
	}
	recs := make(chan []Record, 4)
	go func() {
		defer close(recs)
		for {
			b, err := t.be.Read()
			if err != nil {
				return
			}
			recs <- b
		}
	}()
	return recs
}

// leashStop resumes a process of the run at a ptrace stop: they are
// seized only so that they die with the tracer (ptrace.LeashOptions), and
// stop at forks, clones, execs and signals. It runs on the thread that
// seized them.
func leashStop(tid int, ws ptrace.WaitStatus) {
	sig := ws.StopSignal()
	switch ev := ptrace.Event(ws); {
	case ev == ptrace.EventStop:
		switch sig {
		case syscall.SIGSTOP, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU:
			ptrace.Listen(tid) // group-stop: stay stopped, keep reporting
		default:
			ptrace.Cont(tid, 0)
		}
	case ev != 0:
		ptrace.Cont(tid, 0)
	default:
		ptrace.Cont(tid, int(sig))
	}
}

type reap struct {
	pid int
	ws  ptrace.WaitStatus
}

// reaped handles what the reaper saw under a Backend: a stop, the end of
// an untraced process, or the end of a traced thread, whose Backend record
// should follow (endReaped).
func (t *Tracer) reaped(r reap) {
	switch {
	case r.ws.Stopped():
		if t.cfg.Stops == nil || !t.stopAt(r.pid, r.ws) {
			leashStop(r.pid, r.ws)
		}
	case t.untraced[r.pid] != nil:
		t.gone(r.pid, r.ws)
	default:
		th, p := t.threads[r.pid], t.procs[r.pid]
		if th != nil || p != nil {
			t.ended[r.pid] = ending{th: th, proc: p, ws: r.ws, at: time.Now()}
		}
	}
}

// ending is a traced thread the reaper saw end before its Backend record
// came.
type ending struct {
	th   *thread
	proc *process // the process, when the reaper saw its leader end: all of it is gone
	ws   ptrace.WaitStatus
	at   time.Time
}

// reapGrace is how long a thread's Backend record of its end may come
// after the reaper saw it end: the record is made before the kernel
// reports the end, but a Backend may hold it back (ebpfrec: 200 ms at
// most) and hands it over later.
const reapGrace = 500 * time.Millisecond

// endReaped ends the threads whose Backend record of their end has not
// come reapGrace after the reaper saw them end, from their wait status:
// the eBPF recorder loses one when a thread of an exiting process reaches
// sched_process_exit after the thread that found the process empty and
// stopped following it (a leader exiting last, under load), and without
// this the tracer waited for that thread for ever.
func (t *Tracer) endReaped() {
	for tid, e := range t.ended {
		if time.Since(e.at) < reapGrace {
			continue
		}
		delete(t.ended, tid)
		if e.th != nil && t.threads[tid] == e.th {
			t.warn(fmt.Sprintf("eBPF recorder: no record of the end of %s (tid %d): ended from its wait status", e.th.id(), tid))
			t.gone(tid, e.ws)
		}
		if p := e.proc; p != nil && t.procs[p.tgid] == p {
			t.warn(fmt.Sprintf("eBPF recorder: no record of the end of some threads of process %d (node %s): ended from its wait status", p.tgid, p.node.name))
			t.procEnded(p, e.ws)
		}
	}
}

// procEnded ends process p, whose leader the reaper saw end (so every
// thread of it is gone), with the threads the model still has.
func (t *Tracer) procEnded(p *process, ws ptrace.WaitStatus) {
	for tid, th := range t.threads {
		if th.proc == p {
			t.gone(tid, ws)
		}
	}
	if t.procs[p.tgid] != p {
		return
	}
	t.procGone(p, &thread{tid: p.tgid, proc: p, name: "main"})
	if p.root != nil {
		p.root.status = ws
		close(p.root.done)
		p.root = nil
	}
}

// reaper waits for the tracer's children (and orphans it adopted as
// subreaper) so none stays a zombie, and for the ptrace stops of the run's
// processes (wait sees the tracees of every thread of this process); it
// hands both to the tracer's thread, the only one that may resume them.
// Once quit is closed (the tracer's thread is done) it reaps what is left
// and ends when no child is (ECHILD), closing finished: it never waits
// after its tracer closed, when the children would be another tracer's
// (a stop taken from it is never resumed: the process stays stopped).
func (t *Tracer) reaper(out chan<- reap, quit <-chan struct{}, finished chan<- struct{}) {
	defer close(finished)
	for {
		var ws ptrace.WaitStatus
		pid, err := ptrace.Wait(&ws)
		if err == syscall.ECHILD {
			select {
			case <-t.children:
				continue
			case <-quit:
				return
			}
		}
		if err != nil {
			t.warn(fmt.Sprintf("wait: %v", err))
			continue
		}
		select {
		case out <- reap{pid, ws}:
		case <-quit: // the run is over: what is left ends unrecorded
		}
	}
}

// record handles one Backend record on the tracer's thread.
func (t *Tracer) record(r *Record) {
	th := t.threads[r.TID]
	if th == nil {
		return
	}
	t.rec = r
	defer func() { t.rec = nil }()
	if (r.Kind == RecEnter || r.Kind == RecExit) && th.stoppedAt(r.Mono) {
		return // a call handled at its stops (Stops)
	}
	t.mono = r.Mono
	switch r.Kind {
	case RecEnter:
		t.si = ptrace.SyscallInfo{Op: ptrace.OpSeccomp, Nr: r.Nr, Args: r.Args}
		t.entry(th, &t.si)
	case RecExit:
		ent := sysent.Lookup(r.Nr)
		if ent == nil {
			return
		}
		if !EnterFirst(ent) {
			t.si = ptrace.SyscallInfo{Op: ptrace.OpSeccomp, Nr: r.Nr, Args: r.Args}
			t.entry(th, &t.si)
		}
		if th.inCall {
			t.si = ptrace.SyscallInfo{Op: ptrace.OpExit, Rval: r.Ret}
			t.exit(th, &t.si)
		}
	case RecFork:
		ev := ptrace.EventFork
		switch {
		case r.Aux2 == th.proc.tgid:
			ev = ptrace.EventClone
		case th.cloneFlags&ptrace.CloneVfork != 0:
			ev = ptrace.EventVfork
		}
		if th.cloneFlags == 0 && ev == ptrace.EventClone {
			th.cloneFlags = ptrace.CloneThread | ptrace.CloneVM | ptrace.CloneFiles
		}
		t.clonedTid(th, ev, r.Aux)
	case RecExec:
		t.execedFrom(th, r.Aux)
	case RecGone:
		t.gone(r.TID, ptrace.WaitStatus(r.Aux))
	}
}

// newBackend finishes New for a tracer recording through cfg.Backend.
func (t *Tracer) newBackend(cfg Config) (*Tracer, error) {
	if _, ok := cfg.Backend.(Drainer); cfg.Stops != nil && !ok {
		return nil, errors.New("this Backend cannot stop where faults act (no Drain)")
	}
	if cfg.Hook != nil && cfg.Stops == nil {
		return nil, errors.New("a Backend cannot change calls: faults need ptrace, or Stops")
	}
	if cfg.Payload > 0 {
		return nil, errors.New("payload prefixes are recorded under ptrace only")
	}
	t.be = cfg.Backend
	t.ended = map[int]ending{}
	t.wakerGone.Store(true)
	t.children = make(chan struct{}, 1)
	t.monoStart = ptrace.Monotonic()
	if err := ptrace.SetChildSubreaper(); err != nil {
		t.warn(fmt.Sprintf("cannot become child subreaper: %v", err))
	}
	errc := make(chan error, 1)
	go t.loopBackend(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	return t, nil
}

// entryNow is the time of the entry of the call being handled.
func (t *Tracer) entryNow() int64 {
	if r := t.rec; r != nil && r.EnterMono != 0 {
		return r.EnterMono - t.monoStart
	}
	return t.now()
}
