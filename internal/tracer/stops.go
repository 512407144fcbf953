//go:build linux && amd64

package tracer

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/boxofpain/pain/internal/ptrace"
)

// Stops are where an injected run recorded by a Backend stops: the calls
// its plan can act on, in the nodes it can act on. Every other call runs
// without a stop and gets its row from the Backend's records. The
// processes of those nodes get a seccomp filter of Calls alone
// (ptrace.StartStopping); at each of its stops the tracer first handles
// every record the Backend holds (Drainer), so the Hook decides on a model
// that counts every call that returned before the stop, then handles the
// call as under ptrace: the Hook's Enter, its action, the exit stop, its
// Exit, its row. The Backend's records of a call handled so are dropped.
type Stops struct {
	// Nodes are the nodes that stop (a node includes the nodes it
	// spawned, which inherit its filter); nil: every node.
	Nodes []string
	// Calls are the call numbers they stop at (sysent.Entry.Nr).
	Calls []int
}

// Drainer is a Backend that can hand over its records without waiting:
// what it holds now, perhaps nothing. Stops need one.
type Drainer interface {
	Drain() ([]Record, error)
}

// has reports whether the processes of node stop (s not nil): the node is
// one of Nodes, spawned by one, or spawns one (its filter is inherited).
func (s *Stops) has(node string) bool {
	if s == nil {
		return false
	}
	if s.Nodes == nil {
		return true
	}
	return slices.ContainsFunc(s.Nodes, func(n string) bool {
		return n == node || strings.HasPrefix(node, n+"/") || strings.HasPrefix(n, node+"/")
	})
}

// stopAt handles a stop of an injected run recorded by a Backend at one
// of its Stops (a seccomp stop at a call's entry, or the syscall-exit
// stop that follows), and reports false for other stops. The records made
// before the stop are handled first: a call's exit record is made before
// it returns, so every call that returned before this one entered is in
// the model the Hook decides on.
func (t *Tracer) stopAt(tid int, ws ptrace.WaitStatus) bool {
	if ws.StopSignal() != ptrace.SyscallTrap && ptrace.Event(ws) != ptrace.EventSeccomp {
		return false
	}
	t.drainRecords()
	th := t.threads[tid]
	if th == nil {
		// No record made it known: its call is let go undecided.
		t.warn(fmt.Sprintf("stop of unknown thread %d: its call runs without the plan's decision", tid))
		ptrace.Cont(tid, 0)
		return true
	}
	t.mono = ptrace.Monotonic()
	if !th.stopped {
		th.stopped = true
		th.spans = append(th.spans, span{from: t.mono})
	}
	t.syscallStop(th)
	return true
}

// span is when a thread was in a call handled at its stops: from its
// entry stop to its resumption after its exit stop (to 0: not yet). The
// call's records are made inside it (after the entry stop, before the
// exit stop), every other call's outside, but the Backend may hand them
// over after the span ended (ebpfrec holds records behind a connect or a
// datagram send still under way).
type span struct{ from, to int64 }

// spanKeep is how long a span is kept after it ended: longer than a
// Backend holds records back.
const spanKeep = int64(2e9) // ns

// stoppedAt reports whether the thread's record made at mono is of a call
// handled at its stops, and forgets the spans too old to matter.
func (th *thread) stoppedAt(mono int64) bool {
	th.spans = slices.DeleteFunc(th.spans, func(s span) bool { return s.to != 0 && mono-s.to > spanKeep })
	for _, s := range th.spans {
		if mono >= s.from && (s.to == 0 || mono <= s.to) {
			return true
		}
	}
	return false
}

// An Awaiter is a Hook that may need the records of other calls before it
// decides on a call at its exit stop (Stops): the send of the bytes a
// receive got, whose call may return after the receive's.
type Awaiter interface {
	Await(c *Call) bool
}

// awaitMax bounds how long a stop waits for the records an Awaiter asks.
const awaitMax = 200 * time.Millisecond

// await handles the Backend's records until the Hook needs no more to
// decide on the call c stopped at (at most awaitMax).
func (t *Tracer) await(c *Call) {
	a, ok := t.cfg.Hook.(Awaiter)
	if !ok || t.be == nil || t.rec != nil {
		return
	}
	for end := time.Now().Add(awaitMax); a.Await(c) && time.Now().Before(end); {
		time.Sleep(100 * time.Microsecond)
		t.drainRecords()
	}
}

// drainRecords handles the records the Backend holds now.
func (t *Tracer) drainRecords() {
	b, err := t.be.(Drainer).Drain()
	for i := range b {
		t.record(&b[i])
	}
	if err != nil && !t.closing {
		t.warn("eBPF recorder: " + err.Error())
	}
}
