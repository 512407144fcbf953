//go:build linux && amd64

// Package ebpfrec is pain-trace's eBPF recorder: a tracer.Backend that
// records the calls of a run's processes with eBPF programs on the system
// call tracepoints instead of ptrace stops: for fault-free runs, and for
// injected runs that stop only where their plan acts (tracer.Stops; Drain
// hands over the records at each stop).
//
// The kernel half (recorder.bpf.c, compiled by bpf2go) follows the
// processes it is told about and their descendants (a pid map, grown at
// each fork), reports the calls of internal/sysent's table with the user
// memory the tracer's model reads (socket addresses, pipe descriptors,
// clone3 flags, exec paths), the local and peer addresses of the socket a
// call used (read through BTF, CO-RE), and the FNV-1a 64 hash of the bytes
// each transfer moved, computed in the kernel in chunks of 256 bytes. The
// tracer package turns these records into the same rows as under ptrace.
//
// What it cannot fill exactly, and says so (Limits, the trace's metadata):
//   - payload_hash covers at most 32 iovecs of a readv, writev, sendmsg or
//     recvmsg, and 8 messages of 8 iovecs of a sendmmsg or recvmmsg; a call
//     with more gets a warning (its hash covers the bytes of those only);
//   - the payload column (a prefix of the bytes) is not recorded;
//   - a failed datagram send has payload_hash 0 (ptrace hashes what it
//     would have sent);
//   - unix stream connectors are matched to accepts by live sock_diag
//     queries, as under ptrace;
//   - time_ns is the kernel's time at the call's exit (or entry, for calls
//     reported at entry).
//
// Records that do not fit in the ring buffer (8 MiB) are lost; Lost
// counts them and pain-trace reports any. Read puts the record of a call
// whose effect other threads may see before it returns in the place of
// its entry (order.go).
package ebpfrec

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"

	"github.com/boxofpain/pain/internal/ptrace"
	"github.com/boxofpain/pain/internal/sysent"
	"github.com/boxofpain/pain/internal/tracer"
)

// Limits says which columns the recorder cannot fill exactly; pain-trace
// stores it in the trace's metadata.
const Limits = "payload: not recorded; payload_hash: 32 iovecs per call, 8 messages of 8 iovecs per mmsg call, 0 for a failed datagram send; " +
	"unix stream connectors: live kernel queries, as under ptrace; a datagram send or connect that runs over 200ms: its receive or accept may be named before it (an address)"

// ErrNoBTF is returned where the kernel has no BTF (/sys/kernel/btf/vmlinux).
var ErrNoBTF = errors.New("eBPF recorder: the kernel has no BTF (/sys/kernel/btf/vmlinux)")

// Available reports why the recorder cannot run here, or nil.
func Available() error { return available(btf.NewCache()) }

// available is Available with the cache Open then loads the programs
// with: the kernel's BTF is read once.
func available(c *btf.Cache) error {
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		return ErrNoBTF
	}
	if _, err := c.Kernel(); err != nil {
		return fmt.Errorf("%w: %v", ErrNoBTF, err)
	}
	return nil
}

// Recorder is a loaded and attached eBPF recorder.
type Recorder struct {
	objs  recorderObjects
	links []link.Link
	rd    *ringbuf.Reader
	warn  func(string)
	ord   order // used by Read only

	mu     sync.Mutex
	closed bool
}

// Modes of a call in the kernel's calls map (recorder.bpf.c).
const (
	modeExit  = 1
	modeEnter = 2
)

