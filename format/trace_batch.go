package format

import (
	"slices"

	"github.com/apache/arrow/go/v17/arrow/array"
)

// Columns selects trace columns for NextBatchOf, one bit per column in
// schema order (ColumnBit gives the bit of a column by name).
type Columns uint32

// AllColumns selects every column.
const AllColumns = Columns(1)<<len(traceColumnNames) - 1

// traceColumnNames is the order NextBatchOf fills columns in; a test keeps
// it equal to traceColumns.
var traceColumnNames = [...]string{"time_ns", "node", "thread", "seq", "pid", "tid", "syscall", "fd", "fd_kind",
	"local", "peer", "local_addr", "peer_addr", "conn", "offset", "ret", "errno", "payload_hash", "payload", "arg", "fault"}

// ColumnBit returns the bit of the named column, 0 for an unknown name.
func ColumnBit(name string) Columns {
	for i, n := range traceColumnNames {
		if n == name {
			return 1 << i
		}
	}
	return 0
}

// NextBatch is NextBatchOf(evs, AllColumns).
func NextBatchDoc() {}

// NextBatch reads the rest of the current record batch (up to BatchRows
// rows) into evs, reusing its storage, and returns them: the same rows Next
// would return one by one, with the same errors (io.EOF at the end,
// ErrTruncated after the last complete batch of a trace cut short), but
// column by column, several times faster. Strings are shared between rows
// (and with earlier batches) the way Next shares them.
func (r *Reader) NextBatch(evs []Event) ([]Event, error) { return r.NextBatchOf(evs, AllColumns) }

// NextBatchOf is NextBatch filling only the selected columns; the fields of
// the others are left as they are in evs (zero in new storage). A reader
// that needs fewer columns (pain-track needs no raw addresses or payloads)
// saves the work of the rest.
func (r *Reader) NextBatchOf(evs []Event, cols Columns) (_ []Event, err error) {
	for r.err == nil && r.row >= r.batchLen() {
		r.nextBatch()
	}
	if r.err != nil {
		return evs[:0], r.err
	}
	defer catch(r.name, &err)
	from, n := r.row, r.batchLen()-r.row
	evs = slices.Grow(evs[:0], n)[:n]
	c := r.cols
	i64 := func(col int, f func(*Event) *int64) {
		if cols&(1<<col) == 0 {
			return
		}
		v := c[col].(*array.Int64).Int64Values()[from : from+n]
		for k := range evs {
			*f(&evs[k]) = v[k]
		}
	}
	i32 := func(col int, f func(*Event) *int32) {
		if cols&(1<<col) == 0 {
			return
		}
		v := c[col].(*array.Int32).Int32Values()[from : from+n]
		for k := range evs {
			*f(&evs[k]) = v[k]
		}
	}
	// Names repeat (node, thread, syscall, conn), though not always from
	// one row to the next: the last few values of the column, compared
	// first, save most trips to the interner.
	str := func(col int, f func(*Event) *string) {
		if cols&(1<<col) == 0 {
			return
		}
		a := c[col].(*array.String)
		var raw, val [4]string
		next := 0
		for k := range evs {
			s := a.Value(from + k)
			var v string
			switch {
			case s == "":
			case s == raw[0]:
				v = val[0]
			case s == raw[1]:
				v = val[1]
			case s == raw[2]:
				v = val[2]
			case s == raw[3]:
				v = val[3]
			default:
				v = r.in.get(s)
				raw[next], val[next] = s, v
				next = (next + 1) % len(raw)
			}
			*f(&evs[k]) = v
		}
	}
	i64(0, func(e *Event) *int64 { return &e.TimeNS })
	str(1, func(e *Event) *string { return &e.Node })
	str(2, func(e *Event) *string { return &e.Thread })
	i64(3, func(e *Event) *int64 { return &e.Seq })
	i32(4, func(e *Event) *int32 { return &e.PID })
	i32(5, func(e *Event) *int32 { return &e.TID })
	str(6, func(e *Event) *string { return &e.Syscall })
	i32(7, func(e *Event) *int32 { return &e.FD })
	str(8, func(e *Event) *string { return &e.FDKind })
	str(9, func(e *Event) *string { return &e.Local })
	str(10, func(e *Event) *string { return &e.Peer })
	str(11, func(e *Event) *string { return &e.LocalAddr })
	str(12, func(e *Event) *string { return &e.PeerAddr })
	str(13, func(e *Event) *string { return &e.Conn })
	i64(14, func(e *Event) *int64 { return &e.Offset })
	i64(15, func(e *Event) *int64 { return &e.Ret })
	str(16, func(e *Event) *string { return &e.Errno })
	if cols&(1<<17) != 0 {
		hashes := c[17].(*array.Uint64).Uint64Values()[from : from+n]
		for k := range evs {
			evs[k].PayloadHash = hashes[k]
		}
	}
	if cols&(1<<18) != 0 {
		payload := c[18].(*array.Binary)
		for k := range evs {
			evs[k].Payload = nil
			if payload.IsValid(from + k) {
				evs[k].Payload = append([]byte(nil), payload.Value(from+k)...)
			}
		}
	}
	str(19, func(e *Event) *string { return &e.Arg })
	str(20, func(e *Event) *string { return &e.Fault })
	r.row += n
	r.rows += int64(n)
	return evs, nil
}
