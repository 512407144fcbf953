// Package export writes the rows of a trace as a table for analysis tools:
// Parquet (for DuckDB, Polars, Spark: read_parquet('runs/*.parquet') needs
// no extension and no per-file code), CSV, or JSON Lines; and it is
// pain-trace -r (read.go: Flags.Read prints a trace's text form or exports
// it, keeping the rows a filter selects).
//
// Every format has the same columns: run (the trace's run name, so that
// many runs read by one glob can be grouped), start_ns (the call's entry,
// time_ns - dur_ns), then the trace columns of package format in their
// order, with plain types: strings as strings (Parquet dictionary-encodes
// them itself), payload as bytes in Parquet and as hex in CSV and JSON.
// Parquet files also keep the trace's metadata (pain.run, pain.host,
// pain.cmd.*, ...) as key-value metadata, plus pain.source, the file the
// rows came from. A round's results, plans and schedules files export as
// tables of their own (round.go); Parquet is written by pq.go.
package export

import (
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/boxofpain/pain/format"
)

// Format is an output format.
type Format string

// The formats Write knows.
const (
	Parquet Format = "parquet"
	CSV     Format = "csv"
	JSONL   Format = "jsonl"
)

// ParseFormat reads a -as flag value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Parquet, CSV, JSONL:
		return f, nil
	}
	return "", fmt.Errorf("unknown export format %q: want parquet, csv or jsonl", s)
}

// Source is where rows come from: a trace reader, or rows already in hand.
type Source interface {
	Meta() format.Meta
	Name() string
	NextBatch([]format.Event) ([]format.Event, error)
}

// Keep decides which rows are written; nil keeps every row.
type Keep func(*format.Event) bool

// Write writes the rows of src that keep keeps to w in format f. A trace
// cut short is written up to its last complete batch and its ErrTruncated
// error returned after, so the caller can warn.
func Write(w io.Writer, f Format, src Source, keep Keep) error {
	run := src.Meta().Run
	if run == "" {
		run = filepath.Base(src.Name())
	}
	var t table
	switch f {
	case Parquet:
		t = newParquet(w, src, run)
	case CSV:
		t = &csvTable{w: csv.NewWriter(w), run: run}
	case JSONL:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		t = &jsonTable{enc: enc, run: run}
	default:
		return fmt.Errorf("unknown export format %q", f)
	}
	var evs []format.Event
	var tail error
	for {
		var err error
		evs, err = src.NextBatch(evs)
		if err != nil && err != io.EOF && !errors.Is(err, format.ErrTruncated) {
			t.close()
			return err
		}
		for i := range evs {
			if keep == nil || keep(&evs[i]) {
				if werr := t.add(&evs[i]); werr != nil {
					t.close()
					return werr
				}
			}
		}
		if err != nil {
			if err != io.EOF {
				tail = err
			}
			break
		}
	}
	if err := t.close(); err != nil {
		return err
	}
	return tail
}

// table is one output format being written.
type table interface {
	add(e *format.Event) error
	close() error
}

// column is one exported column: its name, Parquet type and value.
type column struct {
	name string
	kind kind
	str  func(e *format.Event) string // CSV text
	val  func(e *format.Event) any    // JSON value
	put  func(c *pqCol, e *format.Event)
}

func i64Col(name string, f func(*format.Event) int64) column {
	return column{name, kInt64,
		func(e *format.Event) string { return strconv.FormatInt(f(e), 10) },
		func(e *format.Event) any { return f(e) },
		func(c *pqCol, e *format.Event) { c.int64(f(e)) }}
}

func i32Col(name string, f func(*format.Event) int32) column {
	return column{name, kInt32,
		func(e *format.Event) string { return strconv.FormatInt(int64(f(e)), 10) },
		func(e *format.Event) any { return f(e) },
		func(c *pqCol, e *format.Event) { c.int32(f(e)) }}
}

func strCol(name string, f func(*format.Event) string) column {
	return column{name, kString,
		f,
		func(e *format.Event) any { return f(e) },
		func(c *pqCol, e *format.Event) { c.str(f(e)) }}
}

