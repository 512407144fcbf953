package hb

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Compact encoding of a graph, for keeping many of them in memory: an
// aggregate keeps one graph per schedule, and a graph of 10,000 events
// takes about 2.5 MB as a Graph and a tenth of that compacted. Names go
// into a table once; events are varints, seq and time as deltas along
// their thread; program-order edges are implied by the threads.

// Compact returns g in compact form; Uncompact makes the graph again.
func (g *Graph) Compact() []byte {
	var b []byte
	index := map[string]uint64{}
	var table []string
	ref := func(s string) uint64 {
		i, ok := index[s]
		if !ok {
			i = uint64(len(table))
			index[s] = i
			table = append(table, s)
		}
		return i
	}
	// Events first, into body, so the table is complete before it is written.
	var body []byte
	body = binary.AppendUvarint(body, uint64(len(g.Lanes)))
	for _, l := range g.Lanes {
		body = binary.AppendUvarint(body, ref(l.Node))
		body = binary.AppendUvarint(body, ref(l.Thread))
		body = binary.AppendUvarint(body, uint64(l.N))
		var seq, t int64
		for i := l.First; i < l.First+l.N; i++ {
			e := &g.Events[i]
			body = binary.AppendVarint(body, e.Seq-seq)
			body = binary.AppendVarint(body, e.TimeNS-t)
			seq, t = e.Seq, e.TimeNS
			body = binary.AppendVarint(body, e.DurNS)
			body = binary.AppendVarint(body, e.Count)
			for _, s := range [...]string{e.Syscall, e.FDKind, e.Local, e.Peer, e.Conn, e.Errno, e.Arg, e.Fault} {
				body = binary.AppendUvarint(body, ref(s))
			}
			body = binary.AppendVarint(body, e.Offset)
			body = binary.AppendVarint(body, e.Ret)
			body = binary.LittleEndian.AppendUint64(body, e.PayloadHash)
		}
	}
	n := 0
	for _, d := range g.Edges {
		if d.Kind != KindProgram {
			n++
		}
	}
	body = binary.AppendUvarint(body, uint64(n))
	from := 0
	for _, d := range g.Edges {
		if d.Kind != KindProgram {
			body = binary.AppendUvarint(body, uint64(d.From-from)) // edges are sorted by From
			body = binary.AppendUvarint(body, uint64(d.To))
			body = append(body, byte(d.Kind))
			from = d.From
		}
	}
	body = g.compactDisk(body, ref)
	b = append(b, byte(g.Granularity))
	b = binary.AppendUvarint(b, uint64(len(table)))
	for _, s := range table {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return append(b, body...)
}

var errCompact = errors.New("compact graph cut short or corrupt")

// Uncompact makes the graph of run from the output of Compact, checking it
// as NewGraph does.
func Uncompact(run string, b []byte) (*Graph, error) {
	d := decoder{b: b}
	gran := Granularity(d.byte())
	table := make([]string, d.count())
	for i := range table {
		n := d.count()
		if d.err == nil && n <= len(d.b) {
			table[i] = string(d.b[:n])
			d.b = d.b[n:]
		} else {
			d.err = errCompact
		}
	}
	str := func() string {
		i := d.uvarint()
		if i >= uint64(len(table)) {
			d.err = errCompact
			return ""
		}
		return table[i]
	}
	var evs []Event
	lanes := d.count()
	for l := 0; l < lanes && d.err == nil; l++ {
		node, thread := str(), str()
		n := d.count()
		role := RoleOf(node)
		var seq, t int64
		for k := 0; k < n && d.err == nil; k++ {
			seq += d.varint()
			t += d.varint()
			e := Event{Node: node, Thread: thread, Seq: seq, TimeNS: t, DurNS: d.varint(), Count: d.varint(), Role: role}
			e.Syscall, e.FDKind, e.Local, e.Peer, e.Conn, e.Errno, e.Arg, e.Fault = str(), str(), str(), str(), str(), str(), str(), str()
			e.Offset, e.Ret = d.varint(), d.varint()
			if len(d.b) < 8 {
				d.err = errCompact
				break
			}
			e.PayloadHash = binary.LittleEndian.Uint64(d.b)
			d.b = d.b[8:]
			evs = append(evs, e)
		}
	}
	var extra []Edge
	from := 0
	for k, n := 0, d.count(); k < n && d.err == nil; k++ {
		from += int(d.uvarint())
		to := int(d.uvarint())
		extra = append(extra, Edge{From: from, To: to, Kind: EdgeKind(d.byte())})
	}
	syncs := d.disk(evs, str)
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes left over", errCompact, len(d.b))
	}
	edges := withProgram(evs, extra)
	g, err := NewGraph(run, gran, evs, edges)
	if err == nil {
		g.Syncs = syncs
	}
	return g, err
}

// withProgram puts the program-order edges back in their places among the
// other edges, extra, sorted by From.
func withProgram(evs []Event, extra []Edge) []Edge {
	var edges []Edge
	x := 0
	for i := range evs {
		for x < len(extra) && extra[x].From < i {
			edges = append(edges, extra[x])
			x++
		}
		last := i+1 == len(evs) || evs[i+1].Node != evs[i].Node || evs[i+1].Thread != evs[i].Thread
		for x < len(extra) && extra[x].From == i && (last || extra[x].To < i+1) {
			edges = append(edges, extra[x])
			x++
		}
		if !last {
			edges = append(edges, Edge{From: i, To: i + 1, Kind: KindProgram})
		}
	}
	edges = append(edges, extra[x:]...)
	return edges
}

// compactDisk appends the durability lineage: each event's unsynced
// files (event index as a delta), then the syncs.
func (g *Graph) compactDisk(body []byte, ref func(string) uint64) []byte {
	n := 0
	for i := range g.Events {
		n += len(g.Events[i].Unsynced)
	}
	body = binary.AppendUvarint(body, uint64(n))
	last := 0
	for i := range g.Events {
		for _, u := range g.Events[i].Unsynced {
			body = binary.AppendUvarint(body, uint64(i-last))
			last = i
			body = binary.AppendUvarint(body, ref(u.File))
			body = binary.AppendUvarint(body, uint64(u.Writes))
			body = binary.AppendVarint(body, u.Bytes)
		}
	}
	body = binary.AppendUvarint(body, uint64(len(g.Syncs)))
	for _, s := range g.Syncs {
		body = binary.AppendUvarint(body, ref(s.Node))
		body = binary.AppendUvarint(body, ref(s.File))
		body = binary.AppendUvarint(body, ref(s.Call))
		body = binary.AppendUvarint(body, uint64(s.Syncs))
	}
	return body
}

// disk reads what compactDisk wrote into evs, and returns the syncs.
func (d *decoder) disk(evs []Event, str func() string) []FileSyncs {
	i := 0
	for k, n := 0, d.count(); k < n && d.err == nil; k++ {
		i += int(d.uvarint())
		u := Unsynced{File: str(), Writes: int(d.uvarint()), Bytes: d.varint()}
		if i >= len(evs) {
			d.err = errCompact
			return nil
		}
		evs[i].Unsynced = append(evs[i].Unsynced, u)
	}
	var syncs []FileSyncs
	for k, n := 0, d.count(); k < n && d.err == nil; k++ {
		syncs = append(syncs, FileSyncs{Node: str(), File: str(), Call: str(), Syncs: int(d.uvarint())})
	}
	return syncs
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.err = errCompact
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errCompact
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errCompact
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length, refusing one larger than the bytes left could hold.
func (d *decoder) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b))+1 {
		d.err = errCompact
		return 0
	}
	return int(v)
}
