package format

import (
	"encoding/binary"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// column is one column of the trace table, as data: its name, Arrow type and
// meaning, how an Event field goes in, and how a decoded batch's column
// comes out. The writer, the reader, the schema and the documentation test
// all walk this one table.
type column struct {
	name string
	typ  arrow.DataType
	doc  string
	put  func(b array.Builder, e *Event)
	// text, for the dictionary-encoded columns, is the field the writer
	// encodes itself (put is nil then).
	text func(*Event) *string
	kind colKind
	// fill sets the field of evs[k] from row from+k of the decoded column;
	// false means a row's value is bad (an index outside the dictionary).
	fill func(c *colState, evs []Event, from int) bool
}

// colKind is how a column is laid out in a record batch.
type colKind uint8

const (
	kindI64 colKind = iota
	kindI32
	kindU64
	kindDict // dictString: int16 indices into the batch's dictionary
	kindBinary
)

// dictString is how every text column is stored: dictionary-encoded, since
// names repeat from row to row. The dictionary is rebuilt for each batch
// (at most BatchRows values, so 16-bit indices), and the index column of a
// batch compresses to almost nothing.
var dictString = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}

func i64(name, doc string, f func(*Event) *int64) column {
	off := offsetOf(f)
	return column{name, arrow.PrimitiveTypes.Int64, doc,
		func(b array.Builder, e *Event) { b.(*array.Int64Builder).Append(*f(e)) }, nil,
		kindI64,
		func(c *colState, evs []Event, from int) bool {
			v := c.values[8*from : 8*(from+len(evs))]
			for k := range evs {
				*field[int64](evs, k, off) = int64(binary.LittleEndian.Uint64(v[8*k:]))
			}
			return true
		}}
}

func i32(name, doc string, f func(*Event) *int32) column {
	off := offsetOf(f)
	return column{name, arrow.PrimitiveTypes.Int32, doc,
		func(b array.Builder, e *Event) { b.(*array.Int32Builder).Append(*f(e)) }, nil,
		kindI32,
		func(c *colState, evs []Event, from int) bool {
			v := c.values[4*from : 4*(from+len(evs))]
			for k := range evs {
				*field[int32](evs, k, off) = int32(binary.LittleEndian.Uint32(v[4*k:]))
			}
			return true
		}}
}

func str(name, doc string, f func(*Event) *string) column {
	off := offsetOf(f)
	return column{name, dictString, doc, nil, f,
		kindDict,
		func(c *colState, evs []Event, from int) bool {
			names := c.dict // at most 1<<15 names: a negative int16 is outside too
			idx := c.values[2*from : 2*(from+len(evs))]
			for k := range evs {
				x := int(binary.LittleEndian.Uint16(idx[2*k:]))
				if x >= len(names) {
					if c.nulls == 0 || valid(c.validity, from+k) {
						return false
					}
					*field[string](evs, k, off) = "" // a null row's index means nothing
					continue
				}
				*field[string](evs, k, off) = names[x]
			}
			return true
		}}
}

// offsetOf returns where in an Event the field an accessor points at is.
// The readers' fills set the field of every row of every column by its
// offset: calling the accessor there cost more than the copy.
func offsetOf[T any](f func(*Event) *T) uintptr {
	var e Event
	off := uintptr(unsafe.Pointer(f(&e))) - uintptr(unsafe.Pointer(&e))
	if off > unsafe.Sizeof(e)-unsafe.Sizeof(*f(&e)) {
		panic("format: a column accessor points outside its Event")
	}
	return off
}

// field returns the field at offset off (offsetOf) of evs[k].
func field[T any](evs []Event, k int, off uintptr) *T {
	return (*T)(unsafe.Add(unsafe.Pointer(&evs[k]), off))
}

