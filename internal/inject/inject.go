//go:build linux && amd64

// Package inject turns a fault plan (format.Plan) into a tracer.Hook that
// applies it to a traced run, at the system call the plan names in stable
// names.
//
// Semantics (see format/plan.go):
//
//   - A fault's window is open once its After event has been observed (a row
//     written; nil: from the start) and until its Before event has been
//     observed (nil: to the end). The Before call itself, at its entry, is
//     still inside the window: "before y" may act on y.
//
//   - Within the window, calls matching the Target are counted at their
//     entry; the fault acts on the Nth (default 1st) and never again. A call
//     the kernel restarts after a signal enters twice but counts once.
//     Syscall names a call or a class: send (write, writev, sendto,
//     sendmsg, sendmmsg, sendfile, splice), recv (read, readv, recvfrom,
//     recvmsg, recvmmsg), connect, accept (accept, accept4). A target with
//     an Offset matches the stream transfer on its Conn that starts at that
//     byte; a send also when it starts before that byte and asks to send
//     enough bytes to cover it. A crash pinned at a byte that a receive
//     gets in the middle of its data kills the node at that receive's exit.
//
//   - A target with a Class (plan version 2) matches the send that starts
//     the Ordinal-th message of that class, as package msgclass names
//     messages while the run goes (the same names pain-track and pain-plan
//     give them offline), or the stream receive that gets its first byte:
//     at its entry when that message was sent by then, else (a receive
//     that was waiting for it) a crash kills the node at the receive's
//     exit, as for a byte offset. Other faults on such a receive, and on
//     datagrams by class, do not fire.
//
//   - One action per call: when several faults would act on the same call,
//     the first in plan order does, and the others do not count that call.
//
//   - errno: the call fails with the errno and never reaches the kernel.
//
//   - drop: only sends and stream receives match. A datagram send is skipped
//     and reports success; a stream send or receive is replaced by
//     shutdown(fd, SHUT_RDWR), so the peer sees the connection end right
//     after the bytes sent before; the caller sees EPIPE (send) or end of
//     file (receive).
//
//   - delay: the calling thread is held for Duration, then the call runs;
//     the other threads keep running.
//
//   - crash: the target's node gets SIGKILL at the call's entry (the call
//     never runs). With Restart, the tracer brings the node back from its
//     command line after Duration (tracer.Config.Restart).
//
//   - pause: the target's node gets SIGSTOP at the call's entry and SIGCONT
//     after Duration (both sent by the tracer to every process of the
//     node's tree, those a fork under way brings after the signal
//     included); the note says how many processes it stopped.
//
//   - partition: silent, as a real one is (Options.Net, package netcut:
//     the kernel drops the packets between the two sides): no byte, SYN,
//     FIN or RST gets from a node of Groups[0] to one of Groups[1] or back
//     (a node includes the processes it spawned). Sends still succeed and
//     their bytes wait in the sender's kernel, a connect across waits for
//     an answer, a datagram vanishes. With a Duration it starts at the
//     first call matching Target (the Nth) in the window, which runs as it
//     would (its row marked), and heals Duration later. Without one it
//     holds from the window's start (the first call or row after After,
//     or the run's first; no row is marked, where it fired names that
//     event) to the window's end (Before observed) or the end of the run;
//     Target is not used. After the heal TCP delivers what it held by
//     retransmission, or the kernel has timed the connection out. Without
//     Options.Net it does not fire. Errno is not used.
//
//   - powerloss (plan version 3): at the target call's entry (the call never
//     runs), every process of the fault's Nodes (default: the target's
//     node) gets SIGKILL at once; once a node has no process left, its
//     files are rewritten to what package durable says a power loss leaves
//     (internal/disk: pre-images saved as calls entered, in the run's
//     .pain-journal folder), then it restarts after Duration if Restart.
//     The note says what was rolled back. A node whose file writes the
//     model cannot follow (O_DIRECT, a shared writable mapping, io_uring,
//     a call it cannot place) refuses it: the fault does not fire.
//
//   - short: a write or pwrite64 asking for 2 bytes or more asks for half;
//     other calls do not count.
//
//   - corrupt: SIGKILL the target's node; once it is gone, flip the bits of
//     the middle byte of the longest range of Target.File that a power loss
//     would keep; restart after Duration if Restart.
//
//   - A target with a File matches calls on that file (the row's local).
//
// A fault whose action the tracer could not carry out (a register write
// on a thread killed meanwhile, a signal to a node with no process left, a
// drop on a pipe, which has no shutdown) has not fired: its note says why.
//
// Rows a fault acted on are marked in the trace's fault column as
// "<plan>:<kind>", or "<plan>#<n>:<kind>" (n 1-based) in a plan of several
// faults.
//
// The package decides and never acts: it sees calls through the tracer's
// Hook (arguments, lengths, direction) and acts only through the Actions
// it returns, so it imports neither package ptrace nor syscall.
package inject

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/disk"
	"github.com/boxofpain/pain/internal/durable"
	"github.com/boxofpain/pain/internal/msgclass"
	"github.com/boxofpain/pain/internal/tracer"
)

