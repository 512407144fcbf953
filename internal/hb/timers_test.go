package hb

import (
	"slices"
	"testing"

	"github.com/boxofpain/pain/internal/msgclass"
)

// TestDropTimers: a leader whose process is one thread ties the pings it
// sends while a write is in flight to that write. The class graph keeps
// the writes and their answers, numbered as if no ping had gone out, and
// leaves the pings and their pongs out: a ping is the same bytes for every
// request, a write is not.
func TestDropTimers(t *testing.T) {
	const data, beat = "leader:main:s3>f1:listen0", "leader:main:s4>f1:listen0"
	var items []classItem
	ord := map[msgclass.Class]int{}
	add := func(node, conn string, back bool, tag string, hash uint64) {
		c := msgclass.Class{Conn: "leader>f1:listen0", Back: back, Tag: tag}
		ord[c]++
		m := msgclass.Msg{Class: c, Ordinal: ord[c]}
		e := &Event{Node: node, Thread: "main", Conn: conn, PayloadHash: hash, Role: RoleSystem}
		items = append(items, classItem{ev: e, sys: "send", arg: m.String(), msg: m},
			classItem{ev: e, sys: "recv", arg: m.String(), msg: m})
	}
	// Request 1: a ping goes out before the write; request 2: after it.
	add("leader", beat, false, "w1", 1)
	add("f1", beat, true, "w1", 2)
	add("leader", data, false, "w1", 10)
	add("f1", data, true, "w1", 3)
	add("leader", data, false, "w2", 20)
	add("f1", data, true, "w2", 3)
	add("leader", beat, false, "w2", 1)
	add("f1", beat, true, "w2", 2)
	// A pong to an untied ping, tied to w2 by a follower that is one
	// thread too: its bytes are those of an untied pong.
	add("f1", beat, true, "w2", 2)
	untied := map[timerKey]bool{{"leader>f1:listen0", true, 2}: true}
	var got []string
	for _, it := range dropTimers(items, untied) {
		got = append(got, it.sys+" "+it.arg)
	}
	want := []string{
		"send leader>f1:listen0 -> w1 #1", "recv leader>f1:listen0 -> w1 #1",
		"send leader>f1:listen0 <- w1 #1", "recv leader>f1:listen0 <- w1 #1",
		"send leader>f1:listen0 -> w2 #1", "recv leader>f1:listen0 -> w2 #1",
		"send leader>f1:listen0 <- w2 #1", "recv leader>f1:listen0 <- w2 #1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}
