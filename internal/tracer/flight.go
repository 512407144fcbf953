//go:build linux && amd64

package tracer

import "github.com/boxofpain/pain/internal/sysent"

// A receive on a stream whose sending end is traced moves bytes the tracer
// has already read: it read them to hash the send. Kept until received,
// they hash the receive too, without a second process_vm_readv into the
// receiver (about 7% of the ptrace thread's time on make bench's W2, a
// syscall per receive).
//
// It holds only where every byte on the stream passes a traced send the
// tracer sees, in order: the two ends of a pipe or a stream socketpair,
// and a TCP connection accepted from a traced connector (endpoint.link).
// A send whose bytes it does not read (sendfile, splice, a short memory
// read), a send larger than flightMax, or bytes queued past it break the
// run of kept bytes, and the receives they cover read memory as before.
// Flights are off (Tracer.flights) where what a send asks for may not be
// what the receiver gets: with a Hook (a fault may drop or change a send)
// and once a traced process may write where the tracer cannot see
// (Tracer.unseen): it sent control data over a unix socket (SCM_RIGHTS:
// another process, maybe untraced, may then write to a followed stream,
// and its bytes would shift the kept ones), or set up an io_uring (whose
// writes are no system calls).

// flightMax bounds the bytes kept per sending end.
const flightMax = 64 << 10

// flight is the run of bytes a sending end sent and its link has not yet
// received: b holds the stream's bytes from offset start on.
type flight struct {
	start int64
	b     []byte
}

// from returns where the next send's bytes, at stream offset off and n of
// them, go: the end of b, or a new run at off once the receiver has all
// of the old one; nil when they are not kept (they do not follow the
// run, or would make it longer than flightMax). A send that is not kept
// leaves the run as it is: receives before it still find their bytes.
func (f *flight) from(off, n int64) *[]byte {
	if off != f.start+int64(len(f.b)) {
		if len(f.b) > 0 {
			return nil
		}
		f.start = off
	}
	if int64(len(f.b))+n > flightMax {
		return nil
	}
	return &f.b
}

// cut ends the run at offset end, dropping what a send that was not
// read whole (a partial memory read) appended after it.
func (f *flight) cut(end int64) {
	f.b = f.b[:end-f.start]
}

// covers returns the kept bytes [off, off+n), or nil.
func (f *flight) covers(off, n int64) []byte {
	if n <= 0 || off < f.start || off+n > f.start+int64(len(f.b)) {
		return nil
	}
	return f.b[off-f.start : off-f.start+n]
}

// received drops the bytes before off: the receiver has them.
func (f *flight) received(off int64) {
	k := off - f.start
	if k <= 0 {
		return
	}
	if k > int64(len(f.b)) {
		k = int64(len(f.b))
	}
	f.b = f.b[:copy(f.b, f.b[k:])]
	f.start += k
}

// flightHash hashes the receive c of n bytes from the bytes its sender
// kept (hashed), or returns where the send c's bytes are to be kept as
// they are read (sink, nil for none).
func (t *Tracer) flightHash(c *call, n int64) (sink *[]byte, hashed bool) {
	l := c.ep.link
	if l == nil || c.ent.Buf == sysent.BufMmsg || !t.flights() {
		return nil, false
	}
	if c.dir == dirSend {
		// What the other end has read is no longer needed: a run a send
		// broke ends once it is all received.
		c.ep.flight.received(l.off[dirRecv])
		return c.ep.flight.from(c.ep.off[dirSend], n), false
	}
	off := c.ep.off[dirRecv]
	b := l.flight.covers(off, n)
	if b == nil {
		l.flight.received(off) // read before its send's exit: gone
		return nil, false
	}
	t.flightHits++
	c.ev.PayloadHash = fnv(fnvOffset, b)
	if t.cfg.Payload > 0 {
		c.ev.Payload = append([]byte(nil), b[:min(len(b), t.cfg.Payload)]...)
	}
	if !peeking(c) {
		l.flight.received(off + n)
	}
	return nil, true
}

// linkEnds makes a and b each other's link: every byte one sends, the
// other receives, and both are traced.
func linkEnds(a, b *endpoint) {
	a.link, b.link = b, a
}

// flights reports whether receives may be hashed from their sender's
// bytes (see above).
func (t *Tracer) flights() bool {
	return t.cfg.Hook == nil && t.be == nil && !t.unseen
}

// fnv continues the FNV-1a hash h over b.
func fnv(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}