// Options configures an Injector.
type Options struct {
	// Log receives progress messages (a fault fired, a restart failed).
	Log func(msg string)
	// Net carries out partitions (package netcut); nil: a partition does
	// not fire.
	Net Partitioner
	// Recorded says calls may reach the Injector as a Backend records
	// them (tracer.Call.Recorded): in the order they returned, so a
	// receive may come before the send of its bytes (order.go).
	Recorded bool
}

// Partitioner cuts the network between two groups of nodes, and heals it.
type Partitioner interface {
	Cut(a, b []string) error
	Heal(a, b []string) error
}

// Injector is a tracer.Hook applying one plan.
type Injector struct {
	opt    Options
	plan   *format.Plan
	mu     sync.Mutex
	faults []*fault
	timers []*time.Timer
	stop   bool
	notes  []string
	rolled []format.RolledBack // what power losses took, file by file
	cls    *msgClasses         // names messages, when a target is pinned to a class
	disk   *disk.Disk          // follows the nodes' files, when a fault is a power loss
}

type fault struct {
	idx    int
	f      *format.Fault
	mark   string
	nth    int
	dur    time.Duration
	errno  tracer.Errno
	opened bool // After observed (or none)
	closed bool // Before observed
	seen   int
	cut    bool             // a partition holds
	last   map[string]int64 // node/thread -> 1+seq of the last call counted
	fired  bool             // it acted (the tracer said so, or has not said otherwise yet)
	spent  bool             // it had its call: a one-shot fault acts on no other
	acted  int              // actions the tracer carried out
	timed  bool             // where.TimeNS comes from the row
	where  format.Fired
}

var (
	_ tracer.FileRootsHook = (*Injector)(nil)
	_ tracer.Awaiter       = (*Injector)(nil)
)

// New builds the hook for plan p.
func New(p *format.Plan, opt Options) (*Injector, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	in := &Injector{opt: opt, plan: p}
	for i := range p.Faults {
		f := &p.Faults[i]
		ft := &fault{idx: i, f: f, nth: max(f.Target.Nth, 1), opened: f.After == nil, last: map[string]int64{}}
		ft.mark = p.ID + ":" + f.Kind
		if len(p.Faults) > 1 {
			ft.mark = p.ID + "#" + strconv.Itoa(i+1) + ":" + f.Kind
		}
		ft.dur = time.Duration(f.Duration)
		if f.Errno != "" {
			e, ok := format.Errno(f.Errno)
			if !ok {
				return nil, fmt.Errorf("plan %s fault %d: unknown errno %s", p.ID, i+1, f.Errno)
			}
			ft.errno = tracer.Errno(e)
		}
		in.faults = append(in.faults, ft)
		if f.Target.Class != "" && in.cls == nil {
			in.cls = &msgClasses{tr: msgclass.New()}
			in.cls.unordered = opt.Recorded
		}
		if (f.Kind == format.FaultPowerloss || f.Kind == format.FaultCorrupt) && in.disk == nil {
			mode, err := durable.ParseMode(cmp.Or(f.Mode, "ordered"))
			if err != nil {
				return nil, fmt.Errorf("plan %s fault %d: %w", p.ID, i+1, err)
			}
			in.disk = disk.New(mode)
		}
	}
	return in, nil
}

