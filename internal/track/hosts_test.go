package track

import (
	"testing"

	"github.com/boxofpain/pain/format"
)

// TestHostNames: the two hosts' rows of one connection, each naming the
// far end by its raw address, get the name one tracer would have given.
func TestHostNames(t *testing.T) {
	a := format.Event{Conn: "198.18.0.2:53980>primary:listen0", Peer: "198.18.0.2:53980", LocalAddr: "198.18.0.1:7101", PeerAddr: "198.18.0.2:53980"}
	b := format.Event{Conn: "workload:main:s0>198.18.0.1:7101", Peer: "198.18.0.1:7101", LocalAddr: "198.18.0.2:53980", PeerAddr: "198.18.0.1:7101"}
	h := newHostNames()
	h.learn(&a)
	h.learn(&b)
	want := "workload:main:s0>primary:listen0"
	for _, e := range []*format.Event{&a, &b} {
		h.rename(e)
		if e.Conn != want {
			t.Errorf("conn %s, want %s", e.Conn, want)
		}
	}
	if a.Peer != "workload:main:s0" || b.Peer != "primary:listen0" {
		t.Errorf("peers %s and %s, want the other end's stable names", a.Peer, b.Peer)
	}
	other := format.Event{Conn: "x:main:s0>y:listen0", Peer: "y:listen0"}
	h.rename(&other)
	if other.Conn != "x:main:s0>y:listen0" || other.Peer != "y:listen0" {
		t.Errorf("a connection named on one host changed: %+v", other)
	}
}
