//go:build linux && amd64

package tracer

import (
	"testing"

	"github.com/boxofpain/pain/format"
)

// TestFlight checks the payload hash of every receive of a known byte
// stream (testdata/flight.c) over each kind of stream whose both ends are
// traced, with the flights of flight.go and without them (a Hook turns them
// off, and so does a descriptor sent over a unix socket: mode scm), and
// that the flights hashed some receives: the sender's sends all return
// before the first receive.
func TestFlight(t *testing.T) {
	progs.Need(t)
	stream := make([]byte, 54101+100000)
	for i := range stream {
		stream[i] = byte(i*7 + i/251)
	}
	for _, mode := range []string{"tcp", "pipe", "pair", "scm"} {
		for _, hooked := range []bool{false, true} {
			name := mode
			cfg := Config{}
			if hooked {
				name += "/hook"
				cfg.Hook = &once{match: func(*format.Event) bool { return false }} // acts on no call
			}
			t.Run(name, func(t *testing.T) {
				var tr *Tracer
				rows, code := traceWith(t, cfg, func(t *Tracer) { tr = t }, "flight",
					[]string{progs.Dir + "/flight", mode})
				if code != 0 {
					dump(t, rows)
					t.Fatalf("flight %s exited %d", mode, code)
				}
				recvs := 0
				for _, e := range rows {
					if e.FDKind == format.KindFile || e.Offset < 0 || e.Ret <= 0 || e.Local == "" {
						continue
					}
					if e.Conn == "flight:main:s0" || e.FDKind == format.KindUnix && e.Ret == 1 { // the sync pipe, scm's socketpair
						continue
					}
					h := fnv(fnvOffset, stream[e.Offset:e.Offset+e.Ret])
					if e.PayloadHash != h {
						t.Errorf("%s seq %d %s offset %d, %d bytes: hash %x, want %x", e.Thread, e.Seq, e.Syscall, e.Offset, e.Ret, e.PayloadHash, h)
					}
					if e.Syscall == "read" || e.Syscall == "recvfrom" {
						recvs++
					}
				}
				if recvs < 54101/37 {
					dump(t, rows)
					t.Fatalf("%d receive rows, want at least %d", recvs, 54101/37)
				}
				off := hooked || mode == "scm"
				switch hits := tr.flightHits; {
				case off && hits != 0:
					t.Errorf("%d receives hashed from their sender's bytes, want none", hits)
				case !off && hits < 54101/37:
					t.Errorf("%d receives hashed from their sender's bytes, want at least the %d of phase 1", hits, 54101/37)
				}
			})
		}
	}
}

// TestFlightRuns steps a flight through sends and receives: what it keeps,
// and that a send it cannot keep leaves the bytes still to be received.
func TestFlightRuns(t *testing.T) {
	var f flight
	send := func(off int64, b string) bool {
		sink := f.from(off, int64(len(b)))
		if sink != nil {
			*sink = append(*sink, b...)
		}
		return sink != nil
	}
	if !send(0, "abc") || !send(3, "def") {
		t.Fatal("contiguous sends not kept")
	}
	if got := string(f.covers(2, 3)); got != "cde" {
		t.Fatalf("covers(2, 3) = %q, want cde", got)
	}
	f.received(2)
	if f.covers(0, 2) != nil || string(f.covers(2, 4)) != "cdef" {
		t.Fatalf("after received(2): %d %q", f.start, f.b)
	}
	big := string(make([]byte, flightMax))
	if send(6, big) {
		t.Fatal("a send past flightMax kept")
	}
	if send(6+flightMax, "g") {
		t.Fatal("a send after a gap kept while the run is not received")
	}
	if string(f.covers(3, 3)) != "def" {
		t.Fatal("a send not kept dropped the run before it")
	}
	f.received(6)
	if !send(6+flightMax+1, "h") || string(f.covers(6+flightMax+1, 1)) != "h" {
		t.Fatalf("no new run once the old one was received: %d %q", f.start, f.b)
	}
	if !send(6+flightMax+2, "ij") {
		t.Fatal("contiguous send not kept")
	}
	f.cut(6 + flightMax + 2)
	if f.covers(6+flightMax+2, 1) != nil || f.covers(6+flightMax+1, 1) == nil {
		t.Fatalf("cut: %d %q", f.start, f.b)
	}
}
