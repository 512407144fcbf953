package msgclass

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// exchange builds the calls of one connection between a workload and a
// server, both Go-like processes (one thread name each), from steps: "c>n"
// the client sends n bytes, "s<n" the server receives n, "s>n" the server
// sends n, "c<n" the client receives n. Offsets follow each direction;
// times follow the steps.
func exchange(t *testing.T, steps string) []Event {
	const conn = "workload:main:s0>server:listen0"
	var evs []Event
	off := map[string]int64{}
	seq := map[string]int64{}
	for i, st := range strings.Fields(steps) {
		n, err := strconv.ParseInt(st[2:], 10, 64)
		if err != nil || len(st) < 3 || !strings.Contains("cs", st[:1]) || !strings.Contains("<>", st[1:2]) {
			t.Fatalf("bad step %q", st)
		}
		node, local := "workload", "workload:main:s0"
		if st[0] == 's' {
			node, local = "server", "server:main:s1"
		}
		k := Send
		if st[1] == '<' {
			k = Recv
		}
		dir := fmt.Sprint(node == "workload" == (k == Send)) // the stream: true from the client
		evs = append(evs, Event{Node: node, Thread: "main", Seq: seq[node], Kind: k, Conn: conn, Local: local,
			Offset: off[dir+st[1:2]], Len: n, Workload: node == "workload", TimeNS: int64(i + 1)})
		seq[node]++
		off[dir+st[1:2]] += n
	}
	return evs
}

// TestRequestNumbering: a workload request is one per logical request. A
// receive whose bytes the server sent before it had read the request's
// opening (the request's sends before its first receive) does not answer
// it, so what the workload sends next belongs to the same request: an
// HTTP/2 server's SETTINGS, written while the client's preface and first
// request come in, and the client's acknowledgement of it. Request-response
// protocols are numbered as before: a receive after the server read the
// whole request answers it. Each row: the steps, and the request of each
// of the workload's sends.
func TestRequestNumbering(t *testing.T) {
	for _, c := range []struct {
		name, steps string
		want        []string // per workload send, its tag
	}{
		{"http/1.1 keep-alive",
			"c>50 s<50 s>80 c<80 c>50 s<50 s>80 c<80 c>50 s<50 s>80 c<80",
			[]string{"w1", "w2", "w3"}},
		{"RESP, a request in two writes, the reply in two reads",
			"c>10 c>5 s<15 s>5 c<3 c<2 c>12 s<12 s>4 c<4",
			[]string{"w1", "w1", "w2"}},
		{"the reply to a request sent in two flights",
			"c>10 s<10 s>1 c<1 c>20 s<20 s>5 c<5 c>10",
			[]string{"w1", "w2", "w3"}},
		// Go's net/http: preface, SETTINGS and WINDOW_UPDATE (70 bytes),
		// then HEADERS and DATA of the first PUT, before anything comes
		// back; the server's SETTINGS goes out as it reads the preface,
		// the client acknowledges it, the server acknowledges the
		// client's SETTINGS and answers the PUT.
		{"h2: preface and request, the server's SETTINGS while it reads them",
			"c>70 c>56 c>11 s<24 s>39 c<39 c>9 s<46 s>13 s>9 c<22 s<67 s<9 s>69 c<69 " +
				"c>24 c>11 s<35 s>25 c<25",
			[]string{"w1", "w1", "w1", "w1", "w2", "w2"}},
		// The client reads the server's SETTINGS before it writes the
		// PUT: the PUT and the acknowledgement are still request 1.
		{"h2: the server's SETTINGS before the client's request",
			"c>70 s<24 s>39 c<39 c>56 c>11 c>9 s<33 s>9 c<9 s<13 s<76 s>69 c<69 c>35 s<35 s>25 c<25",
			[]string{"w1", "w1", "w1", "w1", "w2"}},
		// A WINDOW_UPDATE and a PING the client sends after the server's
		// SETTINGS, the server's PING acknowledgement, then the answer;
		// the client's WINDOW_UPDATE after the answer goes with its next
		// request.
		{"h2: WINDOW_UPDATE and PING with the request",
			"c>70 c>67 s<24 s>39 c<39 c>13 c>17 s<46 s>13 c<13 s<67 s<30 s>17 s>69 c<86 " +
				"c>13 c>35 s<48 s>25 c<25",
			[]string{"w1", "w1", "w1", "w1", "w2", "w2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs := exchange(t, c.steps)
			msgs := Classify(evs)
			var got []string
			for i, e := range evs {
				if e.Kind == Send && e.Workload {
					got = append(got, msgs[i].Class.Tag)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("requests %v, want %v", got, c.want)
			}
			sameOnline(t, evs, nil, msgs)
		})
	}
}

// sameOnline feeds the calls evs, in the order order gives (nil: as they
// come), to a Tracker as the injector does (a send at its entry, its bytes
// known at its exit) and checks that each send starts or continues the
// message Classify named (offline).
func sameOnline(t *testing.T, evs []Event, order []int, offline []Msg) {
	t.Helper()
	if order == nil {
		order = make([]int, len(evs))
		for i := range order {
			order[i] = i
		}
	}
	tr := New()
	for _, i := range order {
		e := evs[i]
		switch e.Kind {
		case Send:
			n := e.Len
			e.Len = 0
			if m := tr.Send(&e); m != offline[i] {
				t.Errorf("call %d: online %s, offline %s", i, m, offline[i])
			}
			tr.Sent(&e, n, false)
		case Recv:
			tr.Recv(&e)
		}
	}
}