// traceColumns is the trace schema, in column order: the 21 columns of
// format version 1, then dur_ns, which version 2 added at the end so that a
// version 1 file is a prefix of it.
var traceColumns = []column{
	i64("time_ns", "nanoseconds since the run started (monotonic clock), at syscall exit", func(e *Event) *int64 { return &e.TimeNS }),
	str("node", "stable node name: the Procfile name, workload, check, or derived from the process tree", func(e *Event) *string { return &e.Node }),
	str("thread", "stable thread name within the node: main, then parent.k for the k-th clone/fork of parent", func(e *Event) *string { return &e.Thread }),
	i64("seq", "0-based ordinal of this row within its node and thread", func(e *Event) *int64 { return &e.Seq }),
	i32("pid", "process id (thread group id) in this run; differs between runs", func(e *Event) *int32 { return &e.PID }),
	i32("tid", "thread id in this run; differs between runs", func(e *Event) *int32 { return &e.TID }),
	str("syscall", "system call name (sendto, accept4, ...) or process event (start, exited, signaled, teardown)", func(e *Event) *string { return &e.Syscall }),
	i32("fd", "file descriptor the call acted on, -1 for none", func(e *Event) *int32 { return &e.FD }),
	str("fd_kind", "what the fd is: tcp, udp, unix, pipe, file, other; empty for none", func(e *Event) *string { return &e.FDKind }),
	str("local", "stable name of this end: node:listenK, node:bindK, node:thread:sK, node:thread:unconnected, or a raw address", func(e *Event) *string { return &e.Local }),
	str("peer", "stable name of the other end (for clone, wait4, kill: the other thread as node/thread)", func(e *Event) *string { return &e.Peer }),
	str("local_addr", "raw local address: 127.0.0.1:7001, [::1]:7001, @abstract or /path for unix", func(e *Event) *string { return &e.LocalAddr }),
	str("peer_addr", "raw peer address, same forms", func(e *Event) *string { return &e.PeerAddr }),
	str("conn", "stable connection id, the same at both ends: connecting-endpoint>listening-endpoint", func(e *Event) *string { return &e.Conn }),
	i64("offset", "stream byte offset of this call's data in its direction of its connection, -1 where none", func(e *Event) *int64 { return &e.Offset }),
	i64("ret", "return value: bytes transferred for data calls; -1 on failure", func(e *Event) *int64 { return &e.Ret }),
	str("errno", "error name (ECONNRESET) when the call failed, else empty", func(e *Event) *string { return &e.Errno }),
	{"payload_hash", arrow.PrimitiveTypes.Uint64, "64-bit FNV-1a of the bytes transferred, 0 when none",
		func(b array.Builder, e *Event) { b.(*array.Uint64Builder).Append(e.PayloadHash) }, nil,
		kindU64,
		func(c *colState, evs []Event, from int) bool {
			v := c.values[8*from : 8*(from+len(evs))]
			for k := range evs {
				evs[k].PayloadHash = binary.LittleEndian.Uint64(v[8*k:])
			}
			return true
		}},
	{"payload", arrow.BinaryTypes.Binary, "optional prefix of the bytes transferred (pain-trace -payload N), null when not kept",
		func(b array.Builder, e *Event) {
			if e.Payload == nil {
				b.AppendNull()
				return
			}
			b.(*array.BinaryBuilder).Append(e.Payload)
		}, nil,
		kindBinary,
		func(c *colState, evs []Event, from int) bool {
			for k := range evs {
				evs[k].Payload = nil
				if c.nulls > 0 && !valid(c.validity, from+k) {
					continue
				}
				lo, hi := binary.LittleEndian.Uint32(c.values[4*(from+k):]), binary.LittleEndian.Uint32(c.values[4*(from+k)+4:])
				if hi > lo {
					evs[k].Payload = append([]byte(nil), c.data[lo:hi]...)
				}
			}
			return true
		}},
	str("arg", "detail: exec path, signal name, socket family; free text", func(e *Event) *string { return &e.Arg }),
	str("fault", "in injected runs, the fault that acted on this call (plan id and kind), else empty", func(e *Event) *string { return &e.Fault }),
	i64("dur_ns", "nanoseconds from the call's entry to its exit (time_ns), 0 for process events; version 2", func(e *Event) *int64 { return &e.DurNS }),
}

// columnsOf returns how many of traceColumns a file of format version v has.
func columnsOf(v int) int {
	if v < 2 {
		return v1Columns
	}
	return len(traceColumns)
}

// v1Columns is the number of columns of format version 1; durColumn is
// the index of dur_ns, the first column version 2 added.
const (
	v1Columns = 21
	durColumn = 21
)

// traceSchema builds the Arrow schema of a trace with its metadata.
func traceSchema(m Meta) *arrow.Schema {
	fields := make([]arrow.Field, len(traceColumns))
	for i, c := range traceColumns {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ, Nullable: c.name == "payload"}
	}
	keys, values := m.pairs()
	md := arrow.NewMetadata(keys, values)
	return arrow.NewSchema(fields, &md)
}

// interner hands out one copy of each distinct string, so that rows read from
// a file share their node, thread and endpoint names instead of allocating
// them per row, and no string outlives the Arrow buffer it came from by accident.
type interner struct {
	m map[string]string
}

func (in *interner) get(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in.m[s]; ok {
		return v
	}
	if in.m == nil {
		in.m = map[string]string{}
	}
	if len(in.m) > 1<<16 { // bounded: payload-like strings must not grow it forever
		clear(in.m)
	}
	v := string([]byte(s))
	in.m[v] = v
	return v
}

// getBytes is get for a string in a buffer that will be reused: the
// lookup does not copy it.
func (in *interner) getBytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if v, ok := in.m[string(b)]; ok {
		return v
	}
	return in.get(string(b))
}