// FileRoots hears where the run's files are, for a power loss.
func (in *Injector) FileRoots(roots []tracer.FileRoot) {
	if in.disk != nil {
		in.disk.FileRoots(roots)
	}
}

// Enter decides what happens to a call at its entry.
func (in *Injector) Enter(c *tracer.Call) tracer.Action {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cls != nil {
		in.cls.enter(c)
	}
	act := tracer.Action{}
	for _, ft := range in.faults {
		if a, ok := in.enter(ft, c); ok {
			act = a
			break
		}
	}
	if in.disk != nil && runs(act, c.Event) {
		in.disk.Enter(c)
	}
	return act
}

// runs says whether a call still runs after act at its entry.
func runs(act tracer.Action, e *format.Event) bool {
	switch act.Kind {
	case tracer.ActFail, tracer.ActReturn, tracer.ActShutdown:
		return false
	case tracer.ActSignal:
		if act.Signal != tracer.SIGKILL {
			return true
		}
		for _, n := range append([]string{cmp.Or(act.Node, e.Node)}, act.Nodes...) {
			if inGroup(e.Node, []string{n}) {
				return false
			}
		}
	}
	return true
}

// Exit crashes a node whose receive got the byte a crash fault is pinned
// at in the middle of its data (a receive starting at that byte is caught
// at entry): the node dies having read the bytes but before acting on any of
// them, which to its peers is the same as dying before the read. Every other
// fault acts at entry.
func (in *Injector) Exit(c *tracer.Call) tracer.Action {
	in.mu.Lock()
	defer in.mu.Unlock()
	e := c.Event
	if in.cls != nil {
		in.cls.exit(c)
	}
	if in.disk != nil {
		in.disk.Exit(c)
	}
	if e.Ret <= 0 || !isRecv(e) || !stream(e) {
		return tracer.Action{}
	}
	for _, ft := range in.faults {
		t := &ft.f.Target
		if ft.f.Kind != format.FaultCrash || ft.spent || !ft.opened || ft.closed || !targetMatches(t, e) {
			continue
		}
		// A byte offset starting the receive was caught at its entry; a
		// class's first byte may not have been sent yet then.
		o, ok, from := int64(0), false, e.Offset+1
		switch {
		case t.Offset != nil:
			o, ok = *t.Offset, true
		case t.Class != "" && in.cls != nil:
			o, ok = in.cls.start(t, e)
			from = e.Offset
		}
		if !ok || o < from || o >= e.Offset+e.Ret {
			continue
		}
		if ft.seen++; ft.seen < ft.nth {
			continue
		}
		in.fire(ft, c)
		return in.crash(ft)
	}
	return tracer.Action{}
}

// crash is the action of crash fault ft: SIGKILL its node, and restart it
// after the fault's duration if the fault says so.
func (in *Injector) crash(ft *fault) tracer.Action {
	act := tracer.Action{Kind: tracer.ActSignal, Signal: tracer.SIGKILL, Node: ft.f.Target.Node, Fault: ft.mark}
	if ft.f.Restart {
		act.Then = &tracer.Later{After: ft.dur, Restart: true}
	}
	return act
}

