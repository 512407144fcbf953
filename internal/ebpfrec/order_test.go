//go:build linux && amd64

package ebpfrec

import (
	"fmt"
	"slices"
	"testing"

	"github.com/boxofpain/pain/internal/tracer"
)

// TestOrder feeds order records as the ring gives them and checks what
// pop returns: a marked call's exit record takes the mark's place, records
// after a mark wait for it, and a mark gives way to its thread's end, to a
// new call of its thread and to maxHold.
func TestOrder(t *testing.T) {
	// A step: a record of the ring ("kind tid", mark "!" for F_HOLD,
	// "hold tid" for an EV_HOLD), or "pop@ns" with what it must return.
	type pop struct {
		at   int64
		want []string
	}
	for _, tc := range []struct {
		name  string
		steps []any
	}{
		{"no marks", []any{"exit 1", "exit 2", pop{0, []string{"exit 1", "exit 2"}}}},
		{"datagram received before the send's record", []any{
			"exit 1", "hold 2", "exit 3", pop{0, []string{"exit 1"}},
			"exit 2", pop{0, []string{"exit 2", "exit 3"}}, pop{0, nil}}},
		{"connect: its exit after its entry", []any{
			"enter! 2", "exit 3", "fork 3", pop{0, []string{"enter 2"}},
			"exit 2", "exit 2", pop{0, []string{"exit 2", "exit 3", "fork 3", "exit 2"}}}},
		{"two marks, filled in the other order", []any{
			"hold 1", "hold 2", "exit 3", "exit 2", pop{0, nil},
			"exit 1", pop{0, []string{"exit 1", "exit 2", "exit 3"}}}},
		{"the thread ends in the call", []any{
			"hold 1", "exit 2", "gone 1", pop{0, []string{"exit 2", "gone 1"}}}},
		{"a new call of the thread: the exit record was lost", []any{
			"hold 1", "exit 2", "enter 1", pop{0, []string{"exit 2", "enter 1"}}}},
		{"a call that does not return", []any{
			"hold 1", "exit 2", pop{maxHold, nil}, pop{maxHold + 1, []string{"exit 2"}},
			"exit 1", pop{maxHold + 2, []string{"exit 1"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o order
			for i, s := range tc.steps {
				switch s := s.(type) {
				case string:
					var kind string
					var tid int
					fmt.Sscan(s, &kind, &tid)
					r := tracer.Record{TID: tid}
					mark := kind[len(kind)-1] == '!' || kind == "hold"
					r.Kind = map[string]tracer.RecordKind{"enter": tracer.RecEnter, "enter!": tracer.RecEnter,
						"exit": tracer.RecExit, "fork": tracer.RecFork, "gone": tracer.RecGone}[kind]
					o.add(&r, mark, kind != "hold")
				case pop:
					var got []string
					for _, r := range o.pop(s.at, nil) {
						got = append(got, fmt.Sprintf("%s %d", [...]string{"?", "enter", "exit", "fork", "exec", "gone"}[r.Kind], r.TID))
					}
					if !slices.Equal(got, s.want) {
						t.Fatalf("step %d: pop returned %q, want %q", i, got, s.want)
					}
				}
			}
		})
	}
}
