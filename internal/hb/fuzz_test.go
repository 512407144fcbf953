package hb

import (
	"reflect"
	"testing"

	"github.com/boxofpain/pain/format"
)

// fuzzEvents turns bytes into rows drawn from small vocabularies, so that
// the fuzzer hits matching names, conns and offsets often.
func fuzzEvents(data []byte) []format.Event {
	nodes := []string{"a", "b", "workload", "check", "a/x.1"}
	threads := []string{"main", "main.1", "main.2"}
	calls := []string{"write", "read", "sendto", "recvfrom", "connect", "accept4", "close", "clone", "execve",
		"wait4", "kill", "start", "exited", "signaled", "socket", "listen"}
	kinds := []string{"", "tcp", "udp", "unix", "pipe", "file"}
	names := []string{"", "a:listen0", "b:main:s0", "a/main", "b/main.1", "a/x.1/main", "b:main:s0>a:listen0",
		"a:main:s1", "127.0.0.1:40000", "p:main:s0"}
	errnos := []string{"", "", "EAGAIN", "ECONNRESET", "EINPROGRESS"}
	var evs []format.Event
	for len(data) >= 8 {
		d := data[:8]
		data = data[8:]
		evs = append(evs, format.Event{
			TimeNS: int64(d[0]), Node: nodes[int(d[1])%len(nodes)], Thread: threads[int(d[1]/8)%len(threads)],
			Seq: int64(d[2] % 16), Syscall: calls[int(d[3])%len(calls)], FD: -1, FDKind: kinds[int(d[4])%len(kinds)],
			Local: names[int(d[5])%len(names)], Peer: names[int(d[5]/16)%len(names)], Conn: names[int(d[6])%len(names)],
			Offset: int64(int8(d[7])) % 20, Ret: int64(int8(d[0]^d[7])) % 24, Errno: errnos[int(d[2]/16)%len(errnos)],
			PayloadHash: uint64(d[4] / 8), Arg: names[int(d[3]/16)%len(names)],
		})
	}
	return evs
}

// FuzzBuild checks that any rows make a graph without a panic, that the
// graph reads back through NewGraph with the same id, and that the helpers
// a planner uses work on it.
func FuzzBuild(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef"))
	f.Add([]byte{1, 2, 0, 4, 1, 9, 6, 0, 2, 2, 1, 1, 1, 9, 6, 0, 3, 2, 2, 0, 1, 9, 6, 12, 4, 0, 3, 1, 1, 9, 6, 12})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 8*512 {
			return // the helpers below are quadratic; small graphs find the bugs
		}
		evs := fuzzEvents(data)
		for _, gran := range []Granularity{Message, Syscall} {
			b := NewBuilder(gran)
			for i := range evs {
				b.Add(&evs[i])
			}
			g := b.Graph("fuzz")
			back, err := NewGraph(g.Run, gran, append([]Event(nil), g.Events...), append([]Edge(nil), g.Edges...))
			if err != nil {
				t.Fatalf("%s: graph does not read back: %v", gran, err)
			}
			if back.ID() != g.ID() || !reflect.DeepEqual(back, g) {
				t.Fatalf("%s: graph reads back differently:\n%+v\n%+v", gran, g, back)
			}
			un, err := Uncompact(g.Run, g.Compact())
			if err != nil || !reflect.DeepEqual(un, g) {
				t.Fatalf("%s: compact graph comes back differently (%v)", gran, err)
			}
			for i := range g.Events {
				g.DependsOn(i)
				g.Label(i)
			}
			for j := range g.Edges {
				g.EdgeKey(j)
			}
			g.Last(RoleCheck)
		}
	})
}