// powerloss is the action of powerloss fault ft: SIGKILL its nodes at
// once, and once each is gone, roll its files back to what the power loss
// leaves; then restart it if the fault says so. A node whose files the
// model cannot follow refuses it: it does not fire, the note says why.
func (in *Injector) powerloss(ft *fault) (tracer.Action, bool) {
	nodes := ft.f.PowerNodes()
	for _, n := range nodes {
		if why := in.disk.Refused(n); why != "" {
			in.noteLocked(fmt.Sprintf("fault %d (powerloss) refused: %s: %s", ft.idx+1, n, why))
			ft.spent = true
			return tracer.Action{}, false
		}
	}
	others := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if n != ft.f.Target.Node {
			others = append(others, n)
		}
	}
	torn := ft.f.Torn
	gone := func(node string) error {
		in.mu.Lock()
		defer in.mu.Unlock()
		loss, err := in.disk.PowerLoss(node, torn)
		if err != nil {
			return err
		}
		in.noteLocked(loss.String())
		in.rolled = append(in.rolled, loss.Files()...)
		return nil
	}
	then := &tracer.Later{Restart: ft.f.Restart, Gone: gone}
	if ft.f.Restart {
		then.After = ft.dur
	}
	return tracer.Action{Kind: tracer.ActSignal, Signal: tracer.SIGKILL, Node: ft.f.Target.Node, Nodes: others,
		Fault: ft.mark, Then: then}, true
}

// corrupt is the action of corrupt fault ft: SIGKILL its node and, once
// it is gone, flip the bits of one byte of its file that a power loss
// would keep (a byte no write since the last sync touched); then restart
// it if the fault says so.
func (in *Injector) corrupt(ft *fault) tracer.Action {
	file := ft.f.Target.File
	gone := func(node string) error {
		in.mu.Lock()
		defer in.mu.Unlock()
		what, err := in.disk.Corrupt(node, file)
		if err != nil {
			return err
		}
		in.noteLocked(what)
		return nil
	}
	then := &tracer.Later{Restart: ft.f.Restart, Gone: gone}
	if ft.f.Restart {
		then.After = ft.dur
	}
	return tracer.Action{Kind: tracer.ActSignal, Signal: tracer.SIGKILL, Node: ft.f.Target.Node, Fault: ft.mark, Then: then}
}

// shortenable says whether a short fault can act on the call c enters: a
// write or pwrite64 asking for 2 bytes or more.
func shortenable(c *tracer.Call) bool {
	e := c.Event
	return (e.Syscall == "write" || e.Syscall == "pwrite64") && c.Len >= 2
}

// Acted hears from the tracer what became of a fault's action. A fault
// whose only action failed did not fire: the note says why. A one-shot
// fault stays spent (its Nth call is gone); a partition fires at its next
// cut that acts. A pause's note says how many processes it stopped.
func (in *Injector) Acted(r tracer.Report) {
	in.mu.Lock()
	defer in.mu.Unlock()
	ft := in.byMark(r.Fault)
	if ft == nil {
		return
	}
	kind := ft.f.Kind
	switch {
	case r.Then && r.Err != nil:
		in.noteLocked(fmt.Sprintf("fault %d (%s): %v", ft.idx+1, kind, r.Err))
	case r.Then:
	case r.Err != nil:
		if ft.acted == 0 {
			ft.fired, ft.timed, ft.where = false, false, format.Fired{}
		}
		in.noteLocked(fmt.Sprintf("fault %d (%s) did not act: %v", ft.idx+1, kind, r.Err))
	default:
		ft.acted++
		if kind == format.FaultPause && ft.acted == 1 {
			node := ft.f.Target.Node
			if node == "" {
				node = ft.where.Node // the caller's
			}
			in.noteLocked(fmt.Sprintf("pause stopped %d processes of %s", r.Signaled, node))
		}
	}
}

func (in *Injector) byMark(mark string) *fault {
	for _, ft := range in.faults {
		if ft.mark == mark {
			return ft
		}
	}
	return nil
}

// Observe moves the faults' windows and completes where they fired.
func (in *Injector) Observe(e *format.Event) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, ft := range in.faults {
		if !ft.opened && is(ft.f.After, e) {
			ft.opened = true
		}
		if !ft.closed && is(ft.f.Before, e) {
			ft.closed = true
			if ft.cut && ft.dur == 0 {
				in.healLocked(ft)
			}
		}
		if ft.opened && !ft.closed && !ft.spent && windowPartition(ft) {
			in.startWindow(ft, e, e.TimeNS)
		}
		// The row's time, when the call writes one: rows are stamped at
		// the call's exit, the Clock at its entry.
		w := &ft.where
		if ft.fired && !ft.timed && e.Node == w.Node && e.Thread == w.Thread && e.Seq == w.Seq {
			w.TimeNS, ft.timed = e.TimeNS, true
		}
	}
}