// Open loads the programs, fills the call table from sysent, attaches the
// programs and opens the ring buffer. warn receives warnings (nil: none).
func Open(warn func(string)) (*Recorder, error) {
	kernel := btf.NewCache()
	if err := available(kernel); err != nil {
		return nil, err
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("eBPF recorder: %w", err)
	}
	r := &Recorder{warn: warn}
	if err := loadRecorderObjects(&r.objs, &ebpf.CollectionOptions{Cache: kernel}); err != nil {
		return nil, fmt.Errorf("eBPF recorder: load: %w", err)
	}
	// The call table in one bpf() call.
	var nrs []uint32
	var modes []uint8
	for i := range sysent.Table {
		e := &sysent.Table[i]
		if files(e) {
			continue // files are followed under ptrace only
		}
		m := uint8(modeExit)
		if tracer.EnterFirst(e) {
			m = modeEnter
		}
		nrs, modes = append(nrs, uint32(e.Nr)), append(modes, m)
	}
	if _, err := r.objs.Calls.BatchUpdate(nrs, modes, nil); err != nil {
		r.Close()
		return nil, fmt.Errorf("eBPF recorder: call table: %w", err)
	}
	attach := []func() (link.Link, error){
		func() (link.Link, error) { return link.AttachTracing(link.TracingOptions{Program: r.objs.SysEnter}) },
		func() (link.Link, error) { return link.AttachTracing(link.TracingOptions{Program: r.objs.SysExit}) },
		func() (link.Link, error) { return link.AttachTracing(link.TracingOptions{Program: r.objs.ProcFork}) },
		func() (link.Link, error) { return link.AttachTracing(link.TracingOptions{Program: r.objs.ProcExec}) },
		func() (link.Link, error) { return link.AttachTracing(link.TracingOptions{Program: r.objs.ProcExit}) },
		func() (link.Link, error) { return link.AttachTracing(link.TracingOptions{Program: r.objs.ProcFree}) },
	}
	for _, a := range attach {
		l, err := a()
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("eBPF recorder: attach: %w", err)
		}
		r.links = append(r.links, l)
	}
	rd, err := ringbuf.NewReader(r.objs.Events)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("eBPF recorder: ring buffer: %w", err)
	}
	r.rd = rd
	return r, nil
}

// Admit makes pid and its descendants recorded.
func (r *Recorder) Admit(pid int) error {
	return r.objs.Pids.Put(uint32(pid), uint8(1))
}

// Lost returns how many records the ring buffer had no room for.
func (r *Recorder) Lost() uint64 {
	var n uint64
	r.objs.Lost.Lookup(uint32(0), &n)
	return n
}

// Close detaches the programs and ends Read.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	for _, l := range r.links {
		l.Close()
	}
	if r.rd != nil {
		r.rd.Close()
	}
	return r.objs.Close()
}

// Event flags (recorder.bpf.c).
const (
	fHash    = 1
	fPartial = 2
	fLocal   = 4
	fPeer    = 8
	fPath    = 16
	fHold    = 32
)

// shortHead is the size of a record's head without the addresses: the
// kernel half sends no more where it has none.
const shortHead = int(unsafe.Offsetof(recorderHead{}.Local))

// evHold is the kind of a record that only marks a call's place (order.go).
const evHold = 6

// pollEvery is how often Read looks for records when the kernel side has
// not woken it.
const pollEvery = 5 * time.Millisecond

// batch is the most records Read takes from the ring at once.
const batch = 1024

// Read returns the records waiting in the ring buffer (at least one), in
// the order of order.go.
func (r *Recorder) Read() ([]tracer.Record, error) {
	var rec ringbuf.Record
	var t tracer.Record
	n := 0 // records taken from the ring in this call
	for {
		// The kernel side wakes the reader only when records pile up:
		// poll every pollEvery.
		if n > 0 {
			r.rd.SetDeadline(time.Now())
		} else {
			r.rd.SetDeadline(time.Now().Add(pollEvery))
		}
		err := r.rd.ReadInto(&rec)
		if err == nil {
			var mark, keep bool
			if mark, keep, err = r.decode(rec.RawSample, &t); err != nil {
				return nil, err
			}
			r.ord.add(&t, mark, keep)
			if n++; n < batch {
				continue
			}
		} else if !errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, err
		}
		n = 0
		if out := r.ord.pop(ptrace.Monotonic(), nil); len(out) > 0 {
			return out, nil
		}
	}
}

