package track

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"os"
	"slices"

	"github.com/boxofpain/pain/format"
	"github.com/boxofpain/pain/internal/hb"
)

// span is when one graph event ran, in ns since the run started: from the
// entry of its first call to the exit of its last.
type span struct{ start, end int64 }

// callTime is one row of a trace, reduced to what places it in time.
type callTime struct {
	seq, entry, exit int64
	syscall, conn    string
}

type laneKey struct{ node, thread string }

// eventSpans finds the span of each event of g in the rows of the trace
// files of its run. Without files (a graph read from a schedules file), or
// for an event whose rows are not there, the span is the event's time_ns
// alone.
func eventSpans(g *hb.Graph, files []string) ([]span, error) {
	lanes := map[laneKey][]callTime{}
	for _, path := range files {
		if err := readCallTimes(path, lanes); err != nil {
			return nil, err
		}
	}
	spans := make([]span, len(g.Events))
	for _, l := range g.Lanes {
		rows := lanes[laneKey{l.Node, l.Thread}]
		slices.SortFunc(rows, func(a, b callTime) int { return cmp.Compare(a.seq, b.seq) })
		for i := l.First; i < l.First+l.N; i++ {
			next := int64(-1)
			if i+1 < l.First+l.N {
				next = g.Events[i+1].Seq
			}
			spans[i] = spanOf(&g.Events[i], rows, next)
		}
	}
	return spans, nil
}

// spanOf is the span of event e over rows (one lane's, by seq): its first
// call at e.Seq, then its other Count-1 calls on the same stream before
// the lane's next event (next; -1 for none).
func spanOf(e *hb.Event, rows []callTime, next int64) span {
	k, ok := slices.BinarySearchFunc(rows, e.Seq, func(r callTime, seq int64) int { return cmp.Compare(r.seq, seq) })
	if !ok {
		return span{e.TimeNS, e.TimeNS}
	}
	first := rows[k]
	sp := span{first.entry, first.exit}
	calls := int64(1)
	for _, r := range rows[k+1:] {
		if calls >= e.Count || (next >= 0 && r.seq >= next) {
			break
		}
		if r.syscall == first.syscall && r.conn == first.conn {
			sp.end = max(sp.end, r.exit)
			calls++
		}
	}
	return sp
}

// callCols are the columns that place a row in time.
var callCols = format.ColumnBit("time_ns") | format.ColumnBit("dur_ns") | format.ColumnBit("node") |
	format.ColumnBit("thread") | format.ColumnBit("seq") | format.ColumnBit("syscall") | format.ColumnBit("conn")

// readCallTimes adds the rows of one trace file (Arrow or text form) to lanes.
func readCallTimes(path string, lanes map[laneKey][]callTime) (err error) {
	defer guard(path, &err)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	err = eachRows(f, path, callCols, format.BatchRows, func(evs []format.Event) {
		for i := range evs {
			e := &evs[i]
			k := laneKey{e.Node, e.Thread}
			lanes[k] = append(lanes[k], callTime{e.Seq, e.TimeNS - e.DurNS, e.TimeNS, e.Syscall, e.Conn})
		}
	})
	if errors.Is(err, format.ErrTruncated) {
		return nil // a trace cut short was tracked, with a warning, as far as it goes
	}
	return err
}

// traceEvent is one entry of the Chrome trace-event format.
type traceEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat,omitempty"`
	Ph   string         `json:"ph"`
	TS   float64        `json:"ts"`
	Dur  *float64       `json:"dur,omitempty"`
	PID  int            `json:"pid"`
	TID  int            `json:"tid"`
	ID   int            `json:"id,omitempty"`
	BP   string         `json:"bp,omitempty"`
	Args map[string]any `json:"args,omitempty"`
}

// traceEvents writes the graph as a Chrome/Perfetto trace: one process per
// node, one thread per lane, a slice per event over the time its calls ran
// (spans) in the run the graph came from, and a flow arrow per message from
// the send's slice to the receive's. The flow leaves the send at its start
// and reaches the receive no earlier (the bytes were sent before they were
// received), so Perfetto, which drops flows that end before they start,
// keeps every one.
func traceEvents(w io.Writer, g *hb.Graph, title string, spans []span) error {
	var evs []traceEvent
	pids := map[string]int{}
	lane := make([][2]int, len(g.Events)) // pid, tid of each event
	sp := laneSpans(g, spans)
	for li, l := range g.Lanes {
		pid, ok := pids[l.Node]
		if !ok {
			pid = len(pids) + 1
			pids[l.Node] = pid
			evs = append(evs, traceEvent{Name: "process_name", Ph: "M", PID: pid, Args: map[string]any{"name": l.Node}})
		}
		evs = append(evs, traceEvent{Name: "thread_name", Ph: "M", PID: pid, TID: li + 1, Args: map[string]any{"name": l.Thread}})
		for i := l.First; i < l.First+l.N; i++ {
			lane[i] = [2]int{pid, li + 1}
			e := g.Events[i]
			args := map[string]any{"event": g.Label(i), "seq": e.Seq}
			if e.Count > 1 {
				args["calls"] = e.Count
			}
			if e.Errno != "" {
				args["errno"] = e.Errno
			}
			dur := us(sp[i].end - sp[i].start)
			evs = append(evs, traceEvent{Name: e.Syscall, Cat: e.FDKind, Ph: "X", TS: us(sp[i].start), Dur: &dur,
				PID: pid, TID: li + 1, Args: args})
		}
	}
	for j, d := range g.Edges {
		if !d.Kind.IsMessage() {
			continue
		}
		from, to := sp[d.From], sp[d.To]
		ts, tf := from.start, min(max(to.start, from.start), to.end)
		evs = append(evs,
			traceEvent{Name: d.Kind.String(), Cat: "message", Ph: "s", TS: us(ts), PID: lane[d.From][0], TID: lane[d.From][1], ID: j + 1},
			traceEvent{Name: d.Kind.String(), Cat: "message", Ph: "f", BP: "e", TS: us(tf), PID: lane[d.To][0], TID: lane[d.To][1], ID: j + 1})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(map[string]any{
		"traceEvents":     evs,
		"displayTimeUnit": "ns",
		"otherData":       map[string]any{"title": title},
	})
}

// us converts ns to the format's microseconds.
func us(ns int64) float64 { return float64(ns) / 1000 }

// laneSpans returns the slices drawn for the events: their spans, at least
// 1ns long, none overlapping the one before it in its lane (a thread runs
// one call at a time; rows stamped in the same nanosecond are nudged).
// Without spans, an event is drawn from its time_ns for up to 1µs.
func laneSpans(g *hb.Graph, spans []span) []span {
	sp := make([]span, len(g.Events))
	for _, l := range g.Lanes {
		for i := l.First; i < l.First+l.N; i++ {
			s := span{g.Events[i].TimeNS, g.Events[i].TimeNS + 1000}
			if spans != nil {
				s = spans[i]
			} else if i+1 < l.First+l.N {
				s.end = max(s.start+1, min(s.end, g.Events[i+1].TimeNS))
			}
			if i > l.First && s.start < sp[i-1].end {
				s.start = sp[i-1].end
			}
			s.end = max(s.end, s.start+1)
			sp[i] = s
		}
	}
	return sp
}