func is(r *format.EventRef, e *format.Event) bool {
	return r != nil && r.Seq == e.Seq && r.Thread == e.Thread && r.Node == e.Node
}

func (in *Injector) enter(ft *fault, c *tracer.Call) (tracer.Action, bool) {
	if !ft.opened || ft.closed {
		return tracer.Action{}, false
	}
	e := c.Event
	if windowPartition(ft) {
		if !ft.spent {
			in.startWindow(ft, e, c.TimeNS) // before this call's packets, if it sends any
		}
		return tracer.Action{}, false
	}
	if !in.targets(ft, c) {
		return tracer.Action{}, false
	}
	if ft.spent || (ft.f.Kind == format.FaultDrop && !droppable(e)) || (ft.f.Kind == format.FaultShort && !shortenable(c)) {
		return tracer.Action{}, false
	}
	key := e.Node + "/" + e.Thread
	if ft.last[key] == e.Seq+1 {
		return tracer.Action{}, false // a restarted call, already counted
	}
	ft.last[key] = e.Seq + 1
	ft.seen++
	if ft.seen < ft.nth {
		return tracer.Action{}, false
	}
	act := tracer.Action{Fault: ft.mark}
	switch ft.f.Kind {
	case format.FaultErrno:
		act.Kind, act.Errno = tracer.ActFail, ft.errno
	case format.FaultDrop:
		act = cut(c, act)
	case format.FaultDelay:
		act.Kind, act.Hold = tracer.ActHold, ft.dur
	case format.FaultCrash:
		act = in.crash(ft)
	case format.FaultPause:
		act.Kind, act.Signal, act.Node = tracer.ActSignal, tracer.SIGSTOP, ft.f.Target.Node
		act.Then = &tracer.Later{After: ft.dur, Signal: tracer.SIGCONT}
	case format.FaultPowerloss:
		var ok bool
		if act, ok = in.powerloss(ft); !ok {
			return tracer.Action{}, false
		}
	case format.FaultShort:
		act.Kind, act.Ret = tracer.ActShorten, c.Len/2
	case format.FaultCorrupt:
		act = in.corrupt(ft)
	case format.FaultPartition:
		if !in.partition(ft) {
			return tracer.Action{}, false
		}
	}
	in.fire(ft, c)
	return act, true
}

// targets reports whether the call entering is ft's target, Nth aside.
func (in *Injector) targets(ft *fault, c *tracer.Call) bool {
	t := &ft.f.Target
	return targetMatches(t, c.Event) && atOffset(t, c.Event, c.Len) && in.cls.atClass(t, c.Event)
}

// droppable reports whether a drop can act on e: a send, or a receive on a
// stream (a datagram already received cannot be taken back); a file's
// write or read is no message.
func droppable(e *format.Event) bool {
	return e.FDKind != format.KindFile && (isSend(e) || (isRecv(e) && stream(e)))
}

// cut makes e's message vanish: a stream is shut down at this point, a
// datagram is skipped and reports success.
func cut(c *tracer.Call, act tracer.Action) tracer.Action {
	e := c.Event
	switch {
	case !stream(e) && isSend(e):
		act.Kind, act.Ret = tracer.ActReturn, c.Len
	case isSend(e):
		act.Kind, act.Ret = tracer.ActShutdown, -int64(tracer.EPIPE)
	default:
		act.Kind, act.Ret = tracer.ActShutdown, 0
	}
	return act
}

// partition starts partition ft, at its target call's entry (the call then
// runs, its row marked: ActNone). Healing comes later (heal). A cut the
// kernel refused leaves the fault spent and not fired, the note says why.
func (in *Injector) partition(ft *fault) bool {
	var err error
	if in.opt.Net == nil {
		err = errNoNet
	} else {
		err = in.opt.Net.Cut(ft.f.Groups[0], ft.f.Groups[1])
	}
	if err != nil {
		ft.spent = true
		in.noteLocked(fmt.Sprintf("fault %d (partition) did not act: %v", ft.idx+1, err))
		return false
	}
	ft.cut = true
	if ft.dur > 0 {
		in.later(ft.dur, func() {
			in.mu.Lock()
			defer in.mu.Unlock()
			in.healLocked(ft)
		})
	}
	return true
}