// Drain returns the records made so far, in the order of order.go, (none
// is no error): an injected run reads them at each stop, so the decision
// there counts every call that returned before it. Records held behind a
// connect or a datagram send made before the Drain are waited for, until
// that call returns (at most maxHold): usually microseconds.
func (r *Recorder) Drain() ([]tracer.Record, error) {
	start := ptrace.Monotonic()
	var out []tracer.Record
	for {
		if err := r.drainRing(); err != nil {
			return out, err
		}
		now := ptrace.Monotonic()
		out = r.ord.pop(now, out)
		if !r.ord.waitingSince(start) {
			return out, nil
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// drainRing moves the records in the ring now to r.ord, without waiting.
func (r *Recorder) drainRing() error {
	var rec ringbuf.Record
	var t tracer.Record
	r.rd.SetDeadline(time.Now())
	for {
		err := r.rd.ReadInto(&rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil
		}
		if err != nil {
			return err
		}
		mark, keep, err := r.decode(rec.RawSample, &t)
		if err != nil {
			return err
		}
		r.ord.add(&t, mark, keep)
	}
}

// decode reads a record of the ring into t; mark says it had F_HOLD, keep
// that it goes to the tracer (an EV_HOLD does not).
func (r *Recorder) decode(raw []byte, t *tracer.Record) (mark, keep bool, err error) {
	var h recorderHead
	if len(raw) < shortHead {
		return false, false, fmt.Errorf("eBPF recorder: short record (%d bytes)", len(raw))
	}
	if len(raw) >= int(unsafe.Sizeof(h)) {
		h = *(*recorderHead)(unsafe.Pointer(&raw[0]))
	} else {
		// A head without the addresses (no fLocal).
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&h)), unsafe.Sizeof(h)), raw)
	}
	mark, keep = h.Flags&fHold != 0, h.Kind != evHold
	*t = tracer.Record{
		Kind: tracer.RecordKind(h.Kind), Mono: int64(h.Ts), EnterMono: int64(h.EnterTs), TGID: int(h.Tgid), TID: int(h.Tid),
		Nr: uint64(h.Nr), Args: h.Args, Ret: h.Ret, Hash: h.Hash, Bytes: h.Bytes,
		Hashed: h.Flags&fHash != 0, Inexact: h.Flags&fPartial != 0,
		Aux: int(h.Aux), Aux2: int(int32(h.Aux2)), SockFD: -1,
	}
	if t.Inexact && r.warn != nil {
		r.warn(fmt.Sprintf("eBPF recorder: %s by %d: more iovecs or messages than hashed; its payload_hash is inexact", sysent.Name(int(h.Nr)), h.Tid))
	}
	if h.Flags&fLocal != 0 {
		t.Local = ptrace.FormatSockaddr(h.Local[:sockaddrLen(h.Local[:])])
		if h.Flags&fPeer != 0 {
			t.Peer = ptrace.FormatSockaddr(h.Peer[:sockaddrLen(h.Peer[:])])
		}
		t.SockFD = int32(h.Args[0])
		if e := sysent.Lookup(t.Nr); e != nil && e.Class == sysent.Accept {
			t.SockFD = int32(h.Ret)
		}
	}
	if len(raw) < int(unsafe.Sizeof(recorderEvent{})) {
		return mark, keep, nil
	}
	ev := (*recorderEvent)(unsafe.Pointer(&raw[0]))
	for i := 0; i < int(h.Nblob) && i < len(ev.Blob); i++ {
		b := &ev.Blob[i]
		n := min(int(b.Len), len(b.Data))
		t.Blobs = append(t.Blobs, tracer.Blob{Addr: b.Addr, Data: append([]byte(nil), b.Data[:n]...)})
	}
	if h.Flags&fPath != 0 {
		p := unsafe.Slice((*byte)(unsafe.Pointer(&ev.Path[0])), len(ev.Path))
		n := 0
		for n < len(p) && p[n] != 0 {
			n++
		}
		t.Path, t.HavePath = string(p[:n]), true
	}
	return mark, keep, nil
}

// sockaddrLen is the length of the sockaddr_in or sockaddr_in6 in b.
func sockaddrLen(b []byte) int {
	if b[0] == ptrace.AFInet6 {
		return 28
	}
	return 16
}

// files reports whether e is a call only files make (the tracer follows
// files under ptrace only): opens, syncs, renames, positional reads and
// writes, and what it cannot follow.
func files(e *sysent.Entry) bool {
	return e.Class >= sysent.Open || e.Off != 0
}
