//go:build linux && amd64

package inject

import (
	"errors"
	"fmt"
	"slices"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/sysent"
	"github.com/boxofpain/pain/internal/tracer"
)

// ErrFullPtrace is wrapped by Stops' errors: the plan needs every call to
// stop (full ptrace), and why.
var ErrFullPtrace = errors.New("needs full ptrace")

// Stops returns where a run of plan p recorded by a Backend (eBPF) must
// stop for the plan to act as under full ptrace (tracer.Stops): the calls
// its faults can act on, in the nodes whose calls they match or cut. A
// plan that cannot be run that way gets an error wrapping ErrFullPtrace
// that says why:
//
//   - file faults (powerloss, corrupt, short, a target naming a file): the
//     disk model follows every file call of the node from the start (its
//     saved pre-images, what was synced), and the eBPF recorder records no
//     file call;
//   - windows (After, Before): they name events by seq, and a node that
//     touches files in the run's folder numbers its rows otherwise when
//     its file calls have none (the eBPF recorder's limit), so a window
//     could open at another call than in the traces the plan came from;
//   - a target naming process calls (clone, exec, exit), or no call at all
//     (it could act on any, those included): the Backend's records of
//     them make the threads and processes the names come from;
//   - a target whose call group has file calls (recv: pread64) and that
//     names no class, offset, connection or peer, which a file call never
//     has: it could act on a file read, which has no row under eBPF.
//
// Everything else stops where it acts: the entry of the target's calls
// (and their exit, for a crash pinned inside a receive's data); a timed
// partition at its start, a partition over its window nowhere (the kernel
// drops its packets, package netcut).
func Stops(p *format.Plan) (*tracer.Stops, error) {
	s := &tracer.Stops{Nodes: []string{}}
	for i := range p.Faults {
		f := &p.Faults[i]
		if err := stoppable(f); err != nil {
			return nil, fmt.Errorf("fault %d (%s): %w: %w", i+1, f.Kind, ErrFullPtrace, err)
		}
		// A partition over its window starts and ends with rows (Observe),
		// the kernel cuts its packets; a timed one starts at its Target's
		// call.
		if f.Kind == format.FaultPartition && f.Duration == 0 {
			continue
		}
		nodes := []string{f.Target.Node}
		calls, err := targetCalls(&f.Target)
		if err != nil {
			return nil, fmt.Errorf("fault %d (%s): %w: %w", i+1, f.Kind, ErrFullPtrace, err)
		}
		s.Calls = append(s.Calls, calls...)
		if s.Nodes != nil && slices.Contains(nodes, "") {
			s.Nodes = nil // every node
		}
		if s.Nodes != nil {
			s.Nodes = append(s.Nodes, nodes...)
		}
	}
	slices.Sort(s.Calls)
	s.Calls = slices.Compact(s.Calls)
	if s.Nodes != nil {
		slices.Sort(s.Nodes)
		s.Nodes = slices.Compact(s.Nodes)
	}
	return s, nil
}

// stoppable says why fault f needs full ptrace whatever its target calls.
func stoppable(f *format.Fault) error {
	switch {
	case f.Kind == format.FaultPowerloss || f.Kind == format.FaultCorrupt || f.Kind == format.FaultShort || f.Target.File != "":
		return errors.New("file faults follow the node's files from the start, and the eBPF recorder records no file call")
	case f.After != nil || f.Before != nil:
		return errors.New("its window names events by seq, which file calls (no rows under eBPF) can shift")
	}
	return nil
}

// targetCalls returns the numbers of the calls target t can match.
func targetCalls(t *format.Target) ([]int, error) {
	if t.Syscall == "" && t.Class == "" && t.Offset == nil {
		return nil, errors.New("a target naming no call may act on any call, process calls included")
	}
	var nrs []int
	for i := range sysent.Table {
		e := &sysent.Table[i]
		if !namedBy(t, e) || fileCall(e) && noFile(t) {
			continue
		}
		switch {
		case fileCall(e):
			return nil, fmt.Errorf("it may act on %s, a file call, which has no row under eBPF", e.Name)
		case !stopOK(e):
			return nil, fmt.Errorf("the eBPF recorder's records of %s make the names it is matched by", e.Name)
		}
		nrs = append(nrs, e.Nr)
	}
	return nrs, nil
}

// namedBy reports whether t's call or class names e (a target pinned to a
// class or an offset matches transfers only).
func namedBy(t *format.Target, e *sysent.Entry) bool {
	if t.Syscall == "" {
		return e.Class == sysent.Send || e.Class == sysent.Recv || e.Class == sysent.Transfer
	}
	return e.Name == t.Syscall || sysent.Group(e.Name, "in") == t.Syscall || sysent.Group(e.Name, "out") == t.Syscall
}

// fileCall reports whether e is a call on files alone (a positional read
// or write, an open, a sync, ...).
func fileCall(e *sysent.Entry) bool { return e.Class >= sysent.Open || e.Off != 0 }

// noFile reports whether t names something no file call has: a message
// class, a stream offset, a connection or a peer.
func noFile(t *format.Target) bool {
	return t.Class != "" || t.Offset != nil || t.Conn != "" || t.Peer != ""
}

// stopOK reports whether calls like e may stop in a run recorded by a
// Backend: not process calls (clone, exec, exit), whose records make the
// threads, nor calls the eBPF recorder does not record (files).
func stopOK(e *sysent.Entry) bool {
	switch e.Class {
	case sysent.Clone, sysent.Exec, sysent.Exit, sysent.None:
		return false
	}
	return !fileCall(e)
}