// columns are the exported columns after run, in order.
var columns = []column{
	i64Col("start_ns", func(e *format.Event) int64 { return e.TimeNS - e.DurNS }),
	i64Col("time_ns", func(e *format.Event) int64 { return e.TimeNS }),
	i64Col("dur_ns", func(e *format.Event) int64 { return e.DurNS }),
	strCol("node", func(e *format.Event) string { return e.Node }),
	strCol("thread", func(e *format.Event) string { return e.Thread }),
	i64Col("seq", func(e *format.Event) int64 { return e.Seq }),
	i32Col("pid", func(e *format.Event) int32 { return e.PID }),
	i32Col("tid", func(e *format.Event) int32 { return e.TID }),
	strCol("syscall", func(e *format.Event) string { return e.Syscall }),
	i32Col("fd", func(e *format.Event) int32 { return e.FD }),
	strCol("fd_kind", func(e *format.Event) string { return e.FDKind }),
	strCol("local", func(e *format.Event) string { return e.Local }),
	strCol("peer", func(e *format.Event) string { return e.Peer }),
	strCol("local_addr", func(e *format.Event) string { return e.LocalAddr }),
	strCol("peer_addr", func(e *format.Event) string { return e.PeerAddr }),
	strCol("conn", func(e *format.Event) string { return e.Conn }),
	i64Col("offset", func(e *format.Event) int64 { return e.Offset }),
	i64Col("ret", func(e *format.Event) int64 { return e.Ret }),
	strCol("errno", func(e *format.Event) string { return e.Errno }),
	{"payload_hash", kUint64,
		func(e *format.Event) string { return strconv.FormatUint(e.PayloadHash, 10) },
		func(e *format.Event) any { return e.PayloadHash },
		func(c *pqCol, e *format.Event) { c.int64(int64(e.PayloadHash)) }},
	{"payload", kBytes,
		func(e *format.Event) string { return hex.EncodeToString(e.Payload) },
		func(e *format.Event) any {
			if e.Payload == nil {
				return nil
			}
			return hex.EncodeToString(e.Payload)
		},
		func(c *pqCol, e *format.Event) {
			if e.Payload == nil {
				c.null()
				return
			}
			c.raw(e.Payload)
		}},
	strCol("arg", func(e *format.Event) string { return e.Arg }),
	strCol("fault", func(e *format.Event) string { return e.Fault }),
}

// Columns returns the names of the exported columns, in order.
func Columns() []string {
	names := []string{"run"}
	for _, c := range columns {
		names = append(names, c.name)
	}
	return names
}

// rowGroupRows is how many rows go in one Parquet row group.
const rowGroupRows = 64 << 10

type parquetTable struct {
	pq  *pqFile
	run string
	err error
}

func newParquet(w io.Writer, src Source, run string) *parquetTable {
	fields := []pqField{{name: "run", kind: kString}}
	for _, c := range columns {
		fields = append(fields, pqField{name: c.name, kind: c.kind, nullable: c.name == "payload"})
	}
	keys, values := format.MetaPairs(src.Meta())
	keys, values = append(keys, "pain.source"), append(values, filepath.Base(src.Name()))
	pq, err := newPQ(w, fields, keys, values)
	return &parquetTable{pq: pq, run: run, err: err}
}

func (t *parquetTable) add(e *format.Event) error {
	if t.err != nil {
		return t.err
	}
	t.pq.cols[0].str(t.run)
	for i, c := range columns {
		c.put(t.pq.cols[i+1], e)
	}
	t.err = t.pq.row()
	return t.err
}

func (t *parquetTable) close() error {
	if t.pq == nil {
		return t.err
	}
	if err := t.pq.close(); t.err == nil {
		t.err = err
	}
	return t.err
}

type csvTable struct {
	w      *csv.Writer
	run    string
	header bool
	rec    []string
}

func (t *csvTable) add(e *format.Event) error {
	if !t.header {
		t.header = true
		if err := t.w.Write(Columns()); err != nil {
			return err
		}
	}
	t.rec = append(t.rec[:0], t.run)
	for _, c := range columns {
		t.rec = append(t.rec, c.str(e))
	}
	return t.w.Write(t.rec)
}

func (t *csvTable) close() error {
	if !t.header {
		t.header = true
		t.w.Write(Columns()) // the header even for no rows
	}
	t.w.Flush()
	return t.w.Error()
}

type jsonTable struct {
	enc *json.Encoder
	run string
}

// add writes one object with the columns in order (a map would sort them).
func (t *jsonTable) add(e *format.Event) error {
	row := make(orderedRow, 0, len(columns)+1)
	row = append(row, kv{"run", t.run})
	for _, c := range columns {
		row = append(row, kv{c.name, c.val(e)})
	}
	return t.enc.Encode(row)
}

func (t *jsonTable) close() error { return nil }

type kv struct {
	k string
	v any
}

// orderedRow is a JSON object whose keys keep their order.
type orderedRow []kv

func (r orderedRow) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, p := range r {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, p.k)
		b = append(b, ':')
		v, err := marshalNoEscape(p.v)
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// marshalNoEscape is json.Marshal without HTML escaping, so that
// "a:main:s0>b:listen0" stays greppable.
func marshalNoEscape(v any) ([]byte, error) {
	var buf jsonBuf
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf[:len(buf)-1], nil // without Encode's newline
}

type jsonBuf []byte

func (b *jsonBuf) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }
