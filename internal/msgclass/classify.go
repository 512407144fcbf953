package msgclass

import (
	"cmp"
	"slices"
	"strings"
)

// Classify names the messages of one run's calls, in any order: for each
// call, the message it sends (Ordinal 0 for calls that send none), or for
// a receive the message its first byte belongs to. Calls are fed to a
// Tracker in their threads' order (by Seq), threads interleaved by time,
// except that a receive waits until the bytes it read were sent.
func Classify(evs []Event) []Msg { return Analyze(evs).Msgs }

// Analysis is what Analyze finds in one run's calls.
type Analysis struct {
	Order []int // the order the calls were fed in (indices into the calls)
	Msgs  []Msg // per call, as Classify returns them
	// Got lists, per receive, the messages whose first byte it got, in
	// stream order: a receive that merges two messages gets both.
	Got [][]Msg
}

// Analyze is Classify, with the order it used and the messages each
// receive got.
func Analyze(evs []Event) *Analysis {
	a := &Analysis{Order: Order(evs), Msgs: make([]Msg, len(evs)), Got: make([][]Msg, len(evs))}
	t := New()
	for _, i := range a.Order {
		e := &evs[i]
		switch e.Kind {
		case Send:
			a.Msgs[i] = t.Send(e)
		case Recv:
			a.Msgs[i] = t.Recv(e)
			for _, m := range t.Messages(e, e.Offset, e.Offset+e.Len) {
				if m.Start >= e.Offset {
					a.Got[i] = append(a.Got[i], m)
				}
			}
		default:
			t.Other(e)
		}
	}
	return a
}

// Order returns the order in which Classify feeds evs to a Tracker.
func Order(evs []Event) []int {
	// Lanes: one per thread, in the order the injector feeds its calls
	// (fedAt; Seq among calls fed at once). A lane whose thread is a
	// process, or a runtime's many threads under one name, holds calls
	// of several OS threads, so Seq, given at exit, is not that order.
	byThread := map[threadKey][]int{}
	for i := range evs {
		k := threadKey{evs[i].Node, evs[i].Thread}
		byThread[k] = append(byThread[k], i)
	}
	lanes := make([][]int, 0, len(byThread))
	for _, l := range byThread {
		slices.SortFunc(l, func(a, b int) int {
			return cmp.Or(cmp.Compare(evs[a].fedAt(), evs[b].fedAt()), cmp.Compare(evs[a].Seq, evs[b].Seq))
		})
		lanes = append(lanes, l)
	}
	slices.SortFunc(lanes, func(a, b []int) int {
		x, y := &evs[a[0]], &evs[b[0]]
		return cmp.Or(strings.Compare(x.Node, y.Node), strings.Compare(x.Thread, y.Thread))
	})
	// How far each stream's bytes were sent, in all and so far: a receive
	// of bytes that no traced call sent need not wait for them.
	total, sent := map[stream]int64{}, map[stream]int64{}
	for i := range evs {
		if e := &evs[i]; e.Kind == Send && e.Offset >= 0 && e.Conn != "" {
			st := streamOf(e, true)
			total[st] = max(total[st], e.Offset+e.Len)
		}
	}
	ready := func(e *Event) bool {
		if e.Kind != Recv || e.Offset < 0 || e.Conn == "" {
			return true
		}
		st := streamOf(e, false)
		return sent[st] >= min(e.Offset+e.Len, total[st])
	}
	out := make([]int, 0, len(evs))
	head := make([]int, len(lanes))
	for len(out) < len(evs) {
		best, bestReady := -1, false
		for l, h := range head {
			if h == len(lanes[l]) {
				continue
			}
			e := &evs[lanes[l][h]]
			r := ready(e)
			if best < 0 || r && !bestReady || r == bestReady && e.fedAt() < evs[lanes[best][head[best]]].fedAt() {
				best, bestReady = l, r
			}
		}
		i := lanes[best][head[best]]
		head[best]++
		out = append(out, i)
		if e := &evs[i]; e.Kind == Send && e.Offset >= 0 && e.Conn != "" {
			st := streamOf(e, true)
			sent[st] = max(sent[st], e.Offset+e.Len)
		}
	}
	return out
}