var errNoNet = errors.New("no partitioner (pain-inject makes one: package netcut)")

// healLocked ends partition ft, if it holds.
func (in *Injector) healLocked(ft *fault) {
	if !ft.cut {
		return
	}
	ft.cut = false
	if err := in.opt.Net.Heal(ft.f.Groups[0], ft.f.Groups[1]); err != nil {
		in.noteLocked(fmt.Sprintf("fault %d (partition) did not heal: %v", ft.idx+1, err))
		return
	}
	in.logf("partition %s healed", ft.mark)
}

// fire notes that ft acts on the call c. Its time is the call's entry
// until its row is observed (a killed caller's row has none later).
func (in *Injector) fire(ft *fault, c *tracer.Call) {
	in.fireAt(ft, c.Event, c.TimeNS)
}

func (in *Injector) fireAt(ft *fault, e *format.Event, timeNS int64) {
	ft.fired, ft.spent = true, true
	ft.where = format.Fired{Fault: ft.idx, Node: e.Node, Thread: e.Thread, Seq: e.Seq, Syscall: e.Syscall, TimeNS: timeNS}
	in.logf("fault %s fired at %s/%s#%d (%s)", ft.mark, e.Node, e.Thread, e.Seq, e.Syscall)
}

// windowPartition says whether ft is a partition over its window (no
// Duration): it holds from the window's start to its end.
func windowPartition(ft *fault) bool {
	return ft.f.Kind == format.FaultPartition && ft.dur == 0
}

// startWindow starts window partition ft as its window opens: at the
// entry of the first call or the first row after its After event (the
// run's first, without one), whichever comes first. It acts on no call;
// where it fired names that event.
func (in *Injector) startWindow(ft *fault, e *format.Event, timeNS int64) {
	if in.partition(ft) {
		in.fireAt(ft, e, timeNS)
	}
}

// later runs f after d on a timer goroutine, unless Stop came first.
func (in *Injector) later(d time.Duration, f func()) {
	t := time.AfterFunc(d, func() {
		in.mu.Lock()
		stopped := in.stop
		in.mu.Unlock()
		if !stopped {
			f()
		}
	})
	in.timers = append(in.timers, t)
}

// Stop cancels the actions still pending (the heal of a timed partition):
// call it when the run is over.
func (in *Injector) Stop() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.stop = true
	for _, t := range in.timers {
		t.Stop()
	}
	if in.disk != nil {
		in.disk.Close()
	}
}

func (in *Injector) logf(format string, args ...any) {
	if in.opt.Log != nil {
		in.opt.Log(fmt.Sprintf(format, args...))
	}
}

func (in *Injector) noteLocked(s string) {
	in.notes = append(in.notes, s)
	in.logf("%s", s)
}

// Fired returns where each fault that fired acted, in plan order.
func (in *Injector) Fired() []format.Fired {
	in.mu.Lock()
	defer in.mu.Unlock()
	var w []format.Fired
	for _, ft := range in.faults {
		if ft.fired {
			w = append(w, ft.where)
		}
	}
	return w
}

// RolledBack returns what the power losses took from the nodes' files.
func (in *Injector) RolledBack() []format.RolledBack {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.rolled)
}

// Notes returns what went wrong applying the plan besides the faults not
// firing: failed restarts, faults that never fired in a plan where others
// did.
func (in *Injector) Notes() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	notes := append([]string(nil), in.notes...)
	some := false
	for _, ft := range in.faults {
		some = some || ft.fired
	}
	for _, ft := range in.faults {
		if some && !ft.fired {
			notes = append(notes, fmt.Sprintf("fault %d (%s) did not fire", ft.idx+1, ft.f.Kind))
		}
	}
	return notes
}
