//go:build linux && amd64

package ebpfrec

import (
	"slices"

	"github.com/boxofpain/pain/internal/tracer"
)

// The ring buffer keeps records in the order they were made, and a call's
// record is made as it returns; but other threads may see what some calls
// do before that: a datagram is in its receiver's queue, a TCP connect's
// handshake is done and its accept can return, while the call still runs.
// Their receive or accept could then come first, and the tracer would name
// it without its sender or connector (an address, or no peer at all). The
// kernel half marks such calls at their entry (F_HOLD: an EV_HOLD record,
// or the entry record of a connect), before the datagram or the SYN
// exists; order puts the call's exit record in the place of the mark,
// holding back the records after it until that record comes.

// maxHold is how long records wait behind a call that does not return: a
// datagram send blocked on a full queue, a connect to a silent peer. Then
// the call's record is taken where it comes, as without a mark.
const maxHold = int64(200e6) // ns

type slotState uint8

const (
	slotReady slotState = iota
	slotWaiting
	slotEmpty // a mark whose call ended without an exit record, or timed out
)

type slot struct {
	rec   tracer.Record
	state slotState
	since int64 // waiting: the mark's time (CLOCK_MONOTONIC ns)
}

// order holds records in ring order until the marks before them are
// filled.
type order struct {
	q    []slot
	base int         // index of q[0] since the start
	held map[int]int // tid -> index of its waiting slot
}

// add takes the next record from the ring; mark says it had F_HOLD, and
// keep whether the record itself goes to the tracer (not an EV_HOLD).
func (o *order) add(r *tracer.Record, mark, keep bool) {
	if i, ok := o.held[r.TID]; ok {
		switch r.Kind {
		case tracer.RecExit:
			delete(o.held, r.TID)
			s := &o.q[i-o.base]
			s.rec, s.state = *r, slotReady
			return
		case tracer.RecGone, tracer.RecEnter, tracer.RecExec:
			// The call ended without an exit record (its record lost,
			// or a mark left over): take records as they come.
			delete(o.held, r.TID)
			o.q[i-o.base].state = slotEmpty
		}
	}
	if keep {
		o.q = append(o.q, slot{rec: *r})
	}
	if mark {
		if o.held == nil {
			o.held = map[int]int{}
		}
		o.held[r.TID] = o.base + len(o.q)
		o.q = append(o.q, slot{state: slotWaiting, since: r.Mono})
	}
}

// pop appends to out the records no mark holds back, in order, giving up
// the marks older than maxHold at now. It grows out once, to its size:
// the tracer keeps the slice.
func (o *order) pop(now int64, out []tracer.Record) []tracer.Record {
	for tid, i := range o.held {
		if s := &o.q[i-o.base]; now-s.since > maxHold {
			s.state = slotEmpty
			delete(o.held, tid)
		}
	}
	n, ready := 0, 0
	for ; n < len(o.q) && o.q[n].state != slotWaiting; n++ {
		if o.q[n].state == slotReady {
			ready++
		}
	}
	out = slices.Grow(out, ready)
	for _, s := range o.q[:n] {
		if s.state == slotReady {
			out = append(out, s.rec)
		}
	}
	rest := copy(o.q, o.q[n:])
	clear(o.q[rest:])
	o.q = o.q[:rest]
	o.base += n
	return out
}

// waitingSince reports whether a mark made before t still holds records
// back.
func (o *order) waitingSince(t int64) bool {
	for _, i := range o.held {
		if o.q[i-o.base].since < t {
			return true
		}
	}
	return false
}
